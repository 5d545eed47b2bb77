//! Who is calling: roles, the verified caller, passwords, tokens, and the one permission policy.

pub mod limiter;
pub mod passwords;
pub mod policy;
pub mod principals;
pub mod tokens;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use serde::{Deserialize, Serialize};
use tracing_actix_web::RequestId;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Planner,
    Approver,
    Consultee,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Planner, Role::Approver, Role::Consultee, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Planner => "planner",
            Role::Approver => "approver",
            Role::Consultee => "consultee",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// Where a principal's identity lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A person with a username and password here.
    User,
    /// A scripted integration (client credentials).
    Client,
    /// Known only from a token issued by an external identity provider (RS256).
    External,
    /// The service itself: start-up, the command line, demo data.
    System,
}

/// An authenticated caller, with role and municipalities as stored now (not as when the token
/// was issued), so a changed role or a deactivation takes effect at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// User id, client id, or the external token's `sub`.
    pub id: String,
    /// Username, client id, or the external `sub`: what the audit log records as the actor.
    pub name: String,
    pub display_name: String,
    pub kind: PrincipalKind,
    pub role: Role,
    pub municipalities: Vec<String>,
    pub party: Option<String>,
}

impl Caller {
    /// The service acting on its own behalf; recorded as `system` in the audit log.
    pub fn system() -> Self {
        Caller {
            id: "system".into(),
            name: "system".into(),
            display_name: "beskplan".into(),
            kind: PrincipalKind::System,
            role: Role::Admin,
            municipalities: Vec::new(),
            party: None,
        }
    }

    pub fn acts_in(&self, municipality: &str) -> bool {
        self.role == Role::Admin || self.municipalities.iter().any(|m| m == municipality)
    }
}

/// What every handler knows about the request: the caller (none when anonymous) and the request
/// id for the audit log. A request with an `Authorization` header that does not verify is
/// refused with 401, never treated as anonymous.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub caller: Option<Caller>,
    pub request_id: Option<String>,
}

impl RequestContext {
    /// A context for work done by the service itself (start-up, demo data, command line).
    pub fn system(caller: Caller) -> Self {
        RequestContext { caller: Some(caller), request_id: None }
    }

    /// The caller, or 401 when anonymous.
    pub fn caller(&self) -> Result<&Caller, ApiError> {
        self.caller.as_ref().ok_or_else(|| ApiError::Unauthorized("this needs a bearer token".into()))
    }

    /// The actor as the audit log records it.
    pub fn actor(&self) -> &str {
        self.caller.as_ref().map(|c| c.name.as_str()).unwrap_or("anonymous")
    }
}

/// The id tracing gave the request, for the audit log and the `x-request-id` header.
pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|id| id.to_string())
}

/// The bearer token of a request: `Ok(None)` without an `Authorization` header.
pub fn bearer_token(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let text = value.to_str().map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())),
    }
}

/// Verifies the request's token, if any, and loads the caller.
async fn authenticate(req: &HttpRequest) -> Result<Option<Caller>, ApiError> {
    let Some(token) = bearer_token(req)? else { return Ok(None) };
    let state =
        req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::Internal("no application state".into()))?.clone();
    let claims = state.tokens.verify(&token)?;
    let caller = state.db(move |conn| tokens::load_caller(conn, claims)).await?;
    Ok(Some(caller))
}

/// What `authenticate_requests` needs to know of the route map: whether a path exists but not
/// with this method. The application registers it (`web::Data<dyn Routes>`), so this layer does
/// not depend on the HTTP API that uses it.
pub trait Routes {
    fn method_not_allowed(&self, path: &str, method: &str) -> bool;
}

/// The verified caller of a request, put there by `authenticate_requests`.
#[derive(Debug, Clone)]
struct Authenticated(Option<Caller>);

/// Middleware: authenticates every request before anything else reads it. A token that does
/// not verify is refused with 401 (never treated as anonymous), and so is an anonymous change:
/// the policy lets anonymous callers only read, and saying so before the body is parsed gives
/// them the same 401 whatever they send.
pub async fn authenticate_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if policy::needs_no_token(req.path()) {
        req.extensions_mut().insert(Authenticated(None));
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let caller = match authenticate(req.request()).await {
        Ok(caller) => caller,
        Err(error) => return Ok(req.error_response(error)),
    };
    if caller.is_none() && !policy::anonymous_may_call(req.method(), req.path()) {
        // A method that the path does not have is answered 405 (with `Allow`), token or not.
        let routes = req.app_data::<web::Data<dyn Routes>>();
        if !routes.is_some_and(|routes| routes.method_not_allowed(req.path(), req.method().as_str())) {
            return Ok(req.error_response(ApiError::Unauthorized("this needs a bearer token".into())));
        }
    }
    req.extensions_mut().insert(Authenticated(caller));
    next.call(req).await.map(ServiceResponse::map_into_boxed_body)
}

/// Whether the request was authenticated as nobody (without copying the caller, for the hot path).
pub fn is_anonymous(req: &HttpRequest) -> bool {
    req.extensions().get::<Authenticated>().is_none_or(|a| a.0.is_none())
}

/// The caller of a request that passed `authenticate_requests`.
pub fn caller_of(req: &HttpRequest) -> Option<Caller> {
    req.extensions().get::<Authenticated>().and_then(|a| a.0.clone())
}

impl FromRequest for RequestContext {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let context = match req.extensions().get::<Authenticated>() {
            Some(Authenticated(caller)) => Ok(RequestContext { caller: caller.clone(), request_id: request_id(req) }),
            None => Err(ApiError::Internal("the authentication middleware did not run".into())),
        };
        std::future::ready(context)
    }
}
