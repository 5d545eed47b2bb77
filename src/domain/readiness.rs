//! What blocks a decision on a version: no version at all, placeholder targets ("xx pct."), a
//! hearing still open, a hearing comment without the administration's response.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::document::Document;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlockerKind {
    PlaceholderTarget,
    OpenHearing,
    UnansweredComment,
    NoVersion,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Blocker {
    pub kind: BlockerKind,
    /// The requirement, hearing or comment that blocks; absent for `no_version`.
    pub id: Option<String>,
    pub detail: String,
}

/// A hearing or comment that may block, as `(id, description)`.
pub type Pending<'a> = (&'a str, &'a str);

pub fn blockers(
    document: Option<&Document>,
    open_hearings: &[Pending],
    unanswered_comments: &[Pending],
) -> Vec<Blocker> {
    let mut found = Vec::new();
    match document {
        None => {
            found.push(Blocker { kind: BlockerKind::NoVersion, id: None, detail: "the plan has no version yet".into() })
        }
        Some(document) => {
            found.extend(document.requirements().filter(|(_, r)| r.target.placeholder).map(|(goal, r)| {
                let goal_name = goal.number.as_deref().unwrap_or(&goal.title);
                Blocker {
                    kind: BlockerKind::PlaceholderTarget,
                    id: Some(r.id.clone()),
                    detail: format!("{goal_name}: the target of \"{}\" is a placeholder", r.statement),
                }
            }))
        }
    }
    found.extend(open_hearings.iter().map(|(id, title)| Blocker {
        kind: BlockerKind::OpenHearing,
        id: Some(id.to_string()),
        detail: format!("the hearing \"{title}\" is open"),
    }));
    found.extend(unanswered_comments.iter().map(|(id, party)| Blocker {
        kind: BlockerKind::UnansweredComment,
        id: Some(id.to_string()),
        detail: format!("the comment from {party} has no response"),
    }));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_version_blocks() {
        let found = blockers(None, &[], &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, BlockerKind::NoVersion);
    }

    #[test]
    fn hearings_and_comments_block() {
        let document: Document = serde_json::from_value(serde_json::json!({
            "plan": {"id": "p", "municipality": "173", "covers": ["173"], "year": 2019, "title": "T", "summary": null},
            "sections": [], "focus_areas": [],
            "goals": [{"id": "g", "number": "MÅL 4", "title": "T", "description": null, "kind": "ministerial",
                       "focus_area_id": null, "target_groups": [], "initiatives": [], "position": 0, "follow_up_measures": [],
                       "requirements": [
                           {"id": "r1", "statement": "xx pct.", "indicator": "I", "unit": "percent", "comparator": "at_least",
                            "baseline": null, "target": {"value": null, "value_max": null, "due": null, "placeholder": true},
                            "data_source": null, "frequency": null, "position": 0},
                           {"id": "r2", "statement": "27 pct.", "indicator": "I", "unit": "percent", "comparator": "equal",
                            "baseline": null, "target": {"value": 27, "value_max": null, "due": "2019-12-31", "placeholder": false},
                            "data_source": null, "frequency": null, "position": 1}]}]
        }))
        .unwrap();
        let found = blockers(Some(&document), &[("h", "Høring af beskæftigelsesplanen")], &[("c", "Handicaprådet")]);
        let kinds: Vec<BlockerKind> = found.iter().map(|b| b.kind).collect();
        assert_eq!(kinds, [BlockerKind::PlaceholderTarget, BlockerKind::OpenHearing, BlockerKind::UnansweredComment]);
        assert_eq!(found[0].id.as_deref(), Some("r1"));
        assert!(found[0].detail.starts_with("MÅL 4"));
        assert!(blockers(Some(&document), &[], &[]).len() == 1);
    }
}
