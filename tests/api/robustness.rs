//! Concurrency, hostile input, and the cost of reads in SQL statements.

use crate::common::{self, TestApp};
use actix_web::test::TestRequest;
use futures::future::join_all;
use serde_json::{json, Value};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn of_fifty_patches_with_one_etag_exactly_one_wins() {
    let app = TestApp::new().await;
    let plan = app.plan("185", 2017).await;
    let path = format!("/api/v1/plans/{}", id(&plan));
    let etag = plan["etag"].as_str().unwrap().to_owned();
    let responses = join_all((0..50).map(|i| {
        app.call(
            TestRequest::patch()
                .uri(&path)
                .insert_header(("if-match", etag.as_str()))
                .set_json(json!({"summary": format!("Udgave {i}")})),
        )
    }))
    .await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 49, "{statuses:?}");
    let after = app.get(&path).await.expect(200).json();
    assert_eq!(after["etag"], "\"2\"");
    let audit = app.get(&format!("/api/v1/audit?entity_type=plan&entity_id={}", id(&plan))).await.expect(200).json();
    assert_eq!(audit["total"], 2, "one create, one update");
}

#[actix_web::test]
async fn parallel_versions_get_distinct_numbers() {
    let app = TestApp::new().await;
    let plan = app.plan("201", 2017).await;
    let path = format!("/api/v1/plans/{}/versions", id(&plan));
    let responses =
        join_all((0..12).map(|i| app.call(TestRequest::post().uri(&path).set_json(json!({"label": format!("v{i}")})))))
            .await;
    let mut numbers: Vec<i64> = responses.iter().map(|r| r.json()["number"].as_i64().expect("created")).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=12).collect::<Vec<_>>());
    assert_eq!(app.get(&format!("/api/v1/plans/{}", id(&plan))).await.json()["latest_version"], 12);
}

