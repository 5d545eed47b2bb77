//! Result requirements (resultatkrav) of a goal, in order: statement, indicator, unit,
//! comparator, baseline and target (see `domain::requirement` for the rules).

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::audit::{self, snapshot};
use crate::api::content::{check_position, plan_for_change, plan_for_read, requirement_order};
use crate::api::goals;
use crate::api::http::{self, ListOf, PageQuery};
use crate::auth::RequestContext;
use crate::db::schema::requirements;
use crate::db::{storable, stored, DbConnection};
use crate::domain::ordering;
use crate::domain::requirement::{check_target, Baseline, CheckedTarget, Comparator, Frequency, Target, Unit};
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult, Problem};
use crate::{now, AppState};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = requirements)]
pub struct RequirementRow {
    pub id: String,
    pub goal_id: String,
    pub plan_id: String,
    pub statement: String,
    pub indicator: String,
    pub unit: String,
    pub comparator: String,
    pub baseline_value: Option<f64>,
    pub baseline_as_of: Option<NaiveDate>,
    pub target_value: Option<f64>,
    pub target_value_max: Option<f64>,
    pub target_due: Option<NaiveDate>,
    pub target_placeholder: bool,
    pub data_source: Option<String>,
    pub frequency: Option<String>,
    pub position: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revision: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Requirement {
    pub id: String,
    pub goal_id: String,
    pub plan_id: String,
    #[schema(example = "Antallet af langtidsledige reduceres med 20 % fra januar 2014 til december 2015")]
    pub statement: String,
    #[schema(example = "Langtidsledige (antal personer)")]
    pub indicator: String,
    pub unit: Unit,
    pub comparator: Comparator,
    pub baseline: Option<Baseline>,
    pub target: Target,
    #[schema(example = "Jobindsats.dk")]
    pub data_source: Option<String>,
    pub frequency: Option<Frequency>,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub etag: String,
}

fn date_text(date: Option<NaiveDate>) -> Option<String> {
    date.map(|d| d.format("%Y-%m-%d").to_string())
}

impl RequirementRow {
    /// The target as the domain rules see it.
    pub fn checked_target(&self) -> ApiResult<CheckedTarget> {
        Ok(CheckedTarget {
            comparator: stored(&self.comparator)?,
            baseline_value: self.baseline_value,
            baseline_as_of: self.baseline_as_of,
            value: self.target_value,
            value_max: self.target_value_max,
            due: self.target_due,
            placeholder: self.target_placeholder,
        })
    }
}

impl TryFrom<RequirementRow> for Requirement {
    type Error = ApiError;
    fn try_from(row: RequirementRow) -> ApiResult<Self> {
        let baseline = row
            .baseline_as_of
            .map(|as_of| Baseline { value: row.baseline_value, as_of: date_text(Some(as_of)).unwrap_or_default() });
        Ok(Requirement {
            unit: stored(&row.unit)?,
            comparator: stored(&row.comparator)?,
            frequency: row.frequency.as_deref().map(stored).transpose()?,
            target: Target {
                value: row.target_value,
                value_max: row.target_value_max,
                due: date_text(row.target_due),
                placeholder: row.target_placeholder,
            },
            baseline,
            etag: http::etag(row.revision),
            id: row.id,
            goal_id: row.goal_id,
            plan_id: row.plan_id,
            statement: row.statement,
            indicator: row.indicator,
            data_source: row.data_source,
            position: row.position,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A result requirement's editable fields: the body of a create, and what a merge patch changes
/// (nested objects merge too: `{"target": {"value": 15}}` changes only the value).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementFields {
    #[schema(example = "Antallet af langtidsledige reduceres med 20 % fra januar 2014 til december 2015")]
    pub statement: String,
    #[schema(example = "Langtidsledige (antal personer)")]
    pub indicator: String,
    pub unit: Unit,
    pub comparator: Comparator,
    #[serde(default)]
    pub baseline: Option<Baseline>,
    pub target: Target,
    #[serde(default)]
    #[schema(example = "Jobindsats.dk")]
    pub data_source: Option<String>,
    #[serde(default)]
    pub frequency: Option<Frequency>,
    /// From 0, among the goal's requirements; without it the requirement goes last.
    #[serde(default, deserialize_with = "http::optional_whole_number")]
    pub position: Option<i32>,
}

const READ_ONLY: &[&str] = &["id", "goal_id", "plan_id", "created_at", "updated_at", "etag"];

/// Every rule at once: texts, position and the target (`domain::requirement::check_target`).
fn check(fields: &RequirementFields) -> ApiResult<CheckedTarget> {
    let mut checks = Checks::new();
    checks.text("statement", &fields.statement, 2000);
    checks.text("indicator", &fields.indicator, 300);
    checks.optional_text("data_source", fields.data_source.as_deref(), 300);
    check_position(&mut checks, fields.position);
    let target = check_target(fields.comparator, fields.unit, fields.baseline.as_ref(), &fields.target);
    match (checks.finish(), target) {
        (Ok(()), Ok(target)) => Ok(target),
        (Err(ApiError::Validation(mut errors)), Err(more)) => {
            errors.extend(more);
            Err(ApiError::Validation(errors))
        }
        (Err(error), _) => Err(error),
        (Ok(()), Err(errors)) => Err(ApiError::Validation(errors)),
    }
}

fn find(conn: &mut DbConnection, id: &str) -> ApiResult<RequirementRow> {
    requirements::table
        .find(id)
        .select(RequirementRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no requirement with id {id}")))
}

/// A goal's requirements, in order.
pub fn all_of_goal(conn: &mut DbConnection, goal_id: &str) -> ApiResult<Vec<Requirement>> {
    requirements::table
        .filter(requirements::goal_id.eq(goal_id))
        .order(requirements::position)
        .select(RequirementRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Requirement::try_from)
        .collect()
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    goal_id: &str,
    fields: RequirementFields,
) -> ApiResult<Requirement> {
    conn.write(|conn| {
        let goal = goals::find(conn, goal_id)?;
        plan_for_change(conn, ctx, &goal.plan_id)?;
        let target = check(&fields)?;
        let position = ordering::insert_at(fields.position, requirement_order::count(conn, goal_id)?);
        requirement_order::open(conn, goal_id, position)?;
        let at = now();
        let row = RequirementRow {
            id: Uuid::now_v7().to_string(),
            goal_id: goal_id.to_owned(),
            plan_id: goal.plan_id.clone(),
            statement: fields.statement.trim().to_owned(),
            indicator: fields.indicator.trim().to_owned(),
            unit: storable(&fields.unit),
            comparator: storable(&fields.comparator),
            baseline_value: target.baseline_value,
            baseline_as_of: target.baseline_as_of,
            target_value: target.value,
            target_value_max: target.value_max,
            target_due: target.due,
            target_placeholder: target.placeholder,
            data_source: fields.data_source.clone(),
            frequency: fields.frequency.as_ref().map(storable),
            position,
            created_at: at,
            updated_at: at,
            revision: 1,
        };
        diesel::insert_into(requirements::table).values(&row).execute(conn)?;
        let requirement = Requirement::try_from(row)?;
        audit::record(conn, ctx, "create", "requirement", &requirement.id, None, snapshot(&requirement))?;
        Ok(requirement)
    })
}

/// The result requirements of a goal, in order.
#[utoipa::path(
    tag = "content",
    params(("goal_id" = String, Path, description = "The goal's id"), PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of requirements", body = ListOf<Requirement>),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such goal, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit or offset out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/goals/{goal_id}/requirements")]
pub async fn list_requirements(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    goal_id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let goal_id = goal_id.into_inner();
    let (total, items) = state
        .db(move |conn| {
            let goal = goals::find(conn, &goal_id)?;
            plan_for_read(conn, &ctx, &goal.plan_id)?;
            let filtered = || requirements::table.filter(requirements::goal_id.eq(goal_id.clone()));
            let total: i64 = filtered().count().get_result(conn)?;
            let rows = filtered()
                .order(requirements::position)
                .limit(page.limit)
                .offset(page.offset)
                .select(RequirementRow::as_select())
                .load(conn)?;
            Ok((total, rows.into_iter().map(Requirement::try_from).collect::<ApiResult<Vec<_>>>()?))
        })
        .await?;
    Ok(http::list_response(&req, page, total, items))
}

/// Add a result requirement to a goal (planner; the plan must be `draft` or `in_hearing`).
#[utoipa::path(
    tag = "content",
    params(("goal_id" = String, Path, description = "The goal's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]([\t -~]*[!-~])?$")),
    request_body = RequirementFields,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Requirement, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such goal, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, e.g. a between target without value_max", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/goals/{goal_id}/requirements")]
pub async fn create_requirement(
    ctx: RequestContext,
    state: web::Data<AppState>,
    goal_id: web::Path<String>,
    body: web::Json<RequirementFields>,
) -> ApiResult<HttpResponse> {
    let goal_id = goal_id.into_inner();
    let requirement = state.db(move |conn| create(conn, &ctx, &goal_id, body.into_inner())).await?;
    Ok(http::created(format!("/api/v1/requirements/{}", requirement.id), &requirement.etag, &requirement))
}

/// Read a result requirement.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The requirement's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The requirement", body = Requirement, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such requirement, or not visible", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/requirements/{id}")]
pub async fn get_requirement(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let requirement = state
        .db(move |conn| {
            let row = find(conn, &id)?;
            plan_for_read(conn, &ctx, &row.plan_id)?;
            Requirement::try_from(row)
        })
        .await?;
    Ok(http::entity_response(&req, &requirement.etag, &requirement))
}

/// Change a result requirement (merge patch with `If-Match`); a new `position` moves it.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The requirement's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *")),
    request_body(content = RequirementFields, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = Requirement, headers(("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such requirement, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/requirements/{id}")]
pub async fn update_requirement(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    patch: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let headers = req.headers().clone();
    let requirement = state
        .db(move |conn| {
            conn.write(|conn| {
                let row = find(conn, &id)?;
                plan_for_change(conn, &ctx, &row.plan_id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                let before = Requirement::try_from(row.clone())?;
                let current = RequirementFields {
                    statement: before.statement.clone(),
                    indicator: before.indicator.clone(),
                    unit: before.unit,
                    comparator: before.comparator,
                    baseline: before.baseline.clone(),
                    target: before.target.clone(),
                    data_source: before.data_source.clone(),
                    frequency: before.frequency,
                    position: Some(before.position),
                };
                let changed: RequirementFields = http::merge_patch(&current, &patch, READ_ONLY)?;
                let target = check(&changed)?;
                if let Some(to) = changed.position {
                    let to = ordering::move_to(to, requirement_order::count(conn, &row.goal_id)?);
                    requirement_order::shift(conn, &row.goal_id, &id, row.position, to)?;
                }
                diesel::update(requirements::table.find(&id))
                    .set((
                        requirements::statement.eq(changed.statement.trim()),
                        requirements::indicator.eq(changed.indicator.trim()),
                        requirements::unit.eq(storable(&changed.unit)),
                        requirements::comparator.eq(storable(&changed.comparator)),
                        requirements::baseline_value.eq(target.baseline_value),
                        requirements::baseline_as_of.eq(target.baseline_as_of),
                        requirements::target_value.eq(target.value),
                        requirements::target_value_max.eq(target.value_max),
                        requirements::target_due.eq(target.due),
                        requirements::target_placeholder.eq(target.placeholder),
                        requirements::data_source.eq(&changed.data_source),
                        requirements::frequency.eq(changed.frequency.as_ref().map(storable)),
                        requirements::updated_at.eq(now()),
                        requirements::revision.eq(row.revision + 1),
                    ))
                    .execute(conn)?;
                let after = Requirement::try_from(find(conn, &id)?)?;
                audit::record(conn, &ctx, "update", "requirement", &id, snapshot(&before), snapshot(&after))?;
                Ok(after)
            })
        })
        .await?;
    Ok(http::updated(&requirement.etag, &requirement))
}

/// Delete a result requirement (needs `If-Match`); the ones after it move up.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The requirement's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such requirement, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/requirements/{id}")]
pub async fn delete_requirement(
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
                let row = find(conn, &id)?;
                plan_for_change(conn, &ctx, &row.plan_id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                diesel::delete(requirements::table.find(&id)).execute(conn)?;
                requirement_order::close(conn, &row.goal_id, row.position)?;
                audit::record(conn, &ctx, "delete", "requirement", &id, snapshot(&Requirement::try_from(row)?), None)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
