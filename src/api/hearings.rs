//! Hearings on a version of a plan, the invited parties' comments, the administration's
//! responses, and the hearing summary (høringsnotat).
//!
//! Who sees what: the plan's own readers (admin, and planners, approvers and viewers of its
//! municipality) see everything; a consultee sees the hearings its party is invited to (in its
//! municipalities), its own party's comments, and all comments once the hearing has closed;
//! anyone sees closed hearings with their submitted comments and responses.

use actix_web::http::header::{self, Accept, Header};
use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::audit::{self, snapshot};
use crate::api::http::{self, ListOf, Page, PageQuery};
use crate::api::plan_state;
use crate::api::plans::{self, PlanRow};
use crate::api::versions::{self, VersionCache};
use crate::auth::policy::{self, Action, Target};
use crate::auth::{Caller, RequestContext, Role};
use crate::db::schema::{comments, hearings, versions as versions_table};
use crate::db::{storable, stored, DbConnection};
use crate::domain::document::Document;
use crate::domain::hearing::{self, CommentStatus, Disposition, HearingStatus, Stance, TargetType};
use crate::domain::plan_status::{self, Event};
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult, Problem};
use crate::render;
use crate::{now, AppState};

// ---- rows and views ----

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

    fn parties(&self) -> ApiResult<Vec<String>> {
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

/// What a comment points at: the plan, or a section, goal or requirement of the version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentTarget {
    #[serde(rename = "type")]
    pub target_type: TargetType,
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Response {
    pub disposition: Disposition,
    pub text: String,
    pub responded_at: DateTime<Utc>,
    pub responded_by: String,
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

// ---- who sees what ----

/// How much of a hearing a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Access {
    /// The plan's own readers: everything.
    Full,
    /// A consultee of an invited party: the hearing, and its own party's comments (all once
    /// the hearing has closed).
    Party(String),
    /// Anyone, once the hearing has closed: the submitted comments and responses.
    Public,
}

/// A consultee acting in the plan's municipality for a party invited to the hearing.
fn invited_party(caller: Option<&Caller>, plan: &PlanRow, parties: &[String]) -> Option<String> {
    invited_party_in(caller, &plan.municipality_code, parties)
}

fn invited_party_in(caller: Option<&Caller>, municipality: &str, parties: &[String]) -> Option<String> {
    let caller = caller.filter(|c| c.role == Role::Consultee && c.acts_in(municipality))?;
    let party = caller.party.as_ref()?;
    parties.contains(party).then(|| party.clone())
}

fn access(ctx: &RequestContext, plan: &PlanRow, row: &HearingRow) -> ApiResult<Access> {
    if policy::can_see(ctx.caller.as_ref(), Target::plan(&plan.municipality_code, false)) {
        return Ok(Access::Full);
    }
    if let Some(party) = invited_party(ctx.caller.as_ref(), plan, &row.parties()?) {
        return Ok(Access::Party(party));
    }
    if row.status() == HearingStatus::Closed {
        return Ok(Access::Public);
    }
    Err(ApiError::NotFound("no such hearing, or it is not visible to this caller".into()))
}

fn may_see_comment(access: &Access, hearing_status: HearingStatus, comment: &CommentRow) -> bool {
    let submitted = comment.status == storable(&CommentStatus::Submitted);
    match access {
        Access::Full => true,
        Access::Party(party) => &comment.party == party || (hearing_status == HearingStatus::Closed && submitted),
        Access::Public => submitted,
    }
}

/// Whether a consultee may read version `number` of a plan: a hearing on it invites its party.
pub fn consultee_may_read_version(
    conn: &mut DbConnection,
    caller: Option<&Caller>,
    plan_id: &str,
    municipality: &str,
    number: i32,
) -> ApiResult<bool> {
    if !caller.is_some_and(|c| c.role == Role::Consultee) {
        return Ok(false);
    }
    let rows: Vec<String> = hearings::table
        .filter(hearings::plan_id.eq(plan_id))
        .filter(hearings::version.eq(number))
        .select(hearings::parties)
        .load(conn)?;
    for parties in rows {
        let parties: Vec<String> = serde_json::from_str(&parties).unwrap_or_default();
        if invited_party_in(caller, municipality, &parties).is_some() {
            return Ok(true);
        }
    }
    Ok(false)
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
    let unanswered = comments::table
        .filter(comments::plan_id.eq(plan_id))
        .filter(comments::status.eq(storable(&CommentStatus::Submitted)))
        .filter(comments::response_disposition.is_null())
        .order(comments::submitted_at)
        .select((comments::id, comments::party))
        .load(conn)?;
    Ok(Pending { open, unanswered })
}

// ---- hearings ----

fn find_hearing(conn: &mut DbConnection, id: &str) -> ApiResult<HearingRow> {
    hearings::table
        .find(id)
        .select(HearingRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no hearing with id {id}")))
}

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
    #[serde(deserialize_with = "http::whole_number")]
    pub version: i32,
    #[schema(example = "Høring af beskæftigelsesplanen 2019")]
    pub title: String,
    pub description: Option<String>,
    /// When comments may start (RFC 3339); now when absent.
    pub opens_at: Option<String>,
    /// The deadline (RFC 3339).
    #[schema(example = "2018-11-22T12:00:00Z")]
    pub closes_at: String,
    #[schema(example = json!(["Handicaprådet", "RAR Hovedstaden", "Integrationsrådet"]))]
    pub parties: Vec<String>,
}

/// What a merge patch of a hearing may change, while it is not closed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HearingPatch {
    pub title: String,
    pub description: Option<String>,
    /// A new deadline (RFC 3339), later than now.
    pub closes_at: String,
}

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
    for (i, party) in input.parties.iter().enumerate() {
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

/// The hearings of a plan, oldest first: all of them for the plan's readers, the invited ones
/// for a consultee, the closed ones for anyone else.
#[utoipa::path(
    tag = "hearings",
    params(("plan_id" = String, Path, description = "The plan's id"), PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of hearings", body = ListOf<Hearing>),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit or offset out of range", body = Problem, content_type = "application/problem+json"),
    )
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

