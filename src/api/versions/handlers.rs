//! The HTTP operations on versions: list, create, read, diff and the rendered document. Version
//! bodies are served as stored, with strong ETags and immutable caching.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{
    create, document_of, read, read_with_owner, strong_etag, NewVersion, Version, VersionDocument, VersionRow,
};
use crate::api::compress;
use crate::api::docs::{CreateProblems, IdempotencyKey, ItemProblems, ListProblems};
use crate::api::http::{self, ListOf, PageQuery};
use crate::api::municipalities;
use crate::api::plans;
use crate::auth::policy::{self, Action, Target};
use crate::auth::RequestContext;
use crate::db::schema::versions;
use crate::domain::diff::{self, Diff};
use crate::error::{ApiResult, Problem};
use crate::render;
use crate::AppState;

/// Immutable content: a public version may be kept by any cache for a year; another only by the
/// caller's own (it needs a token).
fn immutable(public: bool) -> (header::HeaderName, &'static str) {
    let value = if public { "public, max-age=31536000, immutable" } else { "private, max-age=31536000, immutable" };
    (header::CACHE_CONTROL, value)
}

/// The versions of a plan, oldest first.
///
/// Anonymous callers see the adopted ones.
#[utoipa::path(
    tag = "versions",
    params(("plan_id" = String, Path, description = "The plan's id"), PageQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of versions", body = ListOf<Version>),
        ListProblems,
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

/// Freeze the plan's current content as the next version (planner; while `draft` or `in_hearing`).
///
/// Later edits never change it.
#[utoipa::path(
    tag = "versions",
    params(("plan_id" = String, Path, description = "The plan's id"), IdempotencyKey),
    request_body = NewVersion,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = VersionDocument, headers(("Location" = String), ("ETag" = String))),
        CreateProblems,
        (status = 409, description = "The plan's status does not allow new versions", body = Problem, content_type = "application/problem+json"),
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
        ItemProblems,
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
    // Sent in the client's coding from bytes compressed once and kept with the cached version.
    let coding = compress::accepted(&req);
    let (stored, public) = state
        .db(move |conn| {
            let (stored, public) = read(conn, &cache, &ctx, &plan_id, number)?;
            // Compressing (the first time only) belongs here, on the blocking pool.
            if let Some(coding) = coding {
                stored.encoded(coding);
            }
            Ok((stored, public))
        })
        .await?;
    if http::not_modified(&req, &stored.etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, stored.etag.clone()))
            .insert_header(immutable(public))
            .finish());
    }
    let mut response = HttpResponse::Ok();
    // The compression middleware adds the coding to the ETag and `Vary`, and sends these bytes as
    // they are.
    response.content_type("application/json").insert_header((header::ETAG, stored.etag.clone()));
    let body = match coding.and_then(|coding| Some((coding, stored.encoded(coding)?))) {
        Some((coding, bytes)) => {
            response.insert_header((header::CONTENT_ENCODING, coding.token()));
            bytes.clone()
        }
        None => stored.body.clone(),
    };
    Ok(response.insert_header(immutable(public)).body(body))
}

#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The version to compare with.
    pub against: i32,
}

/// What changed from version `against` to version `n`.
///
/// Added, removed and changed items, matched by id, with field-level before and after, in document
/// order.
#[utoipa::path(
    tag = "versions",
    params(("plan_id" = String, Path, description = "The plan's id"), ("n" = i32, Path, description = "The version number"), DiffQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The differences", body = Diff, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        ItemProblems,
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
    if http::not_modified(&req, &etag) {
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
    Ok(match http::negotiate(req, &["text/html", "text/markdown"])? {
        "text/markdown" => Format::Markdown,
        _ => Format::Html,
    })
}

/// The plan as it was at version `n`, for people.
///
/// A complete, accessible HTML page (`text/html`, the default) or Markdown (`text/markdown`),
/// chosen by `Accept`.
#[utoipa::path(
    tag = "versions",
    params(("plan_id" = String, Path, description = "The plan's id"), ("n" = i32, Path, description = "The version number")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The rendered plan", content((String = "text/html"), (String = "text/markdown")), headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "The version number is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "Neither HTML nor Markdown is acceptable", body = Problem, content_type = "application/problem+json"),
        ItemProblems,
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
    // The page names the municipality, whose name may change: cached, but revalidated.
    let cache_control = if public { "public, max-age=300" } else { "private, max-age=300" };
    if http::not_modified(&req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache_control))
            .insert_header(vary)
            .finish());
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
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header(vary)
        .body(body))
}
