//! The HTTP conventions every resource shares: lists and their `Link` header, ETags and
//! conditional requests, JSON merge patches, and problem+json for actix's own extractor errors.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::ToSchema;

use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// The query of a list that has no filters.
#[derive(Debug, serde::Deserialize, serde::Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// At most this many items (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Skip this many items (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl PageQuery {
    pub fn page(&self) -> ApiResult<Page> {
        Page::new(self.limit, self.offset)
    }
}

/// The query of a list that new items can enter anywhere but at its end (the audit log, newest
/// first; measurements, by period), where offsets skip or repeat items under inserts: it also
/// takes `after`, the `next_cursor` of the page before.
#[derive(Debug, serde::Deserialize, serde::Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CursorPageQuery {
    /// At most this many items (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Skip this many items (default 0); with `after`, counted from the cursor.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Continue after this item: the `next_cursor` of the previous page. Pages read this way
    /// do not repeat items, nor skip them, when others are added meanwhile.
    pub after: Option<String>,
}

impl CursorPageQuery {
    pub fn page(&self) -> ApiResult<CursorPage> {
        CursorPage::new(self.limit, self.offset, self.after.clone())
    }
}

/// A validated page of a list that takes a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorPage {
    pub page: Page,
    /// The sort key of the item the page starts after, as `cursor` made it.
    pub after: Option<Vec<String>>,
}

/// Times in cursors, to the microsecond the databases keep.
pub const CURSOR_TIME: &str = "%Y-%m-%dT%H:%M:%S%.6f";

/// A cursor: an item's sort key, opaque to clients (base64url of a JSON array of strings). It
/// carries the key itself, so it stays good when that item is deleted.
pub fn cursor(key: &[String]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

impl CursorPage {
    pub fn new(limit: Option<i64>, offset: Option<i64>, after: Option<String>) -> ApiResult<Self> {
        let after = after
            .map(|text| {
                use base64::Engine;
                let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.as_bytes()).ok();
                bytes.and_then(|b| serde_json::from_slice::<Vec<String>>(&b).ok()).ok_or_else(Self::bad_cursor)
            })
            .transpose()?;
        Ok(CursorPage { page: Page::new(limit, offset)?, after })
    }

    /// The cursor's key as `N` parts parsed by `parse`, or the problem for a cursor this list
    /// did not make.
    pub fn key<T, const N: usize>(&self, parse: impl Fn([&str; N]) -> Option<T>) -> ApiResult<Option<T>> {
        let Some(parts) = &self.after else { return Ok(None) };
        let parts: [&str; N] =
            parts.iter().map(String::as_str).collect::<Vec<_>>().try_into().map_err(|_| Self::bad_cursor())?;
        parse(parts).map(Some).ok_or_else(Self::bad_cursor)
    }

    /// How many rows to read: one more than the page, to learn whether another page follows.
    pub fn rows(&self) -> i64 {
        self.page.limit + 1
    }

    fn bad_cursor() -> ApiError {
        ApiError::validation("after", "not a cursor of this list: send the `next_cursor` of a page as it is")
    }
}

/// `limit` and `offset` of a list request, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    pub fn new(limit: Option<i64>, offset: Option<i64>) -> ApiResult<Self> {
        let page = Page { limit: limit.unwrap_or(DEFAULT_LIMIT), offset: offset.unwrap_or(0) };
        let mut checks = Checks::new();
        checks.range("limit", page.limit, 1, MAX_LIMIT);
        checks.range("offset", page.offset, 0, i64::MAX);
        checks.finish()?;
        Ok(page)
    }
}