#[actix_web::test]
async fn parallel_positions_stay_contiguous() {
    let app = TestApp::new().await;
    let plan = app.plan("849", 2015).await;
    let path = format!("/api/v1/plans/{}/goals", id(&plan));
    let responses = join_all((0..20).map(|i| {
        app.call(
            TestRequest::post()
                .uri(&path)
                .set_json(json!({"title": format!("Mål {i}"), "kind": "local", "position": 0})),
        )
    }))
    .await;
    assert!(responses.iter().all(|r| r.status == 201));
    let goals = app.get(&format!("{path}?limit=500")).await.json();
    let positions: Vec<i64> =
        goals["items"].as_array().unwrap().iter().map(|g| g["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, (0..20).collect::<Vec<_>>());
}

#[actix_web::test]
async fn comments_racing_the_close_are_accepted_or_refused_never_half_stored() {
    let app = TestApp::new().await;
    app.municipality("173", "Lyngby-Taarbæk Kommune").await;
    let consultee = app.user_token("handicapraadet", "consultee", &["173"], Some("Handicaprådet")).await;
    let plan = app.plan("173", 2019).await;
    let plan_path = format!("/api/v1/plans/{}", id(&plan));
    app.post(&format!("{plan_path}/versions"), &json!({"label": "Udkast"})).await.expect(201);
    let closes_at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let hearing = app
        .post(
            &format!("{plan_path}/hearings"),
            &json!({"version": 1, "title": "Høring", "closes_at": closes_at, "parties": ["Handicaprådet"]}),
        )
        .await
        .expect(201)
        .json();
    let comments_path = format!("/api/v1/hearings/{}/comments", id(&hearing));
    let close_path = format!("/api/v1/hearings/{}/close", id(&hearing));
    let client = app.with_token(&consultee);
    let comment_posts = (0..30).map(|i| {
        client.call(TestRequest::post().uri(&comments_path).set_json(json!({"body": format!("Bemærkning {i}")})))
    });
    let mut requests: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = common::Response> + '_>>> =
        comment_posts.map(|f| Box::pin(f) as _).collect();
    requests.insert(15, Box::pin(app.call(TestRequest::post().uri(&close_path).set_json(json!({})))));
    let responses = join_all(requests).await;
    let accepted = responses.iter().filter(|r| r.status == 201).count();
    let refused = responses.iter().filter(|r| r.status == 409).count();
    assert_eq!(accepted + refused, 30 + 1 - 1, "every comment is either accepted or refused; the close succeeded");
    let stored = app.get(&format!("{comments_path}?limit=500")).await.json();
    assert_eq!(stored["total"], accepted, "exactly the accepted comments are stored");
    let audit = app.get("/api/v1/audit?entity_type=comment&limit=500").await.json();
    assert_eq!(audit["total"], accepted, "each with its audit record");
}

#[actix_web::test]
async fn hostile_bodies_get_clear_answers() {
    let app = TestApp::with_settings(|s| s.body_limit = 64 * 1024).await;
    app.municipality("185", "Tårnby Kommune").await;
    let post_raw = |body: Vec<u8>| {
        app.call(
            TestRequest::post()
                .uri("/api/v1/plans")
                .insert_header(("content-type", "application/json"))
                .set_payload(body),
        )
    };
    // Oversized.
    let big = format!(r#"{{"municipality":"185","year":2017,"title":"{}"}}"#, "x".repeat(100_000));
    post_raw(big.into_bytes()).await.problem(413);
    // Deeply nested.
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    post_raw(nested.into_bytes()).await.problem(400);
    let nested_field = format!(
        r#"{{"municipality":"185","year":2017,"title":"T","summary":{}1{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    post_raw(nested_field.into_bytes()).await.problem(400);
    // Invalid UTF-8, and NUL characters, which PostgreSQL cannot store.
    post_raw(b"{\"municipality\":\"185\",\"year\":2017,\"title\":\"\xc3\x28\"}".to_vec()).await.problem(400);
    let problem = app
        .post("/api/v1/plans", &json!({"municipality": "185", "year": 2017, "title": "Plan\u{0}"}))
        .await
        .problem(422);
    assert_eq!(common::error_fields(&problem), ["title"]);
    app.get("/api/v1/plans?municipality=18%005").await.problem(400);
    // SQL-looking text is only text.
    let sql = "Robert'); DROP TABLE plans; --";
    let plan =
        app.post("/api/v1/plans", &json!({"municipality": "185", "year": 2017, "title": sql})).await.expect(201).json();
    assert_eq!(app.get(&format!("/api/v1/plans/{}", id(&plan))).await.json()["title"], sql);
    assert_eq!(
        app.get(&format!("/api/v1/plans?municipality={}", "185%27%20OR%20%271%27%3D%271")).await.json()["total"],
        0
    );
    assert_eq!(app.get("/api/v1/plans").await.json()["total"], 1);
    // HTML in text fields comes out escaped in the rendered document.
    let plan_path = format!("/api/v1/plans/{}", id(&plan));
    app.post(&format!("{plan_path}/goals"), &json!({"title": "<iframe src=//evil></iframe>", "kind": "local", "initiatives": ["<b onmouseover=alert(1)>x</b>"]})).await.expect(201);
    app.post(&format!("{plan_path}/versions"), &json!({"label": "<script>"})).await.expect(201);
    let html = app.get(&format!("{plan_path}/versions/1/document")).await.expect(200).text();
    assert!(!html.contains("<iframe") && !html.contains("<b onmouseover") && !html.contains("<script>"), "{html}");
    assert!(html.contains("&#60;iframe src=//evil&#62;&#60;/iframe&#62;"), "shown as text");
    // Paging out of range.
    app.get("/api/v1/plans?limit=1000000").await.problem(422);
    app.get("/api/v1/plans?offset=-5").await.problem(422);
    let far = app.get("/api/v1/plans?offset=9223372036854775807").await.expect(200);
    assert_eq!(far.json()["items"].as_array().unwrap().len(), 0);
    assert!(far.header("link").is_some_and(|l| !l.contains("next")));
    // Odd paths and methods.
    app.get(&format!("/api/v1/plans/{}", "x".repeat(5000))).await.problem(404);
    app.get("/api/v1/plans/%00").await.problem(400);
    app.call(TestRequest::default().method(actix_web::http::Method::from_bytes(b"BREW").unwrap()).uri("/api/v1/plans"))
        .await
        .problem(405);
}

#[actix_web::test]
async fn reads_cost_the_same_statements_whatever_the_plan_size() {
    let app = TestApp::new().await;
    let mut costs = Vec::new();
    for (year, goals) in [(2017, 2), (2018, 40)] {
        let plan = app.plan("185", year).await;
        let plan_path = format!("/api/v1/plans/{}", id(&plan));
        for i in 0..goals {
            let goal = app
                .post(&format!("{plan_path}/goals"), &json!({"title": format!("Mål {i}"), "kind": "local"}))
                .await
                .json();
            app.post(
                &format!("/api/v1/goals/{}/requirements", id(&goal)),
                &json!({"statement": "s", "indicator": "i", "unit": "count", "comparator": "at_most", "target": {"value": 5, "due": "2019-12-31"}}),
            )
            .await
            .expect(201);
        }
        app.post(&format!("{plan_path}/versions"), &json!({"label": "1"})).await.expect(201);
        let version = app.statements_for(&format!("{plan_path}/versions/1")).await;
        let cached = app.statements_for(&format!("{plan_path}/versions/1")).await;
        let report = app.statements_for(&format!("{plan_path}/follow-up")).await;
        costs.push((version, cached, report));
    }
    assert_eq!(
        costs[0], costs[1],
        "statements for (version read, cached version read, follow-up report) grow with the plan"
    );
    assert!(costs[0].1 <= costs[0].0, "{costs:?}");
}
