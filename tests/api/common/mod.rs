//! The test harness: the real application, in process, on a fresh database per test.
//!
//! SQLite by default (a temporary file); PostgreSQL when `TEST_DATABASE_URL` is set, each test in
//! a schema of its own that is dropped afterwards.
#![allow(dead_code)]

use actix_service::boxed::{self, BoxService};
use actix_service::ServiceExt;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use diesel::{Connection, RunQueryDsl};
use serde_json::{json, Value};

use beskplan::config::Settings;
use beskplan::AppState;

/// A database of its own for one test, removed when dropped.
pub enum TestDatabase {
    Sqlite(tempfile::TempDir, String),
    Postgres { base_url: String, schema: String, url: String },
}

impl TestDatabase {
    pub fn new() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(base_url) if !base_url.is_empty() => {
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&base_url).expect("TEST_DATABASE_URL reachable");
                diesel::sql_query(format!("CREATE SCHEMA {schema}")).execute(&mut conn).expect("create schema");
                let separator = if base_url.contains('?') { '&' } else { '?' };
                // The application name lets a test find this app's server connections (faults).
                let url = format!("{base_url}{separator}options=-c%20search_path%3D{schema}&application_name={schema}");
                TestDatabase::Postgres { base_url, schema, url }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("beskplan.sqlite3").to_string_lossy().into_owned();
                TestDatabase::Sqlite(dir, path)
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDatabase::Sqlite(_, path) => path,
            TestDatabase::Postgres { url, .. } => url,
        }
    }

    /// Ends this database's server connections from the server side, as a restart does;
    /// returns how many there were. PostgreSQL only.
    pub fn drop_server_connections(&self) -> i64 {
        let TestDatabase::Postgres { base_url, schema, .. } = self else { panic!("PostgreSQL only") };
        #[derive(diesel::QueryableByName)]
        struct Ended {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            ended: i64,
        }
        let mut conn = diesel::PgConnection::establish(base_url).expect("TEST_DATABASE_URL reachable");
        let query =
            "SELECT count(pg_terminate_backend(pid)) AS ended FROM pg_stat_activity WHERE application_name = $1";
        diesel::sql_query(query)
            .bind::<diesel::sql_types::Text, _>(schema.as_str())
            .get_result::<Ended>(&mut conn)
            .expect("terminate backends")
            .ended
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDatabase::Postgres { .. })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { base_url, schema, .. } = self {
            if let Ok(mut conn) = diesel::PgConnection::establish(base_url) {
                let _ = diesel::sql_query(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn);
            }
        }
    }
}

/// A response with its body read.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().expect("ASCII header").to_owned())
    }

    pub fn etag(&self) -> String {
        self.header("etag").expect("an ETag header")
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text());
        self
    }

    /// Asserts a problem+json answer with this status and returns the problem.
    #[track_caller]
    pub fn problem(self, status: u16) -> Value {
        let response = self.expect(status);
        assert_eq!(response.header("content-type").as_deref(), Some("application/problem+json"));
        let problem = response.json();
        assert_eq!(problem["status"], status, "{problem}");
        assert!(problem["type"].as_str().is_some_and(|t| t.starts_with("/problems/")), "{problem}");
        assert!(problem["title"].is_string() && problem["detail"].is_string(), "{problem}");
        problem
    }
}

/// The fields named in a validation problem's `errors`.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect()
}

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const JWT_SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";

pub struct TestApp {
    service: BoxService<actix_http::Request, ServiceResponse, actix_web::Error>,
    pub state: AppState,
    pub database: std::rc::Rc<TestDatabase>,
    pub admin_token: String,
}

/// Requests as one caller: with a bearer token, or anonymous.
pub struct Client<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

