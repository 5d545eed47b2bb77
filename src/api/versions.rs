//! Versions: immutable snapshots of the whole plan document, numbered 1, 2, … per plan; their
//! differences; and the document rendered for people.

use std::sync::Arc;

use actix_web::http::header::{self, Accept, Header};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::api::audit::{self, snapshot};
use crate::api::content::plan_for_change;
use crate::api::focus_areas::{FocusArea, FocusAreaRow};
use crate::api::follow_up_measures::{FollowUpMeasure, FollowUpMeasureRow};
use crate::api::goals::{Goal, GoalRow};
use crate::api::http::{self, ListOf, PageQuery};
use crate::api::municipalities;
use crate::api::plan_state;
use crate::api::plans::{self, PlanRow};
use crate::api::requirements::{Requirement, RequirementRow};
use crate::api::sections::SectionRow;
use crate::auth::policy::{self, Action, Target};
use crate::auth::RequestContext;
use crate::db::schema::{
    focus_areas, follow_up_measures, goals, plans as plans_table, requirements, sections, versions,
};
use crate::db::DbConnection;
use crate::domain::diff::{self, Diff};
use crate::domain::document::*;
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult, Problem};
use crate::render;
use crate::{now, AppState};

/// A version's stored representation, kept in memory once read: immutable, so never stale.
#[derive(Debug)]
pub struct StoredVersion {
    pub body: web::Bytes,
    pub etag: String,
}

pub type VersionCache = quick_cache::sync::Cache<(String, i32), Arc<StoredVersion>>;

/// How many version bodies are kept in memory.
pub const CACHED_VERSIONS: usize = 256;

/// A version as listed: without its document, with when it was adopted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Version {
    pub number: i32,
    #[schema(example = "Udkast til høring")]
    pub label: String,
    pub note: Option<String>,
    pub plan_id: String,
    pub created_at: DateTime<Utc>,
    /// Who made it (username or client id).
    pub created_by: String,
    /// When the city council approved it; adopted versions stay public.
    pub adopted_at: Option<DateTime<Utc>>,
}

/// A version with the whole plan document as it was.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionDocument {
    pub number: i32,
    pub label: String,
    pub note: Option<String>,
    pub plan_id: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub document: Document,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVersion {
    #[schema(example = "Udkast til høring")]
    pub label: String,
    pub note: Option<String>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = versions)]
struct VersionRow {
    plan_id: String,
    number: i32,
    label: String,
    note: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
    adopted_at: Option<NaiveDateTime>,
}

impl From<VersionRow> for Version {
    fn from(row: VersionRow) -> Self {
        Version {
            number: row.number,
            label: row.label,
            note: row.note,
            plan_id: row.plan_id,
            created_at: row.created_at.and_utc(),
            created_by: row.created_by,
            adopted_at: row.adopted_at.map(|at| at.and_utc()),
        }
    }
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(error.to_string())
}

