//! Focus areas (indsatsområder): groupings of a plan's goals, in order.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::audit::{self, snapshot};
use crate::api::content::{check_position, focus_area_order, plan_for_change, plan_for_read};
use crate::api::http::{self, ListOf, PageQuery};
use crate::auth::RequestContext;
use crate::db::schema::{focus_areas, goals};
use crate::db::DbConnection;
use crate::domain::ordering;
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult, Problem};
use crate::{now, AppState};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = focus_areas)]
pub struct FocusAreaRow {
    pub id: String,
    pub plan_id: String,
    pub title: String,
    pub description: Option<String>,
    pub position: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revision: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FocusArea {
    pub id: String,
    pub plan_id: String,
    #[schema(example = "Flere i beskæftigelse")]
    pub title: String,
    pub description: Option<String>,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub etag: String,
}

impl From<FocusAreaRow> for FocusArea {
    fn from(row: FocusAreaRow) -> Self {
        FocusArea {
            etag: http::etag(row.revision),
            id: row.id,
            plan_id: row.plan_id,
            title: row.title,
            description: row.description,
            position: row.position,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// A focus area's editable fields: the body of a create, and what a merge patch changes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FocusAreaFields {
    #[schema(example = "Flere i beskæftigelse")]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// From 0; without it the focus area goes last.
    #[serde(default, deserialize_with = "http::optional_whole_number")]
    pub position: Option<i32>,
}

fn check(fields: &FocusAreaFields) -> ApiResult<()> {
    let mut checks = Checks::new();
    checks.text("title", &fields.title, 300);
    checks.optional_text("description", fields.description.as_deref(), 20_000);
    check_position(&mut checks, fields.position);
    checks.finish()
}

const READ_ONLY: &[&str] = &["id", "plan_id", "created_at", "updated_at", "etag"];

#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete even when goals belong to it; they are left without a focus area.
    pub detach: Option<bool>,
}

pub fn find(conn: &mut DbConnection, id: &str) -> ApiResult<FocusAreaRow> {
    focus_areas::table
        .find(id)
        .select(FocusAreaRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no focus area with id {id}")))
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    plan_id: &str,
    fields: FocusAreaFields,
) -> ApiResult<FocusArea> {
    check(&fields)?;
    conn.write(|conn| {
        plan_for_change(conn, ctx, plan_id)?;
        let position = ordering::insert_at(fields.position, focus_area_order::count(conn, plan_id)?);
        focus_area_order::open(conn, plan_id, position)?;
        let at = now();
        let row = FocusAreaRow {
            id: Uuid::now_v7().to_string(),
            plan_id: plan_id.to_owned(),
            title: fields.title.trim().to_owned(),
            description: fields.description,
            position,
            created_at: at,
            updated_at: at,
            revision: 1,
        };
        diesel::insert_into(focus_areas::table).values(&row).execute(conn)?;
        let focus_area = FocusArea::from(row);
        audit::record(conn, ctx, "create", "focus_area", &focus_area.id, None, snapshot(&focus_area))?;
        Ok(focus_area)
    })
}

pub fn list(conn: &mut DbConnection, plan_id: &str, page: http::Page) -> ApiResult<(i64, Vec<FocusArea>)> {
    let total = focus_areas::table.filter(focus_areas::plan_id.eq(plan_id)).count().get_result(conn)?;
    let rows = focus_areas::table
        .filter(focus_areas::plan_id.eq(plan_id))
        .order(focus_areas::position)
        .limit(page.limit)
        .offset(page.offset)
        .select(FocusAreaRow::as_select())
        .load(conn)?;
    Ok((total, rows.into_iter().map(FocusArea::from).collect()))
}

/// The focus areas of a plan, in order.
#[utoipa::path(
    tag = "content",
    params(("plan_id" = String, Path, description = "The plan's id"), PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of focus areas", body = ListOf<FocusArea>),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit or offset out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/plans/{plan_id}/focus-areas")]
pub async fn list_focus_areas(
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
            plan_for_read(conn, &ctx, &plan_id)?;
            list(conn, &plan_id, page)
        })
        .await?;
    Ok(http::list_response(&req, page, total, items))
}

