//! The invited parties' comments on a hearing: submitted by a consultee for its own party (or by
//! a planner for any invited party, when a comment came by mail), edited and withdrawn by their
//! author while the hearing is open. Each change is ordered by the plan's lock (see the module
//! note in `hearings`).

use actix_web::http::header::HeaderMap;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::views::{Comment, CommentRow, CommentTarget, HearingRow};
use super::{access, find_hearing, load_hearing, paged, Unchanged};
use crate::api::audit::{self, snapshot};
use crate::api::docs::{
    CreateProblems, DeleteProblems, IdempotencyKey, IfMatch, ItemProblems, ListProblems, UpdateProblems,
};
use crate::api::http::{self, ListOf, Page};
use crate::api::plan_state;
use crate::api::plans::PlanRow;
use crate::api::versions::{self, VersionCache};
use crate::auth::policy::{self, Action, HearingAccess, Target};
use crate::auth::{Caller, RequestContext};
use crate::db::schema::comments;
use crate::db::{expect_one, storable, DbConnection};
use crate::domain::document::Document;
use crate::domain::hearing::{self, CommentStatus, HearingStatus, Stance, TargetType};
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};
use crate::{now, AppState};

// ---- loading, locking, visibility ----

fn find_comment(conn: &mut DbConnection, id: &str) -> ApiResult<CommentRow> {
    comments::table
        .find(id)
        .select(CommentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no comment with id {id}")))
}

/// A comment with its hearing and plan, for a read.
fn load_comment(conn: &mut DbConnection, id: &str) -> ApiResult<(CommentRow, HearingRow, PlanRow)> {
    let comment = find_comment(conn, id)?;
    let (hearing, plan) = load_hearing(conn, &comment.hearing_id)?;
    Ok((comment, hearing, plan))
}

/// A comment with its hearing and plan, for a change: the plan's lock taken first, the comment
/// and its hearing read after it.
fn lock_comment(conn: &mut DbConnection, id: &str) -> ApiResult<(CommentRow, HearingRow, PlanRow)> {
    let plan_id: Option<String> = comments::table.find(id).select(comments::plan_id).first(conn).optional()?;
    let plan_id = plan_id.ok_or_else(|| ApiError::NotFound(format!("no comment with id {id}")))?;
    let plan = plan_state::lock(conn, &plan_id)?;
    let comment = find_comment(conn, id)?;
    let hearing = find_hearing(conn, &comment.hearing_id)?;
    Ok((comment, hearing, plan))
}

/// How much of the comment's hearing the caller sees; 404 when it may not see the comment.
fn visible(
    ctx: &RequestContext,
    comment: &CommentRow,
    hearing: &HearingRow,
    plan: &PlanRow,
) -> ApiResult<HearingAccess> {
    let access = access(ctx, plan, hearing)?;
    let closed = hearing.status() == HearingStatus::Closed;
    if policy::may_see_comment(&access, closed, &comment.party, comment.submitted()) {
        Ok(access)
    } else {
        Err(ApiError::NotFound("no such comment, or it is not visible to this caller".into()))
    }
}

/// Who changes a comment.
pub(super) enum By {
    /// Its author (or an admin): while it is submitted and the hearing open.
    Author,
    /// The plan's planners (the response), also after the hearing has closed.
    Planner,
}

/// The one way a comment changes, inside a write transaction: the plan's lock first, the
/// comment and its hearing read after it, only by whom `by` allows (404/403/409); `apply`
/// checks the comment as read and compare-and-swaps it (`unchanged`), returning the rows it
/// changed (none: 412 and rollback); then the comment after, with its audit record.
pub(super) fn change_comment(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    id: &str,
    action: &str,
    by: By,
    apply: impl FnOnce(&mut DbConnection, &CommentRow, &HearingRow) -> ApiResult<usize>,
) -> ApiResult<Comment> {
    let (row, hearing, plan) = lock_comment(conn, id)?;
    match by {
        By::Author => {
            let caller = ctx.caller()?;
            visible(ctx, &row, &hearing, &plan)?;
            if !policy::may_change_comment(caller, &row.submitted_by) {
                return Err(ApiError::Forbidden("only the comment's author changes it".into()));
            }
            if !row.submitted() {
                return Err(ApiError::Conflict("the comment is withdrawn".into()));
            }
            hearing::comment_window(hearing.status()).map_err(ApiError::Conflict)?;
        }
        By::Planner => {
            visible(ctx, &row, &hearing, &plan)?;
            // The caller sees the comment: not allowed to change it is 403.
            policy::authorize(ctx.caller.as_ref(), Action::EditPlan, Target::plan(&plan.municipality_code, true))?;
        }
    }
    let before = Comment::try_from(row.clone())?;
    expect_one(apply(conn, &row, &hearing)?)?;
    let after = Comment::try_from(find_comment(conn, id)?)?;
    audit::record(conn, ctx, action, "comment", id, snapshot(&before), snapshot(&after))?;
    Ok(after)
}

/// A comment as read under the plan's lock, for a compare-and-swap: the update matches only
/// while its revision is still the one read.
pub(super) fn unchanged(row: &CommentRow) -> Unchanged<'_, comments::table, comments::id, comments::revision> {
    comments::table.filter(comments::id.eq(row.id.as_str())).filter(comments::revision.eq(row.revision))
}

