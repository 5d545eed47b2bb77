//! Hearings on a version of a plan (here), the invited parties' comments (`comments`), the
//! administration's responses (`responses`) and the hearing summary, høringsnotat (`summary`);
//! the stored rows and their JSON representations are in `views`.
//!
//! Who sees what is the policy's (`policy::hearing_access`, `policy::may_see_comment`): the
//! plan's own readers see everything; a consultee sees the hearings its party is invited to (in
//! its municipalities), its own party's comments, and all submitted comments once the hearing
//! has closed; anyone sees closed hearings with their submitted comments and responses. This
//! module fetches what the policy decides on.
//!
//! Every change (open, edit, close; submit, edit, withdraw, answer a comment) is ordered by the
//! plan's lock: in one write transaction the row is read only to learn its plan, the plan is
//! locked, and the row is read again after the lock. Checks (visibility, `If-Match`, status,
//! the comment window) act on that second read, and the update compares-and-swaps on its
//! revision. So of parallel changes with one ETag exactly one wins, and a comment racing the
//! hearing's close finds the hearing either open (accepted) or closed (409).

mod comments;
mod responses;
mod summary;
mod views;

use actix_web::http::header::HeaderMap;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime};
use diesel::dsl::{Eq, Filter};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::audit::{self, snapshot};
use crate::api::docs::{
    ActionProblems, CreateProblems, IdempotencyKey, IfMatch, ItemProblems, ListProblems, UpdateProblems,
};
use crate::api::http::{self, ListOf, Page, PageQuery};
use crate::api::plan_state;
use crate::api::plans::{self, PlanRow};
use crate::auth::policy::{self, Action, HearingAccess, Target};
use crate::auth::RequestContext;
use crate::db::schema::{comments as comments_table, hearings, versions as versions_table};
use crate::db::{expect_one, storable, DbConnection};
use crate::domain::hearing::{CommentStatus, HearingStatus};
use crate::domain::plan_status::{self, Event};
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};
use crate::{now, AppState};

pub use comments::{
    create_comment, get_comment, list_comments, submit_comment, update_comment, withdraw_comment, CommentPatch,
    CommentQuery, NewComment,
};
pub use responses::{answer, respond, NewResponse};
pub use summary::{hearing_summary, summary, PartyComments, Summary, SummaryComment};
pub use views::{Comment, CommentRow, CommentTarget, Hearing, HearingRow, Response};

// ---- loading, locking, visibility ----

