//! Follow-up measures (følgemål) of a goal, in order: indicators that are monitored without a
//! target of their own.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::content::{check_position, plan_of_goal, Content, New, NoOptions};
use crate::api::http::{self, PageQuery};
use crate::db::schema::follow_up_measures;
use crate::db::{storable, stored, DbConnection};
use crate::domain::requirement::{Frequency, Unit};
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};

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
    #[schema(
        example = "Antallet af personer der modtager offentlig forsørgelse i mere end 52 uger",
        min_length = 1,
        max_length = 1000,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub indicator: String,
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    pub unit: Unit,
    #[serde(default)]
    #[schema(example = "Jobindsats.dk", max_length = 300)]
    pub data_source: Option<String>,
    #[serde(default)]
    pub frequency: Option<Frequency>,
    /// From 0, among the goal's follow-up measures; without it the measure goes last.
    #[schema(minimum = 0)]
    #[serde(default, deserialize_with = "http::optional_whole_number")]
    pub position: Option<i32>,
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

content_resource!(
    /// Follow-up measures, ordered within their goal.
    FollowUpMeasures {
    kind = "follow_up_measure", collection = "/api/v1/follow-up-measures", read_only = ["id", "goal_id", "plan_id", "created_at", "updated_at", "etag"],
    row = FollowUpMeasureRow, view = FollowUpMeasure, fields = FollowUpMeasureFields, query = PageQuery, delete_options = NoOptions,
    table = follow_up_measures, parent = goal_id,
});

impl Content for FollowUpMeasures {
    fn fields(row: &FollowUpMeasureRow) -> ApiResult<FollowUpMeasureFields> {
        let measure = FollowUpMeasure::try_from(row.clone())?;
        Ok(FollowUpMeasureFields {
            indicator: measure.indicator,
            description: measure.description,
            unit: measure.unit,
            data_source: measure.data_source,
            frequency: measure.frequency,
            position: Some(measure.position),
        })
    }

    fn check(_conn: &mut DbConnection, _plan_id: &str, fields: &FollowUpMeasureFields) -> ApiResult<()> {
        let mut checks = Checks::new();
        checks.text("indicator", &fields.indicator, 1000);
        checks.optional_text("description", fields.description.as_deref(), 20_000);
        checks.optional_text("data_source", fields.data_source.as_deref(), 300);
        check_position(&mut checks, fields.position);
        Ok(checks.finish()?)
    }

    fn new_row(new: New<'_, FollowUpMeasureFields>) -> ApiResult<FollowUpMeasureRow> {
        let New { id, plan_id, parent_id: goal_id, fields, position, at } = new;
        Ok(FollowUpMeasureRow {
            id,
            goal_id: goal_id.to_owned(),
            plan_id: plan_id.to_owned(),
            indicator: fields.indicator.trim().to_owned(),
            description: fields.description,
            unit: storable(&fields.unit),
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
        row: &FollowUpMeasureRow,
        fields: &FollowUpMeasureFields,
        at: NaiveDateTime,
    ) -> ApiResult<usize> {
        use follow_up_measures as t;
        let current = t::table.filter(t::id.eq(&row.id)).filter(t::revision.eq(row.revision));
        Ok(diesel::update(current)
            .set((
                t::indicator.eq(fields.indicator.trim()),
                t::description.eq(&fields.description),
                t::unit.eq(storable(&fields.unit)),
                t::data_source.eq(&fields.data_source),
                t::frequency.eq(fields.frequency.as_ref().map(storable)),
                t::updated_at.eq(at),
                t::revision.eq(row.revision + 1),
            ))
            .execute(conn)?)
    }

    fn plan_of_parent(conn: &mut DbConnection, goal_id: &str) -> ApiResult<String> {
        plan_of_goal(conn, goal_id)
    }
}

content_routes!(
    FollowUpMeasures,
    view = FollowUpMeasure,
    fields = FollowUpMeasureFields,
    query = PageQuery,
    delete_options = NoOptions,
    parent = ("goal_id", "The goal's id"),
    collection = "/goals/{goal_id}/follow-up-measures",
    item = "/follow-up-measures/{id}",
    list = (list_follow_up_measures, "The follow-up measures of a goal, in order."),
    create = (
        create_follow_up_measure,
        "Add a follow-up measure to a goal (planner; the plan must be `draft` or `in_hearing`)."
    ),
    get = (get_follow_up_measure, "Read a follow-up measure."),
    update = (
        update_follow_up_measure,
        "Change a follow-up measure (merge patch with `If-Match`); a new `position` moves it."
    ),
    delete = (delete_follow_up_measure, "Delete a follow-up measure (needs `If-Match`); the ones after it move up."),
);