/// A page of a list: `{"items": [...], "total": N, "limit": L, "offset": O}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ListOf<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    /// Lists that take `after` only: where the next page starts; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Described by hand because the derive inlines a type parameter's whole schema: the items
/// refer to the item's own schema, so a generated client has one model per resource
/// (`ListOf_Plan.items` are `Plan`s).
impl<T: ToSchema> utoipa::__dev::ComposeSchema for ListOf<T> {
    fn compose(_generics: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        let integer = || {
            ObjectBuilder::new().schema_type(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        };
        ObjectBuilder::new()
            .description(Some("A page of a list, in the list's order; `total` counts every item that matches."))
            .property("items", ArrayBuilder::new().items(Ref::from_schema_name(T::name())))
            .property("total", integer().minimum(Some(0)).description(Some("How many items match, on all pages")))
            .property(
                "limit",
                integer().minimum(Some(1)).maximum(Some(MAX_LIMIT)).description(Some("The page size asked for")),
            )
            .property("offset", integer().minimum(Some(0)).description(Some("How many items come before this page")))
            .property(
                "next_cursor",
                ObjectBuilder::new().schema_type(Type::String).description(Some(
                    "Lists that take `after` only: send it as `after` for the next page; absent on the last page",
                )),
            )
            .required("items")
            .required("total")
            .required("limit")
            .required("offset")
            .into()
    }
}

impl<T: ToSchema> ToSchema for ListOf<T> {
    fn name() -> std::borrow::Cow<'static, str> {
        "ListOf".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
}

/// Answers a list with its `Link` header (`next` and `prev`, keeping the other query parameters).
pub fn list_response<T: Serialize>(req: &HttpRequest, page: Page, total: i64, items: Vec<T>) -> HttpResponse {
    let mut links = Vec::new();
    if page.offset.saturating_add(page.limit) < total {
        links.push(format!("<{}>; rel=\"next\"", page_url(req, page.limit, page.offset.saturating_add(page.limit))));
    }
    if page.offset > 0 {
        let prev = (page.offset - page.limit).max(0);
        links.push(format!("<{}>; rel=\"prev\"", page_url(req, page.limit, prev)));
    }
    let mut response = HttpResponse::Ok();
    if !links.is_empty() {
        response.insert_header((header::LINK, links.join(", ")));
    }
    response.json(ListOf { items, total, limit: page.limit, offset: page.offset, next_cursor: None })
}

/// Answers a page of a list that takes a cursor: `rows` are the rows read for `page` (one more
/// than the limit when another page follows); `key_of` gives an item's sort key for the cursor.
/// The `next` link continues by cursor; a page read by offset also has its `prev` link.
pub fn cursor_list_response<T: Serialize>(
    req: &HttpRequest,
    page: &CursorPage,
    total: i64,
    mut rows: Vec<T>,
    key_of: impl Fn(&T) -> Vec<String>,
) -> HttpResponse {
    let more = rows.len() as i64 > page.page.limit;
    rows.truncate(page.page.limit as usize);
    let next_cursor = if more { rows.last().map(|item| cursor(&key_of(item))) } else { None };
    let (limit, offset) = (page.page.limit, page.page.offset);
    let mut links = Vec::new();
    if let Some(cursor) = &next_cursor {
        let url = url_with(req, &[("limit", limit.to_string()), ("after", cursor.clone())], &["offset"]);
        links.push(format!("<{url}>; rel=\"next\""));
    }
    if page.after.is_none() && offset > 0 {
        links.push(format!("<{}>; rel=\"prev\"", page_url(req, limit, (offset - limit).max(0))));
    }
    let mut response = HttpResponse::Ok();
    if !links.is_empty() {
        response.insert_header((header::LINK, links.join(", ")));
    }
    response.json(ListOf { items: rows, total, limit: page.page.limit, offset: page.page.offset, next_cursor })
}

fn page_url(req: &HttpRequest, limit: i64, offset: i64) -> String {
    url_with(req, &[("limit", limit.to_string()), ("offset", offset.to_string())], &["after"])
}

/// The request's URL with `set` parameters replaced (appended in order) and `drop` removed; the
/// other parameters are kept.
fn url_with(req: &HttpRequest, set: &[(&str, String)], drop: &[&str]) -> String {
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, _)| !set.iter().any(|(name, _)| name == key) && !drop.contains(&key.as_str()))
        .collect();
    pairs.extend(set.iter().map(|(name, value)| ((*name).to_owned(), value.clone())));
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    format!("{}?{}", req.path(), query)
}

