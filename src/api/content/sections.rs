//! Narrative sections of a plan (Markdown), in order.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::content::{check_position, Content, NoOptions};
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
    #[schema(example = "Indledning")]
    pub heading: String,
    /// Markdown.
    pub body: String,
    /// From 0; without it the section goes last.
    #[serde(default, deserialize_with = "http::optional_whole_number")]
    pub position: Option<i32>,
}

/// Narrative sections, ordered within their plan.
pub struct Sections;

content_table!(SectionTable, sections, plan_id, SectionRow, SectionFields);

impl Content for Sections {
    const KIND: &'static str = "section";
    const COLLECTION: &'static str = "/api/v1/sections";
    const READ_ONLY: &'static [&'static str] = &["id", "plan_id", "created_at", "updated_at", "etag"];
    type Row = SectionRow;
    type View = Section;
    type Fields = SectionFields;
    type Query = PageQuery;
    type DeleteOptions = NoOptions;
    type Table = SectionTable;

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

    fn new_row(
        id: String,
        plan_id: &str,
        _parent_id: &str,
        fields: SectionFields,
        position: i32,
        at: NaiveDateTime,
    ) -> ApiResult<SectionRow> {
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
