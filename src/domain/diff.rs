//! What changed between two plan documents: items matched by id, compared field by field.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::document::Document;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Diff {
    pub from: i32,
    pub to: i32,
    pub added: Vec<Item>,
    pub removed: Vec<Item>,
    pub changed: Vec<Change>,
}

/// An item that is only in one of the two documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = DiffItem)]
pub struct Item {
    /// `plan`, `section`, `focus_area`, `goal`, `requirement` or `follow_up_measure`.
    #[serde(rename = "type")]
    pub item_type: String,
    pub id: String,
    #[schema(value_type = Object)]
    pub item: Value,
}

/// An item in both documents whose fields differ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = DiffChange)]
pub struct Change {
    #[serde(rename = "type")]
    pub item_type: String,
    pub id: String,
    pub fields: BTreeMap<String, FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldChange {
    /// The field's value in the earlier version: any JSON value (string, number, object, null …).
    #[schema(value_type = Value)]
    pub before: Value,
    /// The field's value in the later version: any JSON value.
    #[schema(value_type = Value)]
    pub after: Value,
}

/// The items of a document in a fixed order: the plan, sections, focus areas, goals, then each
/// goal's requirements and follow-up measures. A goal's children are items of their own, so
/// they are not fields of the goal; each child carries its `goal_id`.
fn items(document: &Document) -> Vec<(&'static str, String, Map<String, Value>)> {
    fn object(value: impl Serialize) -> Map<String, Value> {
        match serde_json::to_value(value) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }
    let mut list = vec![("plan", document.plan.id.clone(), object(&document.plan))];
    list.extend(document.sections.iter().map(|s| ("section", s.id.clone(), object(s))));
    list.extend(document.focus_areas.iter().map(|f| ("focus_area", f.id.clone(), object(f))));
    for goal in &document.goals {
        let mut fields = object(goal);
        fields.remove("requirements");
        fields.remove("follow_up_measures");
        list.push(("goal", goal.id.clone(), fields));
    }
    for (kind, children) in [("requirement", true), ("follow_up_measure", false)] {
        for goal in &document.goals {
            let values: Vec<(String, Map<String, Value>)> = if children {
                goal.requirements.iter().map(|r| (r.id.clone(), object(r))).collect()
            } else {
                goal.follow_up_measures.iter().map(|m| (m.id.clone(), object(m))).collect()
            };
            for (id, mut fields) in values {
                fields.insert("goal_id".into(), Value::String(goal.id.clone()));
                list.push((kind, id, fields));
            }
        }
    }
    list
}

/// The changes from `from` (version `from_number`) to `to`. A document against itself is empty.
pub fn diff(from_number: i32, from: &Document, to_number: i32, to: &Document) -> Diff {
    let before = items(from);
    let after = items(to);
    let index_before: HashMap<(&str, &str), &Map<String, Value>> =
        before.iter().map(|(t, id, f)| ((*t, id.as_str()), f)).collect();
    let index_after: HashMap<(&str, &str), &Map<String, Value>> =
        after.iter().map(|(t, id, f)| ((*t, id.as_str()), f)).collect();

    let mut result = Diff { from: from_number, to: to_number, added: vec![], removed: vec![], changed: vec![] };
    for (item_type, id, fields) in &after {
        match index_before.get(&(*item_type, id.as_str())) {
            None => result.added.push(Item {
                item_type: item_type.to_string(),
                id: id.clone(),
                item: Value::Object(fields.clone()),
            }),
            Some(old) => {
                let changed = changed_fields(old, fields);
                if !changed.is_empty() {
                    result.changed.push(Change { item_type: item_type.to_string(), id: id.clone(), fields: changed });
                }
            }
        }
    }
    for (item_type, id, fields) in &before {
        if !index_after.contains_key(&(*item_type, id.as_str())) {
            result.removed.push(Item {
                item_type: item_type.to_string(),
                id: id.clone(),
                item: Value::Object(fields.clone()),
            });
        }
    }
    result
}

fn changed_fields(before: &Map<String, Value>, after: &Map<String, Value>) -> BTreeMap<String, FieldChange> {
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let (b, a) = (before.get(name).unwrap_or(&Value::Null), after.get(name).unwrap_or(&Value::Null));
            (b != a).then(|| (name.clone(), FieldChange { before: b.clone(), after: a.clone() }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::document::*;
    use crate::domain::requirement::{Comparator, Target, Unit};

    fn document() -> Document {
        Document {
            plan: DocumentPlan {
                id: "p".into(),
                municipality: "201".into(),
                covers: vec!["201".into()],
                year: 2017,
                title: "Beskæftigelsesplan 2017".into(),
                summary: None,
            },
            sections: vec![DocumentSection {
                id: "s1".into(),
                heading: "Indledning".into(),
                body: "Tekst".into(),
                position: 0,
            }],
            focus_areas: vec![],
            goals: vec![DocumentGoal {
                id: "g1".into(),
                number: Some("Resultatmål 1".into()),
                title: "Sygedagpenge".into(),
                description: None,
                kind: GoalKind::Local,
                focus_area_id: None,
                target_groups: vec![],
                initiatives: vec![],
                position: 0,
                requirements: vec![DocumentRequirement {
                    id: "r1".into(),
                    statement: "Højst xx pct.".into(),
                    indicator: "Andel".into(),
                    unit: Unit::Percent,
                    comparator: Comparator::AtMost,
                    baseline: None,
                    target: Target { value: None, value_max: None, due: Some("2017-12-31".into()), placeholder: true },
                    data_source: None,
                    frequency: None,
                    position: 0,
                }],
                follow_up_measures: vec![],
            }],
        }
    }

    #[test]
    fn a_document_against_itself_is_empty() {
        let d = document();
        let result = diff(1, &d, 1, &d);
        assert!(result.added.is_empty() && result.removed.is_empty() && result.changed.is_empty());
    }

    #[test]
    fn added_removed_and_changed_fields() {
        let from = document();
        let mut to = document();
        to.sections.clear();
        to.goals[0].requirements[0].target =
            Target { value: Some(12.5), value_max: None, due: Some("2017-12-31".into()), placeholder: false };
        to.goals[0].requirements[0].statement = "Højst 12,5 pct.".into();
        to.goals[0].follow_up_measures.push(DocumentFollowUpMeasure {
            id: "m1".into(),
            indicator: "Delvis raskmeldte".into(),
            description: None,
            unit: Unit::Percent,
            data_source: None,
            frequency: None,
            position: 0,
        });
        let result = diff(1, &from, 2, &to);
        assert_eq!((result.from, result.to), (1, 2));
        assert_eq!(result.removed.len(), 1);
        assert_eq!((result.removed[0].item_type.as_str(), result.removed[0].id.as_str()), ("section", "s1"));
        assert_eq!(result.added.len(), 1);
        assert_eq!(result.added[0].item["goal_id"], "g1");
        assert_eq!(result.changed.len(), 1);
        let change = &result.changed[0];
        assert_eq!((change.item_type.as_str(), change.id.as_str()), ("requirement", "r1"));
        let names: Vec<&String> = change.fields.keys().collect();
        assert_eq!(names, ["statement", "target"]);
        assert_eq!(change.fields["target"].before["placeholder"], true);
        assert_eq!(change.fields["target"].after["value"], 12.5);
    }

    #[test]
    fn the_order_is_stable() {
        let from = document();
        let mut to = document();
        for i in 0..5 {
            to.sections.push(DocumentSection {
                id: format!("s{}", 9 - i),
                heading: "X".into(),
                body: String::new(),
                position: i + 1,
            });
        }
        let first = diff(1, &from, 2, &to);
        let ids: Vec<&str> = first.added.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["s9", "s8", "s7", "s6", "s5"], "document order");
        assert_eq!(first, diff(1, &from, 2, &to));
    }
}
