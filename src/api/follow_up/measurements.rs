//! Measurements of result requirements and follow-up measures: recorded, listed, read and
//! deleted one by one. Every change takes the plan's lock first (`lock_plan`) and reads what it
//! decides on after it.

use actix_web::http::header::HeaderMap;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{lock_plan, parse_date, plan_for};
use crate::api::audit::{self, snapshot};
use crate::api::docs::{CreateProblems, IdempotencyKey, IfMatch, ItemProblems, ListProblems, PlainDeleteProblems};
use crate::api::http::{self, CursorPageQuery, ListOf};
use crate::auth::policy::Action;
use crate::auth::RequestContext;
use crate::db::schema::{follow_up_measures, measurements, requirements};
use crate::db::{expect_one, DbConnection};
use crate::domain::requirement::Comparator;
use crate::domain::validate::FieldError;
use crate::error::{ApiError, ApiResult};
use crate::{now, AppState};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = measurements)]
pub struct MeasurementRow {
    pub id: String,
    pub plan_id: String,
    pub requirement_id: Option<String>,
    pub follow_up_measure_id: Option<String>,
    pub period_end: NaiveDate,
    pub value: f64,
    pub source: Option<String>,
    pub note: Option<String>,
    pub recorded_at: NaiveDateTime,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Measurement {
    pub id: String,
    pub requirement_id: Option<String>,
    pub follow_up_measure_id: Option<String>,
    /// The last day of the period the value describes.
    #[schema(example = "2015-06-30", format = Date)]
    pub period_end: String,
    pub value: f64,
    #[schema(example = "Jobindsats.dk")]
    pub source: Option<String>,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    /// Measurements never change; the tag is for `If-Match` on delete.
    pub etag: String,
}

impl From<MeasurementRow> for Measurement {
    fn from(row: MeasurementRow) -> Self {
        Measurement {
            id: row.id,
            requirement_id: row.requirement_id,
            follow_up_measure_id: row.follow_up_measure_id,
            period_end: row.period_end.format("%Y-%m-%d").to_string(),
            value: row.value,
            source: row.source,
            note: row.note,
            recorded_at: row.recorded_at.and_utc(),
            recorded_by: row.recorded_by,
            etag: http::etag(1),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeasurement {
    #[schema(example = "2015-06-30", format = Date)]
    pub period_end: String,
    /// For a qualitative (`done`) requirement: 1 done, 0 not yet.
    pub value: f64,
    #[schema(max_length = 300)]
    pub source: Option<String>,
    #[schema(max_length = 5000)]
    pub note: Option<String>,
}

/// What a measurement is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    Requirement(&'a str),
    FollowUpMeasure(&'a str),
}

impl Subject<'_> {
    /// The plan it belongs to, and the comparator when it is a requirement.
    pub(super) fn load(self, conn: &mut DbConnection) -> ApiResult<(String, Option<Comparator>)> {
        match self {
            Subject::Requirement(id) => {
                let (plan_id, comparator): (String, String) = requirements::table
                    .find(id)
                    .select((requirements::plan_id, requirements::comparator))
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| ApiError::NotFound(format!("no requirement with id {id}")))?;
                Ok((plan_id, Some(crate::db::stored(&comparator)?)))
            }
            Subject::FollowUpMeasure(id) => {
                let plan_id: String = follow_up_measures::table
                    .find(id)
                    .select(follow_up_measures::plan_id)
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| ApiError::NotFound(format!("no follow-up measure with id {id}")))?;
                Ok((plan_id, None))
            }
        }
    }
}

/// Checks a measurement; field names are prefixed (`rows[3].` for an import).
pub(super) fn check_measurement(
    prefix: &str,
    input: &NewMeasurement,
    comparator: Option<Comparator>,
) -> Result<NaiveDate, Vec<FieldError>> {
    let mut errors = Vec::new();
    let field = |name: &str| format!("{prefix}{name}");
    let period_end = parse_date(&input.period_end);
    if period_end.is_none() {
        errors.push(FieldError::new(
            field("period_end"),
            format!("{:?} is not a real date in the form YYYY-MM-DD", input.period_end),
        ));
    }
    if !input.value.is_finite() {
        errors.push(FieldError::new(field("value"), "must be a number"));
    } else if comparator == Some(Comparator::Done) && input.value != 0.0 && input.value != 1.0 {
        errors
            .push(FieldError::new(field("value"), "a qualitative requirement is measured as 1 (done) or 0 (not yet)"));
    }
    for (name, value, max) in [("source", &input.source, 300), ("note", &input.note, 5000)] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            errors.push(FieldError::new(field(name), format!("must be at most {max} characters")));
        }
        // PostgreSQL cannot store NUL in text.
        if value.as_ref().is_some_and(|v| v.contains('\0')) {
            errors.push(FieldError::new(field(name), "must not contain NUL characters"));
        }
    }
    match period_end {
        Some(date) if errors.is_empty() => Ok(date),
        _ => Err(errors),
    }
}

