//! The decision workflow: readiness of the latest version, decisions by political bodies that
//! move the plan's status (`domain::plan_status::next`), and revisions of an adopted plan.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::audit::{self, snapshot};
use crate::api::docs::{CreateProblems, IdempotencyKey, ItemProblems, ListProblems};
use crate::api::http::{self, ListOf, PageQuery};
use crate::api::plan_state::{self, Plan, PlanRow};
use crate::api::versions::{self, VersionCache};
use crate::auth::policy::Action;
use crate::auth::RequestContext;
use crate::db::schema::{decisions, versions as versions_table};
use crate::db::{storable, stored, DbConnection};
use crate::domain::plan_status::{self, Event, Outcome};
use crate::domain::readiness::{self, Blocker};
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult, Problem};
use crate::{now, AppState};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// The version a decision would be on: the latest (none before the first version).
    pub version: Option<i32>,
    pub ready: bool,
    pub blockers: Vec<Blocker>,
}

/// What blocks a decision on version `number` of a plan.
pub fn blockers_of(
    conn: &mut DbConnection,
    cache: &VersionCache,
    ctx: &RequestContext,
    plan: &PlanRow,
    number: Option<i32>,
) -> ApiResult<Vec<Blocker>> {
    let document = match number {
        Some(n) => Some(versions::document_of(&versions::read(conn, cache, ctx, &plan.id, n)?.0)?.document),
        None => None,
    };
    let hearings = crate::api::hearings::pending(conn, &plan.id)?;
    let open: Vec<(&str, &str)> = hearings.open.iter().map(|(id, title)| (id.as_str(), title.as_str())).collect();
    let unanswered: Vec<(&str, &str)> =
        hearings.unanswered.iter().map(|(id, party)| (id.as_str(), party.as_str())).collect();
    Ok(readiness::blockers(document.as_ref(), &open, &unanswered))
}

