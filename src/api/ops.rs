//! Operational endpoints: liveness and readiness. `/metrics` is served by the metrics middleware.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{storage, DatabaseUrl};
use crate::error::{ApiError, ApiResult, Problem};
use crate::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is alive.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database answers and has room for writes.
#[utoipa::path(
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database is unreachable, or it has no room to store changes \
            (its disk is full, or the SQLite database reached `BESKPLAN_SQLITE_MAX_SIZE_MB`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let url = DatabaseUrl::parse(&state.settings.database_url);
    let full = state
        .db(move |conn| {
            conn.ping()?;
            Ok(storage::storage_problem(conn, &url)?)
        })
        .await?;
    match full {
        Some(reason) => Err(ApiError::Unavailable(format!("writes would fail: {reason}"))),
        None => Ok(HttpResponse::Ok().json(Health { status: "ok" })),
    }
}
