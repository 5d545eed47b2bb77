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

    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest(_) => ("bad-request", "Bad request"),
            ApiError::Unauthorized(_) => ("unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            ApiError::Conflict(_) => ("conflict", "Conflict"),
            ApiError::NotReady(_) => ("not-ready", "Version not ready"),
            ApiError::PreconditionRequired => ("precondition-required", "Precondition required"),
            ApiError::PreconditionFailed => ("precondition-failed", "Precondition failed"),
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            ApiError::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            ApiError::NotAcceptable(_) => ("not-acceptable", "Not acceptable"),
            ApiError::Validation(_) => ("validation", "Validation failed"),
            ApiError::TooManyRequests(_) => ("too-many-requests", "Too many requests"),
            ApiError::Unavailable(_) => ("unavailable", "Service unavailable"),
            ApiError::InsufficientStorage(_) => ("storage-full", "Insufficient storage"),
            ApiError::Internal(_) => ("internal", "Internal server error"),
            ApiError::Http(status, _) => http_kind(*status),
        }
    }

    pub fn problem(&self) -> Problem {
        let (kind, title) = self.kind();
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

/// The problem type and title of an error status that has no variant of its own.
fn http_kind(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("bad-request", "Bad request"),
        401 => ("unauthorized", "Unauthorized"),
        403 => ("forbidden", "Forbidden"),
        404 => ("not-found", "Not found"),
        405 => ("method-not-allowed", "Method not allowed"),
        406 => ("not-acceptable", "Not acceptable"),
        408 => ("request-timeout", "Request timeout"),
        409 => ("conflict", "Conflict"),
        411 => ("length-required", "Length required"),
        413 => ("payload-too-large", "Payload too large"),
        414 => ("uri-too-long", "URI too long"),
        415 => ("unsupported-media-type", "Unsupported media type"),
        417 => ("expectation-failed", "Expectation failed"),
        429 => ("too-many-requests", "Too many requests"),
        431 => ("request-header-fields-too-large", "Request header fields too large"),
        500 => ("internal", "Internal server error"),
        503 => ("unavailable", "Service unavailable"),
        507 => ("storage-full", "Insufficient storage"),
        code if code >= 500 => ("server-error", "Server error"),
        _ => ("client-error", "Client error"),
    }
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
