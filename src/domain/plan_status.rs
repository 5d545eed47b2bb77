//! The plan's status (see the contract's "Plan status").

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Draft,
    InHearing,
    AwaitingApproval,
    Adopted,
}

impl PlanStatus {
    pub const ALL: [PlanStatus; 4] =
        [PlanStatus::Draft, PlanStatus::InHearing, PlanStatus::AwaitingApproval, PlanStatus::Adopted];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Draft => "draft",
            PlanStatus::InHearing => "in_hearing",
            PlanStatus::AwaitingApproval => "awaiting_approval",
            PlanStatus::Adopted => "adopted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Content (the plan's fields, sections, goals, …) may change only while the plan is being
    /// drafted or is in hearing; a recommended or adopted plan is frozen until a revision.
    pub fn content_editable(self) -> bool {
        matches!(self, PlanStatus::Draft | PlanStatus::InHearing)
    }
}

/// A body's decision on a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Indstillet: a committee recommends the version for approval.
    Recommended,
    /// Godkendt: the council adopts the version.
    Approved,
    Rejected,
    /// Sent back to the administration.
    Returned,
    /// Taget til efterretning: recorded, no change of status.
    Noted,
}

impl Outcome {
    /// Decisions that move a version towards adoption need it to be ready.
    pub fn needs_ready_version(self) -> bool {
        matches!(self, Outcome::Recommended | Outcome::Approved)
    }
}

/// What happens to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    HearingOpened,
    /// A hearing closed; `others_open` when another hearing on the plan is still open.
    HearingClosed {
        others_open: bool,
    },
    Decided(Outcome),
    RevisionStarted,
}

/// The plan's next status after an event, or why the event cannot happen now.
pub fn next(status: PlanStatus, event: Event) -> Result<PlanStatus, String> {
    use PlanStatus::*;
    let refuse = |what: &str| Err(format!("{what} is not possible while the plan is {}", status.as_str()));
    match (status, event) {
        (Draft | InHearing, Event::HearingOpened) => Ok(InHearing),
        (_, Event::HearingOpened) => refuse("opening a hearing"),
        (InHearing, Event::HearingClosed { others_open: true }) => Ok(InHearing),
        (InHearing, Event::HearingClosed { others_open: false }) => Ok(Draft),
        (_, Event::HearingClosed { .. }) => refuse("closing a hearing"),
        (_, Event::Decided(Outcome::Noted)) => Ok(status),
        (Draft | AwaitingApproval, Event::Decided(Outcome::Recommended)) => Ok(AwaitingApproval),
        (AwaitingApproval, Event::Decided(Outcome::Approved)) => Ok(Adopted),
        (AwaitingApproval, Event::Decided(Outcome::Rejected | Outcome::Returned)) => Ok(Draft),
        (_, Event::Decided(outcome)) => {
            let name =
                serde_json::to_value(outcome).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            refuse(&format!("a decision '{name}'"))
        }
        (Adopted, Event::RevisionStarted) => Ok(Draft),
        (_, Event::RevisionStarted) => refuse("a revision"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_outcome_as_the_api_spells_it() {
        let refusal = next(PlanStatus::Draft, Event::Decided(Outcome::Approved)).unwrap_err();
        assert_eq!(refusal, "a decision 'approved' is not possible while the plan is draft");
    }

    #[test]
    fn every_transition() {
        use Outcome::*;
        use PlanStatus::*;
        let events = [
            Event::HearingOpened,
            Event::HearingClosed { others_open: false },
            Event::HearingClosed { others_open: true },
            Event::Decided(Recommended),
            Event::Decided(Approved),
            Event::Decided(Rejected),
            Event::Decided(Returned),
            Event::Decided(Noted),
            Event::RevisionStarted,
        ];
        // One row per status, one column per event above; None: refused.
        let table: [(PlanStatus, [Option<PlanStatus>; 9]); 4] = [
            (Draft, [Some(InHearing), None, None, Some(AwaitingApproval), None, None, None, Some(Draft), None]),
            (InHearing, [Some(InHearing), Some(Draft), Some(InHearing), None, None, None, None, Some(InHearing), None]),
            (
                AwaitingApproval,
                [
                    None,
                    None,
                    None,
                    Some(AwaitingApproval),
                    Some(Adopted),
                    Some(Draft),
                    Some(Draft),
                    Some(AwaitingApproval),
                    None,
                ],
            ),
            (Adopted, [None, None, None, None, None, None, None, Some(Adopted), Some(Draft)]),
        ];
        for (status, row) in table {
            for (event, expected) in events.iter().zip(row) {
                assert_eq!(next(status, *event).ok(), expected, "{status:?} + {event:?}");
            }
        }
        let refusal = next(Adopted, Event::Decided(Approved)).unwrap_err();
        assert!(refusal.contains("adopted") && refusal.contains("approved"), "{refusal}");
    }

    #[test]
    fn names_round_trip() {
        for status in PlanStatus::ALL {
            assert_eq!(PlanStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(PlanStatus::parse("approved"), None);
    }

    #[test]
    fn only_draft_and_hearing_are_editable() {
        let editable: Vec<_> = PlanStatus::ALL.into_iter().filter(|s| s.content_editable()).collect();
        assert_eq!(editable, vec![PlanStatus::Draft, PlanStatus::InHearing]);
    }
}
