//! `Idempotency-Key` on POST: a retry with the same key and body gets the first response again
//! (status, headers, body) and changes nothing; the same key with another body → 422.
//!
//! Keys are kept per caller for 24 hours in the database, so they hold across restarts and across
//! instances sharing a PostgreSQL database. The key is claimed before the request runs; a second
//! request with a key still running → 409. Only successful (2xx) responses are kept: after a
//! failure the key is released, so the client can correct the request and retry with it. The token
//! endpoint and client registration are exempt: their responses hold secrets that must not be
//! stored. A key left in progress (the client went away mid-request) is free again after a minute.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use chrono::Duration;
use diesel::prelude::*;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::auth;
use crate::db::schema::idempotency_keys;
use crate::error::{ApiError, ApiResult};
use crate::{now, AppState};

pub const HEADER: &str = "idempotency-key";
/// Marks a response that repeats the first one.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
const KEPT_HEADERS: [HeaderName; 4] = [header::LOCATION, header::ETAG, header::CONTENT_TYPE, header::LINK];
/// Responses that hold a secret are not kept: a token, a new client's secret.
const EXEMPT_PATHS: [&str; 2] = ["/api/v1/auth/token", "/api/v1/clients"];
/// A claimed key whose request has not finished after this long was abandoned (the client went
/// away, or the process stopped); it may be claimed again.
const ABANDONED_AFTER_SECONDS: i64 = 60;

fn lifetime() -> Duration {
    Duration::hours(24)
}

pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = match req.headers().get(HEADER) {
        Some(value) if req.method() == Method::POST && !EXEMPT_PATHS.contains(&req.path()) => value
            .to_str()
            .ok()
            .map(str::to_owned)
            .filter(|k| !k.is_empty() && k.len() <= 255)
            .ok_or_else(|| ApiError::BadRequest("Idempotency-Key must be 1–255 visible ASCII characters".into())),
        _ => return next.call(req).await.map(ServiceResponse::map_into_boxed_body),
    };
    let key = match key {
        Ok(key) => key,
        Err(error) => return Ok(req.error_response(error)),
    };
    // Keys are per caller; anonymous callers cannot post (the authentication middleware runs first).
    let Some(caller) = auth::caller_of(req.request()) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    guarded(req, next, caller.id, key).await
}

async fn guarded(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    caller: String,
    key: String,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(ApiError::Internal("no application state".into())));
    };
    let body = match read_body(&mut req, state.settings.body_limit).await {
        Ok(body) => body,
        Err(error) => return Ok(req.error_response(error)),
    };
    let request_hash = hash_request(req.method().as_str(), req.path(), &body);
    req.set_payload(body.into());

    let claimed = {
        let (caller, key) = (caller.clone(), key.clone());
        state.db(move |conn| claim(conn, &caller, &key, &request_hash)).await
    };
    match claimed {
        Err(error) => return Ok(req.error_response(error)),
        Ok(Claim::Replay { status, headers, body }) => {
            return Ok(match replay(status, headers, body) {
                Ok(stored) => req.into_response(stored),
                Err(error) => req.error_response(error),
            });
        }
        Ok(Claim::First) => {}
    }

    let response = next.call(req).await?;
    let (http_req, response) = response.into_parts();
    let status = response.status();
    let (head, body) = response.into_parts();
    let bytes = match body::to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let _ = state.db(move |conn| release(conn, &caller, &key)).await;
            return Err(ApiError::Internal("reading the response body".into()).into());
        }
    };
    let headers: Vec<(String, String)> = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            head.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| (name.to_string(), v.to_owned()))
        })
        .collect();
    let stored_body = bytes.to_vec();
    let stored = state
        .db(move |conn| {
            if status.is_success() {
                finish(conn, &caller, &key, status.as_u16(), &headers, &stored_body)
            } else {
                release(conn, &caller, &key)
            }
        })
        .await;
    if let Err(error) = stored {
        // The change itself went through: answer it. A retry will find the key in progress
        // until it expires, rather than repeat the change.
        tracing::warn!(%error, "could not store the response for an Idempotency-Key");
    }
    Ok(ServiceResponse::new(http_req, head.set_body(BoxBody::new(bytes))))
}