/// What blocks a decision on the plan's latest version.
///
/// No version, placeholder targets, open hearings, comments without a response.
#[utoipa::path(
    tag = "workflow",
    params(("plan_id" = String, Path, description = "The plan's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The blockers, if any", body = Readiness),
        ItemProblems,
    )
)]
#[get("/plans/{plan_id}/readiness")]
pub async fn get_readiness(
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let plan_id = plan_id.into_inner();
    let cache = state.versions.clone();
    let result = state
        .db(move |conn| {
            let plan = plan_state::for_content_read(conn, &ctx, &plan_id)?;
            let blockers = blockers_of(conn, &cache, &ctx, &plan, plan.latest_version)?;
            Ok(Readiness { version: plan.latest_version, ready: blockers.is_empty(), blockers })
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = decisions)]
struct DecisionRow {
    id: String,
    plan_id: String,
    body: String,
    outcome: String,
    version: i32,
    meeting_date: NaiveDate,
    case_number: Option<String>,
    text: Option<String>,
    recorded_at: NaiveDateTime,
    recorded_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    pub id: String,
    pub plan_id: String,
    /// The deciding body, e.g. "Erhvervs- og Beskæftigelsesudvalget" or "Byrådet".
    pub body: String,
    pub outcome: Outcome,
    pub version: i32,
    #[schema(example = "2016-09-28", format = Date)]
    pub meeting_date: String,
    /// Sagsnummer, e.g. "13/4229".
    pub case_number: Option<String>,
    pub text: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    /// A decision is never changed once recorded; its ETag is a digest of what it says, so it
    /// changes only if the representation does (a new field in a later release).
    #[schema(example = "\"1\"")]
    pub etag: String,
}

impl TryFrom<DecisionRow> for Decision {
    type Error = ApiError;
    fn try_from(row: DecisionRow) -> ApiResult<Self> {
        let mut decision = Decision {
            outcome: stored(&row.outcome)?,
            meeting_date: row.meeting_date.format("%Y-%m-%d").to_string(),
            id: row.id,
            plan_id: row.plan_id,
            body: row.body,
            version: row.version,
            case_number: row.case_number,
            text: row.text,
            recorded_at: row.recorded_at.and_utc(),
            recorded_by: row.recorded_by,
            etag: String::new(),
        };
        let bytes = serde_json::to_vec(&decision).map_err(|e| ApiError::Internal(e.to_string()))?;
        decision.etag = versions::strong_etag(&[b"decision", &bytes]);
        Ok(decision)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDecision {
    #[schema(
        example = "Erhvervs- og Beskæftigelsesudvalget",
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub body: String,
    pub outcome: Outcome,
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "http::whole_number")]
    pub version: i32,
    #[schema(example = "2016-09-28", format = Date)]
    pub meeting_date: String,
    #[schema(example = "13/4229", max_length = 50)]
    pub case_number: Option<String>,
    #[schema(max_length = 50000)]
    pub text: Option<String>,
}

pub fn decide(
    conn: &mut DbConnection,
    cache: &VersionCache,
    ctx: &RequestContext,
    plan_id: &str,
    input: NewDecision,
) -> ApiResult<Decision> {
    let mut checks = Checks::new();
    checks.text("body", &input.body, 200);
    checks.optional_text("case_number", input.case_number.as_deref(), 50);
    checks.optional_text("text", input.text.as_deref(), 50_000);
    let meeting_date =
        NaiveDate::parse_from_str(&input.meeting_date, "%Y-%m-%d").ok().filter(|_| input.meeting_date.len() == 10);
    if meeting_date.is_none() {
        checks.fail("meeting_date", "must be a real date in the form YYYY-MM-DD");
    }
    checks.finish()?;
    conn.write(|conn| {
        // The lock first, then every read the decision rests on: racing decisions queue here
        // and each sees the status the previous one left.
        let plan = plan_state::lock_for(conn, ctx, plan_id, Action::Decide)?;
        let exists: i64 = versions_table::table.find((plan_id, input.version)).count().get_result(conn)?;
        if exists == 0 {
            return Err(ApiError::validation("version", format!("the plan has no version {}", input.version)));
        }
        let status = plan.status()?;
        let next = plan_status::next(status, Event::Decided(input.outcome)).map_err(ApiError::Conflict)?;
        if input.outcome.needs_ready_version() {
            if plan.latest_version != Some(input.version) {
                return Err(ApiError::Conflict(format!(
                    "a decision to move the plan forward must be on its latest version, {}",
                    plan.latest_version.unwrap_or(0)
                )));
            }
            let blockers = blockers_of(conn, cache, ctx, &plan, Some(input.version))?;
            if !blockers.is_empty() {
                return Err(ApiError::NotReady(blockers));
            }
        }
        let recorded_at = now();
        let row = DecisionRow {
            id: Uuid::now_v7().to_string(),
            plan_id: plan_id.to_owned(),
            body: input.body.trim().to_owned(),
            outcome: storable(&input.outcome),
            version: input.version,
            meeting_date: meeting_date.expect("checked above"),
            case_number: input.case_number.clone(),
            text: input.text.clone(),
            recorded_at,
            recorded_by: ctx.actor().to_owned(),
        };
        diesel::insert_into(decisions::table).values(&row).execute(conn)?;
        let decision = Decision::try_from(row)?;
        audit::record(conn, ctx, "create", "decision", &decision.id, None, snapshot(&decision))?;
        if next != status || input.outcome == Outcome::Approved {
            let adopted_version =
                if input.outcome == Outcome::Approved { Some(input.version) } else { plan.adopted_version };
            plan_state::set_status(conn, ctx, &plan, next, adopted_version)?;
            if input.outcome == Outcome::Approved {
                diesel::update(versions_table::table.find((plan_id, input.version)))
                    .set(versions_table::adopted_at.eq(Some(recorded_at)))
                    .execute(conn)?;
            }
        }
        Ok(decision)
    })
}

/// The decisions on a plan, in the order they were recorded.
#[utoipa::path(
    tag = "workflow",
    params(("plan_id" = String, Path, description = "The plan's id"), PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of decisions", body = ListOf<Decision>),
        ListProblems,
    )
)]
#[get("/plans/{plan_id}/decisions")]
pub async fn list_decisions(
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
            plan_state::find_for(conn, &ctx, &plan_id, Action::Read)?;
            let filtered = || decisions::table.filter(decisions::plan_id.eq(plan_id.clone()));
            let total: i64 = filtered().count().get_result(conn)?;
            let rows: Vec<DecisionRow> = filtered()
                .order((decisions::recorded_at, decisions::id))
                .limit(page.limit)
                .offset(page.offset)
                .select(DecisionRow::as_select())
                .load(conn)?;
            Ok((total, rows.into_iter().map(Decision::try_from).collect::<ApiResult<Vec<_>>>()?))
        })
        .await?;
    Ok(http::list_response(&req, page, total, items))
}

