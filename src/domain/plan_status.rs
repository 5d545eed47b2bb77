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

#[cfg(test)]
mod tests {
    use super::*;

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