/// The strong ETag of a mutable resource at a revision. The JSON `etag` field holds the same
/// quoted value, so a client can copy it into `If-Match` as it is.
pub fn etag(revision: i64) -> String {
    format!("\"{revision}\"")
}

/// Whether a conditional header (`If-Match`, `If-None-Match`) names `current` or `*`; `None`
/// when the header is absent. Lenient about missing quotes, because clients often copy the tag
/// by hand. `If-Match` compares strongly (a weak tag never matches), `If-None-Match` weakly.
fn condition(headers: &HeaderMap, name: header::HeaderName, current: &str, weak_matches: bool) -> Option<bool> {
    let current = current.trim_matches('"');
    let mut values = headers.get_all(name).peekable();
    values.peek()?;
    Some(values.filter_map(|v| v.to_str().ok()).flat_map(|text| text.split(',')).any(|tag| {
        let tag = tag.trim();
        let (weak, opaque) = match tag.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, tag),
        };
        tag == "*" || ((weak_matches || !weak) && opaque.trim_matches('"') == current)
    }))
}

/// `If-Match` must be present (428) and name the current ETag or `*` (412 otherwise).
pub fn check_if_match(headers: &HeaderMap, current_etag: &str) -> ApiResult<()> {
    match condition(headers, header::IF_MATCH, current_etag, false) {
        None => Err(ApiError::PreconditionRequired),
        Some(false) => Err(ApiError::PreconditionFailed),
        Some(true) => Ok(()),
    }
}

/// Whether the request carries `If-Match` (for writes where it is optional).
pub fn has_condition(headers: &HeaderMap) -> bool {
    headers.contains_key(header::IF_MATCH)
}

/// Whether `If-None-Match` names `etag` (or `*`): the answer is `304 Not Modified`.
pub fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    condition(req.headers(), header::IF_NONE_MATCH, etag, true) == Some(true)
}

/// A resource answered with its `ETag`, or `304 Not Modified` when `If-None-Match` names it.
pub fn entity_response<T: Serialize>(req: &HttpRequest, etag: &str, body: &T) -> HttpResponse {
    if not_modified(req, etag) {
        return HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish();
    }
    HttpResponse::Ok().insert_header((header::ETAG, etag)).json(body)
}

/// `200 OK` with the changed resource and its new `ETag`.
pub fn updated<T: Serialize>(etag: &str, body: &T) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::ETAG, etag)).json(body)
}

/// `201 Created` with `Location` and `ETag`.
pub fn created<T: Serialize>(location: String, etag: &str, body: &T) -> HttpResponse {
    HttpResponse::Created().insert_header((header::LOCATION, location)).insert_header((header::ETAG, etag)).json(body)
}

/// Applies a JSON merge patch (RFC 7396) to the editable fields of a resource and reads the
/// result back as `T`. Fields the patch does not name keep their value; `null` clears an
/// optional field; a field `T` does not know is refused with 400, and `read_only` fields with 422.
pub fn merge_patch<T>(current: &T, patch: &serde_json::Value, read_only: &[&str]) -> ApiResult<T>
where
    T: Serialize + DeserializeOwned,
{
    let serde_json::Value::Object(fields) = patch else {
        return Err(ApiError::BadRequest("a merge patch must be a JSON object".into()));
    };
    let mut checks = Checks::new();
    for name in read_only {
        if fields.contains_key(*name) {
            checks.fail(name, "is read-only");
        }
    }
    checks.finish()?;
    let mut merged = serde_json::to_value(current).map_err(|e| ApiError::Internal(e.to_string()))?;
    // `null` removes a field, so a `null` for a field `T` does not have would vanish unnoticed:
    // keep those as `null`, for the reading below to refuse the unknown ones.
    let mut unknown_nulls = Vec::new();
    absent_nulls(&merged, patch, &mut Vec::new(), &mut unknown_nulls);
    json_patch::merge(&mut merged, patch);
    for path in unknown_nulls {
        let Some((name, parents)) = path.split_last() else { continue };
        let parent = parents.iter().try_fold(&mut merged, |value, key| value.get_mut(key.as_str()));
        if let Some(serde_json::Value::Object(object)) = parent {
            object.insert(name.clone(), serde_json::Value::Null);
        }
    }
    serde_json::from_value(merged).map_err(|e| {
        let message = e.to_string();
        if message.starts_with("missing field") {
            // A required field was set to null.
            let field = message.split('`').nth(1).unwrap_or("?").to_owned();
            ApiError::validation(field, "is required and cannot be null")
        } else {
            ApiError::BadRequest(format!("invalid patch: {message}"))
        }
    })
}

