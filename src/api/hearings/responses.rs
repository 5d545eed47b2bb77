//! The administration's response to a comment (forvaltningens bemærkning), given by a planner,
//! also after the hearing has closed. Stored on the comment; ordered by the plan's lock.

use actix_web::http::header::HeaderMap;
use actix_web::{put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::comments::{lock_comment, swapped, unchanged, visible, Comment};
use crate::api::audit::{self, snapshot};
use crate::api::docs::UpdateProblems;
use crate::api::http;
use crate::auth::policy::{self, Action, Target};
use crate::auth::RequestContext;
use crate::db::schema::comments;
use crate::db::{storable, DbConnection};
use crate::domain::hearing::Disposition;
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};
use crate::{now, AppState};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Response {
    pub disposition: Disposition,
    pub text: String,
    pub responded_at: DateTime<Utc>,
    pub responded_by: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResponse {
    pub disposition: Disposition,
    /// Forvaltningens bemærkning.
    pub text: String,
}

/// Answer a comment (planner), also after the hearing has closed. The first response needs no
/// `If-Match`; replacing one needs the comment's ETag.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The comment's id"),
           ("If-Match" = Option<String>, Header, description = "The comment's current ETag; required to replace a response")),
    request_body = NewResponse,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The comment with its response", body = Comment, headers(("ETag" = String))),
        UpdateProblems,
    )
)]
#[put("/comments/{id}/response")]
pub async fn respond(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<NewResponse>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let headers = req.headers().clone();
    let input = body.into_inner();
    let comment = state.db(move |conn| answer(conn, &ctx, &id, input, &headers)).await?;
    Ok(http::updated(&comment.etag, &comment))
}

/// Records the administration's response to a comment; `headers` carry the `If-Match` that
/// replacing a response needs.
pub fn answer(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    id: &str,
    input: NewResponse,
    headers: &HeaderMap,
) -> ApiResult<Comment> {
    let mut checks = Checks::new();
    checks.text("text", &input.text, 50_000);
    checks.finish()?;
    conn.write(|conn| {
        // Under the lock a second first response finds the first one and needs If-Match.
        let (row, hearing, plan) = lock_comment(conn, id)?;
        visible(ctx, &row, &hearing, &plan)?;
        // The caller sees the comment: not allowed to answer it is 403.
        policy::authorize(ctx.caller.as_ref(), Action::EditPlan, Target::plan(&plan.municipality_code, true))?;
        if row.response_disposition.is_some() || http::has_condition(headers) {
            http::check_if_match(headers, &http::etag(row.revision))?;
        }
        if !row.submitted() {
            return Err(ApiError::Conflict("the comment is withdrawn".into()));
        }
        let before = Comment::try_from(row.clone())?;
        let count = diesel::update(unchanged(&row))
            .set((
                comments::response_disposition.eq(Some(storable(&input.disposition))),
                comments::response_text.eq(Some(&input.text)),
                comments::responded_at.eq(Some(now())),
                comments::responded_by.eq(Some(ctx.actor())),
                comments::revision.eq(row.revision + 1),
            ))
            .execute(conn)?;
        let after = swapped(conn, &row, count)?;
        audit::record(conn, ctx, "respond", "comment", id, snapshot(&before), snapshot(&after))?;
        Ok(after)
    })
}
