//! The audit log: each successful change is recorded with actor, action, entity, request id and
//! before/after; refused changes leave no record.

use crate::common::TestApp;
use serde_json::{json, Value};

async fn entries(app: &TestApp, query: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/audit?{query}")).await.expect(200).json()["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn every_mutation_is_recorded_with_before_and_after() {
    let app = TestApp::new().await;
    app.municipality("185", "Tårnby Kommune").await;
    let token = app.user_token("planner.taarnby", "planner", &["185"], None).await;
    let planner = app.with_token(&token);

    let created = planner
        .post("/api/v1/plans", &json!({"municipality": "185", "year": 2017, "title": "Beskæftigelsesplan 2017"}))
        .await
        .expect(201);
    let request_id = created.header("x-request-id").unwrap();
    let plan = created.json();
    let id = plan["id"].as_str().unwrap();
    let path = format!("/api/v1/plans/{id}");
    let updated = planner
        .patch(
            &path,
            Some(plan["etag"].as_str().unwrap()),
            &json!({"title": "Beskæftigelsesplan 2017 for Tårnby og Dragør"}),
        )
        .await
        .expect(200)
        .json();
    planner.delete(&path, Some(updated["etag"].as_str().unwrap())).await.expect(204);

    let log = entries(&app, &format!("entity_type=plan&entity_id={id}")).await;
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["delete", "update", "create"], "newest first");
    for entry in &log {
        assert_eq!(entry["actor"], "planner.taarnby");
        assert_eq!(entry["entity_type"], "plan");
        assert!(entry["at"].as_str().unwrap().ends_with('Z'));
    }
    let (delete, update, create) = (&log[0], &log[1], &log[2]);
    assert_eq!(create["request_id"], request_id, "the record names the request that made the change");
    assert_eq!(create["before"], Value::Null);
    assert_eq!(create["after"], plan);
    assert_eq!(update["before"]["title"], "Beskæftigelsesplan 2017");
    assert_eq!(update["after"]["title"], "Beskæftigelsesplan 2017 for Tårnby og Dragør");
    assert_eq!(delete["before"], updated);
    assert_eq!(delete["after"], Value::Null);

    let municipality = entries(&app, "entity_type=municipality&entity_id=185").await;
    assert_eq!(municipality.len(), 1);
    assert_eq!(municipality[0]["actor"], "admin");
    app.patch("/api/v1/municipalities/185", Some("*"), &json!({"name": "Tårnby"})).await.expect(200);
    let municipality = entries(&app, "entity_type=municipality&entity_id=185").await;
    assert_eq!(municipality[0]["before"]["name"], "Tårnby Kommune");
    assert_eq!(municipality[0]["after"]["name"], "Tårnby");
    let users = entries(&app, "entity_type=user&actor=admin").await;
    assert_eq!(users[0]["action"], "create");
    assert_eq!(users[0]["after"]["username"], "planner.taarnby");
    assert!(!users[0].to_string().contains("argon2"), "no password hash in the log");
}

#[actix_web::test]
async fn refused_changes_leave_no_record() {
    let app = TestApp::new().await;
    let plan = app.plan("185", 2017).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    let before = entries(&app, "limit=500").await.len();
    app.patch(&path, Some("\"0\""), &json!({"title": "Forældet"})).await.problem(412);
    app.patch(&path, Some("*"), &json!({"year": 1900})).await.problem(422);
    app.post("/api/v1/plans", &json!({"municipality": "185", "year": 2017, "title": "Dublet"})).await.problem(409);
    app.anonymous().delete(&path, Some("*")).await.problem(401);
    assert_eq!(entries(&app, "limit=500").await.len(), before);
}

#[actix_web::test]
async fn filters_and_paging() {
    let app = TestApp::new().await;
    let start = chrono::Utc::now();
    for year in 2015..=2017 {
        app.plan("849", year).await;
    }
    let plans = entries(&app, "entity_type=plan").await;
    assert_eq!(plans.len(), 3);
    let since = app.get(&format!("/api/v1/audit?since={}", urlencode(&start.to_rfc3339()))).await.expect(200).json();
    assert_eq!(since["total"], 4, "the municipality and three plans");
    let page = app.get("/api/v1/audit?entity_type=plan&limit=2").await.expect(200);
    assert!(page.header("link").unwrap().contains("rel=\"next\""));
    assert_eq!(page.json()["total"], 3);
    app.get("/api/v1/audit?since=yesterday").await.problem(400);
    assert!(entries(&app, "actor=nobody").await.is_empty());
}

/// Read page by page with `after`, the audit log neither repeats nor skips entries while new
/// ones are recorded (newest first, so an offset would repeat the ones pushed down).
#[actix_web::test]
async fn cursor_pages_neither_skip_nor_repeat_under_inserts() {
    let app = TestApp::new().await;
    for year in 2010..2015 {
        app.plan("849", year).await;
    }
    let before: Vec<Value> = entries(&app, "limit=500").await;
    let first = app.get("/api/v1/audit?limit=2").await.expect(200);
    let link = first.header("link").unwrap();
    let first = first.json();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    assert!(link.contains(&format!("after={cursor}")) && !link.contains("offset="), "{link}");

    // New entries arrive at the top while the client reads on.
    for year in 2015..2018 {
        app.plan("849", year).await;
    }
    let mut seen: Vec<Value> = first["items"].as_array().unwrap().clone();
    let mut after = Some(cursor);
    while let Some(cursor) = after {
        let page = app.get(&format!("/api/v1/audit?limit=2&after={cursor}")).await.expect(200).json();
        seen.extend(page["items"].as_array().unwrap().iter().cloned());
        after = page["next_cursor"].as_str().map(str::to_owned);
        if after.is_none() {
            assert!(page.get("next_cursor").is_none(), "the last page has no cursor: {page}");
        }
    }
    assert_eq!(seen, before, "every entry that existed at the first page, once, in order");

    // A cursor is opaque: one the list did not make is refused. An offset counts from it.
    app.get("/api/v1/audit?after=0193a4b2-7c1e-7d3a-9f00-1a2b3c4d5e6f").await.problem(422);
    let skipped =
        app.get(&format!("/api/v1/audit?limit=1&offset=1&after={}", first["next_cursor"].as_str().unwrap())).await;
    assert_eq!(skipped.expect(200).json()["items"][0], before[3]);
    // Paged by offset, the page links back as well as on.
    let middle = app.get("/api/v1/audit?limit=2&offset=2").await.expect(200);
    let link = middle.header("link").unwrap();
    assert!(link.contains("rel=\"next\"") && link.contains("offset=0") && link.contains("rel=\"prev\""), "{link}");
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[actix_web::test]
async fn a_change_whose_audit_record_fails_is_rolled_back() {
    use diesel::RunQueryDsl;
    let app = TestApp::new().await;
    let plan = app.plan("185", 2017).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    {
        let mut conn = app.state.pool.get().unwrap();
        diesel::sql_query("ALTER TABLE audit_log RENAME TO audit_log_elsewhere").execute(&mut *conn).unwrap();
    }
    let problem = app.patch(&path, Some("*"), &json!({"title": "Uden revisionsspor"})).await.problem(500);
    assert!(!problem["detail"].as_str().unwrap().contains("audit_log"), "no internals in the answer: {problem}");
    app.post("/api/v1/plans", &json!({"municipality": "185", "year": 2018, "title": "Ny"})).await.problem(500);
    let unchanged = app.get(&path).await.expect(200).json();
    assert_eq!(unchanged, plan, "the change did not happen without its record");
    assert_eq!(app.get("/api/v1/plans").await.expect(200).json()["total"], 1);
}