/// The paths of the `null`s in a merge patch that name fields `current` does not have (in
/// nested objects too).
fn absent_nulls(
    current: &serde_json::Value,
    patch: &serde_json::Value,
    path: &mut Vec<String>,
    found: &mut Vec<Vec<String>>,
) {
    let (serde_json::Value::Object(current), serde_json::Value::Object(patch)) = (current, patch) else { return };
    for (name, value) in patch {
        path.push(name.clone());
        match current.get(name) {
            None if value.is_null() => found.push(path.clone()),
            Some(inner) if value.is_object() => absent_nulls(inner, value, path, found),
            _ => {}
        }
        path.pop();
    }
}

/// Integer fields of request bodies. JSON Schema, and so the OpenAPI document, counts a whole
/// number written with a fraction (`2017.0`) as the integer it is, so such a number is read as
/// that integer; a real fraction or a number out of the field's range is still a 400.
/// Use with `#[serde(deserialize_with = "http::whole_number")]`.
pub fn whole_number<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    let number = serde_json::Number::deserialize(deserializer)?;
    to_whole(&number)
}

/// [`whole_number`] for an optional field (`null` or absent: `None`; add `#[serde(default)]`).
pub fn optional_whole_number<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    Option::<serde_json::Number>::deserialize(deserializer)?.map(|number| to_whole(&number)).transpose()
}

fn to_whole<E: serde::de::Error, T: TryFrom<i64>>(number: &serde_json::Number) -> Result<T, E> {
    let whole = match number.as_i64() {
        Some(value) => Some(value),
        // `i64::MAX as f64` rounds up to 2^63, which is out of range itself.
        None => number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= i64::MIN as f64 && *f < i64::MAX as f64)
            .map(|f| f as i64),
    };
    whole.and_then(|value| T::try_from(value).ok()).ok_or_else(|| {
        E::invalid_value(serde::de::Unexpected::Other(&format!("number {number}")), &"a whole number in range")
    })
}

/// Problem+json for actix's JSON extractor errors: wrong content type 415, too large 413,
/// anything else (not JSON, wrong type, unknown field) 400.
pub fn json_error(error: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api_error = match &error {
        E::OverflowKnownLength { length, limit } => {
            ApiError::PayloadTooLarge(format!("the body is {length} bytes; at most {limit} are accepted"))
        }
        E::Overflow { limit } => ApiError::PayloadTooLarge(format!("the body is over the limit of {limit} bytes")),
        E::ContentType => {
            ApiError::UnsupportedMediaType("the body must be JSON (Content-Type: application/json)".into())
        }
        E::Deserialize(e) => ApiError::BadRequest(format!("invalid JSON body: {e}")),
        other => ApiError::BadRequest(format!("cannot read the body: {other}")),
    };
    api_error.into()
}

pub fn query_error(error: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid query string: {error}")).into()
}

pub fn path_error(error: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid path parameter: {error}")).into()
}

