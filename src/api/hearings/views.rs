//! The stored rows of hearings and comments and their JSON representations.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::http;
use crate::db::schema::{comments, hearings};
use crate::db::{storable, stored};
use crate::domain::hearing::{self, CommentStatus, Disposition, HearingStatus, Stance, TargetType};
use crate::error::{ApiError, ApiResult};
use crate::now;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = hearings)]
pub struct HearingRow {
    pub id: String,
    pub plan_id: String,
    pub version: i32,
    pub title: String,
    pub description: Option<String>,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub parties: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revision: i64,
}

impl HearingRow {
    pub fn status(&self) -> HearingStatus {
        hearing::status(self.opens_at, self.closes_at, self.closed_at, now())
    }

    pub(super) fn parties(&self) -> ApiResult<Vec<String>> {
        serde_json::from_str(&self.parties).map_err(|e| ApiError::Internal(format!("stored parties: {e}")))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Hearing {
    pub id: String,
    pub plan_id: String,
    /// The version in hearing.
    pub version: i32,
    #[schema(example = "Høring af beskæftigelsesplanen 2019")]
    pub title: String,
    pub description: Option<String>,
    pub opens_at: DateTime<Utc>,
    /// The deadline: comments are accepted until then.
    pub closes_at: DateTime<Utc>,
    /// When it was closed before its deadline.
    pub closed_at: Option<DateTime<Utc>>,
    #[schema(example = json!(["Handicaprådet", "RAR Hovedstaden"]))]
    pub parties: Vec<String>,
    pub status: HearingStatus,
    pub etag: String,
}

impl TryFrom<HearingRow> for Hearing {
    type Error = ApiError;
    fn try_from(row: HearingRow) -> ApiResult<Self> {
        Ok(Hearing {
            status: row.status(),
            parties: row.parties()?,
            etag: http::etag(row.revision),
            id: row.id,
            plan_id: row.plan_id,
            version: row.version,
            title: row.title,
            description: row.description,
            opens_at: row.opens_at.and_utc(),
            closes_at: row.closes_at.and_utc(),
            closed_at: row.closed_at.map(|at| at.and_utc()),
        })
    }
}

// ---- comments ----

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    pub id: String,
    pub hearing_id: String,
    pub plan_id: String,
    pub party: String,
    pub body: String,
    pub stance: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub status: String,
    pub submitted_at: NaiveDateTime,
    pub submitted_by: String,
    pub updated_at: NaiveDateTime,
    pub response_disposition: Option<String>,
    pub response_text: Option<String>,
    pub responded_at: Option<NaiveDateTime>,
    pub responded_by: Option<String>,
    pub revision: i64,
}

impl CommentRow {
    pub(super) fn submitted(&self) -> bool {
        self.status == storable(&CommentStatus::Submitted)
    }
}

/// What a comment points at: the plan, or a section, goal or requirement of the version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentTarget {
    #[serde(rename = "type")]
    pub target_type: TargetType,
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Comment {
    pub id: String,
    pub hearing_id: String,
    #[schema(example = "Handicaprådet")]
    pub party: String,
    pub body: String,
    pub stance: Option<Stance>,
    pub target: Option<CommentTarget>,
    pub status: CommentStatus,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: String,
    /// The administration's response, once given.
    pub response: Option<Response>,
    pub etag: String,
}

impl TryFrom<CommentRow> for Comment {
    type Error = ApiError;
    fn try_from(row: CommentRow) -> ApiResult<Self> {
        let target = match (row.target_type.as_deref(), row.target_id) {
            (Some(t), Some(id)) => Some(CommentTarget { target_type: stored(t)?, id }),
            _ => None,
        };
        let response =
            match (row.response_disposition.as_deref(), row.response_text, row.responded_at, row.responded_by) {
                (Some(d), Some(text), Some(at), Some(by)) => {
                    Some(Response { disposition: stored(d)?, text, responded_at: at.and_utc(), responded_by: by })
                }
                _ => None,
            };
        Ok(Comment {
            stance: row.stance.as_deref().map(stored).transpose()?,
            status: stored(&row.status)?,
            etag: http::etag(row.revision),
            target,
            response,
            id: row.id,
            hearing_id: row.hearing_id,
            party: row.party,
            body: row.body,
            submitted_at: row.submitted_at.and_utc(),
            submitted_by: row.submitted_by,
        })
    }
}

/// The administration's response to a comment (forvaltningens bemærkning).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = CommentResponse)]
pub struct Response {
    pub disposition: Disposition,
    pub text: String,
    pub responded_at: DateTime<Utc>,
    pub responded_by: String,
}