/// The version in hearing, read as the service: whoever may comment may point at its items.
pub(super) fn hearing_document(conn: &mut DbConnection, cache: &VersionCache, row: &HearingRow) -> ApiResult<Document> {
    let ctx = RequestContext::system(Caller::system());
    Ok(versions::document_of(&versions::read(conn, cache, &ctx, &row.plan_id, row.version)?.0)?.document)
}

/// What a comment's target is in the version in hearing, in words ("MÅL 1: …"); `None` when the
/// version has no such item.
pub(super) fn target_label(target: &CommentTarget, document: &Document) -> Option<String> {
    let id = target.id.as_str();
    match target.target_type {
        TargetType::Plan => (document.plan.id == id).then(|| format!("Planen: {}", document.plan.title)),
        TargetType::Section => document.sections.iter().find(|s| s.id == id).map(|s| format!("Afsnit: {}", s.heading)),
        TargetType::Goal => document.goals.iter().find(|g| g.id == id).map(|g| match &g.number {
            Some(n) => format!("{n}: {}", g.title),
            None => g.title.clone(),
        }),
        TargetType::Requirement => {
            document.requirements().find(|(_, r)| r.id == id).map(|(_, r)| format!("Resultatkrav: {}", r.statement))
        }
    }
}

/// Checks that a comment's target is the plan or an item of the version in hearing.
fn check_target(checks: &mut Checks, target: Option<&CommentTarget>, document: &Document) {
    if target.is_some_and(|t| target_label(t, document).is_none()) {
        checks.fail("target.id", "is not in the version in hearing");
    }
}

// ---- submitting ----

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// The commenting party: a consultee's own (may be left out); for a planner registering a
    /// comment that came by mail, any invited party.
    #[schema(example = "Handicaprådet")]
    pub party: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 50000,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub body: String,
    pub stance: Option<Stance>,
    pub target: Option<CommentTarget>,
}

/// Who comments for whom: a consultee for its own party, a planner for any invited one.
fn commenting_party(
    caller: &Caller,
    access: HearingAccess,
    plan: &PlanRow,
    invited: &[String],
    requested: Option<&str>,
) -> ApiResult<String> {
    match access {
        HearingAccess::Party(own) => match requested {
            None => Ok(own),
            Some(p) if p == own => Ok(own),
            Some(_) => Err(ApiError::Forbidden(format!("a consultee comments for its own party, {own}"))),
        },
        HearingAccess::Full => {
            policy::authorize(Some(caller), Action::EditPlan, Target::plan(&plan.municipality_code, true))?;
            match requested {
                Some(p) if invited.iter().any(|i| i == p) => Ok(p.to_owned()),
                Some(p) => Err(ApiError::validation("party", format!("{p} is not invited to this hearing"))),
                None => Err(ApiError::validation("party", "name the invited party the comment is from")),
            }
        }
        HearingAccess::Public => Err(ApiError::Forbidden("only invited parties comment".into())),
    }
}