impl Client<'_> {
    pub async fn call(&self, mut request: TestRequest) -> Response {
        if let Some(token) = &self.token {
            request = request.insert_header(("authorization", format!("Bearer {token}")));
        }
        let response = test::call_service(&self.app.service, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = test::read_body(response).await;
        Response { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.call(TestRequest::get().uri(path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.call(TestRequest::post().uri(path).set_json(body)).await
    }

    pub async fn patch(&self, path: &str, if_match: Option<&str>, body: &Value) -> Response {
        let mut request = TestRequest::patch().uri(path).set_json(body);
        if let Some(etag) = if_match {
            request = request.insert_header(("if-match", etag));
        }
        self.call(request).await
    }

    pub async fn delete(&self, path: &str, if_match: Option<&str>) -> Response {
        let mut request = TestRequest::delete().uri(path);
        if let Some(etag) = if_match {
            request = request.insert_header(("if-match", etag));
        }
        self.call(request).await
    }
}

/// Settings every test app shares: a known admin password and token secret.
pub fn test_settings(database: &TestDatabase) -> Settings {
    let mut settings = Settings::for_database(database.url());
    settings.admin_password = Some(ADMIN_PASSWORD.into());
    settings.jwt_secret = Some(JWT_SECRET.into());
    settings
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_settings(|_| {}).await
    }

    pub async fn with_settings(adjust: impl FnOnce(&mut Settings)) -> Self {
        let database = std::rc::Rc::new(TestDatabase::new());
        Self::open(database, adjust).await
    }

    /// The statements one GET runs (it must answer 200), read from the service's own counter.
    pub async fn statements_for(&self, path: &str) -> u64 {
        let count = || async {
            let metrics = self.get("/metrics").await.text();
            metrics
                .lines()
                .find_map(|l| l.strip_prefix("beskplan_db_statements_total "))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .expect("the statement counter") as u64
        };
        let before = count().await;
        self.get(path).await.expect(200);
        count().await - before
    }

    /// A second app on the same database, as after a restart.
    pub async fn reopen(&self) -> Self {
        self.reopen_with(|_| {}).await
    }

    /// A second app on the same database with other settings, as after a restart with them.
    pub async fn reopen_with(&self, adjust: impl FnOnce(&mut Settings)) -> Self {
        Self::open(self.database.clone(), adjust).await
    }

    async fn open(database: std::rc::Rc<TestDatabase>, adjust: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = test_settings(&database);
        adjust(&mut settings);
        let state = AppState::new(settings).expect("app state");
        let service = test::init_service(beskplan::app(state.clone())).await;
        let service = boxed::service(service.map(|r: ServiceResponse<_>| r.map_into_boxed_body()));
        let mut app = TestApp { service, state, database, admin_token: String::new() };
        app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
        app
    }

    /// A token from the token endpoint.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let response = self
            .anonymous()
            .post("/api/v1/auth/token", &json!({"grant_type": "password", "username": username, "password": password}))
            .await
            .expect(200);
        response.json()["access_token"].as_str().unwrap().to_owned()
    }

    pub fn admin(&self) -> Client<'_> {
        Client { app: self, token: Some(self.admin_token.clone()) }
    }

    pub fn anonymous(&self) -> Client<'_> {
        Client { app: self, token: None }
    }

    pub fn with_token(&self, token: &str) -> Client<'_> {
        Client { app: self, token: Some(token.to_owned()) }
    }

    /// Creates a user through the API (as admin) and returns a token for it, minted with the
    /// service's own key (logging in costs a password hash; the token endpoint has its own tests).
    pub async fn user_token(&self, username: &str, role: &str, municipalities: &[&str], party: Option<&str>) -> String {
        let user = self
            .admin()
            .post(
                "/api/v1/users",
                &json!({"username": username, "role": role, "municipalities": municipalities, "party": party,
                        "password": "a-long-enough-password"}),
            )
            .await
            .expect(201)
            .json();
        let mut conn = self.state.pool.get().unwrap();
        let claims = beskplan::auth::tokens::VerifiedToken {
            claims: self.state.tokens.claims_for(&beskplan::auth::Caller {
                id: user["id"].as_str().unwrap().to_owned(),
                name: username.to_owned(),
                display_name: username.to_owned(),
                kind: beskplan::auth::PrincipalKind::User,
                role: beskplan::auth::Role::parse(role).unwrap(),
                municipalities: municipalities.iter().map(|m| m.to_string()).collect(),
                party: party.map(str::to_owned),
            }),
            external: false,
        };
        let caller = beskplan::auth::tokens::load_caller(&mut conn, claims.clone()).unwrap();
        assert_eq!(caller.name, username);
        self.state.tokens.sign(&claims.claims).unwrap()
    }

    // The shorthands below act as the bootstrap admin.

    pub async fn call(&self, request: TestRequest) -> Response {
        self.admin().call(request).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.admin().get(path).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.admin().post(path, body).await
    }

    pub async fn patch(&self, path: &str, if_match: Option<&str>, body: &Value) -> Response {
        self.admin().patch(path, if_match, body).await
    }

    pub async fn delete(&self, path: &str, if_match: Option<&str>) -> Response {
        self.admin().delete(path, if_match).await
    }

    /// Registers a municipality and returns it.
    pub async fn municipality(&self, code: &str, name: &str) -> Value {
        self.post("/api/v1/municipalities", &json!({"code": code, "name": name})).await.expect(201).json()
    }

    /// Registers the municipality when needed and creates a plan for it.
    pub async fn plan(&self, code: &str, year: i32) -> Value {
        if self.get(&format!("/api/v1/municipalities/{code}")).await.status == StatusCode::NOT_FOUND {
            self.municipality(code, &format!("Kommune {code}")).await;
        }
        self.post(
            "/api/v1/plans",
            &json!({"municipality": code, "year": year, "title": format!("Beskæftigelsesplan {year}")}),
        )
        .await
        .expect(201)
        .json()
    }

    /// Marks a plan adopted at version 1, as decisions will once they exist.
    pub fn force_adopted(&self, plan_id: &str) {
        self.force_state(plan_id, "adopted", Some(1), Some(1));
    }

    /// Sets a plan's status and version numbers directly, for tests of what they allow.
    pub fn force_state(&self, plan_id: &str, status: &str, latest: Option<i32>, adopted: Option<i32>) {
        use beskplan::db::schema::plans;
        use diesel::prelude::*;
        let mut conn = self.state.pool.get().unwrap();
        diesel::update(plans::table.find(plan_id))
            .set((plans::status.eq(status), plans::latest_version.eq(latest), plans::adopted_version.eq(adopted)))
            .execute(&mut *conn)
            .unwrap();
    }
}

impl TestApp {
    /// Moves a hearing's deadline into the past, as the clock would.
    pub fn force_deadline_passed(&self, hearing_id: &str) {
        use beskplan::db::schema::hearings;
        use diesel::prelude::*;
        let mut conn = self.state.pool.get().unwrap();
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
        diesel::update(hearings::table.find(hearing_id))
            .set((hearings::opens_at.eq(past - chrono::Duration::days(21)), hearings::closes_at.eq(past)))
            .execute(&mut *conn)
            .unwrap();
    }
}