fn find_hearing(conn: &mut DbConnection, id: &str) -> ApiResult<HearingRow> {
    hearings::table
        .find(id)
        .select(HearingRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no hearing with id {id}")))
}

/// A hearing and its plan, for a read.
fn load_hearing(conn: &mut DbConnection, id: &str) -> ApiResult<(HearingRow, PlanRow)> {
    let row = find_hearing(conn, id)?;
    let plan = plans::find(conn, &row.plan_id)?;
    Ok((row, plan))
}

/// A hearing and its plan, for a change: the plan's lock taken first, the hearing read after it.
fn lock_hearing(conn: &mut DbConnection, id: &str) -> ApiResult<(HearingRow, PlanRow)> {
    let plan_id: Option<String> = hearings::table.find(id).select(hearings::plan_id).first(conn).optional()?;
    let plan_id = plan_id.ok_or_else(|| ApiError::NotFound(format!("no hearing with id {id}")))?;
    let plan = plan_state::lock(conn, &plan_id)?;
    Ok((find_hearing(conn, id)?, plan))
}

/// How much of a hearing the caller sees (404 when nothing).
fn access(ctx: &RequestContext, plan: &PlanRow, row: &HearingRow) -> ApiResult<HearingAccess> {
    let closed = row.status() == HearingStatus::Closed;
    policy::hearing_access(ctx.caller.as_ref(), &plan.municipality_code, &row.parties()?, closed)
        .ok_or_else(|| ApiError::NotFound("no such hearing, or it is not visible to this caller".into()))
}

/// The invited parties of each hearing on version `number` of a plan, for
/// `policy::consultee_may_read_version`.
pub fn invitations(conn: &mut DbConnection, plan_id: &str, number: i32) -> ApiResult<Vec<Vec<String>>> {
    let rows: Vec<String> = hearings::table
        .filter(hearings::plan_id.eq(plan_id))
        .filter(hearings::version.eq(number))
        .select(hearings::parties)
        .load(conn)?;
    Ok(rows.iter().map(|parties| serde_json::from_str(parties).unwrap_or_default()).collect())
}

// ---- plan status and readiness ----

/// Hearings and comments that block a decision on a plan.
#[derive(Debug, Default)]
pub struct Pending {
    /// `(id, title)` of hearings not yet closed.
    pub open: Vec<(String, String)>,
    /// `(id, party)` of submitted comments without a response.
    pub unanswered: Vec<(String, String)>,
}

pub fn pending(conn: &mut DbConnection, plan_id: &str) -> ApiResult<Pending> {
    let open = hearings::table
        .filter(hearings::plan_id.eq(plan_id))
        .filter(hearings::closed_at.is_null())
        .filter(hearings::closes_at.gt(now()))
        .order(hearings::created_at)
        .select((hearings::id, hearings::title))
        .load(conn)?;
    let unanswered = comments_table::table
        .filter(comments_table::plan_id.eq(plan_id))
        .filter(comments_table::status.eq(storable(&CommentStatus::Submitted)))
        .filter(comments_table::response_disposition.is_null())
        .order(comments_table::submitted_at)
        .select((comments_table::id, comments_table::party))
        .load(conn)?;
    Ok(Pending { open, unanswered })
}

// ---- hearings ----

fn parse_time(checks: &mut Checks, field: &str, text: &str) -> Option<NaiveDateTime> {
    match DateTime::parse_from_rfc3339(text) {
        Ok(at) => Some(at.naive_utc()),
        Err(_) => {
            checks.fail(field, "must be an RFC 3339 time, e.g. 2018-11-21T16:00:00Z");
            None
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHearing {
    /// The version sent to hearing.
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "http::whole_number")]
    pub version: i32,
    #[schema(
        example = "Høring af beskæftigelsesplanen 2019",
        min_length = 1,
        max_length = 300,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub title: String,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    /// When comments may start (RFC 3339); now when absent.
    #[schema(format = DateTime)]
    pub opens_at: Option<String>,
    /// The deadline (RFC 3339).
    #[schema(example = "2018-11-22T12:00:00Z", format = DateTime)]
    pub closes_at: String,
    #[schema(example = json!(["Handicaprådet", "RAR Hovedstaden", "Integrationsrådet"]), min_items = 1, max_items = 50)]
    pub parties: Vec<String>,
}

/// What a merge patch of a hearing may change, while it is not closed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HearingPatch {
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub title: String,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    /// A new deadline (RFC 3339), later than now.
    #[schema(format = DateTime)]
    pub closes_at: String,
}

/// The most parties one hearing invites (the councils, boards and organisations of a
/// municipality are far fewer).
pub const MAX_PARTIES: usize = 50;

pub fn open_hearing(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    plan_id: &str,
    input: NewHearing,
) -> ApiResult<Hearing> {
    let mut checks = Checks::new();
    checks.text("title", &input.title, 300);
    checks.optional_text("description", input.description.as_deref(), 20_000);
    if input.parties.is_empty() {
        checks.fail("parties", "invite at least one party");
    }
    let listed = if checks.at_most("parties", input.parties.len(), MAX_PARTIES) { input.parties.len() } else { 0 };
    for (i, party) in input.parties.iter().take(listed).enumerate() {
        checks.text(&format!("parties[{i}]"), party, 200);
        if input.parties[..i].contains(party) {
            checks.fail(&format!("parties[{i}]"), "is listed twice");
        }
    }
    let at = now();
    let opens_at = match &input.opens_at {
        Some(text) => parse_time(&mut checks, "opens_at", text),
        None => Some(at),
    };
    let closes_at = parse_time(&mut checks, "closes_at", &input.closes_at);
    if let (Some(opens), Some(closes)) = (opens_at, closes_at) {
        if closes <= opens.max(at) {
            checks.fail("closes_at", "must be later than opens_at and than now");
        }
    }
    checks.finish()?;
    conn.write(|conn| {
        let plan = plan_state::lock_for(conn, ctx, plan_id, Action::EditPlan)?;
        let next = plan_status::next(plan.status()?, Event::HearingOpened).map_err(ApiError::Conflict)?;
        let exists: i64 = versions_table::table.find((plan_id, input.version)).count().get_result(conn)?;
        if exists == 0 {
            return Err(ApiError::validation("version", format!("the plan has no version {}", input.version)));
        }
        let row = HearingRow {
            id: Uuid::now_v7().to_string(),
            plan_id: plan_id.to_owned(),
            version: input.version,
            title: input.title.trim().to_owned(),
            description: input.description.clone(),
            opens_at: opens_at.expect("checked"),
            closes_at: closes_at.expect("checked"),
            closed_at: None,
            parties: serde_json::Value::from(input.parties.clone()).to_string(),
            created_at: at,
            updated_at: at,
            revision: 1,
        };
        diesel::insert_into(hearings::table).values(&row).execute(conn)?;
        let hearing = Hearing::try_from(row)?;
        audit::record(conn, ctx, "create", "hearing", &hearing.id, None, snapshot(&hearing))?;
        if next != plan.status()? {
            plan_state::set_status(conn, ctx, &plan, next, plan.adopted_version)?;
        }
        Ok(hearing)
    })
}

/// The hearings of a plan, oldest first.
///
/// All of them for the plan's readers, the invited ones for a consultee, the closed ones for anyone
/// else.
#[utoipa::path(
    tag = "hearings",
    params(("plan_id" = String, Path, description = "The plan's id"), PageQuery),
    security((), ("bearer" = [])),
    responses((status = 200, description = "A page of hearings", body = ListOf<Hearing>), ListProblems)
)]
#[get("/plans/{plan_id}/hearings")]
pub async fn list_hearings(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let plan_id = plan_id.into_inner();
    let (total, items) = state
        .db(move |conn| {
            let plan = plans::find(conn, &plan_id)?;
            let rows: Vec<HearingRow> = hearings::table
                .filter(hearings::plan_id.eq(&plan_id))
                .order((hearings::created_at, hearings::id))
                .select(HearingRow::as_select())
                .load(conn)?;
            let visible: Vec<HearingRow> = rows.into_iter().filter(|row| access(&ctx, &plan, row).is_ok()).collect();
            paged(visible, page, Hearing::try_from)
        })
        .await?;
    Ok(http::list_response(&req, page, total, items))
}

