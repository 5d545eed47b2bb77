//! The one error type. Every failure leaves the service as `application/problem+json` (RFC 9457).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::readiness::Blocker;
pub use crate::domain::validate::FieldError;
use crate::domain::validate::Invalid;

/// Problem details (RFC 9457). `type` is a relative URI naming the kind of problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation")]
    pub problem_type: String,
    #[schema(example = "Validation failed")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    pub detail: String,
    /// Present on validation failures (422).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Present when a decision is refused because its version is not ready (409).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<Blocker>,
    /// On validation failures (422): how many rules the request broke. `errors` lists at most
    /// the first 100 of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 1, value_type = Option<i64>, minimum = 1)]
    pub error_count: Option<usize>,
}

/// A validation problem lists at most this many errors (a bad CSV can have tens of thousands).
pub const MAX_LISTED_ERRORS: usize = 100;
/// And its `detail` names at most this many.
const ERRORS_IN_DETAIL: usize = 10;

fn validation_detail(errors: &[FieldError]) -> String {
    let named: Vec<String> =
        errors.iter().take(ERRORS_IN_DETAIL).map(|e| format!("{}: {}", e.field, e.message)).collect();
    let more = match errors.len().saturating_sub(ERRORS_IN_DETAIL) {
        0 => String::new(),
        n => format!("; and {n} more"),
    };
    format!("the request breaks {} rule(s): {}{more}", errors.len(), named.join("; "))
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<String> },
    #[error("{0}")]
    Conflict(String),
    #[error("the version is not ready for a decision: {} blocker(s)", .0.len())]
    NotReady(Vec<Blocker>),
    #[error("the request needs an If-Match header with the resource's current ETag (or *)")]
    PreconditionRequired,
    #[error("the resource has changed since the given ETag; fetch it again and retry")]
    PreconditionFailed,
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    NotAcceptable(String),
    #[error("{}", validation_detail(.0))]
    Validation(Vec<FieldError>),
    #[error("too many failed attempts; retry in {0} s")]
    TooManyRequests(u64),
    #[error("{0}")]
    Unavailable(String),
    /// No room to store the change (a full disk, or the SQLite size cap): nothing was stored.
    #[error("{0}")]
    InsufficientStorage(String),
    /// Unexpected: logged with the request id, answered without details.
    #[error("internal error: {0}")]
    Internal(String),
    /// An error the HTTP layer raises with its own status: a request body that does not arrive
    /// in time (408), and actix's own error responses turned into problems (`api::http`).
    #[error("{1}")]
    Http(StatusCode, String),
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// The problem type's slug (`/problems/<slug>`), from [`PROBLEM_TYPES`].
    fn kind(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::MethodNotAllowed { .. } => "method-not-allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::NotReady(_) => "not-ready",
            ApiError::PreconditionRequired => "precondition-required",
            ApiError::PreconditionFailed => "precondition-failed",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::NotAcceptable(_) => "not-acceptable",
            ApiError::Validation(_) => "validation",
            ApiError::TooManyRequests(_) => "too-many-requests",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::InsufficientStorage(_) => "storage-full",
            ApiError::Internal(_) => "internal",
            ApiError::Http(status, _) => http_kind(*status),
        }
    }

    pub fn problem(&self) -> Problem {
        let kind = self.kind();
        let title = problem_type(kind).map_or("Error", |t| t.title);
        let detail = match self {
            ApiError::Internal(_) => "an unexpected error occurred; the request id identifies it in the log".to_owned(),
            other => other.to_string(),
        };
        let (errors, error_count) = match self {
            ApiError::Validation(errors) => {
                (errors.iter().take(MAX_LISTED_ERRORS).cloned().collect(), Some(errors.len()))
            }
            _ => (Vec::new(), None),
        };
        let blockers = match self {
            ApiError::NotReady(blockers) => blockers.clone(),
            _ => Vec::new(),
        };
        Problem {
            problem_type: format!("/problems/{kind}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail,
            errors,
            blockers,
            error_count,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::NotReady(_) => StatusCode::CONFLICT,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Http(status, _) => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            // The tracing span of the request carries the request id.
            tracing::error!(%cause, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        match self {
            ApiError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.join(", ")));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            // Space comes back by an operator's hand, not in a second.
            ApiError::InsufficientStorage(_) => {
                response.insert_header((header::RETRY_AFTER, "60"));
            }
            ApiError::TooManyRequests(seconds) => {
                response.insert_header((header::RETRY_AFTER, seconds.to_string()));
            }
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"beskplan\""));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

/// The problem type of an error status that has no variant of its own.
fn http_kind(status: StatusCode) -> &'static str {
    // The first type of a status in the list is its general one (`conflict` before `not-ready`).
    let code = status.as_u16();
    match PROBLEM_TYPES.iter().find(|t| t.status == code) {
        Some(problem_type) => problem_type.slug,
        None if code >= 500 => "server-error",
        None => "client-error",
    }
}