/// The media type to answer with, of those `offered` (the first is the default): the first
/// that the `Accept` header ranks highest, where `*/*` and `type/*` take the first offered of
/// that kind. 406 when none is acceptable.
pub fn negotiate(req: &HttpRequest, offered: &[&'static str]) -> ApiResult<&'static str> {
    use actix_web::http::header::{Accept, Header};
    let default = offered[0];
    let Ok(accept) = Accept::parse(req) else { return Ok(default) };
    if accept.0.is_empty() {
        return Ok(default);
    }
    // `q=0` means "not this one"; `ranked` keeps such entries, in last place.
    let refused: Vec<_> =
        accept.0.iter().filter(|q| q.quality == header::Quality::ZERO).map(|q| q.item.clone()).collect();
    for mime in accept.ranked().into_iter().filter(|mime| !refused.contains(mime)) {
        let (kind, subtype) = (mime.type_().as_str(), mime.subtype().as_str());
        let found = offered.iter().find(|media| {
            let (offered_kind, offered_subtype) = media.split_once('/').unwrap_or((media, ""));
            (kind == "*" || kind == offered_kind) && (subtype == "*" || subtype == offered_subtype)
        });
        if let Some(media) = found {
            return Ok(media);
        }
    }
    let list = match offered {
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => String::new(),
    };
    Err(ApiError::NotAcceptable(format!("this is available as {list}")))
}

/// The path templates of the API with their methods and each method's query parameters, to
/// tell an unknown path (404) from a known path called with a method it does not have (405 with
/// `Allow`), and to refuse query parameters an operation does not declare (400) on every
/// operation alike.
#[derive(Debug, Clone, Default)]
pub struct KnownPaths(Vec<(Vec<String>, Vec<KnownMethod>)>);

#[derive(Debug, Clone)]
struct KnownMethod {
    method: &'static str,
    /// The declared query parameters; `None` where the document does not describe the operation.
    query: Option<Vec<String>>,
}

impl KnownPaths {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        use utoipa::openapi::path::{Operation, ParameterIn};
        fn query_of(operation: &Operation) -> Vec<String> {
            let parameters = operation.parameters.iter().flatten();
            parameters
                .filter_map(|p| match p {
                    RefOr::T(p) if p.parameter_in == ParameterIn::Query => Some(p.name.clone()),
                    _ => None,
                })
                .collect()
        }
        let mut known: Vec<(Vec<String>, Vec<KnownMethod>)> = api
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template.split('/').map(str::to_owned).collect();
                let methods = [
                    (&item.get, "GET"),
                    (&item.post, "POST"),
                    (&item.put, "PUT"),
                    (&item.patch, "PATCH"),
                    (&item.delete, "DELETE"),
                ]
                .into_iter()
                .filter_map(|(operation, method)| {
                    operation.as_ref().map(|o| KnownMethod { method, query: Some(query_of(o)) })
                })
                .collect();
                (segments, methods)
            })
            .collect();
        known.push((vec![String::new(), "openapi.json".into()], vec![KnownMethod { method: "GET", query: None }]));
        KnownPaths(known)
    }

    /// Whether `path` is a known path that does not have `method` (answered 405 by [`fallback`]).
    pub fn method_not_allowed(&self, path: &str, method: &str) -> bool {
        self.allowed(path).is_some_and(|methods| !methods.iter().any(|m| m.method == method))
    }

    fn allowed(&self, path: &str) -> Option<&[KnownMethod]> {
        let parts: Vec<&str> = path.split('/').collect();
        self.0.iter().find_map(|(segments, methods)| {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p);
            matches.then_some(methods.as_slice())
        })
    }

    /// The first query parameter of the request that its operation does not declare, with the
    /// ones it does; `None` when all are declared (or the operation is not in the document).
    pub fn undeclared_query(&self, path: &str, method: &str, query: &str) -> Option<(String, Vec<String>)> {
        if query.is_empty() {
            return None;
        }
        let declared = self.allowed(path)?.iter().find(|m| m.method == method)?.query.as_ref()?;
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default();
        let unknown = pairs.into_iter().map(|(name, _)| name).find(|name| !declared.contains(name))?;
        Some((unknown, declared.clone()))
    }
}

impl crate::auth::Routes for KnownPaths {
    fn method_not_allowed(&self, path: &str, method: &str) -> bool {
        KnownPaths::method_not_allowed(self, path, method)
    }
}

