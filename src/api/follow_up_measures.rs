//! Follow-up measures (følgemål) of a goal, in order: indicators that are monitored without a
//! target of their own.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::audit::{self, snapshot};
use crate::api::content::{check_position, follow_up_measure_order, plan_for_change, plan_for_read};
use crate::api::goals;
use crate::api::http::{self, ListOf, PageQuery};
use crate::auth::RequestContext;
use crate::db::schema::follow_up_measures;
use crate::db::{storable, stored, DbConnection};
use crate::domain::ordering;
use crate::domain::requirement::{Frequency, Unit};
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult, Problem};
use crate::{now, AppState};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = follow_up_measures)]
pub struct FollowUpMeasureRow {
    pub id: String,
    pub goal_id: String,
    pub plan_id: String,
    pub indicator: String,
    pub description: Option<String>,
    pub unit: String,
    pub data_source: Option<String>,
    pub frequency: Option<String>,
    pub position: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revision: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FollowUpMeasure {
    pub id: String,
    pub goal_id: String,
    pub plan_id: String,
    #[schema(example = "Antallet af personer der modtager offentlig forsørgelse i mere end 52 uger")]
    pub indicator: String,
    pub description: Option<String>,
    pub unit: Unit,
    #[schema(example = "Jobindsats.dk")]
    pub data_source: Option<String>,
    pub frequency: Option<Frequency>,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub etag: String,
}

impl TryFrom<FollowUpMeasureRow> for FollowUpMeasure {
    type Error = ApiError;
    fn try_from(row: FollowUpMeasureRow) -> ApiResult<Self> {
        Ok(FollowUpMeasure {
            unit: stored(&row.unit)?,
            frequency: row.frequency.as_deref().map(stored).transpose()?,
            etag: http::etag(row.revision),
            id: row.id,
            goal_id: row.goal_id,
            plan_id: row.plan_id,
            indicator: row.indicator,
            description: row.description,
            data_source: row.data_source,
            position: row.position,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A follow-up measure's editable fields: the body of a create, and what a merge patch changes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpMeasureFields {
    #[schema(example = "Antallet af personer der modtager offentlig forsørgelse i mere end 52 uger")]
    pub indicator: String,
    #[serde(default)]
    pub description: Option<String>,
    pub unit: Unit,
    #[serde(default)]
    #[schema(example = "Jobindsats.dk")]
    pub data_source: Option<String>,
    #[serde(default)]
    pub frequency: Option<Frequency>,
    /// From 0, among the goal's follow-up measures; without it the measure goes last.
    #[serde(default, deserialize_with = "http::optional_whole_number")]
    pub position: Option<i32>,
}

const READ_ONLY: &[&str] = &["id", "goal_id", "plan_id", "created_at", "updated_at", "etag"];

fn check(fields: &FollowUpMeasureFields) -> ApiResult<()> {
    let mut checks = Checks::new();
    checks.text("indicator", &fields.indicator, 1000);
    checks.optional_text("description", fields.description.as_deref(), 20_000);
    checks.optional_text("data_source", fields.data_source.as_deref(), 300);
    check_position(&mut checks, fields.position);
    checks.finish()
}

fn find(conn: &mut DbConnection, id: &str) -> ApiResult<FollowUpMeasureRow> {
    follow_up_measures::table
        .find(id)
        .select(FollowUpMeasureRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no follow-up measure with id {id}")))
}

/// A goal's follow-up measures, in order.
pub fn all_of_goal(conn: &mut DbConnection, goal_id: &str) -> ApiResult<Vec<FollowUpMeasure>> {
    follow_up_measures::table
        .filter(follow_up_measures::goal_id.eq(goal_id))
        .order(follow_up_measures::position)
        .select(FollowUpMeasureRow::as_select())
        .load(conn)?
        .into_iter()
        .map(FollowUpMeasure::try_from)
        .collect()
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    goal_id: &str,
    fields: FollowUpMeasureFields,
) -> ApiResult<FollowUpMeasure> {
    conn.write(|conn| {
        let goal = goals::find(conn, goal_id)?;
        plan_for_change(conn, ctx, &goal.plan_id)?;
        check(&fields)?;
        let position = ordering::insert_at(fields.position, follow_up_measure_order::count(conn, goal_id)?);
        follow_up_measure_order::open(conn, goal_id, position)?;
        let at = now();
        let row = FollowUpMeasureRow {
            id: Uuid::now_v7().to_string(),
            goal_id: goal_id.to_owned(),
            plan_id: goal.plan_id.clone(),
            indicator: fields.indicator.trim().to_owned(),
            description: fields.description.clone(),
            unit: storable(&fields.unit),
            data_source: fields.data_source.clone(),
            frequency: fields.frequency.as_ref().map(storable),
            position,
            created_at: at,
            updated_at: at,
            revision: 1,
        };
        diesel::insert_into(follow_up_measures::table).values(&row).execute(conn)?;
        let measure = FollowUpMeasure::try_from(row)?;
        audit::record(conn, ctx, "create", "follow_up_measure", &measure.id, None, snapshot(&measure))?;
        Ok(measure)
    })
}

/// The follow-up measures of a goal, in order.
#[utoipa::path(
    tag = "content",
    params(("goal_id" = String, Path, description = "The goal's id"), PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of follow-up measures", body = ListOf<FollowUpMeasure>),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such goal, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit or offset out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/goals/{goal_id}/follow-up-measures")]
pub async fn list_follow_up_measures(
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
            let filtered = || follow_up_measures::table.filter(follow_up_measures::goal_id.eq(goal_id.clone()));
            let total: i64 = filtered().count().get_result(conn)?;
            let rows = filtered()
                .order(follow_up_measures::position)
                .limit(page.limit)
                .offset(page.offset)
                .select(FollowUpMeasureRow::as_select())
                .load(conn)?;
            Ok((total, rows.into_iter().map(FollowUpMeasure::try_from).collect::<ApiResult<Vec<_>>>()?))
        })
        .await?;
    Ok(http::list_response(&req, page, total, items))
}

/// Add a follow-up measure to a goal (planner; the plan must be `draft` or `in_hearing`).
#[utoipa::path(
    tag = "content",
    params(("goal_id" = String, Path, description = "The goal's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]([\t -~]*[!-~])?$")),
    request_body = FollowUpMeasureFields,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = FollowUpMeasure, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such goal, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/goals/{goal_id}/follow-up-measures")]
pub async fn create_follow_up_measure(
    ctx: RequestContext,
    state: web::Data<AppState>,
    goal_id: web::Path<String>,
    body: web::Json<FollowUpMeasureFields>,
) -> ApiResult<HttpResponse> {
    let goal_id = goal_id.into_inner();
    let measure = state.db(move |conn| create(conn, &ctx, &goal_id, body.into_inner())).await?;
    Ok(http::created(format!("/api/v1/follow-up-measures/{}", measure.id), &measure.etag, &measure))
}

/// Read a follow-up measure.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The follow-up measure's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The follow-up measure", body = FollowUpMeasure, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such follow-up measure, or not visible", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/follow-up-measures/{id}")]
pub async fn get_follow_up_measure(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let measure = state
        .db(move |conn| {
            let row = find(conn, &id)?;
            plan_for_read(conn, &ctx, &row.plan_id)?;
            FollowUpMeasure::try_from(row)
        })
        .await?;
    Ok(http::entity_response(&req, &measure.etag, &measure))
}

/// Change a follow-up measure (merge patch with `If-Match`); a new `position` moves it.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The follow-up measure's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *")),
    request_body(content = FollowUpMeasureFields, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = FollowUpMeasure, headers(("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such follow-up measure, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/follow-up-measures/{id}")]
pub async fn update_follow_up_measure(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    patch: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let headers = req.headers().clone();
    let measure = state
        .db(move |conn| {
            conn.write(|conn| {
                let row = find(conn, &id)?;
                plan_for_change(conn, &ctx, &row.plan_id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                let before = FollowUpMeasure::try_from(row.clone())?;
                let current = FollowUpMeasureFields {
                    indicator: before.indicator.clone(),
                    description: before.description.clone(),
                    unit: before.unit,
                    data_source: before.data_source.clone(),
                    frequency: before.frequency,
                    position: Some(before.position),
                };
                let changed: FollowUpMeasureFields = http::merge_patch(&current, &patch, READ_ONLY)?;
                check(&changed)?;
                if let Some(to) = changed.position {
                    let to = ordering::move_to(to, follow_up_measure_order::count(conn, &row.goal_id)?);
                    follow_up_measure_order::shift(conn, &row.goal_id, &id, row.position, to)?;
                }
                diesel::update(follow_up_measures::table.find(&id))
                    .set((
                        follow_up_measures::indicator.eq(changed.indicator.trim()),
                        follow_up_measures::description.eq(&changed.description),
                        follow_up_measures::unit.eq(storable(&changed.unit)),
                        follow_up_measures::data_source.eq(&changed.data_source),
                        follow_up_measures::frequency.eq(changed.frequency.as_ref().map(storable)),
                        follow_up_measures::updated_at.eq(now()),
                        follow_up_measures::revision.eq(row.revision + 1),
                    ))
                    .execute(conn)?;
                let after = FollowUpMeasure::try_from(find(conn, &id)?)?;
                audit::record(conn, &ctx, "update", "follow_up_measure", &id, snapshot(&before), snapshot(&after))?;
                Ok(after)
            })
        })
        .await?;
    Ok(http::updated(&measure.etag, &measure))
}

/// Delete a follow-up measure (needs `If-Match`); the ones after it move up.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The follow-up measure's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such follow-up measure, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/follow-up-measures/{id}")]
pub async fn delete_follow_up_measure(
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
                diesel::delete(follow_up_measures::table.find(&id)).execute(conn)?;
                follow_up_measure_order::close(conn, &row.goal_id, row.position)?;
                audit::record(
                    conn,
                    &ctx,
                    "delete",
                    "follow_up_measure",
                    &id,
                    snapshot(&FollowUpMeasure::try_from(row)?),
                    None,
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