pub(super) fn insert(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    plan_id: &str,
    subject: Subject,
    period_end: NaiveDate,
    input: &NewMeasurement,
) -> ApiResult<Measurement> {
    let (requirement_id, follow_up_measure_id) = match subject {
        Subject::Requirement(id) => (Some(id.to_owned()), None),
        Subject::FollowUpMeasure(id) => (None, Some(id.to_owned())),
    };
    let row = MeasurementRow {
        id: Uuid::now_v7().to_string(),
        plan_id: plan_id.to_owned(),
        requirement_id,
        follow_up_measure_id,
        period_end,
        value: input.value,
        source: input.source.clone(),
        note: input.note.clone(),
        recorded_at: now(),
        recorded_by: ctx.actor().to_owned(),
    };
    diesel::insert_into(measurements::table).values(&row).execute(conn)?;
    let measurement = Measurement::from(row);
    audit::record(conn, ctx, "create", "measurement", &measurement.id, None, snapshot(&measurement))?;
    Ok(measurement)
}

/// Records a measurement of `subject`.
pub fn record(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    subject: Subject,
    input: NewMeasurement,
) -> ApiResult<Measurement> {
    conn.write(|conn| {
        // The subject's plan never changes, so it may be read before the lock; what the check
        // needs (the comparator, and that the subject still exists) is read after it.
        let (plan_id, _) = subject.load(conn)?;
        lock_plan(conn, ctx, &plan_id)?;
        let (_, comparator) = subject.load(conn)?;
        let period_end = check_measurement("", &input, comparator).map_err(ApiError::Validation)?;
        insert(conn, ctx, &plan_id, subject, period_end, &input)
    })
}

/// A measurement's place in its list, for a cursor.
fn cursor_key(measurement: &Measurement) -> Vec<String> {
    let recorded = measurement.recorded_at.naive_utc().format(http::CURSOR_TIME).to_string();
    vec![measurement.period_end.clone(), recorded, measurement.id.clone()]
}

fn list(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    subject: Subject,
    page: &http::CursorPage,
) -> ApiResult<(i64, Vec<Measurement>)> {
    let (plan_id, _) = subject.load(conn)?;
    plan_for(conn, ctx, &plan_id, Action::Read)?;
    let filtered = || {
        let q = measurements::table.into_boxed();
        match subject {
            Subject::Requirement(id) => q.filter(measurements::requirement_id.eq(id.to_owned())),
            Subject::FollowUpMeasure(id) => q.filter(measurements::follow_up_measure_id.eq(id.to_owned())),
        }
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let mut rows = filtered();
    // The cursor measurement's place in the order (period_end, recorded_at, id).
    let cursor = page.key(|[period, recorded, id]| {
        let period = NaiveDate::parse_from_str(period, "%Y-%m-%d").ok()?;
        Some((period, NaiveDateTime::parse_from_str(recorded, http::CURSOR_TIME).ok()?, id.to_owned()))
    })?;
    if let Some((period_end, recorded_at, id)) = cursor {
        use measurements::{id as id_column, period_end as period, recorded_at as recorded};
        rows = rows.filter(period.gt(period_end).or(
            period.eq(period_end).and(recorded.gt(recorded_at).or(recorded.eq(recorded_at).and(id_column.gt(id)))),
        ));
    }
    let rows: Vec<MeasurementRow> = rows
        .order((measurements::period_end, measurements::recorded_at, measurements::id))
        .limit(page.rows())
        .offset(page.page.offset)
        .select(MeasurementRow::as_select())
        .load(conn)?;
    Ok((total, rows.into_iter().map(Measurement::from).collect()))
}

macro_rules! measurement_routes {
    ($list:ident, $create:ident, $path:literal, $variant:ident, $what:literal) => {
        #[utoipa::path(
            tag = "follow-up",
            summary = concat!("The measurements of a ", $what),
            description = "Oldest period first; revised figures for a period follow the first.",
            params(("id" = String, Path, description = concat!("The ", $what, "'s id")), CursorPageQuery),
            security((), ("bearer" = [])),
            responses((status = 200, description = "A page of measurements", body = ListOf<Measurement>), ListProblems)
        )]
        #[get($path)]
        pub async fn $list(req: HttpRequest, ctx: RequestContext, state: web::Data<AppState>, id: web::Path<String>, query: web::Query<CursorPageQuery>) -> ApiResult<HttpResponse> {
            let page = query.page()?;
            let id = id.into_inner();
            let read = page.clone();
            let (total, items) = state.db(move |conn| list(conn, &ctx, Subject::$variant(&id), &read)).await?;
            Ok(http::cursor_list_response(&req, &page, total, items, cursor_key))
        }

        #[utoipa::path(
            tag = "follow-up",
            summary = concat!("Record a measurement of a ", $what),
            description = "Planner; also after the plan is adopted.",
            params(("id" = String, Path, description = concat!("The ", $what, "'s id")), IdempotencyKey),
            request_body = NewMeasurement,
            security(("bearer" = [])),
            responses(
                (status = 201, description = "Recorded", body = Measurement, headers(("Location" = String), ("ETag" = String))),
                CreateProblems,
            )
        )]
        #[post($path)]
        pub async fn $create(ctx: RequestContext, state: web::Data<AppState>, id: web::Path<String>, body: web::Json<NewMeasurement>) -> ApiResult<HttpResponse> {
            let id = id.into_inner();
            let measurement = state.db(move |conn| record(conn, &ctx, Subject::$variant(&id), body.into_inner())).await?;
            Ok(http::created(format!("/api/v1/measurements/{}", measurement.id), &measurement.etag, &measurement))
        }
    };
}

