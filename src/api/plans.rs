//! Plans: one municipality's (or jobcenter's) employment plan for one year.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::audit::{self, snapshot};
use crate::api::docs::{
    IdempotencyKey, IfMatch, ItemProblems, PlainDeleteProblems, PublicListProblems, TopCreateProblems, UpdateProblems,
};
use crate::api::http::{self, ListOf, Page};
use crate::api::municipalities;
use crate::api::plan_state;
pub use crate::api::plan_state::{find, find_for, Plan, PlanRow};
use crate::auth::policy::{self, Action, Target, Visibility};
use crate::auth::RequestContext;
use crate::db::schema::{hearings, plans};
use crate::db::{expect_one, DbConnection};
use crate::domain::plan_status::PlanStatus;
use crate::domain::validate::{is_municipality_code, Checks, MAX_MUNICIPALITIES};
use crate::error::{ApiError, ApiResult, Problem};
use crate::{now, AppState};

pub const MIN_YEAR: i64 = 2000;
pub const MAX_YEAR: i64 = 2100;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    #[schema(example = "185", pattern = r"^[0-9]{3}$")]
    pub municipality: String,
    #[schema(example = 2017, minimum = 2000, maximum = 2100)]
    #[serde(deserialize_with = "http::whole_number")]
    pub year: i32,
    #[schema(
        example = "Beskæftigelsesplan 2017",
        min_length = 1,
        max_length = 300,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub title: String,
    #[schema(max_length = 20000)]
    pub summary: Option<String>,
    /// Defaults to `[municipality]`; when given it must include `municipality`.
    #[schema(example = json!(["185", "155"]), min_items = 1, max_items = 98)]
    pub covers: Option<Vec<String>>,
}

/// The fields a merge patch may change; `status` and the version numbers change only through
/// versions, decisions and revisions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanPatch {
    #[schema(minimum = 2000, maximum = 2100)]
    #[serde(deserialize_with = "http::whole_number")]
    pub year: i32,
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub title: String,
    #[schema(max_length = 20000)]
    pub summary: Option<String>,
    #[schema(min_items = 1, max_items = 98)]
    pub covers: Vec<String>,
}

const READ_ONLY: &[&str] =
    &["id", "municipality", "status", "latest_version", "adopted_version", "created_at", "updated_at", "etag"];

/// Checks a plan's fields; unknown municipalities are reported per field.
fn validate(conn: &mut DbConnection, municipality: &str, fields: &PlanPatch) -> ApiResult<()> {
    let mut checks = Checks::new();
    checks.range("year", fields.year.into(), MIN_YEAR, MAX_YEAR);
    checks.text("title", &fields.title, 300);
    checks.optional_text("summary", fields.summary.as_deref(), 20_000);
    if !fields.covers.iter().any(|c| c == municipality) {
        checks.fail("covers", format!("must include the plan's own municipality {municipality}"));
    }
    let listed =
        if checks.at_most("covers", fields.covers.len(), MAX_MUNICIPALITIES) { fields.covers.len() } else { 0 };
    for (i, code) in fields.covers.iter().take(listed).enumerate() {
        let field = format!("covers[{i}]");
        if !is_municipality_code(code) {
            checks.municipality_code(&field, code);
        } else if fields.covers[..i].contains(code) {
            checks.fail(&field, format!("{code} is listed twice"));
        } else if code != municipality && !municipalities::exists(conn, code)? {
            checks.fail(&field, format!("unknown municipality {code}"));
        }
    }
    Ok(checks.finish()?)
}

pub fn create(conn: &mut DbConnection, ctx: &RequestContext, input: NewPlan) -> ApiResult<Plan> {
    let mut checks = Checks::new();
    checks.municipality_code("municipality", &input.municipality);
    checks.finish()?;
    policy::authorize(ctx.caller.as_ref(), Action::EditPlan, Target::municipality(&input.municipality))?;
    let fields = PlanPatch {
        year: input.year,
        title: input.title.trim().to_owned(),
        summary: input.summary,
        covers: input.covers.unwrap_or_else(|| vec![input.municipality.clone()]),
    };
    conn.write(|conn| {
        if !municipalities::exists(conn, &input.municipality)? {
            return Err(ApiError::validation("municipality", format!("unknown municipality {}", input.municipality)));
        }
        validate(conn, &input.municipality, &fields)?;
        ensure_year_free(conn, &input.municipality, fields.year, None)?;
        let at = now();
        let row = PlanRow {
            id: Uuid::now_v7().to_string(),
            municipality_code: input.municipality.clone(),
            year: fields.year,
            title: fields.title,
            summary: fields.summary,
            covers: serde_json::to_string(&fields.covers).map_err(|e| ApiError::Internal(e.to_string()))?,
            status: PlanStatus::Draft.as_str().to_owned(),
            latest_version: None,
            adopted_version: None,
            created_at: at,
            updated_at: at,
            revision: 1,
        };
        diesel::insert_into(plans::table).values(&row).execute(conn)?;
        let plan = Plan::try_from(row)?;
        audit::record(conn, ctx, "create", "plan", &plan.id, None, snapshot(&plan))?;
        Ok(plan)
    })
}