/// The plan's current content as a document: five queries, whatever the plan's size.
pub fn current_document(conn: &mut DbConnection, plan: &PlanRow) -> ApiResult<Document> {
    let id = plan.id.as_str();
    let plan_view = plans::Plan::try_from(plan.clone())?;
    let section_rows: Vec<SectionRow> = sections::table
        .filter(sections::plan_id.eq(id))
        .order(sections::position)
        .select(SectionRow::as_select())
        .load(conn)?;
    let area_rows: Vec<FocusAreaRow> = focus_areas::table
        .filter(focus_areas::plan_id.eq(id))
        .order(focus_areas::position)
        .select(FocusAreaRow::as_select())
        .load(conn)?;
    let goal_rows: Vec<GoalRow> =
        goals::table.filter(goals::plan_id.eq(id)).order(goals::position).select(GoalRow::as_select()).load(conn)?;
    let requirement_rows: Vec<RequirementRow> = requirements::table
        .filter(requirements::plan_id.eq(id))
        .order((requirements::goal_id, requirements::position))
        .select(RequirementRow::as_select())
        .load(conn)?;
    let measure_rows: Vec<FollowUpMeasureRow> = follow_up_measures::table
        .filter(follow_up_measures::plan_id.eq(id))
        .order((follow_up_measures::goal_id, follow_up_measures::position))
        .select(FollowUpMeasureRow::as_select())
        .load(conn)?;

    let requirements = requirement_rows.into_iter().map(Requirement::try_from).collect::<ApiResult<Vec<_>>>()?;
    let measures = measure_rows.into_iter().map(FollowUpMeasure::try_from).collect::<ApiResult<Vec<_>>>()?;
    let goals = goal_rows
        .into_iter()
        .map(|row| {
            let goal = Goal::try_from(row)?;
            Ok(DocumentGoal {
                requirements: requirements
                    .iter()
                    .filter(|r| r.goal_id == goal.id)
                    .map(|r| DocumentRequirement {
                        id: r.id.clone(),
                        statement: r.statement.clone(),
                        indicator: r.indicator.clone(),
                        unit: r.unit,
                        comparator: r.comparator,
                        baseline: r.baseline.clone(),
                        target: r.target.clone(),
                        data_source: r.data_source.clone(),
                        frequency: r.frequency,
                        position: r.position,
                    })
                    .collect(),
                follow_up_measures: measures
                    .iter()
                    .filter(|m| m.goal_id == goal.id)
                    .map(|m| DocumentFollowUpMeasure {
                        id: m.id.clone(),
                        indicator: m.indicator.clone(),
                        description: m.description.clone(),
                        unit: m.unit,
                        data_source: m.data_source.clone(),
                        frequency: m.frequency,
                        position: m.position,
                    })
                    .collect(),
                id: goal.id,
                number: goal.number,
                title: goal.title,
                description: goal.description,
                kind: goal.kind,
                focus_area_id: goal.focus_area_id,
                target_groups: goal.target_groups,
                initiatives: goal.initiatives,
                position: goal.position,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Document {
        plan: DocumentPlan {
            id: plan_view.id,
            municipality: plan_view.municipality,
            covers: plan_view.covers,
            year: plan_view.year,
            title: plan_view.title,
            summary: plan_view.summary,
        },
        sections: section_rows
            .into_iter()
            .map(|s| DocumentSection { id: s.id, heading: s.heading, body: s.body, position: s.position })
            .collect(),
        focus_areas: area_rows
            .into_iter()
            .map(|a| {
                let a = FocusArea::from(a);
                DocumentFocusArea { id: a.id, title: a.title, description: a.description, position: a.position }
            })
            .collect(),
        goals,
    })
}

/// A strong ETag: a hash of the bytes.
pub fn strong_etag(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>())
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    plan_id: &str,
    input: NewVersion,
) -> ApiResult<(VersionDocument, String)> {
    let mut checks = Checks::new();
    checks.text("label", &input.label, 200);
    checks.optional_text("note", input.note.as_deref(), 5000);
    checks.finish()?;
    conn.write(|conn| {
        // Locks the plan row (PostgreSQL) or the database (SQLite): numbers never collide.
        let plan = plan_for_change(conn, ctx, plan_id)?;
        let last: Option<i32> = versions::table
            .filter(versions::plan_id.eq(plan_id))
            .select(diesel::dsl::max(versions::number))
            .first(conn)?;
        let number = last.unwrap_or(0) + 1;
        let created_at = now();
        let version = VersionDocument {
            number,
            label: input.label.trim().to_owned(),
            note: input.note.clone(),
            plan_id: plan_id.to_owned(),
            created_at: created_at.and_utc(),
            created_by: ctx.actor().to_owned(),
            document: current_document(conn, &plan)?,
        };
        let body = serde_json::to_string(&version).map_err(internal)?;
        let etag = strong_etag(&[body.as_bytes()]);
        diesel::insert_into(versions::table)
            .values((
                versions::plan_id.eq(plan_id),
                versions::number.eq(number),
                versions::label.eq(&version.label),
                versions::note.eq(&version.note),
                versions::created_at.eq(created_at),
                versions::created_by.eq(&version.created_by),
                versions::body.eq(&body),
                versions::etag.eq(&etag),
            ))
            .execute(conn)?;
        plan_state::set_latest_version(conn, &plan, number)?;
        let listed = Version {
            number,
            label: version.label.clone(),
            note: version.note.clone(),
            plan_id: plan_id.to_owned(),
            created_at: version.created_at,
            created_by: version.created_by.clone(),
            adopted_at: None,
        };
        audit::record(conn, ctx, "create", "version", &format!("{plan_id}/{number}"), None, snapshot(&listed))?;
        Ok((version, etag))
    })
}

/// A version the caller may read: its bytes (from memory when they were read before), and
/// whether it is public (adopted at some point).
pub fn read(
    conn: &mut DbConnection,
    cache: &VersionCache,
    ctx: &RequestContext,
    plan_id: &str,
    number: i32,
) -> ApiResult<(Arc<StoredVersion>, bool)> {
    read_with_owner(conn, cache, ctx, plan_id, number).map(|(stored, public, _)| (stored, public))
}

/// `read`, and the kommunekode of the municipality that owns the plan.
fn read_with_owner(
    conn: &mut DbConnection,
    cache: &VersionCache,
    ctx: &RequestContext,
    plan_id: &str,
    number: i32,
) -> ApiResult<(Arc<StoredVersion>, bool, String)> {
    // One query for what the policy needs: the owning municipality and whether it was adopted.
    let found: Option<(String, Option<NaiveDateTime>)> = versions::table
        .inner_join(plans_table::table)
        .filter(versions::plan_id.eq(plan_id))
        .filter(versions::number.eq(number))
        .select((plans_table::municipality_code, versions::adopted_at))
        .first(conn)
        .optional()?;
    let Some((municipality, adopted_at)) = found else {
        return Err(ApiError::NotFound(format!("no version {number} of plan {plan_id}")));
    };
    let public = adopted_at.is_some();
    let readable = policy::authorize(ctx.caller.as_ref(), Action::Read, Target::plan(&municipality, public));
    if readable.is_err()
        && !crate::api::hearings::consultee_may_read_version(conn, ctx.caller.as_ref(), plan_id, &municipality, number)?
    {
        return readable.map(|_| unreachable!());
    }
    let key = (plan_id.to_owned(), number);
    if let Some(stored) = cache.get(&key) {
        return Ok((stored, public, municipality));
    }
    let (body, etag): (String, String) =
        versions::table.find((plan_id, number)).select((versions::body, versions::etag)).first(conn)?;
    let stored = Arc::new(StoredVersion { body: web::Bytes::from(body), etag });
    cache.insert(key, stored.clone());
    Ok((stored, public, municipality))
}

/// Parses a stored version.
pub fn document_of(stored: &StoredVersion) -> ApiResult<VersionDocument> {
    serde_json::from_slice(&stored.body).map_err(internal)
}

/// Immutable content: a public version may be kept by any cache for a year; another only by the
/// caller's own (it needs a token).
fn immutable(public: bool) -> (header::HeaderName, &'static str) {
    let value = if public { "public, max-age=31536000, immutable" } else { "private, max-age=31536000, immutable" };
    (header::CACHE_CONTROL, value)
}

fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*")
}

/// The versions of a plan, oldest first. Anonymous callers see the adopted ones.
#[utoipa::path(
    tag = "versions",
    params(("plan_id" = String, Path, description = "The plan's id"), PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of versions", body = ListOf<Version>),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit or offset out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/plans/{plan_id}/versions")]
