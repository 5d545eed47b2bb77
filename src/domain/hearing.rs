//! Hearings (høringer): when one is open, who may comment, and the words used for stances and
//! the administration's responses.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HearingStatus {
    Scheduled,
    Open,
    Closed,
}

/// Scheduled before `opens_at`; open until the deadline `closes_at`, or until it was closed
/// early (`closed_at`); closed after.
pub fn status(
    opens_at: NaiveDateTime,
    closes_at: NaiveDateTime,
    closed_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> HearingStatus {
    if closed_at.is_some_and(|at| at <= now) || now >= closes_at {
        HearingStatus::Closed
    } else if now < opens_at {
        HearingStatus::Scheduled
    } else {
        HearingStatus::Open
    }
}

/// Why a comment cannot be submitted, edited or withdrawn now, if it cannot.
pub fn comment_window(status: HearingStatus) -> Result<(), String> {
    match status {
        HearingStatus::Open => Ok(()),
        HearingStatus::Scheduled => Err("the hearing has not opened yet".into()),
        HearingStatus::Closed => Err("the hearing's deadline has passed".into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    Supports,
    Neutral,
    Objects,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommentStatus {
    Submitted,
    Withdrawn,
}

/// The administration's disposition of a comment (forvaltningens bemærkning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Imødekommet
    Accommodated,
    /// Delvist imødekommet
    PartiallyAccommodated,
    /// Ikke imødekommet
    NotAccommodated,
    /// Taget til efterretning
    Noted,
}

impl Disposition {
    pub fn danish(self) -> &'static str {
        match self {
            Disposition::Accommodated => "Imødekommet",
            Disposition::PartiallyAccommodated => "Delvist imødekommet",
            Disposition::NotAccommodated => "Ikke imødekommet",
            Disposition::Noted => "Taget til efterretning",
        }
    }
}

impl Stance {
    pub fn danish(self) -> &'static str {
        match self {
            Stance::Supports => "Støtter",
            Stance::Neutral => "Neutral",
            Stance::Objects => "Indsigelse",
        }
    }
}

/// What a comment points at in the version in hearing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    Plan,
    Section,
    Goal,
    Requirement,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn status_follows_the_clock() {
        let (opens, closes) = (at("2018-11-01 00:00"), at("2018-11-22 12:00"));
        assert_eq!(status(opens, closes, None, at("2018-10-31 23:59")), HearingStatus::Scheduled);
        assert_eq!(status(opens, closes, None, at("2018-11-01 00:00")), HearingStatus::Open);
        assert_eq!(status(opens, closes, None, at("2018-11-22 11:59")), HearingStatus::Open);
        assert_eq!(
            status(opens, closes, None, at("2018-11-22 12:00")),
            HearingStatus::Closed,
            "the deadline itself is too late"
        );
        assert_eq!(status(opens, closes, Some(at("2018-11-10 09:00")), at("2018-11-10 09:00")), HearingStatus::Closed);
        assert_eq!(status(opens, closes, Some(at("2018-11-10 09:00")), at("2018-11-09 09:00")), HearingStatus::Open);
    }

    #[test]
    fn comments_only_while_open() {
        assert!(comment_window(HearingStatus::Open).is_ok());
        assert!(comment_window(HearingStatus::Scheduled).unwrap_err().contains("not opened"));
        assert!(comment_window(HearingStatus::Closed).unwrap_err().contains("deadline"));
    }
}
