//! beskplan: Danish municipalities' employment plans (beskæftigelsesplaner) as a REST/JSON
//! service. `app` builds the one actix application that both the binary and the tests run.

pub mod api;
pub mod auth;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod idempotency;
pub mod render;

use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Condition;
use actix_web::{web, App, HttpMessage};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use chrono::{NaiveDateTime, SubsecRound, Utc};
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::limiter::LoginLimiter;
use crate::auth::tokens::TokenService;
use crate::config::Settings;
use crate::db::{DatabaseUrl, DbConnection, Pool};
use crate::error::ApiResult;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Failed logins allowed per username/client and per address within the window.
pub const LOGIN_FAILURES_ALLOWED: u32 = 5;
pub const LOGIN_FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
pub const CONCURRENT_PASSWORD_CHECKS: usize = 4;
pub const HEARING_SETTLE_INTERVAL: Duration = Duration::from_secs(60);
/// Time a client has to send a request's head (line and headers).
pub const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections the kernel holds for us while every worker is at its `max_connections`.
pub const LISTEN_BACKLOG: u32 = 1024;

/// What every request shares: the pool, the settings, token keys, the login limiter and the
/// metrics registry.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub settings: Settings,
    pub tokens: Arc<TokenService>,
    pub limiter: Arc<LoginLimiter>,
    /// Version bodies once read: immutable, so never stale.
    pub versions: Arc<api::versions::VersionCache>,
    /// Bounds the password checks running at once (each takes ~19 MiB for a moment).
    pub hashing: Arc<tokio::sync::Semaphore>,
    pub metrics: PrometheusMetrics,
}

impl AppState {
    /// Connects, migrates and sets up metrics.
    pub fn new(mut settings: Settings) -> Result<Self, String> {
        if settings.demo && settings.admin_password.is_none() {
            settings.admin_password = Some(demo::ADMIN_PASSWORD.to_owned());
        }
        let url = DatabaseUrl::parse(&settings.database_url);
        let statements = prometheus::IntCounter::new("beskplan_db_statements_total", "SQL statements run")
            .map_err(|e| format!("metrics: {e}"))?;
        let pool = db::connect(&url, settings.db_pool_size, statements.clone(), settings.sqlite_max_size_mb)?;
        let mut conn = pool.get().map_err(|e| format!("cannot connect to {}: {e}", url.redacted()))?;
        let applied = db::migrate(&mut conn)?;
        if applied > 0 {
            tracing::info!(applied, database = %url.redacted(), "applied migrations");
        }
        let generated =
            api::users::bootstrap_admin(&mut conn, &settings).map_err(|e| format!("creating the admin user: {e}"))?;
        if let Some(password) = generated {
            eprintln!(
                "beskplan: created the admin user {:?} with the password {password}\n\
                 beskplan: it is shown only now; set BESKPLAN_ADMIN_PASSWORD to choose it",
                settings.admin_username
            );
        }
        let secret = match &settings.jwt_secret {
            Some(secret) => secret.clone().into_bytes(),
            None => {
                tracing::warn!(
                    "BESKPLAN_JWT_SECRET is not set: using a random secret; tokens will not survive a restart"
                );
                auth::passwords::random_secret(32).into_bytes()
            }
        };
        let public_key = settings.jwt_public_key_pem()?;
        let tokens = TokenService::new(&secret, public_key.as_deref(), &settings.jwt_issuer, &settings.jwt_audience)?;
        let metrics = PrometheusMetricsBuilder::new("beskplan")
            .endpoint("/metrics")
            .mask_unmatched_patterns("unmatched")
            .build()
            .map_err(|e| format!("metrics: {e}"))?;
        metrics.registry.register(Box::new(statements)).map_err(|e| format!("metrics: {e}"))?;
        let limiter = LoginLimiter::new(LOGIN_FAILURES_ALLOWED, LOGIN_FAILURE_WINDOW);
        let versions = Arc::new(api::versions::VersionCache::new(api::versions::CACHED_VERSIONS));
        if settings.demo {
            load_demo(&mut conn, &versions, &settings)?;
        }
        Ok(AppState {
            pool,
            settings,
            tokens: Arc::new(tokens),
            limiter: Arc::new(limiter),
            versions,
            hashing: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_PASSWORD_CHECKS)),
            metrics,
        })
    }

    /// Runs blocking database work on the blocking thread pool with a pooled connection.
    pub async fn db<T, F>(&self, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = db::checkout(&pool)?;
            work(&mut conn)
        })
        .await?
    }
}

