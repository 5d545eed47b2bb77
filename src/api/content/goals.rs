//! Goals (mål) of a plan, in order: ministerial, local or qualitative, optionally in a focus area,
//! with target groups (e.g. "LAB 2.1") and initiatives. Deleting a goal deletes its result
//! requirements and follow-up measures with it.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::content::{check_position, check_text_list, focus_areas, Content, New, NoOptions, Paged};
use crate::api::content::{follow_up_measures, requirements};
use crate::api::http::{self, Page};
use crate::db::schema::{follow_up_measures as measures_table, goals, requirements as requirements_table};
use crate::db::{storable, stored, DbConnection};
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};

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
    #[schema(example = "Mål 1", max_length = 50)]
    pub number: Option<String>,
    #[schema(
        example = "Flere unge skal have en uddannelse",
        min_length = 1,
        max_length = 1000,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 50000)]
    pub description: Option<String>,
    pub kind: GoalKind,
    /// A focus area of the same plan.
    #[serde(default)]
    pub focus_area_id: Option<String>,
    #[serde(default)]
    #[schema(example = json!(["LAB 2.12", "LAB 2.13"]), max_items = 50)]
    pub target_groups: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 200)]
    pub initiatives: Vec<String>,
    /// From 0, among all the plan's goals; without it the goal goes last.
    #[schema(minimum = 0)]
    #[serde(default, deserialize_with = "http::optional_whole_number")]
    pub position: Option<i32>,
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

impl Paged for GoalQuery {
    fn page(&self) -> ApiResult<Page> {
        Page::new(self.limit, self.offset)
    }
}

content_resource!(
    /// Goals, ordered within their plan; a goal's requirements and follow-up measures go with it.
    Goals {
    kind = "goal", collection = "/api/v1/goals", read_only = ["id", "plan_id", "created_at", "updated_at", "etag"],
    row = GoalRow, view = Goal, fields = GoalFields, query = GoalQuery, delete_options = NoOptions,
    table = goals, parent = plan_id,
});

impl Content for Goals {
    fn fields(row: &GoalRow) -> ApiResult<GoalFields> {
        let goal = Goal::try_from(row.clone())?;
        Ok(GoalFields {
            number: goal.number,
            title: goal.title,
            description: goal.description,
            kind: goal.kind,
            focus_area_id: goal.focus_area_id,
            target_groups: goal.target_groups,
            initiatives: goal.initiatives,
            position: Some(goal.position),
        })
    }

    fn check(conn: &mut DbConnection, plan_id: &str, fields: &GoalFields) -> ApiResult<()> {
        let mut checks = Checks::new();
        checks.optional_text("number", fields.number.as_deref(), 50);
        checks.text("title", &fields.title, 1000);
        checks.optional_text("description", fields.description.as_deref(), 50_000);
        check_text_list(&mut checks, "target_groups", &fields.target_groups, 50, 100);
        check_text_list(&mut checks, "initiatives", &fields.initiatives, 200, 5000);
        check_position(&mut checks, fields.position);
        if let Some(focus_area_id) = &fields.focus_area_id {
            if focus_areas::find(conn, focus_area_id)?.is_none_or(|area| area.plan_id != plan_id) {
                checks.fail("focus_area_id", "is not a focus area of this plan");
            }
        }
        Ok(checks.finish()?)
    }

    fn new_row(new: New<'_, GoalFields>) -> ApiResult<GoalRow> {
        let New { id, plan_id, fields, position, at, .. } = new;
        Ok(GoalRow {
            id,
            plan_id: plan_id.to_owned(),
            focus_area_id: fields.focus_area_id,
            number: fields.number.as_deref().map(str::trim).map(str::to_owned),
            title: fields.title.trim().to_owned(),
            description: fields.description,
            kind: storable(&fields.kind),
            target_groups: to_json(&fields.target_groups),
            initiatives: to_json(&fields.initiatives),
            position,
            created_at: at,
            updated_at: at,
            revision: 1,
        })
    }

    fn update(conn: &mut DbConnection, row: &GoalRow, fields: &GoalFields, at: NaiveDateTime) -> ApiResult<usize> {
        let current = goals::table.filter(goals::id.eq(&row.id)).filter(goals::revision.eq(row.revision));
        Ok(diesel::update(current)
            .set((
                goals::number.eq(fields.number.as_deref().map(str::trim)),
                goals::title.eq(fields.title.trim()),
                goals::description.eq(&fields.description),
                goals::kind.eq(storable(&fields.kind)),
                goals::focus_area_id.eq(&fields.focus_area_id),
                goals::target_groups.eq(to_json(&fields.target_groups)),
                goals::initiatives.eq(to_json(&fields.initiatives)),
                goals::updated_at.eq(at),
                goals::revision.eq(row.revision + 1),
            ))
            .execute(conn)?)
    }

    /// The goals of a plan in order, filtered.
    fn list(conn: &mut DbConnection, plan_id: &str, query: &GoalQuery, page: Page) -> ApiResult<(i64, Vec<Goal>)> {
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

    /// The audit record keeps what went with the goal.
    fn delete_dependents(
        conn: &mut DbConnection,
        row: &GoalRow,
        _options: &NoOptions,
        before: &mut serde_json::Value,
    ) -> ApiResult<()> {
        let json = |value: serde_json::Result<serde_json::Value>| value.map_err(|e| ApiError::Internal(e.to_string()));
        before["requirements"] = json(serde_json::to_value(requirements::all_of_goal(conn, &row.id)?))?;
        before["follow_up_measures"] = json(serde_json::to_value(follow_up_measures::all_of_goal(conn, &row.id)?))?;
        diesel::delete(requirements_table::table.filter(requirements_table::goal_id.eq(&row.id))).execute(conn)?;
        diesel::delete(measures_table::table.filter(measures_table::goal_id.eq(&row.id))).execute(conn)?;
        Ok(())
    }
}

content_routes!(
    Goals,
    view = Goal,
    fields = GoalFields,
    query = GoalQuery,
    delete_options = NoOptions,
    parent = ("plan_id", "The plan's id"),
    collection = "/plans/{plan_id}/goals",
    item = "/goals/{id}",
    list = (list_goals, "The goals of a plan, in order."),
    create = (create_goal, "Add a goal (planner; the plan must be `draft` or `in_hearing`)."),
    get = (get_goal, "Read a goal."),
    update = (update_goal, "Change a goal (merge patch with `If-Match`); a new `position` moves it."),
    delete = (delete_goal, "Delete a goal with its result requirements and follow-up measures (needs `If-Match`)."),
);