/// Send a version to hearing (planner): with a deadline and the invited parties. The plan is
/// `in_hearing` from then until no hearing of it is scheduled or open.
#[utoipa::path(
    tag = "hearings",
    params(("plan_id" = String, Path, description = "The plan's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]([\t -~]*[!-~])?$")),
    request_body = NewHearing,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Opened (or scheduled)", body = Hearing, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status allows no hearing", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
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
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such hearing, or not visible", body = Problem, content_type = "application/problem+json"),
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
            let row = find_hearing(conn, &id)?;
            let plan = plans::find(conn, &row.plan_id)?;
            access(&ctx, &plan, &row)?;
            Hearing::try_from(row)
        })
        .await?;
    Ok(http::entity_response(&req, &hearing.etag, &hearing))
}

/// Loads a hearing for a change by the plan's planner: 404 when the caller does not see the
/// hearing, 403 when it sees it but may not change it.
fn hearing_for_change(conn: &mut DbConnection, ctx: &RequestContext, id: &str) -> ApiResult<(HearingRow, PlanRow)> {
    let row = find_hearing(conn, id)?;
    let plan = plans::find(conn, &row.plan_id)?;
    access(ctx, &plan, &row)?;
    policy::authorize(ctx.caller.as_ref(), Action::EditPlan, Target::plan(&plan.municipality_code, true))?;
    Ok((row, plan))
}

