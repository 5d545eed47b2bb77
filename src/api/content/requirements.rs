//! Result requirements (resultatkrav) of a goal, in order: statement, indicator, unit,
//! comparator, baseline and target (see `domain::requirement` for the rules).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::content::{check_position, plan_of_goal, Content, New, NoOptions};
use crate::api::http::{self, PageQuery};
use crate::db::schema::requirements;
use crate::db::{storable, stored, DbConnection};
use crate::domain::requirement::{check_target, Baseline, CheckedTarget, Comparator, Frequency, Target, Unit};
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};

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
    #[schema(
        example = "Antallet af langtidsledige reduceres med 20 % fra januar 2014 til december 2015",
        min_length = 1,
        max_length = 2000,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub statement: String,
    #[schema(
        example = "Langtidsledige (antal personer)",
        min_length = 1,
        max_length = 300,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub indicator: String,
    pub unit: Unit,
    pub comparator: Comparator,
    #[serde(default)]
    pub baseline: Option<Baseline>,
    pub target: Target,
    #[serde(default)]
    #[schema(example = "Jobindsats.dk", max_length = 300)]
    pub data_source: Option<String>,
    #[serde(default)]
    pub frequency: Option<Frequency>,
    /// From 0, among the goal's requirements; without it the requirement goes last.
    #[schema(minimum = 0)]
    #[serde(default, deserialize_with = "http::optional_whole_number")]
    pub position: Option<i32>,
}

/// Every rule at once: texts, position and the target (`domain::requirement::check_target`).
fn check(fields: &RequirementFields) -> ApiResult<CheckedTarget> {
    let mut checks = Checks::new();
    checks.text("statement", &fields.statement, 2000);
    checks.text("indicator", &fields.indicator, 300);
    checks.optional_text("data_source", fields.data_source.as_deref(), 300);
    check_position(&mut checks, fields.position);
    let target = check_target(fields.comparator, fields.unit, fields.baseline.as_ref(), &fields.target);
    if let Err(errors) = &target {
        checks.extend(errors.iter().cloned());
    }
    checks.finish()?;
    target.map_err(ApiError::Validation)
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

content_resource!(
    /// Result requirements, ordered within their goal.
    Requirements {
    kind = "requirement", collection = "/api/v1/requirements", read_only = ["id", "goal_id", "plan_id", "created_at", "updated_at", "etag"],
    row = RequirementRow, view = Requirement, fields = RequirementFields, query = PageQuery, delete_options = NoOptions,
    table = requirements, parent = goal_id,
});

impl Content for Requirements {
    fn fields(row: &RequirementRow) -> ApiResult<RequirementFields> {
        let requirement = Requirement::try_from(row.clone())?;
        Ok(RequirementFields {
            statement: requirement.statement,
            indicator: requirement.indicator,
            unit: requirement.unit,
            comparator: requirement.comparator,
            baseline: requirement.baseline,
            target: requirement.target,
            data_source: requirement.data_source,
            frequency: requirement.frequency,
            position: Some(requirement.position),
        })
    }

    fn check(_conn: &mut DbConnection, _plan_id: &str, fields: &RequirementFields) -> ApiResult<()> {
        check(fields).map(|_| ())
    }

    fn new_row(new: New<'_, RequirementFields>) -> ApiResult<RequirementRow> {
        let New { id, plan_id, parent_id: goal_id, fields, position, at } = new;
        let target = check(&fields)?;
        Ok(RequirementRow {
            id,
            goal_id: goal_id.to_owned(),
            plan_id: plan_id.to_owned(),
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
            data_source: fields.data_source,
            frequency: fields.frequency.as_ref().map(storable),
            position,
            created_at: at,
            updated_at: at,
            revision: 1,
        })
    }

    fn update(
        conn: &mut DbConnection,
        row: &RequirementRow,
        fields: &RequirementFields,
        at: NaiveDateTime,
    ) -> ApiResult<usize> {
        let target = check(fields)?;
        let current =
            requirements::table.filter(requirements::id.eq(&row.id)).filter(requirements::revision.eq(row.revision));
        Ok(diesel::update(current)
            .set((
                requirements::statement.eq(fields.statement.trim()),
                requirements::indicator.eq(fields.indicator.trim()),
                requirements::unit.eq(storable(&fields.unit)),
                requirements::comparator.eq(storable(&fields.comparator)),
                requirements::baseline_value.eq(target.baseline_value),
                requirements::baseline_as_of.eq(target.baseline_as_of),
                requirements::target_value.eq(target.value),
                requirements::target_value_max.eq(target.value_max),
                requirements::target_due.eq(target.due),
                requirements::target_placeholder.eq(target.placeholder),
                requirements::data_source.eq(&fields.data_source),
                requirements::frequency.eq(fields.frequency.as_ref().map(storable)),
                requirements::updated_at.eq(at),
                requirements::revision.eq(row.revision + 1),
            ))
            .execute(conn)?)
    }

    fn plan_of_parent(conn: &mut DbConnection, goal_id: &str) -> ApiResult<String> {
        plan_of_goal(conn, goal_id)
    }
}

content_routes!(
    Requirements,
    view = Requirement,
    fields = RequirementFields,
    query = PageQuery,
    delete_options = NoOptions,
    parent = ("goal_id", "The goal's id"),
    collection = "/goals/{goal_id}/requirements",
    item = "/requirements/{id}",
    list = (list_requirements, "The result requirements of a goal, in order."),
    create =
        (create_requirement, "Add a result requirement to a goal (planner; the plan must be `draft` or `in_hearing`)."),
    get = (get_requirement, "Read a result requirement."),
    update =
        (update_requirement, "Change a result requirement (merge patch with `If-Match`); a new `position` moves it."),
    delete = (delete_requirement, "Delete a result requirement (needs `If-Match`); the ones after it move up."),
);