/// Loads the demo data into an empty database and says who can log in.
fn load_demo(
    conn: &mut DbConnection,
    versions: &api::versions::VersionCache,
    settings: &Settings,
) -> Result<(), String> {
    let started = std::time::Instant::now();
    let loaded = demo::load(conn, versions).map_err(|e| format!("loading the demo data: {e}"))?;
    if !loaded {
        tracing::info!("the database already holds plans: the demo data is not loaded again");
        return Ok(());
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "loaded the demo data: five plans from the seed documents"
    );
    let admin = settings.admin_password.as_deref().unwrap_or("(as configured)");
    let mut lines = vec![format!("  {:<10} {admin}", settings.admin_username)];
    lines.extend(demo::USERS.iter().map(|(username, _, password)| format!("  {username:<10} {password}")));
    eprintln!("beskplan: demo users (username, password):\n{}", lines.join("\n"));
    Ok(())
}

/// The current time in UTC at the microsecond precision both databases keep, so what is written
/// reads back equal.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// The application: routes, extractor settings, documentation and middleware.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, mut openapi) =
        App::new().into_utoipa_app().openapi(api::ApiDoc::openapi()).configure(api::routes).split_for_parts();
    api::describe(&mut openapi);
    let known_paths = api::http::KnownPaths::from_openapi(&openapi);
    let cors = cors(&state.settings.cors_origins);
    app.app_data(web::JsonConfig::default().limit(state.settings.body_limit).error_handler(api::http::json_error))
        .app_data(web::PayloadConfig::default().limit(state.settings.body_limit))
        .app_data(web::QueryConfig::default().error_handler(api::http::query_error))
        .app_data(web::PathConfig::default().error_handler(api::http::path_error))
        .app_data(web::Data::from(Arc::new(known_paths.clone()) as Arc<dyn auth::Routes>))
        .app_data(web::Data::new(known_paths))
        .app_data(web::Data::new(state.clone()))
        // The page must not ask an online validator about the document (it names this host and
        // fails offline).
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .url("/openapi.json", openapi)
                .config(utoipa_swagger_ui::Config::default().validator_url("none")),
        )
        .service(web::redirect("/docs", "/docs/").permanent())
        .default_service(web::to(api::http::fallback))
        .wrap(actix_web::middleware::from_fn(idempotency::guard))
        .wrap(actix_web::middleware::from_fn(auth::authenticate_requests))
        .wrap(actix_web::middleware::from_fn(api::deadline::body_deadline))
        .wrap_fn(|req, srv| {
            let refused = api::http::refused_uri(&req);
            let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
            let response = match refused {
                Some(error) => futures_util::future::Either::Left(std::future::ready(Ok(req.error_response(error)))),
                None => futures_util::future::Either::Right(srv.call(req)),
            };
            async move {
                let mut response = response.await?;
                if let Some(value) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                    response.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
                }
                api::http::default_cache_control(&mut response);
                Ok(response)
            }
        })
        .wrap(actix_web::middleware::from_fn(api::head::head_as_get))
        .wrap(Condition::new(cors.is_some(), cors.unwrap_or_default()))
        .wrap(actix_web::middleware::from_fn(api::http::problems_for_bare_errors))
        // Outside CORS, which rewrites `Vary` from its first value only.
        .wrap(actix_web::middleware::from_fn(api::compress::compress))
        .wrap(state.metrics.clone())
        .wrap(TracingLogger::default())
}

