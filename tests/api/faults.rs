//! Faults: the database server drops every connection (as a restart does). Requests meanwhile
//! answer 503 problem+json with `Retry-After`, never 500, and the service recovers by itself.
//! PostgreSQL only (an embedded SQLite file has no server to lose).

use crate::common::TestApp;
use futures::future::join_all;
use serde_json::json;

#[actix_web::test]
async fn a_database_that_drops_its_connections_is_survived_with_503s_and_recovery() {
    let app = TestApp::new().await;
    if !app.database.is_postgres() {
        eprintln!("skipped: needs TEST_DATABASE_URL (PostgreSQL)");
        return;
    }
    let plan = app.plan("185", 2017).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    // Several pooled connections, all of which will die.
    join_all((0..8).map(|_| app.get(&path))).await.iter().for_each(|r| assert_eq!(r.status, 200));
    assert!(app.database.drop_server_connections() >= 2, "the pool held several connections");

    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = app.get(&path).await;
        if response.status == 503 {
            assert!(response.header("retry-after").is_some(), "503 says when to retry");
            response.problem(503);
            statuses.push(503);
        } else {
            statuses.push(response.expect(200).status.as_u16());
        }
    }
    assert!(statuses.iter().all(|s| *s == 200 || *s == 503), "{statuses:?}");
    assert!(
        statuses.iter().filter(|s| **s == 503).count() <= 1,
        "dead connections are tested and replaced: {statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");

    // Writes work again too, in parallel, on fresh connections.
    let goals = format!("{path}/goals");
    let bodies: Vec<_> = (0..4).map(|i| json!({"title": format!("Mål {i}"), "kind": "local"})).collect();
    let writes = join_all(bodies.iter().map(|body| app.post(&goals, body))).await;
    assert!(writes.iter().all(|r| r.status == 201), "{:?}", writes.iter().map(|r| r.status).collect::<Vec<_>>());
}

#[actix_web::test]
async fn parallel_requests_after_the_drop_never_answer_500() {
    let app = TestApp::new().await;
    if !app.database.is_postgres() {
        eprintln!("skipped: needs TEST_DATABASE_URL (PostgreSQL)");
        return;
    }
    let plan = app.plan("185", 2017).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    join_all((0..8).map(|_| app.get(&path))).await;
    app.database.drop_server_connections();
    let statuses: Vec<u16> =
        join_all((0..16).map(|_| app.get(&path))).await.iter().map(|r| r.status.as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 200 || *s == 503), "{statuses:?}");
    assert_eq!(app.get(&path).await.status, 200, "recovered");
}