pub fn submit_comment(
    conn: &mut DbConnection,
    cache: &VersionCache,
    ctx: &RequestContext,
    hearing_id: &str,
    input: NewComment,
) -> ApiResult<Comment> {
    let caller = ctx.caller()?.clone();
    conn.write(|conn| {
        // Under the plan's lock a hearing being closed is either still open or already closed.
        let (row, plan) = super::lock_hearing(conn, hearing_id)?;
        let access = access(ctx, &plan, &row)?;
        let party = commenting_party(&caller, access, &plan, &row.parties()?, input.party.as_deref())?;
        hearing::comment_window(row.status()).map_err(ApiError::Conflict)?;
        let mut checks = Checks::new();
        checks.text("body", &input.body, 50_000);
        check_target(&mut checks, input.target.as_ref(), &hearing_document(conn, cache, &row)?);
        checks.finish()?;
        let at = now();
        let comment = CommentRow {
            id: Uuid::now_v7().to_string(),
            hearing_id: hearing_id.to_owned(),
            plan_id: row.plan_id.clone(),
            party,
            body: input.body.clone(),
            stance: input.stance.as_ref().map(storable),
            target_type: input.target.as_ref().map(|t| storable(&t.target_type)),
            target_id: input.target.as_ref().map(|t| t.id.clone()),
            status: storable(&CommentStatus::Submitted),
            submitted_at: at,
            submitted_by: ctx.actor().to_owned(),
            updated_at: at,
            response_disposition: None,
            response_text: None,
            responded_at: None,
            responded_by: None,
            revision: 1,
        };
        diesel::insert_into(comments::table).values(&comment).execute(conn)?;
        let comment = Comment::try_from(comment)?;
        audit::record(conn, ctx, "create", "comment", &comment.id, None, snapshot(&comment))?;
        Ok(comment)
    })
}

#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommentQuery {
    /// Only this party's comments.
    pub party: Option<String>,
    /// Only comments with this status.
    pub status: Option<CommentStatus>,
    /// Only comments pointing at this item.
    pub target_id: Option<String>,
    /// At most this many items (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Skip this many items (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// The comments of a hearing that the caller may see, oldest first.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The hearing's id"), CommentQuery),
    security((), ("bearer" = [])),
    responses((status = 200, description = "A page of comments", body = ListOf<Comment>), ListProblems)
)]
#[get("/hearings/{id}/comments")]
pub async fn list_comments(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<CommentQuery>,
) -> ApiResult<HttpResponse> {
    let page = Page::new(query.limit, query.offset)?;
    let id = id.into_inner();
    let query = query.into_inner();
    let (total, items) = state
        .db(move |conn| {
            let (row, plan) = load_hearing(conn, &id)?;
            let access = access(&ctx, &plan, &row)?;
            let mut q = comments::table.filter(comments::hearing_id.eq(&id)).into_boxed();
            if let Some(party) = &query.party {
                q = q.filter(comments::party.eq(party.clone()));
            }
            if let Some(status) = &query.status {
                q = q.filter(comments::status.eq(storable(status)));
            }
            if let Some(target) = &query.target_id {
                q = q.filter(comments::target_id.eq(target.clone()));
            }
            let rows: Vec<CommentRow> =
                q.order((comments::submitted_at, comments::id)).select(CommentRow::as_select()).load(conn)?;
            let closed = row.status() == HearingStatus::Closed;
            let visible: Vec<CommentRow> = rows
                .into_iter()
                .filter(|c| policy::may_see_comment(&access, closed, &c.party, c.submitted()))
                .collect();
            paged(visible, page, Comment::try_from)
        })
        .await?;
    Ok(http::list_response(&req, page, total, items))
}

