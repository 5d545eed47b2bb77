//! Operations endpoints, documentation, the OpenAPI file, and problem+json for routing errors.

use crate::common::TestApp;
use actix_web::test::TestRequest;

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::new().await;
    let health = app.get("/healthz").await.expect(200);
    assert_eq!(health.json()["status"], "ok");
    assert!(health.header("x-request-id").is_some_and(|id| !id.is_empty()));
    assert_eq!(app.get("/readyz").await.expect(200).json()["status"], "ok");
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern_and_status() {
    let app = TestApp::new().await;
    app.plan("185", 2017).await;
    app.get("/api/v1/plans/0193a4b2-7c1e-7d3a-9f00-1a2b3c4d5e6f").await.problem(404);
    let metrics = app.get("/metrics").await.expect(200).text();
    assert!(
        metrics.contains(r#"beskplan_http_requests_total{endpoint="/api/v1/plans",method="POST",status="201"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"beskplan_http_requests_total{endpoint="/api/v1/plans/{plan_id}",method="GET",status="404"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("beskplan_http_requests_duration_seconds_bucket"), "{metrics}");
}

#[actix_web::test]
async fn routing_errors_are_problems() {
    let app = TestApp::new().await;
    app.get("/nothing/here").await.problem(404);
    let response = app.call(TestRequest::delete().uri("/api/v1/plans")).await;
    assert_eq!(response.header("allow").as_deref(), Some("GET, POST"));
    response.problem(405);
    let response = app.call(TestRequest::put().uri("/api/v1/plans/0193a4b2-7c1e-7d3a-9f00-1a2b3c4d5e6f")).await;
    assert_eq!(response.header("allow").as_deref(), Some("GET, PATCH, DELETE"));
}

#[actix_web::test]
async fn docs_page_works_offline() {
    let app = TestApp::new().await;
    let page = app.get("/docs/").await.expect(200).text();
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(!page.contains("https://"), "the page must not load anything from the internet");
    let script = app.get("/docs/swagger-ui-bundle.js").await.expect(200);
    assert!(script.body.len() > 100_000, "the UI is served by the binary itself");
}

#[actix_web::test]
async fn served_openapi_document_is_the_committed_one() {
    let app = TestApp::new().await;
    let served = app.get("/openapi.json").await.expect(200).json();
    assert_eq!(served["openapi"].as_str().unwrap().get(..3), Some("3.1"));
    let generated: serde_json::Value = serde_json::to_value(beskplan::api::openapi()).unwrap();
    assert_eq!(served, generated);

    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(committed_path).unwrap_or_default();
    let fresh = beskplan::api::openapi().to_pretty_json().unwrap() + "\n";
    assert!(
        committed == fresh,
        "openapi/openapi.json is out of date with the code; refresh it with\n    cargo run -- openapi > openapi/openapi.json"
    );
}

#[actix_web::test]
async fn every_documented_operation_declares_its_problems() {
    let api = serde_json::to_value(beskplan::api::openapi()).unwrap();
    for (path, item) in api["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}");
            if method != "get" {
                assert!(
                    responses.keys().any(|status| status.starts_with('4')),
                    "{method} {path} documents no client error"
                );
            }
        }
    }
}

#[actix_web::test]
async fn cors_allows_configured_origins_only() {
    let app = TestApp::with_settings(|s| s.cors_origins = vec!["https://plan.example".into()]).await;
    let preflight = app
        .call(
            TestRequest::default()
                .method(actix_web::http::Method::OPTIONS)
                .uri("/api/v1/plans")
                .insert_header(("origin", "https://plan.example"))
                .insert_header(("access-control-request-method", "PATCH")),
        )
        .await;
    assert!(preflight.status.is_success(), "{preflight:?}");
    assert_eq!(preflight.header("access-control-allow-origin").as_deref(), Some("https://plan.example"));

    let response = app.call(TestRequest::get().uri("/healthz").insert_header(("origin", "https://plan.example"))).await;
    let exposed = response.header("access-control-expose-headers").unwrap().to_lowercase();
    for name in ["etag", "location", "link", "x-request-id"] {
        assert!(exposed.contains(name), "{exposed}");
    }

    let plain = TestApp::new().await;
    let response =
        plain.call(TestRequest::get().uri("/healthz").insert_header(("origin", "https://plan.example"))).await;
    assert_eq!(response.header("access-control-allow-origin"), None);
}
