//! Reads never write: a plan in hearing whose deadline has passed shows `draft` on every read
//! path, with the revision the settling will store, and the stored row changes only when a write
//! or the sweep persists it.

use crate::common::TestApp;
use serde_json::json;

fn stored_status(app: &TestApp, plan_id: &str) -> (String, i64) {
    use beskplan::db::schema::plans;
    use diesel::prelude::*;
    let mut conn = app.state.pool.get().unwrap();
    plans::table.find(plan_id).select((plans::status, plans::revision)).first(&mut *conn).unwrap()
}

/// A plan in hearing whose only hearing's deadline has just passed.
async fn past_hearing(app: &TestApp) -> String {
    let plan = app.plan("173", 2019).await;
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/plans/{plan_id}/versions"), &json!({"label": "Udkast"})).await.expect(201);
    let closes_at = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let hearing = app
        .post(
            &format!("/api/v1/plans/{plan_id}/hearings"),
            &json!({"version": 1, "title": "Høring", "closes_at": closes_at, "parties": ["Handicaprådet"]}),
        )
        .await
        .expect(201)
        .json();
    app.force_deadline_passed(hearing["id"].as_str().unwrap());
    plan_id
}

#[actix_web::test]
async fn a_plan_past_its_hearing_reads_as_draft_everywhere_without_being_written() {
    let app = TestApp::new().await;
    let plan_id = past_hearing(&app).await;
    let (status, revision) = stored_status(&app, &plan_id);
    assert_eq!(status, "in_hearing");

    let item = app.get(&format!("/api/v1/plans/{plan_id}")).await.expect(200);
    let shown = item.json();
    assert_eq!(shown["status"], "draft");
    assert_eq!(item.etag(), format!("\"{}\"", revision + 1), "the revision the settling will store");
    let list = app.get("/api/v1/plans").await.expect(200).json();
    assert_eq!(list["items"][0]["status"], "draft");
    assert_eq!(list["items"][0]["etag"], shown["etag"]);
    assert_eq!(app.get("/api/v1/plans?status=draft").await.json()["total"], 1);
    assert_eq!(app.get("/api/v1/plans?status=in_hearing").await.json()["total"], 0);
    for path in ["readiness", "sections", "goals", "hearings", "versions", "decisions"] {
        app.get(&format!("/api/v1/plans/{plan_id}/{path}")).await.expect(200);
    }
    assert_eq!(stored_status(&app, &plan_id), ("in_hearing".to_owned(), revision), "no read wrote");

    // The ETag a reader saw is good for a change: the write persists the settling first.
    let changed = app.patch(&format!("/api/v1/plans/{plan_id}"), Some(&item.etag()), &json!({"summary": "Ny"})).await;
    let changed = changed.expect(200).json();
    assert_eq!(changed["status"], "draft");
    assert_eq!(changed["etag"], format!("\"{}\"", revision + 2));
    assert_eq!(stored_status(&app, &plan_id), ("draft".to_owned(), revision + 2));
    let log = app.get(&format!("/api/v1/audit?entity_type=plan&entity_id={plan_id}")).await.expect(200).json();
    let actors: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert!(actors.contains(&"system"), "the settling is recorded as the system's: {actors:?}");
}

#[actix_web::test]
async fn the_sweep_stores_exactly_what_readers_saw() {
    let app = TestApp::new().await;
    let plan_id = past_hearing(&app).await;
    let seen = app.get(&format!("/api/v1/plans/{plan_id}")).await.expect(200).json();
    let mut conn = app.state.pool.get().unwrap();
    assert_eq!(beskplan::api::plan_state::settle_all(&mut conn).unwrap(), 1);
    assert_eq!(beskplan::api::plan_state::settle_all(&mut conn).unwrap(), 0);
    drop(conn);
    let after = app.get(&format!("/api/v1/plans/{plan_id}")).await.expect(200).json();
    assert_eq!(after, seen, "the representation did not change when the settling was stored");
}