/// A kind of problem: what `type: /problems/<slug>` means, documented at that URI and in the
/// OpenAPI description.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct ProblemType {
    pub slug: &'static str,
    pub status: u16,
    pub title: &'static str,
    /// What happened and what the client can do about it.
    pub description: &'static str,
}

const fn kind(slug: &'static str, status: u16, title: &'static str, description: &'static str) -> ProblemType {
    ProblemType { slug, status, title, description }
}

/// Every problem type the service answers with, by status. The one list: titles in answers,
/// the pages at `/problems/<slug>` and the catalogue in the OpenAPI description come from it.
pub const PROBLEM_TYPES: &[ProblemType] = &[
    kind("bad-request", 400, "Bad request", "The request is malformed: the body is not JSON or has a field of the wrong type or an unknown field, a query parameter is malformed or not one the operation declares, or a header such as `Idempotency-Key` is malformed. Sent again unchanged, it fails again."),
    kind("unauthorized", 401, "Unauthorized", "The bearer token is missing where one is needed, malformed, expired or not signed by a key the service trusts, or the credentials sent to the token endpoint are wrong. Get a new token from `POST /api/v1/auth/token`."),
    kind("forbidden", 403, "Forbidden", "The caller may see the resource but its role may not do this here: a viewer or consultee changing a plan, a planner recording a decision, anyone but an admin administering users, clients, municipalities or the audit log."),
    kind("not-found", 404, "Not found", "No such resource, or the caller may not see it: a draft of another municipality answers exactly as a missing one does, so existence is not revealed."),
    kind("method-not-allowed", 405, "Method not allowed", "The path exists but not with this method; the `Allow` header lists the methods it has."),
    kind("not-acceptable", 406, "Not acceptable", "None of the media types in `Accept` is one the operation answers with (JSON; HTML or Markdown for documents and the hearing summary; CSV for the follow-up report)."),
    kind("request-timeout", 408, "Request timeout", "The request body did not arrive in time. Send it again, whole."),
    kind("conflict", 409, "Conflict", "Not possible in the resource's current state (a change to an adopted plan, a decision the status machine does not allow, a comment on a closed hearing), a duplicate of something unique (a second plan for a municipality and year, a taken username), or a request with the same `Idempotency-Key` still in progress."),
    kind("not-ready", 409, "Version not ready", "A decision was refused because the version has blockers; `blockers` lists each with its reason (as `GET /api/v1/plans/{id}/readiness` does)."),
    kind("length-required", 411, "Length required", "The request has a body without `Content-Length` or chunked transfer encoding."),
    kind("precondition-failed", 412, "Precondition failed", "The `If-Match` ETag is no longer current: someone changed the resource since. Fetch it again, reapply the change and send the new ETag."),
    kind("payload-too-large", 413, "Payload too large", "The body is larger than the body limit (`BESKPLAN_BODY_LIMIT`, 1 MiB by default)."),
    kind("uri-too-long", 414, "URI too long", "The request line is longer than the service reads."),
    kind("unsupported-media-type", 415, "Unsupported media type", "The body's `Content-Type` is not one the operation takes: JSON, `application/merge-patch+json` for PATCH, `text/csv` for the measurements import, a form or JSON for the token endpoint."),
    kind("expectation-failed", 417, "Expectation failed", "The `Expect` header asks for something other than `100-continue`."),
    kind("validation", 422, "Validation failed", "Fields break the domain's rules; `errors` lists each field with the rule it breaks (at most 100, `error_count` says how many in all). Also answered when an `Idempotency-Key` is reused with a different request."),
    kind("precondition-required", 428, "Precondition required", "The change needs `If-Match` with the resource's current ETag (or `*`), so that it cannot overwrite a change it has not seen."),
    kind("too-many-requests", 429, "Too many requests", "Too many failed logins for this username or client, or from this address; wait the seconds in `Retry-After`."),
    kind("request-header-fields-too-large", 431, "Request header fields too large", "The request's headers are larger than the service reads."),
    kind("client-error", 400, "Client error", "Another error in the request (a 4xx status without a type of its own); `status` and `detail` say which."),
    kind("internal", 500, "Internal server error", "Unexpected; nothing is said about the cause. The `X-Request-Id` response header identifies the request in the service's log."),
    kind("unavailable", 503, "Service unavailable", "The database is unreachable or busy; try again after `Retry-After`. A change whose outcome is unknown says so in `detail`, and is safe to repeat only with the same `Idempotency-Key`."),
    kind("storage-full", 507, "Insufficient storage", "No room to store the change: a full disk or the SQLite size cap (`BESKPLAN_SQLITE_MAX_SIZE_MB`). Nothing was stored; `/readyz` answers 503 meanwhile; try again after `Retry-After`."),
    kind("server-error", 500, "Server error", "Another server error (a 5xx status without a type of its own); `status` and `detail` say which."),
];

