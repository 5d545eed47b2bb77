//! Narrative sections of a plan (Markdown), in order.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::content::{check_position, Content, New, NoOptions};
use crate::api::http::{self, PageQuery};
use crate::db::schema::sections;
use crate::db::DbConnection;
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sections)]
pub struct SectionRow {
    pub id: String,
    pub plan_id: String,
    pub heading: String,
    pub body: String,
    pub position: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revision: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Section {
    pub id: String,
    pub plan_id: String,
    #[schema(example = "Indledning")]
    pub heading: String,
    /// Markdown.
    pub body: String,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub etag: String,
}

impl TryFrom<SectionRow> for Section {
    type Error = ApiError;
    fn try_from(row: SectionRow) -> ApiResult<Self> {
        Ok(Section {
            etag: http::etag(row.revision),
            id: row.id,
            plan_id: row.plan_id,
            heading: row.heading,
            body: row.body,
            position: row.position,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A section's editable fields: the body of a create, and what a merge patch changes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionFields {
    #[schema(
        example = "Indledning",
        min_length = 1,
        max_length = 300,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub heading: String,
    /// Markdown.
    #[schema(max_length = 200000)]
    pub body: String,
    /// From 0; without it the section goes last.
    #[schema(minimum = 0)]
    #[serde(default, deserialize_with = "http::optional_whole_number")]
    pub position: Option<i32>,
}

content_resource!(
    /// Narrative sections, ordered within their plan.
    Sections {
    kind = "section", collection = "/api/v1/sections", read_only = ["id", "plan_id", "created_at", "updated_at", "etag"],
    row = SectionRow, view = Section, fields = SectionFields, query = PageQuery, delete_options = NoOptions,
    table = sections, parent = plan_id,
});

impl Content for Sections {
    fn fields(row: &SectionRow) -> ApiResult<SectionFields> {
        Ok(SectionFields { heading: row.heading.clone(), body: row.body.clone(), position: Some(row.position) })
    }

    fn check(_conn: &mut DbConnection, _plan_id: &str, fields: &SectionFields) -> ApiResult<()> {
        let mut checks = Checks::new();
        checks.text("heading", &fields.heading, 300);
        checks.optional_text("body", Some(&fields.body), 200_000);
        check_position(&mut checks, fields.position);
        Ok(checks.finish()?)
    }

    fn new_row(new: New<'_, SectionFields>) -> ApiResult<SectionRow> {
        let New { id, plan_id, fields, position, at, .. } = new;
        Ok(SectionRow {
            id,
            plan_id: plan_id.to_owned(),
            heading: fields.heading.trim().to_owned(),
            body: fields.body,
            position,
            created_at: at,
            updated_at: at,
            revision: 1,
        })
    }

    fn update(
        conn: &mut DbConnection,
        row: &SectionRow,
        fields: &SectionFields,
        at: NaiveDateTime,
    ) -> ApiResult<usize> {
        let current = sections::table.filter(sections::id.eq(&row.id)).filter(sections::revision.eq(row.revision));
        Ok(diesel::update(current)
            .set((
                sections::heading.eq(fields.heading.trim()),
                sections::body.eq(&fields.body),
                sections::updated_at.eq(at),
                sections::revision.eq(row.revision + 1),
            ))
            .execute(conn)?)
    }
}

content_routes!(
    Sections,
    view = Section,
    fields = SectionFields,
    query = PageQuery,
    delete_options = NoOptions,
    parent = ("plan_id", "The plan's id"),
    collection = "/plans/{plan_id}/sections",
    item = "/sections/{id}",
    list = (list_sections, "The sections of a plan, in order."),
    create = (create_section, "Add a section (planner; the plan must be `draft` or `in_hearing`)."),
    get = (get_section, "Read a section."),
    update = (update_section, "Change a section (merge patch with `If-Match`); a new `position` moves it."),
    delete = (delete_section, "Delete a section (needs `If-Match`); the ones after it move up."),
);