async fn read_body(req: &mut ServiceRequest, limit: usize) -> ApiResult<web::Bytes> {
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(format!("the body is over the limit of {limit} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// What a request with a key is: the first, or a retry of a finished one.
enum Claim {
    First,
    Replay { status: i32, headers: Option<String>, body: Option<Vec<u8>> },
}

fn hash_request(method: &str, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update([0]);
    hasher.update(path.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

type StoredRow = (String, Option<i32>, Option<String>, Option<Vec<u8>>, chrono::NaiveDateTime);

fn claim(conn: &mut crate::db::DbConnection, caller: &str, key: &str, request_hash: &str) -> ApiResult<Claim> {
    conn.write(|conn| {
        let existing: Option<StoredRow> = idempotency_keys::table
            .find((caller, key))
            .select((
                idempotency_keys::request_hash,
                idempotency_keys::status,
                idempotency_keys::headers,
                idempotency_keys::body,
                idempotency_keys::created_at,
            ))
            .first(conn)
            .optional()?;
        match existing {
            Some((_, _, _, _, created_at)) if now() - created_at > lifetime() => {
                diesel::delete(idempotency_keys::table.find((caller, key))).execute(conn)?;
            }
            Some((stored_hash, _, _, _, _)) if stored_hash != request_hash => {
                return Err(ApiError::validation(
                    "Idempotency-Key",
                    "was used with another request; use a new key for a new request",
                ));
            }
            Some((_, None, _, _, created_at)) if now() - created_at > Duration::seconds(ABANDONED_AFTER_SECONDS) => {
                diesel::delete(idempotency_keys::table.find((caller, key))).execute(conn)?;
            }
            Some((_, None, _, _, _)) => {
                return Err(ApiError::Conflict("a request with this Idempotency-Key is still in progress".into()));
            }
            Some((_, Some(status), headers, body, _)) => return Ok(Claim::Replay { status, headers, body }),
            None => {}
        }
        // Forget expired keys now and then, on the way.
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(now() - lifetime())))
            .execute(conn)?;
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::caller.eq(caller),
                idempotency_keys::key.eq(key),
                idempotency_keys::request_hash.eq(request_hash),
                idempotency_keys::created_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(Claim::First)
    })
}

fn replay(status: i32, headers: Option<String>, body: Option<Vec<u8>>) -> ApiResult<HttpResponse> {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| ApiError::Internal(format!("stored status {status}")))?;
    let headers: Vec<(String, String)> =
        serde_json::from_str(headers.as_deref().unwrap_or("[]")).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = HttpResponse::build(status);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((HeaderName::from_static(REPLAYED_HEADER), "true"));
    Ok(response.body(body.unwrap_or_default()))
}

fn finish(
    conn: &mut crate::db::DbConnection,
    caller: &str,
    key: &str,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> ApiResult<()> {
    let headers = serde_json::to_string(headers).map_err(|e| ApiError::Internal(e.to_string()))?;
    conn.write(|conn| {
        diesel::update(idempotency_keys::table.find((caller, key)))
            .set((
                idempotency_keys::status.eq(Some(i32::from(status))),
                idempotency_keys::headers.eq(Some(headers)),
                idempotency_keys::body.eq(Some(body)),
            ))
            .execute(conn)?;
        Ok(())
    })
}

fn release(conn: &mut crate::db::DbConnection, caller: &str, key: &str) -> ApiResult<()> {
    conn.write(|conn| {
        diesel::delete(idempotency_keys::table.find((caller, key))).execute(conn)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_method_path_and_body() {
        let base = hash_request("POST", "/api/v1/plans", b"{}");
        assert_eq!(base, hash_request("POST", "/api/v1/plans", b"{}"));
        assert_ne!(base, hash_request("POST", "/api/v1/plans", b"{ }"));
        assert_ne!(base, hash_request("POST", "/api/v1/municipalities", b"{}"));
        assert_eq!(base.len(), 64);
    }
}
