//! The administration's response to a comment (forvaltningens bemærkning), given by a planner,
//! also after the hearing has closed. Stored on the comment; ordered by the plan's lock.

use actix_web::http::header::HeaderMap;
use actix_web::{put, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::comments::{change_comment, unchanged, By};
use super::views::Comment;
use crate::api::docs::UpdateProblems;
use crate::api::http;
use crate::auth::RequestContext;
use crate::db::schema::comments;
use crate::db::{storable, DbConnection};
use crate::domain::hearing::Disposition;
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};
use crate::{now, AppState};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResponse {
    pub disposition: Disposition,
    /// Forvaltningens bemærkning.
    #[schema(
        min_length = 1,
        max_length = 50000,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub text: String,
}

/// Answer a comment (planner), also after the hearing has closed.
///
/// The first response needs no `If-Match`; replacing one needs the comment's ETag.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The comment's id"),
           ("If-Match" = Option<String>, Header, nullable = false, description = "The comment's current ETag; required to replace a response")),
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
        change_comment(conn, ctx, id, "respond", By::Planner, |conn, row, _| {
            // Under the lock a second first response finds the first one and needs If-Match.
            if row.response_disposition.is_some() || http::has_condition(headers) {
                http::check_if_match(headers, &http::etag(row.revision))?;
            }
            if !row.submitted() {
                return Err(ApiError::Conflict("the comment is withdrawn".into()));
            }
            Ok(diesel::update(unchanged(row))
                .set((
                    comments::response_disposition.eq(Some(storable(&input.disposition))),
                    comments::response_text.eq(Some(&input.text)),
                    comments::responded_at.eq(Some(now())),
                    comments::responded_by.eq(Some(ctx.actor())),
                    comments::revision.eq(row.revision + 1),
                ))
                .execute(conn)?)
        })
    })
}