/// One plan per municipality and year: a clear 409 rather than a constraint message.
fn ensure_year_free(conn: &mut DbConnection, municipality: &str, year: i32, except: Option<&str>) -> ApiResult<()> {
    let mut query = plans::table
        .filter(plans::municipality_code.eq(municipality))
        .filter(plans::year.eq(year))
        .select(plans::id)
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(plans::id.ne(id));
    }
    match query.first::<String>(conn).optional()? {
        Some(existing) => {
            Err(ApiError::Conflict(format!("municipality {municipality} already has a plan for {year} ({existing})")))
        }
        None => Ok(()),
    }
}

#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// Only plans owned by this municipality (kommunekode).
    pub municipality: Option<String>,
    /// Only plans for this year.
    pub year: Option<i32>,
    /// Only plans with this status.
    pub status: Option<PlanStatus>,
    /// At most this many items (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Skip this many items (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// List the plans the caller may see, newest year first, then by municipality.
///
/// Anonymous callers and consultees see adopted plans; planners, approvers and viewers also every
/// plan of their municipalities; admins everything.
#[utoipa::path(
    tag = "plans",
    security((), ("bearer" = [])),
    params(PlanQuery),
    responses((status = 200, description = "A page of plans", body = ListOf<Plan>), PublicListProblems)
)]
#[get("/plans")]
pub async fn list_plans(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    query: web::Query<PlanQuery>,
) -> ApiResult<HttpResponse> {
    let page = Page::new(query.limit, query.offset)?;
    let query = query.into_inner();
    let visibility = policy::plan_visibility(ctx.caller.as_ref());
    let (total, rows) = state
        .db(move |conn| {
            let now = crate::now();
            let filtered = || {
                let mut q = plans::table.into_boxed();
                q = match &visibility {
                    Visibility::All => q,
                    Visibility::Public => q.filter(plans::adopted_version.is_not_null()),
                    Visibility::PublicAnd(codes) => q.filter(
                        plans::adopted_version.is_not_null().or(plans::municipality_code.eq_any(codes.clone())),
                    ),
                };
                if let Some(code) = &query.municipality {
                    q = q.filter(plans::municipality_code.eq(code.clone()));
                }
                if let Some(year) = query.year {
                    q = q.filter(plans::year.eq(year));
                }
                if let Some(status) = query.status {
                    // By the status readers see: a plan whose hearings are over is a draft.
                    let open_hearing = diesel::dsl::exists(
                        hearings::table
                            .filter(hearings::plan_id.eq(plans::id))
                            .filter(hearings::closed_at.is_null())
                            .filter(hearings::closes_at.gt(now)),
                    );
                    let in_hearing = plans::status.eq(PlanStatus::InHearing.as_str());
                    q = match status {
                        PlanStatus::InHearing => q.filter(in_hearing.and(open_hearing)),
                        PlanStatus::Draft => q.filter(
                            plans::status
                                .eq(PlanStatus::Draft.as_str())
                                .or(in_hearing.and(diesel::dsl::not(open_hearing))),
                        ),
                        other => q.filter(plans::status.eq(other.as_str())),
                    };
                }
                q
            };
            let total = filtered().count().get_result::<i64>(conn)?;
            let rows = filtered()
                .order((plans::year.desc(), plans::municipality_code, plans::id))
                .limit(page.limit)
                .offset(page.offset)
                .select(PlanRow::as_select())
                .load(conn)?;
            Ok((total, plan_state::effective(conn, rows)?))
        })
        .await?;
    let items = rows.into_iter().map(Plan::try_from).collect::<ApiResult<Vec<_>>>()?;
    Ok(http::list_response(&req, page, total, items))
}