/// Record a body's decision on a version (approver).
///
/// `recommended` moves a draft to `awaiting_approval`, `approved` adopts the version, `rejected`
/// and `returned` send the plan back to `draft`, `noted` changes nothing.
///
/// Recommending or approving a version that is not ready is refused with 409 and the blockers.
#[utoipa::path(
    tag = "workflow",
    params(("plan_id" = String, Path, description = "The plan's id"), IdempotencyKey),
    request_body = NewDecision,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = Decision, headers(("Location" = String), ("ETag" = String))),
        CreateProblems,
        (status = 409, description = "Not possible in the plan's status, or the version is not ready (see `blockers`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{plan_id}/decisions")]
pub async fn create_decision(
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    body: web::Json<NewDecision>,
) -> ApiResult<HttpResponse> {
    let plan_id = plan_id.into_inner();
    let cache = state.versions.clone();
    let decision = state.db(move |conn| decide(conn, &cache, &ctx, &plan_id, body.into_inner())).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/decisions/{}", decision.id)))
        .insert_header((header::ETAG, decision.etag.clone()))
        .json(decision))
}

/// One decision, visible to whoever may read its plan.
#[utoipa::path(
    tag = "workflow",
    params(("id" = String, Path, description = "The decision's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The decision", body = Decision, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        ItemProblems,
    )
)]
#[get("/decisions/{id}")]
pub async fn get_decision(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let decision = state
        .db(move |conn| {
            let row: DecisionRow = decisions::table
                .find(&id)
                .select(DecisionRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(crate::auth::policy::not_found)?;
            // The plan's readers see its decisions; anyone else learns nothing of either.
            plan_state::find_for(conn, &ctx, &row.plan_id, Action::Read)?;
            Decision::try_from(row)
        })
        .await?;
    Ok(http::entity_response(&req, &decision.etag, &decision))
}

/// Reopen an adopted plan for amendment (planner).
///
/// It becomes a `draft` again while its adopted version stays public; a new version is then decided
/// on as before.
#[utoipa::path(
    tag = "workflow",
    params(("plan_id" = String, Path, description = "The plan's id"), IdempotencyKey),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The plan, now a draft", body = Plan, headers(("ETag" = String))),
        (status = 400, description = "Malformed Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan is not adopted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key was used with another request", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{plan_id}/revisions")]
pub async fn start_revision(
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let plan_id = plan_id.into_inner();
    let plan = state
        .db(move |conn| {
            conn.write(|conn| {
                let plan = plan_state::lock_for(conn, &ctx, &plan_id, Action::EditPlan)?;
                let next = plan_status::next(plan.status()?, Event::RevisionStarted).map_err(ApiError::Conflict)?;
                Plan::try_from(plan_state::set_status(conn, &ctx, &plan, next, plan.adopted_version)?)
            })
        })
        .await?;
    Ok(http::updated(&plan.etag, &plan))
}