pub async fn list_versions(
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
            let plan = plans::find_for(conn, &ctx, &plan_id, Action::Read)?;
            let all = policy::can_see(ctx.caller.as_ref(), Target::plan(&plan.municipality_code, false));
            let filtered = || {
                let mut q = versions::table.filter(versions::plan_id.eq(plan_id.clone())).into_boxed();
                if !all {
                    q = q.filter(versions::adopted_at.is_not_null());
                }
                q
            };
            let total: i64 = filtered().count().get_result(conn)?;
            let rows = filtered()
                .order(versions::number)
                .limit(page.limit)
                .offset(page.offset)
                .select(VersionRow::as_select())
                .load(conn)?;
            Ok((total, rows.into_iter().map(Version::from).collect::<Vec<_>>()))
        })
        .await?;
    Ok(http::list_response(&req, page, total, items))
}

/// Freeze the plan's current content as the next version (planner; while `draft` or
/// `in_hearing`). Later edits never change it.
#[utoipa::path(
    tag = "versions",
    params(("plan_id" = String, Path, description = "The plan's id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response", min_length = 1, max_length = 255, pattern = r"^[!-~]([\t -~]*[!-~])?$")),
    request_body = NewVersion,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = VersionDocument, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner of the plan's municipality", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan's status does not allow new versions", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON (Content-Type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{plan_id}/versions")]
pub async fn create_version(
    ctx: RequestContext,
    state: web::Data<AppState>,
    plan_id: web::Path<String>,
    body: web::Json<NewVersion>,
) -> ApiResult<HttpResponse> {
    let plan_id = plan_id.into_inner();
    let (version, etag) = state.db(move |conn| create(conn, &ctx, &plan_id, body.into_inner())).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/plans/{}/versions/{}", version.plan_id, version.number)))
        .insert_header((header::ETAG, etag))
        .json(version))
}

/// The whole plan document as it was at version `n`: immutable, with a strong ETag.
#[utoipa::path(
    tag = "versions",
    params(("plan_id" = String, Path, description = "The plan's id"), ("n" = i32, Path, description = "The version number")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The version", body = VersionDocument, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "The version number is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version, or not visible", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/plans/{plan_id}/versions/{n}")]