/// Move a hearing's deadline, or change its title or description, while it is not closed
/// (planner; merge patch with `If-Match`).
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The hearing's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *")),
    request_body(content = HearingPatch, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = Hearing, headers(("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such hearing, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hearing is closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
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
    let hearing = state
        .db(move |conn| {
            conn.write(|conn| {
                let (row, _) = hearing_for_change(conn, &ctx, &id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                if row.status() == HearingStatus::Closed {
                    return Err(ApiError::Conflict("the hearing is closed".into()));
                }
                let before = Hearing::try_from(row.clone())?;
                let current = HearingPatch {
                    title: row.title.clone(),
                    description: row.description.clone(),
                    closes_at: before.closes_at.to_rfc3339(),
                };
                let read_only = ["id", "plan_id", "version", "opens_at", "closed_at", "parties", "status", "etag"];
                let changed: HearingPatch = http::merge_patch(&current, &patch, &read_only)?;
                let mut checks = Checks::new();
                checks.text("title", &changed.title, 300);
                checks.optional_text("description", changed.description.as_deref(), 20_000);
                let closes_at = parse_time(&mut checks, "closes_at", &changed.closes_at);
                if closes_at.is_some_and(|c| c <= now().max(row.opens_at)) {
                    checks.fail("closes_at", "must be later than opens_at and than now; close it to end it now");
                }
                checks.finish()?;
                diesel::update(hearings::table.find(&id))
                    .set((
                        hearings::title.eq(changed.title.trim()),
                        hearings::description.eq(&changed.description),
                        hearings::closes_at.eq(closes_at.expect("checked")),
                        hearings::updated_at.eq(now()),
                        hearings::revision.eq(row.revision + 1),
                    ))
                    .execute(conn)?;
                let after = Hearing::try_from(find_hearing(conn, &id)?)?;
                audit::record(conn, &ctx, "update", "hearing", &id, snapshot(&before), snapshot(&after))?;
                Ok(after)
            })
        })
        .await?;
    Ok(http::updated(&hearing.etag, &hearing))
}

/// Close a hearing before its deadline (planner). The plan leaves `in_hearing` when no other
/// hearing of it is open.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The hearing's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]([\t -~]*[!-~])?$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Closed", body = Hearing, headers(("ETag" = String))),
        (status = 400, description = "Malformed Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such hearing, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key was used with another request", body = Problem, content_type = "application/problem+json"),
    )
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
    let hearing = conn.write(|conn| {
        let (row, _) = hearing_for_change(conn, ctx, id)?;
        if row.status() == HearingStatus::Closed {
            return Err(ApiError::Conflict("the hearing is already closed".into()));
        }
        let before = Hearing::try_from(row.clone())?;
        diesel::update(hearings::table.find(id))
            .set((
                hearings::closed_at.eq(Some(now())),
                hearings::updated_at.eq(now()),
                hearings::revision.eq(row.revision + 1),
            ))
            .execute(conn)?;
        let after = Hearing::try_from(find_hearing(conn, id)?)?;
        audit::record(conn, ctx, "close", "hearing", id, snapshot(&before), snapshot(&after))?;
        // Settles the plan in the same transaction when this was its last open hearing.
        plan_state::lock(conn, &after.plan_id)?;
        Ok(after)
    })?;
    Ok(hearing)
}

// ---- comments ----

fn find_comment(conn: &mut DbConnection, id: &str) -> ApiResult<CommentRow> {
    comments::table
        .find(id)
        .select(CommentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no comment with id {id}")))
}

/// A comment with what it needs: its hearing, the plan, and how much the caller sees.
fn comment_for(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    id: &str,
) -> ApiResult<(CommentRow, HearingRow, PlanRow, Access)> {
    let comment = find_comment(conn, id)?;
    let row = find_hearing(conn, &comment.hearing_id)?;
    let plan = plans::find(conn, &row.plan_id)?;
    let access = access(ctx, &plan, &row)?;
    if !may_see_comment(&access, row.status(), &comment) {
        return Err(ApiError::NotFound("no such comment, or it is not visible to this caller".into()));
    }
    Ok((comment, row, plan, access))
}

/// Checks that a comment's target is the plan or an item of the version in hearing.
fn check_target(checks: &mut Checks, target: Option<&CommentTarget>, document: &Document) {
    let Some(target) = target else { return };
    let found = match target.target_type {
        TargetType::Plan => document.plan.id == target.id,
        TargetType::Section => document.sections.iter().any(|s| s.id == target.id),
        TargetType::Goal => document.goals.iter().any(|g| g.id == target.id),
        TargetType::Requirement => document.requirements().any(|(_, r)| r.id == target.id),
    };
    if !found {
        checks.fail("target.id", "is not in the version in hearing");
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// The commenting party: a consultee's own (may be left out); for a planner registering a
    /// comment that came by mail, any invited party.
    #[schema(example = "Handicaprådet")]
    pub party: Option<String>,
    pub body: String,
    pub stance: Option<Stance>,
    pub target: Option<CommentTarget>,
}

/// What the author may change while the hearing is open.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentPatch {
    pub body: String,
    pub stance: Option<Stance>,
    pub target: Option<CommentTarget>,
}

fn hearing_document(conn: &mut DbConnection, cache: &VersionCache, row: &HearingRow) -> ApiResult<Document> {
    // Read as the service: whoever may comment may point at the version's items.
    let ctx = RequestContext::system(Caller::system());
    Ok(versions::document_of(&versions::read(conn, cache, &ctx, &row.plan_id, row.version)?.0)?.document)
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
        let row = find_hearing(conn, hearing_id)?;
        let plan = plans::find(conn, &row.plan_id)?;
        let access = access(ctx, &plan, &row)?;
        let parties = row.parties()?;
        // Who comments for whom: a consultee for its own party, a planner for any invited one.
        let party = match access {
            Access::Party(own) => match input.party.as_deref() {
                None => own,
                Some(p) if p == own => own,
                Some(_) => return Err(ApiError::Forbidden(format!("a consultee comments for its own party, {own}"))),
            },
            Access::Full => {
                policy::authorize(Some(&caller), Action::EditPlan, Target::plan(&plan.municipality_code, true))?;
                match input.party.clone() {
                    Some(p) if parties.contains(&p) => p,
                    Some(p) => {
                        return Err(ApiError::validation("party", format!("{p} is not invited to this hearing")))
                    }
                    None => return Err(ApiError::validation("party", "name the invited party the comment is from")),
                }
            }
            Access::Public => return Err(ApiError::Forbidden("only invited parties comment".into())),
        };
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
    responses(
        (status = 200, description = "A page of comments", body = ListOf<Comment>),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such hearing, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit or offset out of range", body = Problem, content_type = "application/problem+json"),
    )
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
            let row = find_hearing(conn, &id)?;
            let plan = plans::find(conn, &row.plan_id)?;
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
            let status = row.status();
            let visible: Vec<CommentRow> = rows.into_iter().filter(|c| may_see_comment(&access, status, c)).collect();
            paged(visible, page, Comment::try_from)
        })
        .await?;
    Ok(http::list_response(&req, page, total, items))
}

