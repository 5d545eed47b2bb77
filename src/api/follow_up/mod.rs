//! Follow-up: measurements of requirements and follow-up measures, each requirement's attainment
//! status (`domain::attainment`), the follow-up report as JSON or CSV, and CSV import.
//!
//! Measurements are recorded by the plan's planners during the plan year, also after adoption:
//! they are not part of the versioned document. They are internal to the municipality: its own
//! readers see them, nobody else. They are plan content all the same: every change takes the
//! plan's lock first (`plan_state::lock`), so changes to one plan queue and each reads what the
//! previous one committed.

mod import;
mod measurements;
mod report;

pub use import::{import, import_measurements, ImportResult};
pub use measurements::{
    create_measure_measurement, create_requirement_measurement, delete, delete_measurement, get_measurement,
    list_measure_measurements, list_requirement_measurements, record, Measurement, MeasurementRow, NewMeasurement,
    Subject,
};
pub use report::{
    follow_up_report, report, report_csv, Counts, Dialect, FollowUpReport, MeasureFollowUp, ReportQuery,
    RequirementFollowUp, CSV_COLUMNS,
};

use chrono::NaiveDate;

use crate::api::plan_state::{self, PlanRow};
use crate::auth::policy::{self, Action, Target};
use crate::auth::RequestContext;
use crate::db::DbConnection;
use crate::error::ApiResult;

/// Measurements are internal even on an adopted plan: outside its municipality the plan's
/// follow-up is not there (404), whatever the plan's own visibility.
fn authorize(ctx: &RequestContext, action: Action, plan: &PlanRow) -> ApiResult<()> {
    policy::authorize(ctx.caller.as_ref(), action, Target::plan(&plan.municipality_code, false))
}

/// The plan, when the caller may take `action` on its follow-up (its own municipality's readers
/// read). For reads; changes use `lock_plan`.
fn plan_for(conn: &mut DbConnection, ctx: &RequestContext, plan_id: &str, action: Action) -> ApiResult<PlanRow> {
    let plan = plan_state::find(conn, plan_id)?;
    authorize(ctx, action, &plan)?;
    Ok(plan)
}

/// Takes the plan's lock for the rest of the write transaction, for a caller that may record the
/// plan's follow-up (its planners; in any status). Everything a change decides on is read after.
fn lock_plan(conn: &mut DbConnection, ctx: &RequestContext, plan_id: &str) -> ApiResult<PlanRow> {
    let plan = plan_state::lock(conn, plan_id)?;
    authorize(ctx, Action::EditPlan, &plan)?;
    Ok(plan)
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().filter(|_| text.len() == 10)
}
