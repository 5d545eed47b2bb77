//! The follow-up report: each result requirement's attainment status on a date
//! (`domain::attainment`), counts per status, each follow-up measure's latest value; as JSON or
//! CSV.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{parse_date, plan_for, Measurement, MeasurementRow};
use crate::api::docs::ListProblems;
use crate::api::follow_up_measures::{FollowUpMeasure, FollowUpMeasureRow};
use crate::api::requirements::{Requirement, RequirementRow};
use crate::auth::policy::Action;
use crate::auth::RequestContext;
use crate::db::schema::{follow_up_measures, measurements, requirements};
use crate::db::DbConnection;
use crate::domain::attainment::{self, Point, Status};
use crate::domain::requirement::{Baseline, Comparator, Target as RequirementTarget};
use crate::error::{ApiError, ApiResult, Problem};
use crate::AppState;

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = FollowUpCounts)]
pub struct Counts {
    #[schema(format = Int64)]
    pub met: usize,
    #[schema(format = Int64)]
    pub on_track: usize,
    #[schema(format = Int64)]
    pub at_risk: usize,
    #[schema(format = Int64)]
    pub not_met: usize,
    #[schema(format = Int64)]
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
    #[schema(example = "2015-06-30", format = Date)]
    pub as_of: String,
    pub counts: Counts,
    pub requirements: Vec<RequirementFollowUp>,
    pub follow_up_measures: Vec<MeasureFollowUp>,
}

/// The id of the measurement that counts in one series up to a cutoff (`attainment::latest`):
/// the latest period, of revised figures for it the latest recorded, and the id (time-ordered)
/// for figures recorded in the same instant, so the pick never depends on row order. A
/// correlated scalar subquery: one backward seek per subject in `measurements_*_latest`, however
/// long the series.
macro_rules! latest_id {
    ($series:expr, $subject:expr, $($cutoff:expr),+) => {
        measurements::table
            .filter($series.eq($subject.nullable()))
            $(.filter($cutoff))+
            .order((measurements::period_end.desc(), measurements::recorded_at.desc(), measurements::id.desc()))
            .select(measurements::id)
            .limit(1)
            .single_value()
    };
}

/// The report: four queries, whatever the plan's size. Per requirement it reads at most the two
/// measurements the verdict can use (the one that counts up to `as_of`, and when the deadline is
/// past, the one up to the deadline); per follow-up measure the one up to `as_of`.
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
    let mut requirement_rows: Vec<(RequirementRow, Option<String>, Option<String>)> = requirements::table
        .filter(requirements::plan_id.eq(plan_id))
        .select((
            RequirementRow::as_select(),
            latest_id!(measurements::requirement_id, requirements::id, measurements::period_end.le(as_of)),
            latest_id!(
                measurements::requirement_id,
                requirements::id,
                requirements::target_due.lt(as_of),
                measurements::period_end.nullable().le(requirements::target_due)
            ),
        ))
        .load(conn)?;
    requirement_rows.sort_by_key(|(r, ..)| (goal_order.get(&r.goal_id).copied().unwrap_or(i32::MAX), r.position));
    let mut measure_rows: Vec<(FollowUpMeasureRow, Option<String>)> = follow_up_measures::table
        .filter(follow_up_measures::plan_id.eq(plan_id))
        .select((
            FollowUpMeasureRow::as_select(),
            latest_id!(measurements::follow_up_measure_id, follow_up_measures::id, measurements::period_end.le(as_of)),
        ))
        .load(conn)?;
    measure_rows.sort_by_key(|(m, _)| (goal_order.get(&m.goal_id).copied().unwrap_or(i32::MAX), m.position));
    let wanted: Vec<&String> = requirement_rows
        .iter()
        .flat_map(|(_, latest, at_due)| [latest, at_due])
        .chain(measure_rows.iter().map(|(_, latest)| latest))
        .flatten()
        .collect();
    let mut measured: HashMap<String, MeasurementRow> = measurements::table
        .filter(measurements::id.eq_any(wanted))
        .select(MeasurementRow::as_select())
        .load::<MeasurementRow>(conn)?
        .into_iter()
        .map(|m| (m.id.clone(), m))
        .collect();
    let mut counts = Counts::default();
    let mut requirement_reports = Vec::new();
    for (row, latest_id, at_due_id) in requirement_rows {
        // The latest up to `as_of` and the latest up to the deadline are all `status` can pick.
        let points: Vec<Point> = [&latest_id, &at_due_id]
            .into_iter()
            .flatten()
            .filter_map(|id| measured.get(id))
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
        let latest = latest_id.and_then(|id| measured.remove(&id)).map(Measurement::from);
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
    for (row, latest_id) in measure_rows {
        let latest = latest_id.and_then(|id| measured.remove(&id)).map(Measurement::from);
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
    pub(super) fn delimiter(self) -> u8 {
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
    // The ten columns that describe the subject, then the five of its latest measurement.
    let mut write = |subject: [String; 10], latest: &Option<Measurement>| {
        let measured = match latest {
            Some(m) => [
                m.period_end.clone(),
                dialect.number(m.value),
                m.source.clone().unwrap_or_default(),
                m.note.clone().unwrap_or_default(),
                m.recorded_at.to_rfc3339(),
            ],
            None => Default::default(),
        };
        writer.write_record(subject.iter().chain(&measured)).map_err(internal)
    };
    for r in &report.requirements {
        let subject = [
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
        ];
        write(subject, &r.latest)?;
    }
    for m in &report.follow_up_measures {
        let mut subject: [String; 10] = Default::default();
        subject[..4].clone_from_slice(&[
            "follow_up_measure".to_owned(),
            m.follow_up_measure_id.clone(),
            m.goal_id.clone(),
            m.indicator.clone(),
        ]);
        write(subject, &m.latest)?;
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

/// The follow-up report.
///
/// Every result requirement with its latest measurement and attainment status on `as_of`, the
/// counts per status, and every follow-up measure with its latest value. `Accept: text/csv` gives
/// the same as CSV.
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
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The report", content((FollowUpReport = "application/json"), (String = "text/csv"))),
        ListProblems,
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
    Ok(crate::api::http::negotiate(req, &["application/json", "text/csv"])? == "text/csv")
}
