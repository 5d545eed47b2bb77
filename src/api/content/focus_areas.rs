//! Focus areas (indsatsområder): groupings of a plan's goals, in order.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::content::{check_position, Content, New};
use crate::api::http::{self, PageQuery};
use crate::db::schema::{focus_areas, goals};
use crate::db::DbConnection;
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};

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

impl TryFrom<FocusAreaRow> for FocusArea {
    type Error = ApiError;
    fn try_from(row: FocusAreaRow) -> ApiResult<Self> {
        Ok(FocusArea {
            etag: http::etag(row.revision),
            id: row.id,
            plan_id: row.plan_id,
            title: row.title,
            description: row.description,
            position: row.position,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A focus area's editable fields: the body of a create, and what a merge patch changes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FocusAreaFields {
    #[schema(
        example = "Flere i beskæftigelse",
        min_length = 1,
        max_length = 300,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    /// From 0; without it the focus area goes last.
    #[schema(minimum = 0)]
    #[serde(default, deserialize_with = "http::optional_whole_number")]
    pub position: Option<i32>,
}

#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete even when goals belong to it; they are left without a focus area.
    pub detach: Option<bool>,
}

content_resource!(
    /// Focus areas, ordered within their plan.
    FocusAreas {
    kind = "focus_area", collection = "/api/v1/focus-areas", read_only = ["id", "plan_id", "created_at", "updated_at", "etag"],
    row = FocusAreaRow, view = FocusArea, fields = FocusAreaFields, query = PageQuery, delete_options = DeleteQuery,
    table = focus_areas, parent = plan_id,
});

impl Content for FocusAreas {
    fn fields(row: &FocusAreaRow) -> ApiResult<FocusAreaFields> {
        Ok(FocusAreaFields {
            title: row.title.clone(),
            description: row.description.clone(),
            position: Some(row.position),
        })
    }

    fn check(_conn: &mut DbConnection, _plan_id: &str, fields: &FocusAreaFields) -> ApiResult<()> {
        let mut checks = Checks::new();
        checks.text("title", &fields.title, 300);
        checks.optional_text("description", fields.description.as_deref(), 20_000);
        check_position(&mut checks, fields.position);
        Ok(checks.finish()?)
    }

    fn new_row(new: New<'_, FocusAreaFields>) -> ApiResult<FocusAreaRow> {
        let New { id, plan_id, fields, position, at, .. } = new;
        Ok(FocusAreaRow {
            id,
            plan_id: plan_id.to_owned(),
            title: fields.title.trim().to_owned(),
            description: fields.description,
            position,
            created_at: at,
            updated_at: at,
            revision: 1,
        })
    }

    fn update(
        conn: &mut DbConnection,
        row: &FocusAreaRow,
        fields: &FocusAreaFields,
        at: NaiveDateTime,
    ) -> ApiResult<usize> {
        let current =
            focus_areas::table.filter(focus_areas::id.eq(&row.id)).filter(focus_areas::revision.eq(row.revision));
        Ok(diesel::update(current)
            .set((
                focus_areas::title.eq(fields.title.trim()),
                focus_areas::description.eq(&fields.description),
                focus_areas::updated_at.eq(at),
                focus_areas::revision.eq(row.revision + 1),
            ))
            .execute(conn)?)
    }

    /// A focus area that still has goals is kept (409) unless `detach=true`, which leaves its
    /// goals without a focus area (a change to each goal: its revision moves on).
    fn delete_dependents(
        conn: &mut DbConnection,
        row: &FocusAreaRow,
        options: &DeleteQuery,
        _before: &mut serde_json::Value,
    ) -> ApiResult<()> {
        let in_area = || goals::table.filter(goals::focus_area_id.eq(&row.id));
        let goal_count: i64 = in_area().count().get_result(conn)?;
        if goal_count > 0 && !options.detach.unwrap_or(false) {
            return Err(ApiError::Conflict(format!(
                "the focus area has {goal_count} goal(s); move or delete them, or delete with ?detach=true"
            )));
        }
        diesel::update(in_area())
            .set((
                goals::focus_area_id.eq(None::<String>),
                goals::updated_at.eq(crate::now()),
                goals::revision.eq(goals::revision + 1),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// A focus area of the plan, for the goals' rule that theirs must be one.
pub fn find(conn: &mut DbConnection, id: &str) -> ApiResult<Option<FocusAreaRow>> {
    Ok(<FocusAreas as crate::api::content::Resource>::find(conn, id)?)
}

content_routes!(
    FocusAreas, view = FocusArea, fields = FocusAreaFields, query = PageQuery, delete_options = DeleteQuery,
    parent = ("plan_id", "The plan's id"), collection = "/plans/{plan_id}/focus-areas", item = "/focus-areas/{id}",
    list = (list_focus_areas, "The focus areas of a plan, in order."),
    create = (create_focus_area, "Add a focus area (planner; the plan must be `draft` or `in_hearing`)."),
    get = (get_focus_area, "Read a focus area."),
    update = (update_focus_area, "Change a focus area (merge patch with `If-Match`); a new `position` moves it."),
    delete = (delete_focus_area, "Delete a focus area (needs `If-Match`); the ones after it move up. A focus area that still has goals is kept (409) unless `detach=true`, which leaves its goals without a focus area."),
);