/// Add a focus area (planner; the plan must be `draft` or `in_hearing`).
#[utoipa::path(
    tag = "content",
    params(("plan_id" = String, Path, description = "The plan's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]([\t -~]*[!-~])?$")),
    request_body = FocusAreaFields,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = FocusArea, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{plan_id}/focus-areas")]
pub async fn create_focus_area(
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    body: web::Json<FocusAreaFields>,
) -> ApiResult<HttpResponse> {
    let plan_id = plan_id.into_inner();
    let focus_area = state.db(move |conn| create(conn, &ctx, &plan_id, body.into_inner())).await?;
    Ok(http::created(format!("/api/v1/focus-areas/{}", focus_area.id), &focus_area.etag, &focus_area))
}

/// Read a focus area.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The focus area's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The focus area", body = FocusArea, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such focus area, or not visible", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/focus-areas/{id}")]
pub async fn get_focus_area(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let focus_area = state
        .db(move |conn| {
            let row = find(conn, &id)?;
            plan_for_read(conn, &ctx, &row.plan_id)?;
            Ok(FocusArea::from(row))
        })
        .await?;
    Ok(http::entity_response(&req, &focus_area.etag, &focus_area))
}

/// Change a focus area (merge patch with `If-Match`); a new `position` moves it.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The focus area's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *")),
    request_body(content = FocusAreaFields, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = FocusArea, headers(("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such focus area, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/focus-areas/{id}")]
pub async fn update_focus_area(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    patch: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let headers = req.headers().clone();
    let focus_area = state
        .db(move |conn| {
            conn.write(|conn| {
                let row = find(conn, &id)?;
                plan_for_change(conn, &ctx, &row.plan_id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                let current = FocusAreaFields {
                    title: row.title.clone(),
                    description: row.description.clone(),
                    position: Some(row.position),
                };
                let changed: FocusAreaFields = http::merge_patch(&current, &patch, READ_ONLY)?;
                check(&changed)?;
                if let Some(to) = changed.position {
                    let to = ordering::move_to(to, focus_area_order::count(conn, &row.plan_id)?);
                    focus_area_order::shift(conn, &row.plan_id, &id, row.position, to)?;
                }
                diesel::update(focus_areas::table.find(&id))
                    .set((
                        focus_areas::title.eq(changed.title.trim()),
                        focus_areas::description.eq(&changed.description),
                        focus_areas::updated_at.eq(now()),
                        focus_areas::revision.eq(row.revision + 1),
                    ))
                    .execute(conn)?;
                let after = FocusArea::from(find(conn, &id)?);
                audit::record(
                    conn,
                    &ctx,
                    "update",
                    "focus_area",
                    &id,
                    snapshot(&FocusArea::from(row)),
                    snapshot(&after),
                )?;
                Ok(after)
            })
        })
        .await?;
    Ok(http::updated(&focus_area.etag, &focus_area))
}

/// Delete a focus area (needs `If-Match`); the ones after it move up. A focus area that still has
/// goals is kept (409) unless `detach=true`, which leaves its goals without a focus area.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The focus area's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *"),
           DeleteQuery),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such focus area, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes, or the focus area has goals", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/focus-areas/{id}")]
pub async fn delete_focus_area(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<DeleteQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let headers = req.headers().clone();
    let detach = query.detach.unwrap_or(false);
    state
        .db(move |conn| {
            conn.write(|conn| {
                let row = find(conn, &id)?;
                plan_for_change(conn, &ctx, &row.plan_id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                let goal_count: i64 = goals::table.filter(goals::focus_area_id.eq(&id)).count().get_result(conn)?;
                if goal_count > 0 && !detach {
                    return Err(ApiError::Conflict(format!(
                        "the focus area has {goal_count} goal(s); move or delete them, or delete with ?detach=true"
                    )));
                }
                diesel::update(goals::table.filter(goals::focus_area_id.eq(&id)))
                    .set(goals::focus_area_id.eq(None::<String>))
                    .execute(conn)?;
                diesel::delete(focus_areas::table.find(&id)).execute(conn)?;
                focus_area_order::close(conn, &row.plan_id, row.position)?;
                audit::record(conn, &ctx, "delete", "focus_area", &id, snapshot(&FocusArea::from(row)), None)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