/// The default service: 405 for a known path with another method, 404 otherwise.
pub async fn fallback(req: HttpRequest, known: web::Data<KnownPaths>) -> HttpResponse {
    let error = match known.allowed(req.path()) {
        Some(methods) if !methods.iter().any(|m| m.method == req.method().as_str()) => {
            // Every GET also answers HEAD (`api::head`).
            let allow =
                methods.iter().flat_map(|m| if m.method == "GET" { vec!["GET", "HEAD"] } else { vec![m.method] });
            ApiError::MethodNotAllowed { allow: allow.map(str::to_owned).collect() }
        }
        _ => ApiError::NotFound(format!("no resource at {}", req.path())),
    };
    actix_web::ResponseError::error_response(&error)
}

/// How long a read may be cached, where its handler does not say (versions, documents and the
/// problem pages do): an anonymous caller only ever reads what is public (adopted plans, closed
/// hearings, municipalities), so any cache may keep it a minute; what a token reads may hold
/// drafts, so only the caller's own cache keeps it, and asks again (cheap with `If-None-Match`).
/// `Vary: Authorization` (on every read) keeps any cache from answering one caller's request
/// with another's copy.
pub fn default_cache_control<B>(response: &mut actix_web::dev::ServiceResponse<B>) {
    let req = response.request();
    if !(req.method() == actix_web::http::Method::GET && req.path().starts_with("/api/")) {
        return;
    }
    // Anonymous as the authentication middleware decided it.
    let anonymous = crate::auth::is_anonymous(req);
    let status = response.status();
    let headers = response.headers_mut();
    let cacheable = status == StatusCode::OK || status == StatusCode::NOT_MODIFIED;
    if cacheable && !headers.contains_key(header::CACHE_CONTROL) {
        let value = if anonymous { "public, max-age=60" } else { "private, no-cache" };
        headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static(value));
    }
    // On every read, whoever set Cache-Control and whatever the status: what a read answers
    // depends on the token.
    let vary = match headers.get(header::VARY).and_then(|v| v.to_str().ok()) {
        Some(existing) => format!("{existing}, Authorization"),
        None => "Authorization".to_owned(),
    };
    if let Ok(vary) = header::HeaderValue::from_str(&vary) {
        headers.insert(header::VARY, vary);
    }
}

/// What is wrong with a request's URI before any handler sees it: a NUL character (`%00`),
/// which no path or filter needs and PostgreSQL cannot store or compare (400 on both backends),
/// or a query parameter the operation does not declare (400 on every operation, items as lists).
pub fn refused_uri(req: &actix_web::dev::ServiceRequest) -> Option<ApiError> {
    let uri = req.uri().to_string();
    if uri.contains('\0') || uri.to_ascii_lowercase().contains("%00") {
        return Some(ApiError::BadRequest("the URI must not contain NUL characters (%00)".into()));
    }
    let known = req.app_data::<web::Data<KnownPaths>>()?;
    let (unknown, declared) = known.undeclared_query(req.path(), req.method().as_str(), req.query_string())?;
    let takes = match declared.as_slice() {
        [] => "takes no query parameters".to_owned(),
        names => format!("takes only {}", names.join(", ")),
    };
    Some(ApiError::BadRequest(format!("unknown query parameter `{unknown}`: this operation {takes}")))
}

/// Problem+json for the error responses that actix and the services it hosts build themselves:
/// a body over the limit where the handler reads raw bytes (the token endpoint) is `text/plain`,
/// a file missing under `/docs/` an empty 404. The errors of the HTTP layer proper — a malformed
/// request head (400), headers too large (431), a head that does not arrive in time (408) — are
/// written by actix-http before any application code runs, and stay empty-bodied.
pub async fn problems_for_bare_errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<BoxBody>, actix_web::Error> {
    match next.call(req).await {
        Ok(response) if is_bare_error(response.response()) => {
            let (http_req, response) = response.into_parts();
            let problem = as_problem(response.map_into_boxed_body(), Some(http_req.path())).await;
            Ok(actix_web::dev::ServiceResponse::new(http_req, problem))
        }
        Ok(response) => Ok(response.map_into_boxed_body()),
        Err(error) => {
            // Some errors give their response only once (`InternalError`): pass on the one taken.
            let mut response = error.error_response();
            if is_bare_error(&response) {
                response = as_problem(response, None).await;
            }
            Err(actix_web::error::InternalError::from_response(error.to_string(), response).into())
        }
    }
}