/// Comment on a hearing while it is open.
///
/// A consultee for its own party, or a planner registering a comment that came by mail for any
/// invited party.
///
/// After the deadline: 409.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The hearing's id"), IdempotencyKey),
    request_body = NewComment,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Submitted", body = Comment, headers(("Location" = String), ("ETag" = String))),
        CreateProblems,
    )
)]
#[post("/hearings/{id}/comments")]
pub async fn create_comment(
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<NewComment>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let cache = state.versions.clone();
    let comment = state.db(move |conn| submit_comment(conn, &cache, &ctx, &id, body.into_inner())).await?;
    Ok(http::created(format!("/api/v1/comments/{}", comment.id), &comment.etag, &comment))
}

/// Read a comment.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The comment's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The comment", body = Comment, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        ItemProblems,
    )
)]
#[get("/comments/{id}")]
pub async fn get_comment(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let comment = state
        .db(move |conn| {
            let (row, hearing, plan) = load_comment(conn, &id)?;
            visible(&ctx, &row, &hearing, &plan)?;
            Comment::try_from(row)
        })
        .await?;
    Ok(http::entity_response(&req, &comment.etag, &comment))
}

// ---- the author's changes ----

/// What the author may change while the hearing is open.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentPatch {
    #[schema(
        min_length = 1,
        max_length = 50000,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub body: String,
    pub stance: Option<Stance>,
    pub target: Option<CommentTarget>,
}

/// Edit a comment (its author, while the hearing is open; merge patch with `If-Match`).
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The comment's id"), IfMatch),
    request_body(content = CommentPatch, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = Comment, headers(("ETag" = String))), UpdateProblems)
)]
#[patch("/comments/{id}")]
pub async fn update_comment(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    patch: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let headers = req.headers().clone();
    let cache = state.versions.clone();
    let comment =
        state.db(move |conn| conn.write(|conn| edit_comment(conn, &cache, &ctx, &id, &patch, &headers))).await?;
    Ok(http::updated(&comment.etag, &comment))
}

/// Applies its author's merge patch to a comment, with `If-Match` (inside a write).
fn edit_comment(
    conn: &mut DbConnection,
    cache: &VersionCache,
    ctx: &RequestContext,
    id: &str,
    patch: &serde_json::Value,
    headers: &HeaderMap,
) -> ApiResult<Comment> {
    change_comment(conn, ctx, id, "update", By::Author, |conn, row, hearing| {
        http::check_if_match(headers, &http::etag(row.revision))?;
        let view = Comment::try_from(row.clone())?;
        let current = CommentPatch { body: view.body, stance: view.stance, target: view.target };
        let read_only = ["id", "hearing_id", "party", "status", "submitted_at", "submitted_by", "response", "etag"];
        let changed: CommentPatch = http::merge_patch(&current, patch, &read_only)?;
        let mut checks = Checks::new();
        checks.text("body", &changed.body, 50_000);
        check_target(&mut checks, changed.target.as_ref(), &hearing_document(conn, cache, hearing)?);
        checks.finish()?;
        Ok(diesel::update(unchanged(row))
            .set((
                comments::body.eq(&changed.body),
                comments::stance.eq(changed.stance.as_ref().map(storable)),
                comments::target_type.eq(changed.target.as_ref().map(|t| storable(&t.target_type))),
                comments::target_id.eq(changed.target.as_ref().map(|t| t.id.clone())),
                comments::updated_at.eq(now()),
                comments::revision.eq(row.revision + 1),
            ))
            .execute(conn)?)
    })
}

/// Withdraw a comment (its author, while the hearing is open; needs `If-Match`).
///
/// The comment stays, marked `withdrawn`, and is left out of the summary.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The comment's id"), IfMatch),
    security(("bearer" = [])),
    responses((status = 204, description = "Withdrawn"), DeleteProblems)
)]
#[delete("/comments/{id}")]
pub async fn withdraw_comment(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let headers = req.headers().clone();
    state
        .db(move |conn| {
            conn.write(|conn| {
                change_comment(conn, &ctx, &id, "withdraw", By::Author, |conn, row, _| {
                    http::check_if_match(&headers, &http::etag(row.revision))?;
                    Ok(diesel::update(unchanged(row))
                        .set((
                            comments::status.eq(storable(&CommentStatus::Withdrawn)),
                            comments::updated_at.eq(now()),
                            comments::revision.eq(row.revision + 1),
                        ))
                        .execute(conn)?)
                })
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
