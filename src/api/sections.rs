//! Narrative sections of a plan (Markdown), in order.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::audit::{self, snapshot};
use crate::api::content::{check_position, plan_for_change, plan_for_read, section_order};
use crate::api::http::{self, ListOf, PageQuery};
use crate::auth::RequestContext;
use crate::db::schema::sections;
use crate::db::DbConnection;
use crate::domain::ordering;
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult, Problem};
use crate::{now, AppState};

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

impl From<SectionRow> for Section {
    fn from(row: SectionRow) -> Self {
        Section {
            etag: http::etag(row.revision),
            id: row.id,
            plan_id: row.plan_id,
            heading: row.heading,
            body: row.body,
            position: row.position,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
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

fn check(fields: &SectionFields) -> ApiResult<()> {
    let mut checks = Checks::new();
    checks.text("heading", &fields.heading, 300);
    checks.optional_text("body", Some(&fields.body), 200_000);
    check_position(&mut checks, fields.position);
    checks.finish()
}

const READ_ONLY: &[&str] = &["id", "plan_id", "created_at", "updated_at", "etag"];

fn find(conn: &mut DbConnection, id: &str) -> ApiResult<SectionRow> {
    sections::table
        .find(id)
        .select(SectionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no section with id {id}")))
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    plan_id: &str,
    fields: SectionFields,
) -> ApiResult<Section> {
    check(&fields)?;
    conn.write(|conn| {
        plan_for_change(conn, ctx, plan_id)?;
        let position = ordering::insert_at(fields.position, section_order::count(conn, plan_id)?);
        section_order::open(conn, plan_id, position)?;
        let at = now();
        let row = SectionRow {
            id: Uuid::now_v7().to_string(),
            plan_id: plan_id.to_owned(),
            heading: fields.heading.trim().to_owned(),
            body: fields.body,
            position,
            created_at: at,
            updated_at: at,
            revision: 1,
        };
        diesel::insert_into(sections::table).values(&row).execute(conn)?;
        let section = Section::from(row);
        audit::record(conn, ctx, "create", "section", &section.id, None, snapshot(&section))?;
        Ok(section)
    })
}

pub fn list(conn: &mut DbConnection, plan_id: &str, page: http::Page) -> ApiResult<(i64, Vec<Section>)> {
    let total = sections::table.filter(sections::plan_id.eq(plan_id)).count().get_result(conn)?;
    let rows = sections::table
        .filter(sections::plan_id.eq(plan_id))
        .order(sections::position)
        .limit(page.limit)
        .offset(page.offset)
        .select(SectionRow::as_select())
        .load(conn)?;
    Ok((total, rows.into_iter().map(Section::from).collect()))
}

/// The sections of a plan, in order.
#[utoipa::path(
    tag = "content",
    params(("plan_id" = String, Path, description = "The plan's id"), PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of sections", body = ListOf<Section>),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit or offset out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/plans/{plan_id}/sections")]
pub async fn list_sections(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let plan_id = plan_id.into_inner();
    let (total, items) = state
        .db(move |conn| {
            plan_for_read(conn, &ctx, &plan_id)?;
            list(conn, &plan_id, page)
        })
        .await?;
    Ok(http::list_response(&req, page, total, items))
}

/// Add a section (planner; the plan must be `draft` or `in_hearing`).
#[utoipa::path(
    tag = "content",
    params(("plan_id" = String, Path, description = "The plan's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]([\t -~]*[!-~])?$")),
    request_body = SectionFields,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Section, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{plan_id}/sections")]
pub async fn create_section(
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    body: web::Json<SectionFields>,
) -> ApiResult<HttpResponse> {
    let plan_id = plan_id.into_inner();
    let section = state.db(move |conn| create(conn, &ctx, &plan_id, body.into_inner())).await?;
    Ok(http::created(format!("/api/v1/sections/{}", section.id), &section.etag, &section))
}

/// Read a section.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The section's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The section", body = Section, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such section, or not visible", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sections/{id}")]
pub async fn get_section(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let section = state
        .db(move |conn| {
            let row = find(conn, &id)?;
            plan_for_read(conn, &ctx, &row.plan_id)?;
            Ok(Section::from(row))
        })
        .await?;
    Ok(http::entity_response(&req, &section.etag, &section))
}

/// Change a section (merge patch with `If-Match`); a new `position` moves it.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The section's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *")),
    request_body(content = SectionFields, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = Section, headers(("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such section, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/sections/{id}")]
pub async fn update_section(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    id: web::Path<String>,
    patch: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let headers = req.headers().clone();
    let section = state
        .db(move |conn| {
            conn.write(|conn| {
                let row = find(conn, &id)?;
                plan_for_change(conn, &ctx, &row.plan_id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                let current = SectionFields {
                    heading: row.heading.clone(),
                    body: row.body.clone(),
                    position: Some(row.position),
                };
                let changed: SectionFields = http::merge_patch(&current, &patch, READ_ONLY)?;
                check(&changed)?;
                if let Some(to) = changed.position {
                    let to = ordering::move_to(to, section_order::count(conn, &row.plan_id)?);
                    section_order::shift(conn, &row.plan_id, &id, row.position, to)?;
                }
                diesel::update(sections::table.find(&id))
                    .set((
                        sections::heading.eq(changed.heading.trim()),
                        sections::body.eq(&changed.body),
                        sections::updated_at.eq(now()),
                        sections::revision.eq(row.revision + 1),
                    ))
                    .execute(conn)?;
                let after = Section::from(find(conn, &id)?);
                audit::record(conn, &ctx, "update", "section", &id, snapshot(&Section::from(row)), snapshot(&after))?;
                Ok(after)
            })
        })
        .await?;
    Ok(http::updated(&section.etag, &section))
}

/// Delete a section (needs `If-Match`); the ones after it move up.
#[utoipa::path(
    tag = "content",
    params(("id" = String, Path, description = "The section's id"),
           ("If-Match" = String, Header, description = "The current ETag, or *")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such section, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow changes", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/sections/{id}")]
pub async fn delete_section(
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
                let row = find(conn, &id)?;
                plan_for_change(conn, &ctx, &row.plan_id)?;
                http::check_if_match(&headers, &http::etag(row.revision))?;
                diesel::delete(sections::table.find(&id)).execute(conn)?;
                section_order::close(conn, &row.plan_id, row.position)?;
                audit::record(conn, &ctx, "delete", "section", &id, snapshot(&Section::from(row)), None)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