/// A page of rows filtered in memory (hearings and comments are few per plan).
fn paged<R, T>(rows: Vec<R>, page: Page, view: impl Fn(R) -> ApiResult<T>) -> ApiResult<(i64, Vec<T>)> {
    let total = rows.len() as i64;
    let items = rows
        .into_iter()
        .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(page.limit).unwrap_or(0))
        .map(view)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((total, items))
}

/// Send a version to hearing (planner): with a deadline and the invited parties.
///
/// The plan is `in_hearing` from then until no hearing of it is scheduled or open.
#[utoipa::path(
    tag = "hearings",
    params(("plan_id" = String, Path, description = "The plan's id"), IdempotencyKey),
    request_body = NewHearing,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Opened (or scheduled)", body = Hearing, headers(("Location" = String), ("ETag" = String))),
        CreateProblems,
    )
)]
#[post("/plans/{plan_id}/hearings")]
pub async fn create_hearing(
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    body: web::Json<NewHearing>,
) -> ApiResult<HttpResponse> {
    let plan_id = plan_id.into_inner();
    let hearing = state.db(move |conn| open_hearing(conn, &ctx, &plan_id, body.into_inner())).await?;
    Ok(http::created(format!("/api/v1/hearings/{}", hearing.id), &hearing.etag, &hearing))
}

/// Read a hearing.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The hearing's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The hearing", body = Hearing, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        ItemProblems,
    )
)]
#[get("/hearings/{id}")]
pub async fn get_hearing(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let hearing = state
        .db(move |conn| {
            let (row, plan) = load_hearing(conn, &id)?;
            access(&ctx, &plan, &row)?;
            Hearing::try_from(row)
        })
        .await?;
    Ok(http::entity_response(&req, &hearing.etag, &hearing))
}

/// Move a hearing's deadline, or change its title or description, while it is not closed
/// (planner; merge patch with `If-Match`).
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The hearing's id"), IfMatch),
    request_body(content = HearingPatch, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = Hearing, headers(("ETag" = String))), UpdateProblems)
)]
#[patch("/hearings/{id}")]
pub async fn update_hearing(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    patch: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let headers = req.headers().clone();
    let hearing = state.db(move |conn| conn.write(|conn| edit_hearing(conn, &ctx, &id, &patch, &headers))).await?;
    Ok(http::updated(&hearing.etag, &hearing))
}