/// Create a plan as a draft (planner of the municipality, or admin).
///
/// One plan per municipality and year.
#[utoipa::path(
    tag = "plans",
    request_body = NewPlan,
    security(("bearer" = [])),
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = Plan,
            headers(("Location" = String, description = "URL of the plan"), ("ETag" = String))),
        TopCreateProblems,
    )
)]
#[post("/plans")]
pub async fn create_plan(
    ctx: RequestContext,
    state: web::Data<AppState>,
    body: web::Json<NewPlan>,
) -> ApiResult<HttpResponse> {
    let plan = state.db(move |conn| create(conn, &ctx, body.into_inner())).await?;
    Ok(http::created(format!("/api/v1/plans/{}", plan.id), &plan.etag, &plan))
}

/// Read a plan (drafts only for the municipality's own users).
#[utoipa::path(
    tag = "plans",
    security((), ("bearer" = [])),
    params(("plan_id" = String, Path, description = "The plan's id")),
    responses(
        (status = 200, description = "The plan", body = Plan, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        ItemProblems,
    )
)]
#[get("/plans/{plan_id}")]
pub async fn get_plan(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = plan_id.into_inner();
    let plan = Plan::try_from(state.db(move |conn| find_for(conn, &ctx, &id, Action::Read)).await?)?;
    Ok(http::entity_response(&req, &plan.etag, &plan))
}

/// Change a plan's year, title, summary or covered municipalities (JSON merge patch; needs
/// `If-Match`).
///
/// Only while the plan is `draft` or `in_hearing`.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("plan_id" = String, Path, description = "The plan's id"), IfMatch),
    request_body(content = PlanPatch, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "Updated", body = Plan, headers(("ETag" = String))), UpdateProblems)
)]
#[patch("/plans/{plan_id}")]
pub async fn update_plan(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    patch: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let id = plan_id.into_inner();
    let headers = req.headers().clone();
    let plan = state
        .db(move |conn| {
            conn.write(|conn| {
                let row = plan_state::lock_for(conn, &ctx, &id, Action::EditPlan)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                row.ensure_editable()?;
                let current = PlanPatch {
                    year: row.year,
                    title: row.title.clone(),
                    summary: row.summary.clone(),
                    covers: row.covers()?,
                };
                let mut changed: PlanPatch = http::merge_patch(&current, &patch, READ_ONLY)?;
                changed.title = changed.title.trim().to_owned();
                validate(conn, &row.municipality_code, &changed)?;
                ensure_year_free(conn, &row.municipality_code, changed.year, Some(&row.id))?;
                let covers = serde_json::to_string(&changed.covers).map_err(|e| ApiError::Internal(e.to_string()))?;
                let count =
                    diesel::update(plans::table.filter(plans::id.eq(&id)).filter(plans::revision.eq(row.revision)))
                        .set((
                            plans::year.eq(changed.year),
                            plans::title.eq(&changed.title),
                            plans::summary.eq(&changed.summary),
                            plans::covers.eq(covers),
                            plans::updated_at.eq(now()),
                            plans::revision.eq(row.revision + 1),
                        ))
                        .execute(conn)?;
                expect_one(count)?;
                let after = Plan::try_from(find(conn, &id)?)?;
                audit::record(conn, &ctx, "update", "plan", &id, snapshot(&Plan::try_from(row)?), snapshot(&after))?;
                Ok(after)
            })
        })
        .await?;
    Ok(http::updated(&plan.etag, &plan))
}

/// Delete a plan: only a draft that never had a version (needs `If-Match`).
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("plan_id" = String, Path, description = "The plan's id"), IfMatch),
    responses((status = 204, description = "Deleted"), PlainDeleteProblems, (status = 409, description = "Not a draft, or it has versions", body = Problem, content_type = "application/problem+json"))
)]
#[delete("/plans/{plan_id}")]
pub async fn delete_plan(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = plan_id.into_inner();
    let headers = req.headers().clone();
    state
        .db(move |conn| {
            conn.write(|conn| {
                let row = plan_state::lock_for(conn, &ctx, &id, Action::EditPlan)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                if row.status()? != PlanStatus::Draft || row.latest_version.is_some() {
                    let versions = match row.latest_version {
                        Some(latest) => format!("has versions up to {latest}"),
                        None => "has no versions".to_owned(),
                    };
                    return Err(ApiError::Conflict(format!(
                        "only a draft that never had a version can be deleted; this plan is {} and {versions}",
                        row.status
                    )));
                }
                let count =
                    diesel::delete(plans::table.filter(plans::id.eq(&id)).filter(plans::revision.eq(row.revision)))
                        .execute(conn)?;
                expect_one(count)?;
                audit::record(conn, &ctx, "delete", "plan", &id, snapshot(&Plan::try_from(row)?), None)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
