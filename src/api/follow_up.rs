//! Follow-up: measurements of requirements and follow-up measures, each requirement's attainment
//! status (`domain::attainment`), the follow-up report as JSON or CSV, and CSV import.
//!
//! Measurements are recorded by the plan's planners during the plan year, also after adoption:
//! they are not part of the versioned document. They are internal to the municipality: its own
//! readers see them, nobody else.

use std::collections::HashMap;

use actix_web::http::header::{self, Accept, Header};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::audit::{self, snapshot};
use crate::api::follow_up_measures::{FollowUpMeasure, FollowUpMeasureRow};
use crate::api::http::{self, ListOf, PageQuery};
use crate::api::plans::{self, PlanRow};
use crate::api::requirements::{Requirement, RequirementRow};
use crate::auth::policy::{self, Action, Target};
use crate::auth::RequestContext;
use crate::db::schema::{follow_up_measures, measurements, requirements};
use crate::db::DbConnection;
use crate::domain::attainment::{self, Point, Status};
use crate::domain::requirement::{Baseline, Comparator, Target as RequirementTarget};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
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
    #[schema(example = "2015-06-30")]
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
    #[schema(example = "2015-06-30")]
    pub period_end: String,
    /// For a qualitative (`done`) requirement: 1 done, 0 not yet.
    pub value: f64,
    pub source: Option<String>,
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
    fn load(self, conn: &mut DbConnection) -> ApiResult<(String, Option<Comparator>)> {
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

/// The plan, when the caller may take `action` on its follow-up (its own municipality's readers
/// read; its planners record).
fn plan_for(conn: &mut DbConnection, ctx: &RequestContext, plan_id: &str, action: Action) -> ApiResult<PlanRow> {
    let plan = plans::find(conn, plan_id)?;
    policy::authorize(ctx.caller.as_ref(), action, Target::plan(&plan.municipality_code, false))?;
    Ok(plan)
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().filter(|_| text.len() == 10)
}

/// Checks a measurement; field names are prefixed (`rows[3].` for an import).
fn check_measurement(
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
    }
    match period_end {
        Some(date) if errors.is_empty() => Ok(date),
        _ => Err(errors),
    }
}

