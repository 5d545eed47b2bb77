//! `Idempotency-Key`: a retried POST returns the first response and creates nothing new.

use crate::common::{self, TestApp};
use actix_web::test::TestRequest;
use serde_json::{json, Value};

fn post_with_key(path: &str, key: &str, body: &Value) -> TestRequest {
    TestRequest::post().uri(path).insert_header(("idempotency-key", key)).set_json(body)
}

async fn plan_count(app: &TestApp) -> i64 {
    app.get("/api/v1/plans").await.expect(200).json()["total"].as_i64().unwrap()
}

#[actix_web::test]
async fn a_retry_returns_the_first_response_and_creates_nothing() {
    let app = TestApp::new().await;
    app.municipality("201", "Allerød Kommune").await;
    let body = json!({"municipality": "201", "year": 2017, "title": "Beskæftigelsesplan 2017"});
    let first = app.call(post_with_key("/api/v1/plans", "plan-2017-alleroed-1", &body)).await.expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let retry = app.call(post_with_key("/api/v1/plans", "plan-2017-alleroed-1", &body)).await.expect(201);
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(retry.body, first.body);
    for header in ["location", "etag", "content-type"] {
        assert_eq!(retry.header(header), first.header(header), "{header}");
    }
    assert_eq!(plan_count(&app).await, 1);
    let audit = app.get("/api/v1/audit?entity_type=plan").await.expect(200).json();
    assert_eq!(audit["total"], 1, "the retry changed nothing");

    // Without a key the same body is a new request, refused as a duplicate.
    app.post("/api/v1/plans", &body).await.problem(409);
}

#[actix_web::test]
async fn the_same_key_with_another_body_is_refused() {
    let app = TestApp::new().await;
    app.municipality("201", "Allerød Kommune").await;
    let first = json!({"municipality": "201", "year": 2017, "title": "Beskæftigelsesplan 2017"});
    app.call(post_with_key("/api/v1/plans", "k1", &first)).await.expect(201);
    let other = json!({"municipality": "201", "year": 2018, "title": "Beskæftigelsesplan 2018"});
    let problem = app.call(post_with_key("/api/v1/plans", "k1", &other)).await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    // The same key on another route is another request too.
    app.call(post_with_key("/api/v1/municipalities", "k1", &json!({"code": "165", "name": "Albertslund Kommune"})))
        .await
        .problem(422);
    assert_eq!(plan_count(&app).await, 1);
}

#[actix_web::test]
async fn a_failed_request_releases_its_key() {
    let app = TestApp::new().await;
    app.municipality("201", "Allerød Kommune").await;
    let bad = json!({"municipality": "201", "year": 1999, "title": "Beskæftigelsesplan"});
    app.call(post_with_key("/api/v1/plans", "k2", &bad)).await.problem(422);
    let good = json!({"municipality": "201", "year": 2017, "title": "Beskæftigelsesplan"});
    app.call(post_with_key("/api/v1/plans", "k2", &good)).await.expect(201);
}

#[actix_web::test]
async fn keys_are_per_caller_and_survive_a_restart() {
    let app = TestApp::new().await;
    app.municipality("185", "Tårnby Kommune").await;
    let planner = app.user_token("planner.taarnby", "planner", &["185"], None).await;
    let body = json!({"municipality": "185", "year": 2017, "title": "Beskæftigelsesplan 2017"});
    let first = app.with_token(&planner).call(post_with_key("/api/v1/plans", "shared-key", &body)).await.expect(201);
    // Another caller's identical key and body is its own request: here a duplicate plan.
    app.call(post_with_key("/api/v1/plans", "shared-key", &body)).await.problem(409);

    let restarted = app.reopen().await;
    let retry =
        restarted.with_token(&planner).call(post_with_key("/api/v1/plans", "shared-key", &body)).await.expect(201);
    assert_eq!(retry.body, first.body);
    assert_eq!(plan_count(&restarted).await, 1);
}

#[actix_web::test]
async fn malformed_keys_and_exempt_routes() {
    let app = TestApp::new().await;
    let long = "k".repeat(256);
    let municipality = json!({"code": "185", "name": "Tårnby"});
    app.call(post_with_key("/api/v1/municipalities", &long, &municipality)).await.problem(400);
    let non_ascii = TestRequest::post()
        .uri("/api/v1/municipalities")
        .insert_header((
            "idempotency-key",
            actix_web::http::header::HeaderValue::from_bytes("tårnby".as_bytes()).unwrap(),
        ))
        .set_json(&municipality);
    app.call(non_ascii).await.problem(400);
    // The token endpoint hands out fresh tokens every time: never replayed.
    let login = json!({"grant_type": "password", "username": "admin", "password": common::ADMIN_PASSWORD});
    let a = app.anonymous().call(post_with_key("/api/v1/auth/token", "login", &login)).await.expect(200);
    let b = app.anonymous().call(post_with_key("/api/v1/auth/token", "login", &login)).await.expect(200);
    assert_ne!(a.json()["access_token"], b.json()["access_token"]);
    // Anonymous callers cannot claim keys; they get the handler's 401.
    app.anonymous().call(post_with_key("/api/v1/plans", "anon", &json!({}))).await.problem(401);
}
