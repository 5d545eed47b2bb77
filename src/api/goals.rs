//! Goals (mål) of a plan, in order: ministerial, local or qualitative, optionally in a focus area,
//! with target groups (e.g. "LAB 2.1") and initiatives. Deleting a goal deletes its result
//! requirements and follow-up measures with it.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::audit::{self, snapshot};
use crate::api::content::{check_position, check_text_list, goal_order, plan_for_change, plan_for_read};
use crate::api::http::{self, ListOf, Page};
use crate::api::{focus_areas, follow_up_measures, requirements};
use crate::auth::RequestContext;
use crate::db::schema::{follow_up_measures as measures_table, goals, requirements as requirements_table};
use crate::db::{storable, stored, DbConnection};
use crate::domain::ordering;
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult, Problem};
use crate::{now, AppState};

pub use crate::domain::document::GoalKind;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = goals)]
pub struct GoalRow {
    pub id: String,
    pub plan_id: String,
    pub focus_area_id: Option<String>,
    pub number: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub kind: String,
    pub target_groups: String,
    pub initiatives: String,
    pub position: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revision: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Goal {
    pub id: String,
    pub plan_id: String,
    #[schema(example = "Mål 1")]
    pub number: Option<String>,
    #[schema(example = "Flere unge skal have en uddannelse")]
    pub title: String,
    pub description: Option<String>,
    pub kind: GoalKind,
    pub focus_area_id: Option<String>,
    #[schema(example = json!(["LAB 2.12", "LAB 2.13"]))]
    pub target_groups: Vec<String>,
    pub initiatives: Vec<String>,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub etag: String,
}

fn parse_list(text: &str) -> ApiResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| ApiError::Internal(format!("stored list: {e}")))
}

fn to_json(list: &[String]) -> String {
    serde_json::Value::from(list.to_vec()).to_string()
}