/// Applies a merge patch to a hearing that is not closed, with `If-Match` (inside a write).
fn edit_hearing(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    id: &str,
    patch: &serde_json::Value,
    headers: &HeaderMap,
) -> ApiResult<Hearing> {
    change_hearing(conn, ctx, id, "update", |conn, row| {
        http::check_if_match(headers, &http::etag(row.revision))?;
        if row.status() == HearingStatus::Closed {
            return Err(ApiError::Conflict("the hearing is closed".into()));
        }
        let current = HearingPatch {
            title: row.title.clone(),
            description: row.description.clone(),
            closes_at: row.closes_at.and_utc().to_rfc3339(),
        };
        let read_only = ["id", "plan_id", "version", "opens_at", "closed_at", "parties", "status", "etag"];
        let changed: HearingPatch = http::merge_patch(&current, patch, &read_only)?;
        let mut checks = Checks::new();
        checks.text("title", &changed.title, 300);
        checks.optional_text("description", changed.description.as_deref(), 20_000);
        let closes_at = parse_time(&mut checks, "closes_at", &changed.closes_at);
        if closes_at.is_some_and(|c| c <= now().max(row.opens_at)) {
            checks.fail("closes_at", "must be later than opens_at and than now; close it to end it now");
        }
        checks.finish()?;
        Ok(diesel::update(unchanged(row))
            .set((
                hearings::title.eq(changed.title.trim()),
                hearings::description.eq(&changed.description),
                hearings::closes_at.eq(closes_at.expect("checked")),
                hearings::updated_at.eq(now()),
                hearings::revision.eq(row.revision + 1),
            ))
            .execute(conn)?)
    })
}

/// The one way a hearing changes, inside a write transaction: the plan's lock first, the
/// hearing read after it, only by the plan's planners (404/403); `apply` checks the hearing as
/// read and compare-and-swaps it (`unchanged`), returning the rows it changed (none: 412 and
/// rollback); then the hearing after, with its audit record.
fn change_hearing(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    id: &str,
    action: &str,
    apply: impl FnOnce(&mut DbConnection, &HearingRow) -> ApiResult<usize>,
) -> ApiResult<Hearing> {
    let (row, plan) = lock_hearing(conn, id)?;
    access(ctx, &plan, &row)?;
    policy::authorize(ctx.caller.as_ref(), Action::EditPlan, Target::plan(&plan.municipality_code, true))?;
    let before = Hearing::try_from(row.clone())?;
    expect_one(apply(conn, &row)?)?;
    let after = Hearing::try_from(find_hearing(conn, id)?)?;
    audit::record(conn, ctx, action, "hearing", id, snapshot(&before), snapshot(&after))?;
    Ok(after)
}

/// The rows of `T` with one id and revision: what a compare-and-swap updates.
type Unchanged<'a, T, Id, Revision> = Filter<Filter<T, Eq<Id, &'a str>>, Eq<Revision, i64>>;

/// A hearing as read under the plan's lock, for a compare-and-swap: the update matches only
/// while its revision is still the one read.
fn unchanged(row: &HearingRow) -> Unchanged<'_, hearings::table, hearings::id, hearings::revision> {
    hearings::table.filter(hearings::id.eq(row.id.as_str())).filter(hearings::revision.eq(row.revision))
}

/// Close a hearing before its deadline (planner).
///
/// The plan leaves `in_hearing` when no other hearing of it is open.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The hearing's id"), IdempotencyKey),
    security(("bearer" = [])),
    responses((status = 200, description = "Closed", body = Hearing, headers(("ETag" = String))), ActionProblems)
)]
#[post("/hearings/{id}/close")]
pub async fn close_hearing(
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let hearing = state.db(move |conn| close(conn, &ctx, &id)).await?;
    Ok(http::updated(&hearing.etag, &hearing))
}

/// Closes a hearing now; the plan leaves `in_hearing` when no other hearing of it is open.
pub fn close(conn: &mut DbConnection, ctx: &RequestContext, id: &str) -> ApiResult<Hearing> {
    conn.write(|conn| {
        let after = change_hearing(conn, ctx, id, "close", |conn, row| {
            if row.status() == HearingStatus::Closed {
                return Err(ApiError::Conflict("the hearing is already closed".into()));
            }
            Ok(diesel::update(unchanged(row))
                .set((
                    hearings::closed_at.eq(Some(now())),
                    hearings::updated_at.eq(now()),
                    hearings::revision.eq(row.revision + 1),
                ))
                .execute(conn)?)
        })?;
        // Settles the plan in the same transaction when this was its last open hearing.
        plan_state::lock(conn, &after.plan_id)?;
        Ok(after)
    })
}
