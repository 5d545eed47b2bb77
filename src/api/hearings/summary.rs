//! The hearing summary (høringsnotat): per invited party, each submitted comment with what it
//! points at and the administration's response; as JSON, HTML or Markdown. A read: public once
//! the hearing has closed, before that for the plan's readers.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::comments::{hearing_document, target_label};
use super::views::{Comment, CommentRow, CommentTarget, Hearing, Response};
use super::{access, load_hearing};
use crate::api::docs::ItemProblems;
use crate::api::versions::VersionCache;
use crate::auth::policy::HearingAccess;
use crate::auth::RequestContext;
use crate::db::schema::comments;
use crate::db::{storable, DbConnection};
use crate::domain::hearing::{CommentStatus, HearingStatus, Stance};
use crate::error::{ApiError, ApiResult, Problem};
use crate::render;
use crate::AppState;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SummaryComment {
    pub id: String,
    pub body: String,
    pub stance: Option<Stance>,
    pub target: Option<CommentTarget>,
    /// What the comment points at, in words ("MÅL 1: …").
    pub target_label: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub response: Option<Response>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartyComments {
    pub party: String,
    pub comments: Vec<SummaryComment>,
}

/// The hearing summary: per invited party, each submitted comment with what it points at and
/// the administration's response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = HearingSummary)]
pub struct Summary {
    pub hearing: Hearing,
    pub plan_title: String,
    pub parties: Vec<PartyComments>,
    /// Submitted comments without a response.
    #[schema(format = Int64)]
    pub unanswered: usize,
}

pub fn summary(
    conn: &mut DbConnection,
    cache: &VersionCache,
    ctx: &RequestContext,
    hearing_id: &str,
) -> ApiResult<Summary> {
    let (row, plan) = load_hearing(conn, hearing_id)?;
    // The whole summary: the plan's readers, and everyone once the hearing is closed.
    if access(ctx, &plan, &row)? == HearingAccess::Full || row.status() == HearingStatus::Closed {
        let document = hearing_document(conn, cache, &row)?;
        let rows: Vec<CommentRow> = comments::table
            .filter(comments::hearing_id.eq(hearing_id))
            .filter(comments::status.eq(storable(&CommentStatus::Submitted)))
            .order((comments::submitted_at, comments::id))
            .select(CommentRow::as_select())
            .load(conn)?;
        let hearing = Hearing::try_from(row)?;
        let mut parties: Vec<PartyComments> =
            hearing.parties.iter().map(|p| PartyComments { party: p.clone(), comments: vec![] }).collect();
        let mut unanswered = 0;
        for comment in rows.into_iter().map(Comment::try_from) {
            let comment = comment?;
            unanswered += usize::from(comment.response.is_none());
            let entry = SummaryComment {
                target_label: comment.target.as_ref().and_then(|t| target_label(t, &document)),
                id: comment.id,
                body: comment.body,
                stance: comment.stance,
                target: comment.target,
                submitted_at: comment.submitted_at,
                response: comment.response,
            };
            match parties.iter_mut().find(|p| p.party == comment.party) {
                Some(group) => group.comments.push(entry),
                None => parties.push(PartyComments { party: comment.party, comments: vec![entry] }),
            }
        }
        Ok(Summary { plan_title: document.plan.title, hearing, parties, unanswered })
    } else {
        Err(ApiError::NotFound("the summary is public once the hearing has closed".into()))
    }
}

/// The hearing summary (høringsnotat) as JSON, an accessible HTML page or Markdown, chosen by
/// `Accept`.
///
/// Public once the hearing has closed; before that, for the plan's readers.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The hearing's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The summary", content((Summary = "application/json"), (String = "text/html"), (String = "text/markdown"))),
        (status = 406, description = "None of JSON, HTML or Markdown is acceptable", body = Problem, content_type = "application/problem+json"),
        ItemProblems,
    )
)]
#[get("/hearings/{id}/summary")]
pub async fn hearing_summary(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let format = summary_format(&req)?;
    let id = id.into_inner();
    let cache = state.versions.clone();
    let summary = state.db(move |conn| summary(conn, &cache, &ctx, &id)).await?;
    let response = match format {
        SummaryFormat::Json => HttpResponse::Ok().json(&summary),
        SummaryFormat::Html => {
            HttpResponse::Ok().content_type("text/html; charset=utf-8").body(render::summary_html(&summary))
        }
        SummaryFormat::Markdown => {
            HttpResponse::Ok().content_type("text/markdown; charset=utf-8").body(render::summary_markdown(&summary))
        }
    };
    let mut response = response;
    response.headers_mut().insert(header::VARY, header::HeaderValue::from_static("Accept"));
    Ok(response)
}

#[derive(Debug, Clone, Copy)]
enum SummaryFormat {
    Json,
    Html,
    Markdown,
}

fn summary_format(req: &HttpRequest) -> ApiResult<SummaryFormat> {
    Ok(match crate::api::http::negotiate(req, &["application/json", "text/html", "text/markdown"])? {
        "text/html" => SummaryFormat::Html,
        "text/markdown" => SummaryFormat::Markdown,
        _ => SummaryFormat::Json,
    })
}