/// Comment on a hearing while it is open: a consultee for its own party, or a planner
/// registering a comment that came by mail for any invited party. After the deadline: 409.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The hearing's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]([\t -~]*[!-~])?$")),
    request_body = NewComment,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Submitted", body = Comment, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an invited party, or another party than the consultee's own", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such hearing, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hearing is not open (not yet, or the deadline has passed)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
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
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment, or not visible", body = Problem, content_type = "application/problem+json"),
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
    let comment = state.db(move |conn| Comment::try_from(comment_for(conn, &ctx, &id)?.0)).await?;
    Ok(http::entity_response(&req, &comment.etag, &comment))
}

/// A comment its author may change: submitted, by this caller (or an admin), hearing open.
fn comment_for_author(conn: &mut DbConnection, ctx: &RequestContext, id: &str) -> ApiResult<(CommentRow, HearingRow)> {
    let caller = ctx.caller()?;
    let (comment, row, _, _) = comment_for(conn, ctx, id)?;
    if comment.submitted_by != caller.name && caller.role != Role::Admin {
        return Err(ApiError::Forbidden("only the comment's author changes it".into()));
    }
    if comment.status != storable(&CommentStatus::Submitted) {
        return Err(ApiError::Conflict("the comment is withdrawn".into()));
    }
    hearing::comment_window(row.status()).map_err(ApiError::Conflict)?;
    Ok((comment, row))
}

