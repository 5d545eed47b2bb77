//! CSV import of measurements: all or nothing, idempotent (rows repeating a recorded
//! measurement are not recorded again).

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::measurements::{check_measurement, insert};
use super::{lock_plan, Dialect, MeasurementRow, NewMeasurement, Subject};
use crate::api::docs::{CreateProblems, IdempotencyKey};
use crate::auth::RequestContext;
use crate::db::schema::{follow_up_measures, measurements, requirements};
use crate::db::DbConnection;
use crate::domain::requirement::Comparator;
use crate::domain::validate::FieldError;
use crate::error::{ApiError, ApiResult, Problem};
use crate::{now, AppState};

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportResult {
    /// Measurements recorded.
    #[schema(format = Int64)]
    pub created: usize,
    /// Rows that repeat a measurement already recorded (the same subject, period, value, source
    /// and note): not recorded again.
    #[schema(format = Int64)]
    pub unchanged: usize,
    /// Rows without a period and value (e.g. `no_data` rows of an export).
    #[schema(format = Int64)]
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
        // The lock first: what decides about each row (the plan's requirements and measures,
        // the measurements already recorded) is read after it.
        lock_plan(conn, ctx, plan_id)?;
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

/// Import measurements from CSV (planner).
///
/// All or nothing, with the bad rows listed in the problem's `errors` (`rows[3].value`; the first
/// 100, and `error_count` says how many); rows repeating a recorded measurement are not recorded
/// again, so importing the same file twice changes nothing.
///
/// Columns: `kind` (`requirement` | `follow_up_measure`), `id`, `period_end`, `value`, and
/// optionally `source` and `note`; the follow-up report's CSV export has them. Comma or semicolon
/// separated; with semicolons a decimal comma.
#[utoipa::path(
    tag = "follow-up",
    params(("plan_id" = String, Path, description = "The plan's id"), IdempotencyKey),
    request_body(content = String, content_type = "text/csv"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Imported", body = ImportResult),
        CreateProblems,
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
