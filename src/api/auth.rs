//! The token endpoint (OAuth 2.0 shape) and `GET /me`.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::audit;
use crate::auth::tokens::{parse_codes, TOKEN_SECONDS};
use crate::auth::{passwords, Caller, PrincipalKind, RequestContext, Role};
use crate::db::schema::{clients, users};
use crate::error::{ApiError, ApiResult, Problem};
use crate::AppState;

/// A token request, as a form (`application/x-www-form-urlencoded`, as RFC 6749 has it) or JSON.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct TokenRequest {
    /// `password` (people) or `client_credentials` (scripted integrations).
    #[schema(example = "password")]
    pub grant_type: String,
    pub username: Option<String>,
    #[schema(write_only)]
    pub password: Option<String>,
    pub client_id: Option<String>,
    #[schema(write_only)]
    pub client_secret: Option<String>,
    /// Accepted and ignored: a token carries the principal's role.
    pub scope: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    #[schema(example = 3600)]
    pub expires_in: i64,
}

fn parse_token_request(req: &HttpRequest, body: &[u8]) -> ApiResult<TokenRequest> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/x-www-form-urlencoded" => {
            serde_urlencoded::from_bytes(body).map_err(|e| ApiError::BadRequest(format!("invalid form body: {e}")))
        }
        "application/json" => {
            serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
        }
        _ => Err(ApiError::UnsupportedMediaType(
            "send the token request as application/x-www-form-urlencoded or application/json".into(),
        )),
    }
}

fn bad_credentials() -> ApiError {
    ApiError::Unauthorized("the credentials are not valid".into())
}

/// A principal's stored credentials, whether a user's or a client's.
struct Stored {
    id: String,
    name: String,
    display_name: String,
    role: String,
    municipalities: String,
    party: Option<String>,
    hash: String,
    active: bool,
}

/// Issue an access token: `grant_type=password` with `username` and `password`, or
/// `grant_type=client_credentials` with `client_id` and `client_secret`. Wrong credentials get
/// the same 401 whether or not the user exists; after 5 failures within 15 minutes for one
/// username or client, or from one address, attempts are refused with 429 and `Retry-After`.
#[utoipa::path(
    tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A bearer token", body = TokenResponse),
        (status = 400, description = "Malformed request or unsupported grant type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong credentials", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither a form nor JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/token")]
pub async fn issue_token(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> ApiResult<HttpResponse> {
    // A stale token sent along is no reason to refuse a login, so the caller is not extracted.
    let request_id = crate::auth::request_id(&req);
    let request = parse_token_request(&req, &body)?;
    let (principal_key, secret, is_client) = match request.grant_type.as_str() {
        "password" => match (request.username, request.password) {
            (Some(u), Some(p)) => (u, p, false),
            _ => return Err(ApiError::BadRequest("the password grant needs username and password".into())),
        },
        "client_credentials" => match (request.client_id, request.client_secret) {
            (Some(c), Some(s)) => (c, s, true),
            _ => {
                return Err(ApiError::BadRequest(
                    "the client_credentials grant needs client_id and client_secret".into(),
                ))
            }
        },
        other => return Err(ApiError::BadRequest(format!("unsupported grant_type {other:?}"))),
    };
    let address = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into());
    let limiter_keys = vec![format!("principal:{principal_key}"), format!("ip:{address}")];
    state.limiter.check(&limiter_keys).map_err(ApiError::TooManyRequests)?;

    let worker_state = state.clone();
    let key = principal_key.clone();
    let issued = state
        .db(move |conn| {
            let stored: Option<Stored> = if is_client {
                clients::table
                    .find(&key)
                    .select((
                        clients::id,
                        clients::name,
                        clients::role,
                        clients::municipalities,
                        clients::party,
                        clients::secret_hash,
                        clients::active,
                    ))
                    .first::<(String, String, String, String, Option<String>, String, bool)>(conn)
                    .optional()?
                    .map(|(id, name, role, municipalities, party, hash, active)| Stored {
                        name: id.clone(),
                        id,
                        display_name: name,
                        role,
                        municipalities,
                        party,
                        hash,
                        active,
                    })
            } else {
                users::table
                    .filter(users::username.eq(&key))
                    .select((
                        users::id,
                        users::username,
                        users::display_name,
                        users::role,
                        users::municipalities,
                        users::party,
                        users::password_hash,
                        users::active,
                    ))
                    .first::<(String, String, String, String, String, Option<String>, String, bool)>(conn)
                    .optional()?
                    .map(|(id, name, display_name, role, municipalities, party, hash, active)| Stored {
                        id,
                        name,
                        display_name,
                        role,
                        municipalities,
                        party,
                        hash,
                        active,
                    })
            };
            // Unknown principals cost a hash check too, so timing does not reveal who exists.
            let Some(stored) = stored else {
                passwords::verify_against_nothing(&secret);
                return Ok(None);
            };
            if !passwords::verify(&secret, &stored.hash) || !stored.active {
                return Ok(None);
            }
            let caller = Caller {
                id: stored.id,
                name: stored.name,
                display_name: stored.display_name,
                kind: if is_client { PrincipalKind::Client } else { PrincipalKind::User },
                role: Role::parse(&stored.role).ok_or_else(|| ApiError::Internal("stored role".into()))?,
                municipalities: parse_codes(&stored.municipalities)?,
                party: stored.party,
            };
            let claims = worker_state.tokens.claims_for(&caller);
            let token = worker_state.tokens.sign(&claims)?;
            if is_client {
                let audit_ctx = RequestContext { caller: Some(caller.clone()), request_id };
                let after = serde_json::json!({"jti": claims.jti, "expires_at": claims.exp});
                conn.write(|conn| {
                    audit::record(conn, &audit_ctx, "token_issued", "client", &caller.id, None, Some(after))
                })?;
            }
            Ok(Some(token))
        })
        .await?;
    let Some(access_token) = issued else {
        state.limiter.record_failure(&limiter_keys);
        tracing::info!(principal = %principal_key, %address, "failed login");
        return Err(bad_credentials());
    };
    state.limiter.record_success(&limiter_keys[0]);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse { access_token, token_type: "Bearer".into(), expires_in: TOKEN_SECONDS }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub id: String,
    /// Username, client id, or the external token's subject.
    pub username: String,
    pub display_name: String,
    pub kind: PrincipalKind,
    pub role: Role,
    pub municipalities: Vec<String>,
    pub party: Option<String>,
}

/// The caller, as the service sees it now.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn me(ctx: RequestContext) -> ApiResult<HttpResponse> {
    let caller = ctx.caller()?.clone();
    Ok(HttpResponse::Ok().json(Me {
        id: caller.id,
        username: caller.name,
        display_name: caller.display_name,
        kind: caller.kind,
        role: caller.role,
        municipalities: caller.municipalities,
        party: caller.party,
    }))
}