/// Edit a comment (its author, while the hearing is open; merge patch with `If-Match`).
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The comment's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *")),
    request_body(content = CommentPatch, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = Comment, headers(("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hearing is closed, or the comment withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
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
    let comment = state
        .db(move |conn| {
            conn.write(|conn| {
                let (row, hearing_row) = comment_for_author(conn, &ctx, &id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                let before = Comment::try_from(row.clone())?;
                let current =
                    CommentPatch { body: before.body.clone(), stance: before.stance, target: before.target.clone() };
                let read_only =
                    ["id", "hearing_id", "party", "status", "submitted_at", "submitted_by", "response", "etag"];
                let changed: CommentPatch = http::merge_patch(&current, &patch, &read_only)?;
                let mut checks = Checks::new();
                checks.text("body", &changed.body, 50_000);
                check_target(&mut checks, changed.target.as_ref(), &hearing_document(conn, &cache, &hearing_row)?);
                checks.finish()?;
                diesel::update(comments::table.find(&id))
                    .set((
                        comments::body.eq(&changed.body),
                        comments::stance.eq(changed.stance.as_ref().map(storable)),
                        comments::target_type.eq(changed.target.as_ref().map(|t| storable(&t.target_type))),
                        comments::target_id.eq(changed.target.as_ref().map(|t| t.id.clone())),
                        comments::updated_at.eq(now()),
                        comments::revision.eq(row.revision + 1),
                    ))
                    .execute(conn)?;
                let after = Comment::try_from(find_comment(conn, &id)?)?;
                audit::record(conn, &ctx, "update", "comment", &id, snapshot(&before), snapshot(&after))?;
                Ok(after)
            })
        })
        .await?;
    Ok(http::updated(&comment.etag, &comment))
}

/// Withdraw a comment (its author, while the hearing is open; needs `If-Match`). The comment
/// stays, marked `withdrawn`, and is left out of the summary.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The comment's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The hearing is closed, or the comment withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
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
                let (row, _) = comment_for_author(conn, &ctx, &id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                let before = Comment::try_from(row.clone())?;
                diesel::update(comments::table.find(&id))
                    .set((
                        comments::status.eq(storable(&CommentStatus::Withdrawn)),
                        comments::updated_at.eq(now()),
                        comments::revision.eq(row.revision + 1),
                    ))
                    .execute(conn)?;
                let after = Comment::try_from(find_comment(conn, &id)?)?;
                audit::record(conn, &ctx, "withdraw", "comment", &id, snapshot(&before), snapshot(&after))
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
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
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The comment is withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing when replacing a response", body = Problem, content_type = "application/problem+json"),
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
    headers: &header::HeaderMap,
) -> ApiResult<Comment> {
    let mut checks = Checks::new();
    checks.text("text", &input.text, 50_000);
    checks.finish()?;
    conn.write(|conn| {
        let (row, _, plan, _) = comment_for(conn, ctx, id)?;
        // The caller sees the comment: not allowed to answer it is 403.
        policy::authorize(ctx.caller.as_ref(), Action::EditPlan, Target::plan(&plan.municipality_code, true))?;
        if row.response_disposition.is_some() || http::has_condition(headers) {
            http::check_if_match(headers, &http::etag(row.revision))?;
        }
        if row.status != storable(&CommentStatus::Submitted) {
            return Err(ApiError::Conflict("the comment is withdrawn".into()));
        }
        let before = Comment::try_from(row.clone())?;
        let count =
            diesel::update(comments::table.filter(comments::id.eq(id)).filter(comments::revision.eq(row.revision)))
                .set((
                    comments::response_disposition.eq(Some(storable(&input.disposition))),
                    comments::response_text.eq(Some(&input.text)),
                    comments::responded_at.eq(Some(now())),
                    comments::responded_by.eq(Some(ctx.actor())),
                    comments::revision.eq(row.revision + 1),
                ))
                .execute(conn)?;
        if count == 0 {
            return Err(ApiError::PreconditionFailed);
        }
        let after = Comment::try_from(find_comment(conn, id)?)?;
        audit::record(conn, ctx, "respond", "comment", id, snapshot(&before), snapshot(&after))?;
        Ok(after)
    })
}

// ---- the summary (høringsnotat) ----

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
pub struct Summary {
    pub hearing: Hearing,
    pub plan_title: String,
    pub parties: Vec<PartyComments>,
    /// Submitted comments without a response.
    pub unanswered: usize,
}

fn target_label(target: &CommentTarget, document: &Document) -> Option<String> {
    match target.target_type {
        TargetType::Plan => Some(format!("Planen: {}", document.plan.title)),
        TargetType::Section => {
            document.sections.iter().find(|s| s.id == target.id).map(|s| format!("Afsnit: {}", s.heading))
        }
        TargetType::Goal => document.goals.iter().find(|g| g.id == target.id).map(|g| match &g.number {
            Some(n) => format!("{n}: {}", g.title),
            None => g.title.clone(),
        }),
        TargetType::Requirement => document
            .requirements()
            .find(|(_, r)| r.id == target.id)
            .map(|(_, r)| format!("Resultatkrav: {}", r.statement)),
    }
}

pub fn summary(
    conn: &mut DbConnection,
    cache: &VersionCache,
    ctx: &RequestContext,
    hearing_id: &str,
) -> ApiResult<Summary> {
    let row = find_hearing(conn, hearing_id)?;
    let plan = plans::find(conn, &row.plan_id)?;
    // The whole summary: the plan's readers, and everyone once the hearing is closed.
    if access(ctx, &plan, &row)? == Access::Full || row.status() == HearingStatus::Closed {
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
/// `Accept`. Public once the hearing has closed; before that, for the plan's readers.
#[utoipa::path(
    tag = "hearings",
    params(("id" = String, Path, description = "The hearing's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The summary", body = Summary, content(("application/json"), ("text/html"), ("text/markdown"))),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such hearing, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "None of JSON, HTML or Markdown is acceptable", body = Problem, content_type = "application/problem+json"),
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
    let Ok(accept) = Accept::parse(req) else { return Ok(SummaryFormat::Json) };
    if accept.0.is_empty() {
        return Ok(SummaryFormat::Json);
    }
    for mime in accept.ranked() {
        match (mime.type_().as_str(), mime.subtype().as_str()) {
            ("application", "json") | ("*", "*") | ("application", "*") => return Ok(SummaryFormat::Json),
            ("text", "html") | ("text", "*") => return Ok(SummaryFormat::Html),
            ("text", "markdown") => return Ok(SummaryFormat::Markdown),
            _ => {}
        }
    }
    Err(ApiError::NotAcceptable("the summary is available as application/json, text/html or text/markdown".into()))
}
