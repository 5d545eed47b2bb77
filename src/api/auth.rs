//! The token endpoint (OAuth 2.0 shape) and `GET /me`.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::audit;
use crate::auth::tokens::TOKEN_SECONDS;
use crate::auth::{limiter, passwords, principals, PrincipalKind, RequestContext, Role};
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

/// Longest username or client id the token endpoint looks up.
pub const MAX_PRINCIPAL_BYTES: usize = 255;

/// A failed principal as logged: whole if it could be a username (64 characters), else cut.
fn log_form(principal: &str) -> String {
    const SHOWN: usize = 64;
    match principal.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}… ({} bytes)", &principal[..cut], principal.len()),
        None => principal.to_owned(),
    }
}

fn bad_credentials() -> ApiError {
    ApiError::Unauthorized("the credentials are not valid".into())
}

/// Client credentials from HTTP Basic authentication (RFC 6749 `client_secret_basic`).
fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    use base64::Engine;
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |part: &str| serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={part}")).ok()?.pop();
    Some((unescape(id)?.1, unescape(secret)?.1))
}

/// Issue an access token.
///
/// `grant_type=password` with `username` and `password`, or `grant_type=client_credentials` with
/// `client_id` and `client_secret` (in the body, or as HTTP Basic authentication). The body is a form
/// (`application/x-www-form-urlencoded`, as RFC 6749 says) or JSON with the same fields.
///
/// Wrong credentials get the same 401, in about the same time, whether or not the user exists;
/// after 5 failures within 15 minutes for one username or client, or from one address, attempts are
/// refused with 429 and `Retry-After`. A username or client id over 255 bytes is refused with 400.
#[utoipa::path(
    tag = "auth",
    security((), ("client_basic" = [])),
    // Form-encoded as RFC 6749 says; JSON with the same fields is accepted too (the description
    // says so), but not declared: generated clients choke on one body under two media types.
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A bearer token (never to be cached: `Cache-Control: no-store`)", body = TokenResponse, headers(("Cache-Control" = String))),
        (status = 400, description = "Malformed request or unsupported grant type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong credentials", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither a form nor JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/token")]
pub async fn issue_token(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> ApiResult<HttpResponse> {
    let request = parse_token_request(&req, &body)?;
    let (principal_key, secret, is_client) = match request.grant_type.as_str() {
        "password" => match (request.username, request.password) {
            (Some(u), Some(p)) => (u, p, false),
            _ => return Err(ApiError::BadRequest("the password grant needs username and password".into())),
        },
        "client_credentials" => match (request.client_id, request.client_secret) {
            (Some(c), Some(s)) => (c, s, true),
            _ => match basic_credentials(&req) {
                Some((c, s)) => (c, s, true),
                None => {
                    return Err(ApiError::BadRequest(
                        "the client_credentials grant needs client_id and client_secret".into(),
                    ))
                }
            },
        },
        other => return Err(ApiError::BadRequest(format!("unsupported grant_type {other:?}"))),
    };
    // Usernames are at most 64 characters and client ids are generated: anything much longer is
    // not a principal, and is refused before it costs a hash check or a place in the limiter.
    if principal_key.len() > MAX_PRINCIPAL_BYTES {
        let field = if is_client { "client_id" } else { "username" };
        return Err(ApiError::BadRequest(format!("{field} must be at most {MAX_PRINCIPAL_BYTES} bytes")));
    }
    let address = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into());
    let limiter_keys = [format!("principal:{principal_key}"), format!("ip:{address}")];
    // Counted before the check, so that parallel guesses cannot all slip under the limit.
    state.limiter.begin(&limiter_keys).map_err(ApiError::TooManyRequests)?;

    let key = principal_key.clone();
    let principal = state
        .db(
            move |conn| {
                if is_client {
                    principals::client_by_id(conn, &key)
                } else {
                    principals::user_by_username(conn, &key)
                }
            },
        )
        .await?;
    // Argon2 is slow and memory-hungry on purpose: it runs off the database connection, a few at
    // a time, so a burst of logins cannot starve the pool.
    let permit = state.hashing.acquire().await.map_err(|_| ApiError::Internal("hashing semaphore closed".into()))?;
    let stored_hash = principal.as_ref().map(|p| p.secret_hash.clone());
    let verified = web::block(move || match stored_hash {
        Some(hash) => passwords::verify(&secret, &hash),
        // Unknown principals cost a hash check too, so timing does not reveal who exists.
        None => {
            passwords::verify_against_nothing(&secret);
            false
        }
    })
    .await?;
    drop(permit);
    let caller = match principal {
        Some(principal) if verified && principal.active => principal.caller()?,
        _ => {
            // Never the whole name: it may be huge, or a password typed into the wrong field.
            tracing::info!(
                principal = %log_form(&principal_key),
                principal_hash = %limiter::short_hash(&principal_key),
                %address,
                "failed login"
            );
            return Err(bad_credentials());
        }
    };
    state.limiter.succeeded(&limiter_keys);

    let claims = state.tokens.claims_for(&caller);
    let access_token = state.tokens.sign(&claims)?;
    if is_client {
        let ctx = RequestContext { caller: Some(caller.clone()), request_id: crate::auth::request_id(&req) };
        let after = serde_json::json!({"jti": claims.jti, "expires_at": claims.exp});
        state
            .db(move |conn| {
                conn.write(|conn| audit::record(conn, &ctx, "token_issued", "client", &caller.id, None, Some(after)))
            })
            .await?;
    }
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