pub async fn get_version(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    path: web::Path<(String, i32)>,
) -> ApiResult<HttpResponse> {
    let (plan_id, number) = path.into_inner();
    let cache = state.versions.clone();
    let (stored, public) = state.db(move |conn| read(conn, &cache, &ctx, &plan_id, number)).await?;
    if not_modified(&req, &stored.etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, stored.etag.clone()))
            .insert_header(immutable(public))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::ETAG, stored.etag.clone()))
        .insert_header(immutable(public))
        .body(stored.body.clone()))
}

#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The version to compare with.
    pub against: i32,
}

/// What changed from version `against` to version `n`: added, removed and changed items, matched
/// by id, with field-level before and after, in document order.
#[utoipa::path(
    tag = "versions",
    params(("plan_id" = String, Path, description = "The plan's id"), ("n" = i32, Path, description = "The version number"), DiffQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The differences", body = Diff, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version, or not visible", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/plans/{plan_id}/versions/{n}/diff")]
pub async fn diff_versions(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    path: web::Path<(String, i32)>,
    query: web::Query<DiffQuery>,
) -> ApiResult<HttpResponse> {
    let (plan_id, number) = path.into_inner();
    let against = query.against;
    let cache = state.versions.clone();
    let ((to, to_public), (from, from_public)) = state
        .db(move |conn| Ok((read(conn, &cache, &ctx, &plan_id, number)?, read(conn, &cache, &ctx, &plan_id, against)?)))
        .await?;
    let etag = strong_etag(&[b"diff", from.etag.as_bytes(), to.etag.as_bytes()]);
    let public = to_public && from_public;
    if not_modified(&req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header(immutable(public))
            .finish());
    }
    let result = diff::diff(against, &document_of(&from)?.document, number, &document_of(&to)?.document);
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag)).insert_header(immutable(public)).json(result))
}

/// The formats a document can be rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Html,
    Markdown,
}

/// The format the `Accept` header prefers: HTML unless Markdown ranks higher; 406 when neither
/// is acceptable.
fn negotiate(req: &HttpRequest) -> ApiResult<Format> {
    let Ok(accept) = Accept::parse(req) else { return Ok(Format::Html) };
    if accept.0.is_empty() {
        return Ok(Format::Html);
    }
    for mime in accept.ranked() {
        match (mime.type_().as_str(), mime.subtype().as_str()) {
            ("text", "html") | ("text", "*") | ("*", "*") => return Ok(Format::Html),
            ("text", "markdown") => return Ok(Format::Markdown),
            _ => {}
        }
    }
    Err(ApiError::NotAcceptable("the document is available as text/html or text/markdown".into()))
}

/// The plan as it was at version `n`, for people: a complete, accessible HTML page
/// (`text/html`, the default) or Markdown (`text/markdown`), chosen by `Accept`.
#[utoipa::path(
    tag = "versions",
    params(("plan_id" = String, Path, description = "The plan's id"), ("n" = i32, Path, description = "The version number")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The rendered plan", content(("text/html"), ("text/markdown")), headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "The version number is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or expired token (without a token the caller is anonymous)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such version, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "Neither HTML nor Markdown is acceptable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/plans/{plan_id}/versions/{n}/document")]
pub async fn version_document(
    req: HttpRequest,
    ctx: RequestContext,
    state: web::Data<AppState>,
    path: web::Path<(String, i32)>,
) -> ApiResult<HttpResponse> {
    let format = negotiate(&req)?;
    let (plan_id, number) = path.into_inner();
    let cache = state.versions.clone();
    let (stored, public, municipality_name) = state
        .db(move |conn| {
            // The owner comes with the read: one more query, for the municipality's name.
            let (stored, public, owner) = read_with_owner(conn, &cache, &ctx, &plan_id, number)?;
            Ok((stored, public, municipalities::find(conn, &owner)?.name))
        })
        .await?;
    let (content_type, tag): (&str, &[u8]) = match format {
        Format::Html => ("text/html; charset=utf-8", b"html"),
        Format::Markdown => ("text/markdown; charset=utf-8", b"markdown"),
    };
    let etag = strong_etag(&[tag, stored.etag.as_bytes(), municipality_name.as_bytes()]);
    let vary = (header::VARY, "Accept");
    if not_modified(&req, &etag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).insert_header(vary).finish());
    }
    let version = document_of(&stored)?;
    let info = render::VersionInfo {
        number: version.number,
        label: version.label.clone(),
        created_at: version.created_at,
        municipality_name,
    };
    let body = match format {
        Format::Html => render::plan_html(&info, &version.document),
        Format::Markdown => render::plan_markdown(&info, &version.document),
    };
    // The page names the municipality, whose name may change: cached, but revalidated.
    let cache_control = if public { "public, max-age=300" } else { "private, max-age=300" };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header(vary)
        .body(body))
}