impl TryFrom<GoalRow> for Goal {
    type Error = ApiError;
    fn try_from(row: GoalRow) -> ApiResult<Self> {
        Ok(Goal {
            kind: stored(&row.kind)?,
            target_groups: parse_list(&row.target_groups)?,
            initiatives: parse_list(&row.initiatives)?,
            etag: http::etag(row.revision),
            id: row.id,
            plan_id: row.plan_id,
            number: row.number,
            title: row.title,
            description: row.description,
            focus_area_id: row.focus_area_id,
            position: row.position,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A goal's editable fields: the body of a create, and what a merge patch changes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalFields {
    #[serde(default)]
    #[schema(example = "Mål 1")]
    pub number: Option<String>,
    #[schema(example = "Flere unge skal have en uddannelse")]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub kind: GoalKind,
    /// A focus area of the same plan.
    #[serde(default)]
    pub focus_area_id: Option<String>,
    #[serde(default)]
    #[schema(example = json!(["LAB 2.12", "LAB 2.13"]))]
    pub target_groups: Vec<String>,
    #[serde(default)]
    pub initiatives: Vec<String>,
    /// From 0, among all the plan's goals; without it the goal goes last.
    #[serde(default, deserialize_with = "http::optional_whole_number")]
    pub position: Option<i32>,
}

const READ_ONLY: &[&str] = &["id", "plan_id", "created_at", "updated_at", "etag"];

fn check(conn: &mut DbConnection, plan_id: &str, fields: &GoalFields) -> ApiResult<()> {
    let mut checks = Checks::new();
    checks.optional_text("number", fields.number.as_deref(), 50);
    checks.text("title", &fields.title, 1000);
    checks.optional_text("description", fields.description.as_deref(), 50_000);
    check_text_list(&mut checks, "target_groups", &fields.target_groups, 50, 100);
    check_text_list(&mut checks, "initiatives", &fields.initiatives, 200, 5000);
    check_position(&mut checks, fields.position);
    if let Some(focus_area_id) = &fields.focus_area_id {
        match focus_areas::find(conn, focus_area_id) {
            Ok(area) if area.plan_id == plan_id => {}
            Ok(_) | Err(ApiError::NotFound(_)) => checks.fail("focus_area_id", "is not a focus area of this plan"),
            Err(other) => return Err(other),
        }
    }
    checks.finish()
}

pub fn find(conn: &mut DbConnection, id: &str) -> ApiResult<GoalRow> {
    goals::table
        .find(id)
        .select(GoalRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no goal with id {id}")))
}

pub fn create(conn: &mut DbConnection, ctx: &RequestContext, plan_id: &str, fields: GoalFields) -> ApiResult<Goal> {
    conn.write(|conn| {
        plan_for_change(conn, ctx, plan_id)?;
        check(conn, plan_id, &fields)?;
        let position = ordering::insert_at(fields.position, goal_order::count(conn, plan_id)?);
        goal_order::open(conn, plan_id, position)?;
        let at = now();
        let row = GoalRow {
            id: Uuid::now_v7().to_string(),
            plan_id: plan_id.to_owned(),
            focus_area_id: fields.focus_area_id.clone(),
            number: fields.number.as_deref().map(str::trim).map(str::to_owned),
            title: fields.title.trim().to_owned(),
            description: fields.description.clone(),
            kind: storable(&fields.kind),
            target_groups: to_json(&fields.target_groups),
            initiatives: to_json(&fields.initiatives),
            position,
            created_at: at,
            updated_at: at,
            revision: 1,
        };
        diesel::insert_into(goals::table).values(&row).execute(conn)?;
        let goal = Goal::try_from(row)?;
        audit::record(conn, ctx, "create", "goal", &goal.id, None, snapshot(&goal))?;
        Ok(goal)
    })
}

#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GoalQuery {
    /// Only goals of this kind.
    pub kind: Option<GoalKind>,
    /// Only goals in this focus area.
    pub focus_area_id: Option<String>,
    /// Only goals for this target group, e.g. `LAB 2.1`.
    pub target_group: Option<String>,
    /// At most this many items (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Skip this many items (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// The goals of a plan in order, filtered.
pub fn list(conn: &mut DbConnection, plan_id: &str, query: &GoalQuery, page: Page) -> ApiResult<(i64, Vec<Goal>)> {
    let filtered = || {
        let mut q = goals::table.filter(goals::plan_id.eq(plan_id.to_owned())).into_boxed();
        if let Some(kind) = query.kind {
            q = q.filter(goals::kind.eq(storable(&kind)));
        }
        if let Some(area) = &query.focus_area_id {
            q = q.filter(goals::focus_area_id.eq(area.clone()));
        }
        if let Some(group) = &query.target_group {
            // The list is stored as a JSON array; match the quoted entry exactly.
            let quoted = serde_json::Value::String(group.clone()).to_string();
            let pattern = format!("%{}%", quoted.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            q = q.filter(goals::target_groups.like(pattern).escape('\\'));
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order(goals::position)
        .limit(page.limit)
        .offset(page.offset)
        .select(GoalRow::as_select())
        .load(conn)?;
    Ok((total, rows.into_iter().map(Goal::try_from).collect::<ApiResult<_>>()?))
}

/// The goals of a plan, in order.
#[utoipa::path(
    tag = "content",
    params(("plan_id" = String, Path, description = "The plan's id"), GoalQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of goals", body = ListOf<Goal>),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit or offset out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/plans/{plan_id}/goals")]
pub async fn list_goals(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    query: web::Query<GoalQuery>,
) -> ApiResult<HttpResponse> {
    let page = Page::new(query.limit, query.offset)?;
    let plan_id = plan_id.into_inner();
    let query = query.into_inner();
    let (total, items) = state
        .db(move |conn| {
            plan_for_read(conn, &ctx, &plan_id)?;
            list(conn, &plan_id, &query, page)
        })
        .await?;
    Ok(http::list_response(&req, page, total, items))
}

/// Add a goal (planner; the plan must be `draft` or `in_hearing`).
#[utoipa::path(
    tag = "content",
    params(("plan_id" = String, Path, description = "The plan's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]([\t -~]*[!-~])?$")),
    request_body = GoalFields,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Goal, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{plan_id}/goals")]
pub async fn create_goal(
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    body: web::Json<GoalFields>,
) -> ApiResult<HttpResponse> {
    let plan_id = plan_id.into_inner();
    let goal = state.db(move |conn| create(conn, &ctx, &plan_id, body.into_inner())).await?;
    Ok(http::created(format!("/api/v1/goals/{}", goal.id), &goal.etag, &goal))
}

/// Read a goal.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The goal's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The goal", body = Goal, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such goal, or not visible", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/goals/{id}")]
pub async fn get_goal(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let goal = state
        .db(move |conn| {
            let row = find(conn, &id)?;
            plan_for_read(conn, &ctx, &row.plan_id)?;
            Goal::try_from(row)
        })
        .await?;
    Ok(http::entity_response(&req, &goal.etag, &goal))
}

/// Change a goal (merge patch with `If-Match`); a new `position` moves it.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The goal's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *")),
    request_body(content = GoalFields, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = Goal, headers(("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such goal, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/goals/{id}")]
pub async fn update_goal(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    patch: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let headers = req.headers().clone();
    let goal = state
        .db(move |conn| {
            conn.write(|conn| {
                let row = find(conn, &id)?;
                plan_for_change(conn, &ctx, &row.plan_id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                let before = Goal::try_from(row.clone())?;
                let current = GoalFields {
                    number: before.number.clone(),
                    title: before.title.clone(),
                    description: before.description.clone(),
                    kind: before.kind,
                    focus_area_id: before.focus_area_id.clone(),
                    target_groups: before.target_groups.clone(),
                    initiatives: before.initiatives.clone(),
                    position: Some(before.position),
                };
                let changed: GoalFields = http::merge_patch(&current, &patch, READ_ONLY)?;
                check(conn, &row.plan_id, &changed)?;
                if let Some(to) = changed.position {
                    let to = ordering::move_to(to, goal_order::count(conn, &row.plan_id)?);
                    goal_order::shift(conn, &row.plan_id, &id, row.position, to)?;
                }
                diesel::update(goals::table.find(&id))
                    .set((
                        goals::number.eq(changed.number.as_deref().map(str::trim)),
                        goals::title.eq(changed.title.trim()),
                        goals::description.eq(&changed.description),
                        goals::kind.eq(storable(&changed.kind)),
                        goals::focus_area_id.eq(&changed.focus_area_id),
                        goals::target_groups.eq(to_json(&changed.target_groups)),
                        goals::initiatives.eq(to_json(&changed.initiatives)),
                        goals::updated_at.eq(now()),
                        goals::revision.eq(row.revision + 1),
                    ))
                    .execute(conn)?;
                let after = Goal::try_from(find(conn, &id)?)?;
                audit::record(conn, &ctx, "update", "goal", &id, snapshot(&before), snapshot(&after))?;
                Ok(after)
            })
        })
        .await?;
    Ok(http::updated(&goal.etag, &goal))
}

/// Delete a goal with its result requirements and follow-up measures (needs `If-Match`).
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The goal's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted, with its requirements and follow-up measures"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such goal, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/goals/{id}")]
pub async fn delete_goal(
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
                // The audit record keeps what went with the goal.
                let mut before = serde_json::to_value(Goal::try_from(row.clone())?)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                before["requirements"] = serde_json::to_value(requirements::all_of_goal(conn, &id)?)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                before["follow_up_measures"] = serde_json::to_value(follow_up_measures::all_of_goal(conn, &id)?)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                diesel::delete(requirements_table::table.filter(requirements_table::goal_id.eq(&id))).execute(conn)?;
                diesel::delete(measures_table::table.filter(measures_table::goal_id.eq(&id))).execute(conn)?;
                diesel::delete(goals::table.find(&id)).execute(conn)?;
                goal_order::close(conn, &row.plan_id, row.position)?;
                audit::record(conn, &ctx, "delete", "goal", &id, Some(before), None)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