/// Truncates SQLite's write-ahead log when it has grown past `WAL_TRUNCATE_BYTES` (readers
/// starve the automatic checkpoint; see `db::storage`), and shows its size in `/metrics`. On a
/// thread and a connection of its own, so that it never waits behind requests for either.
fn keep_wal_bounded(state: &AppState) -> Result<(), String> {
    let url = DatabaseUrl::parse(&state.settings.database_url);
    let DatabaseUrl::Sqlite(path) = &url else { return Ok(()) };
    let mut conn =
        db::open_sqlite(path, None).map(DbConnection::Sqlite).map_err(|e| format!("WAL checkpointer: {e}"))?;
    let wal_bytes = prometheus::IntGauge::new("beskplan_sqlite_wal_bytes", "Size of SQLite's write-ahead log")
        .map_err(|e| format!("metrics: {e}"))?;
    state.metrics.registry.register(Box::new(wal_bytes.clone())).map_err(|e| format!("metrics: {e}"))?;
    let show = move |bytes: u64| wal_bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    std::thread::Builder::new()
        .name("wal-checkpoint".into())
        .spawn(move || loop {
            std::thread::sleep(db::storage::WAL_CHECK_INTERVAL);
            let bytes = db::storage::wal_bytes(&url);
            show(bytes);
            if bytes <= db::storage::WAL_TRUNCATE_BYTES {
                continue;
            }
            match db::storage::checkpoint(&mut conn) {
                Ok(Some(result)) if result.busy != 0 => {
                    tracing::info!(
                        bytes,
                        frames = result.log,
                        "WAL checkpoint: readers did not finish in time; next check retries"
                    )
                }
                Ok(_) => {
                    let after = db::storage::wal_bytes(&url);
                    show(after);
                    tracing::debug!(before = bytes, after, "WAL truncated");
                }
                Err(error) => tracing::warn!(%error, "WAL checkpoint failed"),
            }
        })
        .map_err(|e| format!("WAL checkpointer: {e}"))?;
    Ok(())
}

fn cors(origins: &[String]) -> Option<Cors> {
    let origins: Vec<&str> = origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()).collect();
    if origins.is_empty() {
        return None;
    }
    let cors = origins.into_iter().fold(Cors::default(), |cors, origin| cors.allowed_origin(origin));
    Some(
        cors.allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
            .allow_any_header()
            .expose_headers([
                header::ETAG,
                header::LOCATION,
                header::LINK,
                header::RETRY_AFTER,
                header::WWW_AUTHENTICATE,
                HeaderName::from_static(idempotency::REPLAYED_HEADER),
                HeaderName::from_static(REQUEST_ID_HEADER),
            ])
            .max_age(3600),
    )
}

/// Serves until SIGTERM or SIGINT, then finishes requests in flight and returns.
pub async fn serve(settings: Settings) -> Result<(), String> {
    let bind = settings.bind.clone();
    let workers = settings.workers;
    let blocking_threads = settings.db_pool_size as usize + 2;
    let max_connections = settings.max_connections;
    let state = web::block(move || AppState::new(settings)).await.map_err(|e| e.to_string())??;
    let server_state = state.clone();
    let mut server = actix_web::HttpServer::new(move || app(server_state.clone()))
        .shutdown_timeout(30)
        // Database work runs on the blocking pool; more threads than connections only wait, and
        // each costs memory.
        .worker_max_blocking_threads(blocking_threads)
        // Slow clients must not hold connections (and file descriptors) for ever: the request
        // head must arrive within the timeout (408 otherwise; the body has its own deadline in
        // `api::deadline`), and a connection being closed gets a moment to finish.
        .client_request_timeout(REQUEST_HEAD_TIMEOUT)
        .client_disconnect_timeout(Duration::from_secs(1))
        // actix accepts 25,000 connections per worker by default, more than the file descriptors
        // of a typical process; past this bound new clients wait in the backlog instead.
        .max_connections(max_connections)
        .backlog(LISTEN_BACKLOG)
        .bind(&bind)
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    // Hearings close by the clock: settle the plans whose last hearing has passed its deadline.
    let ticker_state = state.clone();
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(HEARING_SETTLE_INTERVAL);
        loop {
            interval.tick().await;
            match ticker_state.db(api::plan_state::settle_all).await {
                Ok(0) => {}
                Ok(settled) => tracing::info!(settled, "plans back in draft after their hearings closed"),
                Err(error) => tracing::warn!(%error, "settling hearings failed"),
            }
        }
    });
    keep_wal_bounded(&state)?;
    for address in server.addrs() {
        tracing::info!(%address, docs = %format!("http://{address}/docs/"), "beskplan listening");
    }
    server.run().await.map_err(|e| e.to_string())?;
    tracing::info!("beskplan stopped");
    Ok(())
}