measurement_routes!(
    list_requirement_measurements,
    create_requirement_measurement,
    "/requirements/{id}/measurements",
    Requirement,
    "result requirement"
);
measurement_routes!(
    list_measure_measurements,
    create_measure_measurement,
    "/follow-up-measures/{id}/measurements",
    FollowUpMeasure,
    "follow-up measure"
);

/// A measurement by id, as stored.
fn find_row(conn: &mut DbConnection, id: &str) -> ApiResult<MeasurementRow> {
    measurements::table
        .find(id)
        .select(MeasurementRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(crate::auth::policy::not_found)
}

/// Read a measurement.
#[utoipa::path(
    tag = "follow-up",
    params(("id" = String, Path, description = "The measurement's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The measurement", body = Measurement, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        ItemProblems,
    )
)]
#[get("/measurements/{id}")]
pub async fn get_measurement(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .db(move |conn| {
            let row = find_row(conn, &id)?;
            plan_for(conn, &ctx, &row.plan_id, Action::Read)?;
            Ok(row)
        })
        .await?;
    let measurement = Measurement::from(row);
    Ok(http::entity_response(&req, &measurement.etag, &measurement))
}

/// Deletes a measurement: under the plan's lock, read again after it, so of racing deletes
/// exactly one succeeds and the others find nothing (404).
pub fn delete(conn: &mut DbConnection, ctx: &RequestContext, id: &str, headers: &HeaderMap) -> ApiResult<()> {
    conn.write(|conn| {
        // Which plan to lock: a measurement never moves to another plan.
        let plan_id = find_row(conn, id)?.plan_id;
        lock_plan(conn, ctx, &plan_id)?;
        let row = find_row(conn, id)?;
        // Measurements never change: the tag only says the caller means this one.
        http::check_if_match(headers, &http::etag(1))?;
        let count = diesel::delete(measurements::table.find(id)).execute(conn)?;
        expect_one(count)?;
        audit::record(conn, ctx, "delete", "measurement", id, snapshot(&Measurement::from(row)), None)
    })
}

/// Delete a measurement entered by mistake (planner; needs `If-Match`).
///
/// A revised figure is a new measurement, not a deletion.
#[utoipa::path(
    tag = "follow-up",
    params(("id" = String, Path, description = "The measurement's id"), IfMatch),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), PlainDeleteProblems)
)]
#[delete("/measurements/{id}")]
pub async fn delete_measurement(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (id, headers) = (id.into_inner(), req.headers().clone());
    state.db(move |conn| delete(conn, &ctx, &id, &headers)).await?;
    Ok(HttpResponse::NoContent().finish())
}