/// The problem type with this slug.
pub fn problem_type(slug: &str) -> Option<&'static ProblemType> {
    PROBLEM_TYPES.iter().find(|t| t.slug == slug)
}

/// Input that breaks the domain's rules: 422 with every field error.
impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        ApiError::Validation(invalid.0)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => ApiError::NotFound("not found".into()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::info!(constraint = ?info.constraint_name(), "unique violation");
                ApiError::Conflict("it already exists (another request made it at the same time)".into())
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                ApiError::Conflict("the change would leave a reference to something that does not exist".into())
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info)
                if info.message() == crate::db::COMMIT_UNKNOWN =>
            {
                crate::db::note_connection_lost();
                ApiError::Unavailable(crate::db::COMMIT_UNKNOWN.into())
            }
            ref lost if crate::db::is_connection_lost(lost) => {
                tracing::warn!(error = %lost, "database connection lost");
                crate::db::note_connection_lost();
                ApiError::Unavailable("the database connection was lost before anything was stored; retry".into())
            }
            // A NUL character that reached PostgreSQL through a field no rule checks.
            Error::DatabaseError(_, info) if info.message().contains("0x00") => {
                ApiError::BadRequest("text must not contain NUL characters".into())
            }
            Error::DatabaseError(_, info) if crate::db::storage::is_storage_full(info.message()) => {
                tracing::error!(error = %info.message(), "a write was refused: no room to store it");
                crate::db::storage::note_storage_full();
                ApiError::InsufficientStorage(
                    "the database has no room to store the change (its disk is full or it has reached its size cap); \
                     nothing was stored"
                        .into(),
                )
            }
            Error::DatabaseError(_, info) if is_busy(info.message()) => {
                ApiError::Unavailable("the database is busy; retry".into())
            }
            other => ApiError::Internal(format!("database: {other}")),
        }
    }
}

fn is_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(%error, "no database connection");
        ApiError::Unavailable("no database connection available; retry".into())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::Internal("the blocking thread pool is gone".into())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod catalogue_tests {
    use super::*;

    /// Every `type` the service can answer with is documented, once.
    #[test]
    fn every_problem_type_is_in_the_catalogue() {
        let errors = [
            ApiError::BadRequest(String::new()),
            ApiError::Unauthorized(String::new()),
            ApiError::Forbidden(String::new()),
            ApiError::NotFound(String::new()),
            ApiError::MethodNotAllowed { allow: Vec::new() },
            ApiError::Conflict(String::new()),
            ApiError::NotReady(Vec::new()),
            ApiError::PreconditionRequired,
            ApiError::PreconditionFailed,
            ApiError::PayloadTooLarge(String::new()),
            ApiError::UnsupportedMediaType(String::new()),
            ApiError::NotAcceptable(String::new()),
            ApiError::Validation(Vec::new()),
            ApiError::TooManyRequests(1),
            ApiError::Unavailable(String::new()),
            ApiError::InsufficientStorage(String::new()),
            ApiError::Internal(String::new()),
        ];
        let statuses = (400..600).filter_map(|code| StatusCode::from_u16(code).ok());
        let https = statuses.map(|status| ApiError::Http(status, String::new()));
        for error in errors.into_iter().chain(https) {
            let problem = error.problem();
            let slug = problem.problem_type.strip_prefix("/problems/").unwrap();
            let documented = problem_type(slug).unwrap_or_else(|| panic!("{slug} is not in PROBLEM_TYPES"));
            assert_eq!(problem.title, documented.title);
            if !matches!(slug, "client-error" | "server-error") {
                assert_eq!(problem.status, documented.status, "{slug}");
            }
        }
        let mut slugs: Vec<&str> = PROBLEM_TYPES.iter().map(|t| t.slug).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), PROBLEM_TYPES.len(), "a slug is listed twice");
    }
}