fn insert(
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

pub fn record(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    subject: Subject,
    input: NewMeasurement,
) -> ApiResult<Measurement> {
    conn.write(|conn| {
        let (plan_id, comparator) = subject.load(conn)?;
        plan_for(conn, ctx, &plan_id, Action::EditPlan)?;
        let period_end = check_measurement("", &input, comparator).map_err(ApiError::Validation)?;
        insert(conn, ctx, &plan_id, subject, period_end, &input)
    })
}

fn list(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    subject: Subject,
    page: http::Page,
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
    let rows: Vec<MeasurementRow> = filtered()
        .order((measurements::period_end, measurements::recorded_at))
        .limit(page.limit)
        .offset(page.offset)
        .select(MeasurementRow::as_select())
        .load(conn)?;
    Ok((total, rows.into_iter().map(Measurement::from).collect()))
}

macro_rules! measurement_routes {
    ($list:ident, $create:ident, $path:literal, $variant:ident, $what:literal) => {
        #[doc = concat!("The measurements of a ", $what, ", oldest period first; revised figures for a period follow the first.")]
        #[utoipa::path(
            tag = "follow-up",
            params(("id" = String, Path, description = concat!("The ", $what, "'s id")), PageQuery),
            security(("bearer" = [])),
            responses(
                (status = 200, description = "A page of measurements", body = ListOf<Measurement>),
                (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "Not found, or not visible", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Limit or offset out of range", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($path)]
        pub async fn $list(req: HttpRequest, ctx: RequestContext, state: web::Data<AppState>, id: web::Path<String>, query: web::Query<PageQuery>) -> ApiResult<HttpResponse> {
            let page = query.page()?;
            let id = id.into_inner();
            let (total, items) = state.db(move |conn| list(conn, &ctx, Subject::$variant(&id), page)).await?;
            Ok(http::list_response(&req, page, total, items))
        }

        #[doc = concat!("Record a measurement of a ", $what, " (planner; also after the plan is adopted).")]
        #[utoipa::path(
            tag = "follow-up",
            params(("id" = String, Path, description = concat!("The ", $what, "'s id")),
                   ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]([\t -~]*[!-~])?$")),
            request_body = NewMeasurement,
            security(("bearer" = [])),
            responses(
                (status = 201, description = "Recorded", body = Measurement, headers(("Location" = String), ("ETag" = String))),
                (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "Not found, or not visible", body = Problem, content_type = "application/problem+json"),
                (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
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

fn find_measurement(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    id: &str,
    action: Action,
) -> ApiResult<MeasurementRow> {
    let row: MeasurementRow = measurements::table
        .find(id)
        .select(MeasurementRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no measurement with id {id}")))?;
    plan_for(conn, ctx, &row.plan_id, action)?;
    Ok(row)
}

/// Read a measurement.
#[utoipa::path(
    tag = "follow-up",
    params(("id" = String, Path, description = "The measurement's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The measurement", body = Measurement, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found, or not visible", body = Problem, content_type = "application/problem+json"),
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
    let measurement = Measurement::from(state.db(move |conn| find_measurement(conn, &ctx, &id, Action::Read)).await?);
    Ok(http::entity_response(&req, &measurement.etag, &measurement))
}

/// Delete a measurement entered by mistake (planner; needs `If-Match`). A revised figure is a new
/// measurement, not a deletion.
#[utoipa::path(
    tag = "follow-up",
    params(("id" = String, Path, description = "The measurement's id"), ("If-Match" = String, Header, description = "The ETag, or *")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/measurements/{id}")]
pub async fn delete_measurement(
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
                let row = find_measurement(conn, &ctx, &id, Action::EditPlan)?;
                http::check_if_match(&headers, &http::etag(1))?;
                diesel::delete(measurements::table.find(&id)).execute(conn)?;
                audit::record(conn, &ctx, "delete", "measurement", &id, snapshot(&Measurement::from(row)), None)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- the follow-up report ----

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    pub met: usize,
    pub on_track: usize,
    pub at_risk: usize,
    pub not_met: usize,
    pub no_data: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequirementFollowUp {
    pub requirement_id: String,
    pub goal_id: String,
    pub statement: String,
    pub comparator: Comparator,
    pub target: RequirementTarget,
    pub baseline: Option<Baseline>,
    pub status: Status,
    pub latest: Option<Measurement>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MeasureFollowUp {
    pub follow_up_measure_id: String,
    pub goal_id: String,
    pub indicator: String,
    pub latest: Option<Measurement>,
}

/// Every requirement of the plan with its latest measurement and status on `as_of`, counts per
/// status, and every follow-up measure with its latest value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FollowUpReport {
    pub plan_id: String,
    #[schema(example = "2015-06-30")]
    pub as_of: String,
    pub counts: Counts,
    pub requirements: Vec<RequirementFollowUp>,
    pub follow_up_measures: Vec<MeasureFollowUp>,
}

fn latest_row<'a>(rows: &[&'a MeasurementRow], as_of: NaiveDate) -> Option<&'a MeasurementRow> {
    rows.iter().filter(|m| m.period_end <= as_of).max_by_key(|m| (m.period_end, m.recorded_at)).copied()
}

/// The report: four queries, whatever the plan's size.
pub fn report(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    plan_id: &str,
    as_of: NaiveDate,
) -> ApiResult<FollowUpReport> {
    plan_for(conn, ctx, plan_id, Action::Read)?;
    let goal_order: HashMap<String, i32> = crate::db::schema::goals::table
        .filter(crate::db::schema::goals::plan_id.eq(plan_id))
        .select((crate::db::schema::goals::id, crate::db::schema::goals::position))
        .load::<(String, i32)>(conn)?
        .into_iter()
        .collect();
    let mut requirement_rows: Vec<RequirementRow> =
        requirements::table.filter(requirements::plan_id.eq(plan_id)).select(RequirementRow::as_select()).load(conn)?;
    requirement_rows.sort_by_key(|r| (goal_order.get(&r.goal_id).copied().unwrap_or(i32::MAX), r.position));
    let mut measure_rows: Vec<FollowUpMeasureRow> = follow_up_measures::table
        .filter(follow_up_measures::plan_id.eq(plan_id))
        .select(FollowUpMeasureRow::as_select())
        .load(conn)?;
    measure_rows.sort_by_key(|m| (goal_order.get(&m.goal_id).copied().unwrap_or(i32::MAX), m.position));
    let all: Vec<MeasurementRow> =
        measurements::table.filter(measurements::plan_id.eq(plan_id)).select(MeasurementRow::as_select()).load(conn)?;
    let mut by_requirement: HashMap<&str, Vec<&MeasurementRow>> = HashMap::new();
    let mut by_measure: HashMap<&str, Vec<&MeasurementRow>> = HashMap::new();
    for m in &all {
        match (&m.requirement_id, &m.follow_up_measure_id) {
            (Some(r), _) => by_requirement.entry(r.as_str()).or_default().push(m),
            (_, Some(f)) => by_measure.entry(f.as_str()).or_default().push(m),
            _ => {}
        }
    }
    let mut counts = Counts::default();
    let mut requirement_reports = Vec::new();
    for row in requirement_rows {
        let rows = by_requirement.get(row.id.as_str()).cloned().unwrap_or_default();
        let points: Vec<Point> = rows
            .iter()
            .map(|m| Point { period_end: m.period_end, value: m.value, recorded_at: m.recorded_at })
            .collect();
        let status = attainment::status(&row.checked_target()?, &points, as_of);
        match status {
            Status::Met => counts.met += 1,
            Status::OnTrack => counts.on_track += 1,
            Status::AtRisk => counts.at_risk += 1,
            Status::NotMet => counts.not_met += 1,
            Status::NoData => counts.no_data += 1,
        }
        let latest = latest_row(&rows, as_of).cloned().map(Measurement::from);
        let requirement = Requirement::try_from(row)?;
        requirement_reports.push(RequirementFollowUp {
            requirement_id: requirement.id,
            goal_id: requirement.goal_id,
            statement: requirement.statement,
            comparator: requirement.comparator,
            target: requirement.target,
            baseline: requirement.baseline,
            status,
            latest,
        });
    }
    let mut measure_reports = Vec::new();
    for row in measure_rows {
        let rows = by_measure.get(row.id.as_str()).cloned().unwrap_or_default();
        let latest = latest_row(&rows, as_of).cloned().map(Measurement::from);
        let measure = FollowUpMeasure::try_from(row)?;
        measure_reports.push(MeasureFollowUp {
            follow_up_measure_id: measure.id,
            goal_id: measure.goal_id,
            indicator: measure.indicator,
            latest,
        });
    }
    Ok(FollowUpReport {
        plan_id: plan_id.to_owned(),
        as_of: as_of.format("%Y-%m-%d").to_string(),
        counts,
        requirements: requirement_reports,
        follow_up_measures: measure_reports,
    })
}

/// CSV conventions: `standard` (comma, decimal point) or `danish` (semicolon, decimal comma),
/// which spreadsheets set up for Danish read directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    #[default]
    Standard,
    Danish,
}

impl Dialect {
    fn delimiter(self) -> u8 {
        match self {
            Dialect::Standard => b',',
            Dialect::Danish => b';',
        }
    }

    fn number(self, value: f64) -> String {
        let text = value.to_string();
        match self {
            Dialect::Standard => text,
            Dialect::Danish => text.replace('.', ","),
        }
    }
}

/// The columns of the CSV export; `kind`, `id`, `period_end`, `value`, `source` and `note` are
/// also what the import reads, so an export imports back without duplicates.
pub const CSV_COLUMNS: [&str; 15] = [
    "kind",
    "id",
    "goal_id",
    "text",
    "comparator",
    "target_value",
    "target_value_max",
    "due",
    "baseline_value",
    "status",
    "period_end",
    "value",
    "source",
    "note",
    "recorded_at",
];

pub fn report_csv(report: &FollowUpReport, dialect: Dialect) -> ApiResult<String> {
    let mut writer = csv::WriterBuilder::new().delimiter(dialect.delimiter()).from_writer(Vec::new());
    let internal = |e: csv::Error| ApiError::Internal(format!("writing CSV: {e}"));
    writer.write_record(CSV_COLUMNS).map_err(internal)?;
    let number = |v: Option<f64>| v.map(|v| dialect.number(v)).unwrap_or_default();
    let latest = |m: &Option<Measurement>| match m {
        Some(m) => [
            m.period_end.clone(),
            dialect.number(m.value),
            m.source.clone().unwrap_or_default(),
            m.note.clone().unwrap_or_default(),
            m.recorded_at.to_rfc3339(),
        ],
        None => Default::default(),
    };
    for r in &report.requirements {
        let [period_end, value, source, note, recorded_at] = latest(&r.latest);
        writer
            .write_record([
                "requirement".to_owned(),
                r.requirement_id.clone(),
                r.goal_id.clone(),
                r.statement.clone(),
                crate::db::storable(&r.comparator),
                number(r.target.value),
                number(r.target.value_max),
                r.target.due.clone().unwrap_or_default(),
                number(r.baseline.as_ref().and_then(|b| b.value)),
                crate::db::storable(&r.status),
                period_end,
                value,
                source,
                note,
                recorded_at,
            ])
            .map_err(internal)?;
    }
    for m in &report.follow_up_measures {
        let [period_end, value, source, note, recorded_at] = latest(&m.latest);
        let empty = String::new;
        writer
            .write_record([
                "follow_up_measure".to_owned(),
                m.follow_up_measure_id.clone(),
                m.goal_id.clone(),
                m.indicator.clone(),
                empty(),
                empty(),
                empty(),
                empty(),
                empty(),
                empty(),
                period_end,
                value,
                source,
                note,
                recorded_at,
            ])
            .map_err(internal)?;
    }
    let bytes = writer.into_inner().map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(e.to_string()))
}

#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The date to assess on (`YYYY-MM-DD`); today when absent.
    #[param(format = Date)]
    pub as_of: Option<String>,
    /// For `text/csv`: `standard` (comma, decimal point) or `danish` (semicolon, decimal comma).
    #[param(inline)]
    pub dialect: Option<Dialect>,
}

/// The follow-up report: every result requirement with its latest measurement and attainment
/// status on `as_of`, the counts per status, and every follow-up measure with its latest value.
/// `Accept: text/csv` gives the same as CSV.
///
/// Status rule: `no_data` without a measurement for a period ending on or before `as_of` (or for a
/// placeholder target, or an unknown baseline a relative target needs). On or after the deadline:
/// `met` if the latest measurement up to the deadline meets the target, else `not_met`. Before
/// the deadline: decrease/increase targets are `met` once reached, `on_track` when the latest
/// value is at or beyond the straight line from the baseline (at its date) to the target (at the
/// deadline), else `at_risk`; at most / at least / between / equal are `on_track` while the latest
/// value satisfies the target, else `at_risk`; `done` is `met` once measured as 1, otherwise
/// `on_track`. `equal` is met within 1 % of the target. Of revised figures for one period the
/// latest recorded counts.
#[utoipa::path(
    tag = "follow-up",
    params(("plan_id" = String, Path, description = "The plan's id"), ReportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report", body = FollowUpReport, content(("application/json"), ("text/csv"))),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "Neither JSON nor CSV is acceptable", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "as_of is not a date", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/plans/{plan_id}/follow-up")]
pub async fn follow_up_report(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> ApiResult<HttpResponse> {
    let csv_wanted = wants_csv(&req)?;
    let as_of = match &query.as_of {
        Some(text) => parse_date(text)
            .ok_or_else(|| ApiError::validation("as_of", "must be a real date in the form YYYY-MM-DD"))?,
        None => Utc::now().date_naive(),
    };
    let plan_id = plan_id.into_inner();
    let result = state.db(move |conn| report(conn, &ctx, &plan_id, as_of)).await?;
    if csv_wanted {
        let body = report_csv(&result, query.dialect.unwrap_or_default())?;
        let filename = format!("attachment; filename=\"opfoelgning-{}.csv\"", result.as_of);
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((header::CONTENT_DISPOSITION, filename))
            .insert_header((header::VARY, "Accept"))
            .body(body));
    }
    Ok(HttpResponse::Ok().insert_header((header::VARY, "Accept")).json(result))
}

fn wants_csv(req: &HttpRequest) -> ApiResult<bool> {
    let Ok(accept) = Accept::parse(req) else { return Ok(false) };
    if accept.0.is_empty() {
        return Ok(false);
    }
    for mime in accept.ranked() {
        match (mime.type_().as_str(), mime.subtype().as_str()) {
            ("application", "json") | ("application", "*") | ("*", "*") => return Ok(false),
            ("text", "csv") | ("text", "*") => return Ok(true),
            _ => {}
        }
    }
    Err(ApiError::NotAcceptable("the report is available as application/json or text/csv".into()))
}

// ---- import ----

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportResult {
    /// Measurements recorded.
    pub created: usize,
    /// Rows that repeat a measurement already recorded (the same subject, period, value, source
    /// and note): not recorded again.
    pub unchanged: usize,
    /// Rows without a period and value (e.g. `no_data` rows of an export).
    pub skipped: usize,
}

/// A parsed row: `(subject kind, id, measurement)`.
type ImportRow = (String, String, NewMeasurement);

/// A parsed file: its rows by number, the rows skipped, and the errors found while reading.
type ParsedImport = (Vec<(usize, ImportRow)>, usize, Vec<(usize, FieldError)>);

/// Reads the CSV: header row with `kind`, `id`, `period_end`, `value` (and optionally `source`,
/// `note`); comma or semicolon separated (found from the header); with semicolons a decimal comma.
fn parse_import(body: &str) -> Result<ParsedImport, Vec<FieldError>> {
    let first_line = body.lines().next().unwrap_or("");
    let dialect = if first_line.contains(';') { Dialect::Danish } else { Dialect::Standard };
    let mut reader =
        csv::ReaderBuilder::new().delimiter(dialect.delimiter()).flexible(true).from_reader(body.as_bytes());
    let headers = reader.headers().map_err(|e| vec![FieldError::new("header", e.to_string())])?.clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(kind), Some(id), Some(period_end), Some(value)) =
        (column("kind"), column("id"), column("period_end"), column("value"))
    else {
        return Err(vec![FieldError::new("header", "needs the columns kind, id, period_end and value")]);
    };
    let (source, note) = (column("source"), column("note"));
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut skipped = 0;
    for (i, record) in reader.records().enumerate() {
        let n = i + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push((n, FieldError::new(format!("rows[{n}]"), e.to_string())));
                continue;
            }
        };
        let cell = |c: Option<usize>| c.and_then(|c| record.get(c)).map(str::trim).unwrap_or("");
        let optional = |c: Option<usize>| Some(cell(c).to_owned()).filter(|v| !v.is_empty());
        if cell(Some(period_end)).is_empty() && cell(Some(value)).is_empty() {
            skipped += 1;
            continue;
        }
        let text = cell(Some(value));
        let number = if dialect == Dialect::Danish { text.replace('.', "").replace(',', ".") } else { text.to_owned() };
        let Ok(parsed) = number.parse::<f64>() else {
            errors.push((n, FieldError::new(format!("rows[{n}].value"), format!("{text:?} is not a number"))));
            continue;
        };
        let measurement = NewMeasurement {
            period_end: cell(Some(period_end)).to_owned(),
            value: parsed,
            source: optional(source),
            note: optional(note),
        };
        rows.push((n, (cell(Some(kind)).to_owned(), cell(Some(id)).to_owned(), measurement)));
    }
    Ok((rows, skipped, errors))
}

pub fn import(conn: &mut DbConnection, ctx: &RequestContext, plan_id: &str, body: &str) -> ApiResult<ImportResult> {
    conn.write(|conn| {
        plan_for(conn, ctx, plan_id, Action::EditPlan)?;
        let (rows, skipped, mut errors) = parse_import(body).map_err(ApiError::Validation)?;
        let comparators: HashMap<String, String> = requirements::table
            .filter(requirements::plan_id.eq(plan_id))
            .select((requirements::id, requirements::comparator))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let measures: Vec<String> = follow_up_measures::table
            .filter(follow_up_measures::plan_id.eq(plan_id))
            .select(follow_up_measures::id)
            .load(conn)?;
        let existing: Vec<MeasurementRow> = measurements::table
            .filter(measurements::plan_id.eq(plan_id))
            .select(MeasurementRow::as_select())
            .load(conn)?;
        let same = |m: &MeasurementRow, subject: Subject, date: NaiveDate, input: &NewMeasurement| {
            let subject_matches = match subject {
                Subject::Requirement(id) => m.requirement_id.as_deref() == Some(id),
                Subject::FollowUpMeasure(id) => m.follow_up_measure_id.as_deref() == Some(id),
            };
            subject_matches
                && m.period_end == date
                && m.value == input.value
                && m.source == input.source
                && m.note == input.note
        };
        // Check every row before recording any: all or nothing.
        let mut accepted: Vec<(Subject, NaiveDate, &NewMeasurement)> = Vec::new();
        for (n, (kind, id, input)) in &rows {
            let subject = match kind.as_str() {
                "requirement" if comparators.contains_key(id) => Subject::Requirement(id),
                "follow_up_measure" if measures.contains(id) => Subject::FollowUpMeasure(id),
                "requirement" | "follow_up_measure" => {
                    errors.push((
                        *n,
                        FieldError::new(format!("rows[{n}].id"), format!("{id:?} is not a {kind} of this plan")),
                    ));
                    continue;
                }
                other => {
                    let message = format!("{other:?} is not requirement or follow_up_measure");
                    errors.push((*n, FieldError::new(format!("rows[{n}].kind"), message)));
                    continue;
                }
            };
            let comparator = match subject {
                Subject::Requirement(id) => Some(crate::db::stored::<Comparator>(&comparators[id])?),
                Subject::FollowUpMeasure(_) => None,
            };
            match check_measurement(&format!("rows[{n}]."), input, comparator) {
                Ok(date) => accepted.push((subject, date, input)),
                Err(more) => errors.extend(more.into_iter().map(|e| (*n, e))),
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|(n, _)| *n);
            return Err(ApiError::Validation(errors.into_iter().map(|(_, e)| e).collect()));
        }
        let mut result = ImportResult { skipped, ..Default::default() };
        let mut recorded: Vec<MeasurementRow> = Vec::new();
        for (subject, date, input) in accepted {
            if existing.iter().chain(&recorded).any(|m| same(m, subject, date, input)) {
                result.unchanged += 1;
                continue;
            }
            let measurement = insert(conn, ctx, plan_id, subject, date, input)?;
            recorded.push(MeasurementRow {
                id: measurement.id,
                plan_id: plan_id.to_owned(),
                requirement_id: measurement.requirement_id,
                follow_up_measure_id: measurement.follow_up_measure_id,
                period_end: date,
                value: input.value,
                source: input.source.clone(),
                note: input.note.clone(),
                recorded_at: now(),
                recorded_by: String::new(),
            });
            result.created += 1;
        }
        Ok(result)
    })
}

/// Import measurements from CSV (planner): all or nothing, with every bad row listed in the
/// problem's `errors` (`rows[3].value`); rows repeating a recorded measurement are not recorded
/// again, so importing the same file twice changes nothing. Columns: `kind`
/// (`requirement` | `follow_up_measure`), `id`, `period_end`, `value`, and optionally `source`
/// and `note`; the follow-up report's CSV export has them. Comma or semicolon separated; with
/// semicolons a decimal comma.
#[utoipa::path(
    tag = "follow-up",
    params(("plan_id" = String, Path, description = "The plan's id")),
    request_body(content = String, content_type = "text/csv"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Imported", body = ImportResult),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not text/csv", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad rows; nothing was imported", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{plan_id}/measurements:import")]
pub async fn import_measurements(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("text/csv") {
        return Err(ApiError::UnsupportedMediaType("send the measurements as text/csv".into()));
    }
    let text = String::from_utf8(body.to_vec()).map_err(|_| ApiError::BadRequest("the CSV must be UTF-8".into()))?;
    let text = text.trim_start_matches('\u{feff}').to_owned();
    let plan_id = plan_id.into_inner();
    let result = state.db(move |conn| import(conn, &ctx, &plan_id, &text)).await?;
    Ok(HttpResponse::Ok().json(result))
}
