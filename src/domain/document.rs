//! The plan document: everything a version freezes. Only content, in position order; no
//! timestamps or ETags, so that two versions of unchanged content are equal.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::requirement::{Baseline, Comparator, Frequency, Target, Unit};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoalKind {
    /// Ministermål: a national goal every plan must address.
    Ministerial,
    /// Lokalpolitisk mål: set by the local council.
    Local,
    /// Kvalitativt mål: fulfilled or not rather than a number.
    Qualitative,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Document {
    pub plan: DocumentPlan,
    pub sections: Vec<DocumentSection>,
    pub focus_areas: Vec<DocumentFocusArea>,
    pub goals: Vec<DocumentGoal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentPlan {
    pub id: String,
    pub municipality: String,
    pub covers: Vec<String>,
    pub year: i32,
    pub title: String,
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentSection {
    pub id: String,
    pub heading: String,
    /// Markdown.
    pub body: String,
    pub position: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentFocusArea {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub position: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentGoal {
    pub id: String,
    pub number: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub kind: GoalKind,
    pub focus_area_id: Option<String>,
    pub target_groups: Vec<String>,
    pub initiatives: Vec<String>,
    pub position: i32,
    pub requirements: Vec<DocumentRequirement>,
    pub follow_up_measures: Vec<DocumentFollowUpMeasure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentRequirement {
    pub id: String,
    pub statement: String,
    pub indicator: String,
    pub unit: Unit,
    pub comparator: Comparator,
    pub baseline: Option<Baseline>,
    pub target: Target,
    pub data_source: Option<String>,
    pub frequency: Option<Frequency>,
    pub position: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentFollowUpMeasure {
    pub id: String,
    pub indicator: String,
    pub description: Option<String>,
    pub unit: Unit,
    pub data_source: Option<String>,
    pub frequency: Option<Frequency>,
    pub position: i32,
}

impl Document {
    /// Every requirement, in document order.
    pub fn requirements(&self) -> impl Iterator<Item = (&DocumentGoal, &DocumentRequirement)> {
        self.goals.iter().flat_map(|g| g.requirements.iter().map(move |r| (g, r)))
    }

    /// The goals of a focus area (`None`: the goals in no focus area), in order.
    pub fn goals_in<'a>(&'a self, focus_area_id: Option<&'a str>) -> impl Iterator<Item = &'a DocumentGoal> {
        self.goals.iter().filter(move |g| g.focus_area_id.as_deref() == focus_area_id)
    }
}