fn is_bare_error<B>(response: &HttpResponse<B>) -> bool {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/problem+json"));
    (status.is_client_error() || status.is_server_error()) && !is_problem
}

/// The same response (status, headers) with a problem for its body; its text, if short, is the
/// problem's detail.
async fn as_problem(response: HttpResponse, path: Option<&str>) -> HttpResponse {
    let status = response.status();
    let (mut head, body) = response.into_parts();
    // actix's messages are one short line; anything longer is not meant for the client.
    let text = match actix_web::body::to_bytes_limited(body, 512).await {
        Ok(Ok(bytes)) => String::from_utf8(bytes.to_vec()).unwrap_or_default(),
        _ => String::new(),
    };
    let text = text.trim();
    let detail = match (text.is_empty(), path) {
        (false, _) => text.to_owned(),
        (true, Some(path)) if status == StatusCode::NOT_FOUND => format!("no resource at {path}"),
        (true, _) => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let error = if status.is_server_error() {
        tracing::error!(%status, cause = %detail, "error response from the HTTP layer");
        ApiError::Internal(detail)
    } else {
        ApiError::Http(status, detail)
    };
    let body = serde_json::to_vec(&error.problem()).unwrap_or_default();
    head.headers_mut().remove(header::CONTENT_LENGTH);
    head.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/problem+json"));
    head.set_body(BoxBody::new(body))
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Fields {
        #[serde(deserialize_with = "whole_number")]
        year: i32,
        #[serde(default, deserialize_with = "optional_whole_number")]
        position: Option<i32>,
        note: Option<String>,
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_fraction_of_zero() {
        let read = |text: &str| serde_json::from_str::<Fields>(text).map_err(|e| e.to_string());
        let expected = Fields { year: 2017, position: Some(3), note: None };
        assert_eq!(read(r#"{"year": 2017, "position": 3, "note": null}"#), Ok(expected));
        assert_eq!(read(r#"{"year": 2017.0, "position": 3.0}"#).map(|f| (f.year, f.position)), Ok((2017, Some(3))));
        assert_eq!(read(r#"{"year": 2017, "position": null}"#).map(|f| f.position), Ok(None));
        assert_eq!(read(r#"{"year": 2017}"#).map(|f| f.position), Ok(None));
        for wrong in [r#"{"year": 2017.5}"#, r#"{"year": 3000000000}"#, r#"{"year": 1e300}"#, r#"{"year": "2017"}"#] {
            assert!(read(wrong).is_err(), "{wrong} was read");
        }
    }

    #[test]
    fn a_merge_patch_with_null_for_an_unknown_field_is_refused() {
        let current = Fields { year: 2017, position: None, note: Some("x".into()) };
        let patch = |text: &str| merge_patch(&current, &serde_json::from_str(text).unwrap(), &["id"]);
        assert!(matches!(patch(r#"{"bogus": null}"#), Err(ApiError::BadRequest(_))));
        assert!(matches!(patch(r#"{"bogus": 1}"#), Err(ApiError::BadRequest(_))));
        assert_eq!(patch(r#"{"note": null}"#).unwrap(), Fields { year: 2017, position: None, note: None });
        assert_eq!(patch(r#"{"position": null, "year": 2018.0}"#).unwrap().year, 2018);
        assert_eq!(patch("{}").unwrap(), Fields { year: 2017, position: None, note: Some("x".into()) });
        assert!(matches!(patch(r#"{"id": null}"#), Err(ApiError::Validation(_))));
    }
}
