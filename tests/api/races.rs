//! Races on every write path: many requests at once on one resource, as two browser tabs, a retry
//! storm or two integrations would send them. Each test fires its requests together (their
//! database work runs on blocking threads, so it really overlaps) and then checks what must hold
//! whatever the interleaving: one winner per ETag, ETags and audit records that moved exactly once,
//! positions that stay `0..n-1`, and workflow states that agree with what is public.

use crate::common::{Client, Response, TestApp};
use actix_web::test::TestRequest;
use futures::future::join_all;
use serde_json::{json, Value};

/// How many requests race in the ETag races.
const N: usize = 20;
/// How many times each race is run: a lost update needs two requests to overlap in a window of a
/// few statements, which one round of `N` does not always produce.
const ROUNDS: usize = 3;

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

/// The revision an ETag stands for: mutable resources carry `"n"`, counting their changes.
#[track_caller]
fn revision(etag: &str) -> i64 {
    etag.trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .unwrap_or_else(|_| panic!("ETag {etag} is not a revision number"))
}

fn statuses(responses: &[Response]) -> Vec<u16> {
    responses.iter().map(|r| r.status.as_u16()).collect()
}

/// Sends all the requests at once, as one caller; the responses in the same order.
async fn all_at_once(client: &Client<'_>, requests: Vec<TestRequest>) -> Vec<Response> {
    join_all(requests.into_iter().map(|r| client.call(r))).await
}

/// Sends `n` requests at once, each with the same `If-Match`.
async fn with_one_etag(
    client: &Client<'_>,
    n: usize,
    etag: &str,
    make: impl Fn(usize) -> TestRequest,
) -> Vec<Response> {
    all_at_once(client, (0..n).map(|i| make(i).insert_header(("if-match", etag))).collect()).await
}

/// Checks that exactly one request succeeded (2xx) and every other one got one of `losers`;
/// returns the winner's index.
#[track_caller]
fn one_winner(what: &str, statuses: &[u16], losers: &[u16]) -> usize {
    let winners: Vec<usize> = (0..statuses.len()).filter(|&i| (200..300).contains(&statuses[i])).collect();
    assert_eq!(winners.len(), 1, "{what}: exactly one request must succeed; statuses {statuses:?}");
    assert!(
        statuses.iter().all(|s| (200..300).contains(s) || losers.contains(s)),
        "{what}: the others must answer one of {losers:?}; statuses {statuses:?}"
    );
    winners[0]
}

/// Checks that every request succeeded.
#[track_caller]
fn all_succeeded(what: &str, statuses: &[u16]) {
    assert!(
        statuses.iter().all(|s| (200..300).contains(s)),
        "{what}: every request must succeed; statuses {statuses:?}"
    );
}

/// A resource as the audit log names it.
struct Entity {
    kind: &'static str,
    id: String,
}

impl Entity {
    fn new(kind: &'static str, id: impl Into<String>) -> Self {
        Entity { kind, id: id.into() }
    }
}

/// How many audit records of `action` the entity has.
async fn audited(app: &TestApp, entity: &Entity, action: &str) -> usize {
    let log = app
        .get(&format!("/api/v1/audit?entity_type={}&entity_id={}&limit=500", entity.kind, entity.id))
        .await
        .expect(200)
        .json();
    log["items"].as_array().unwrap().iter().filter(|e| e["action"] == action).count()
}

/// The current ETag of what `path` reads (as admin).
async fn etag_of(app: &TestApp, path: &str) -> String {
    app.get(path).await.expect(200).etag()
}

/// What one round of an update race left behind: which request won, and the resource as it
/// reads afterwards.
struct Won {
    index: usize,
    after: Value,
}

/// `ROUNDS` rounds of `N` updates at once, all with the resource's current ETag (`make(i)` builds
/// the i-th, without `If-Match`; `i` counts on across rounds): in each, exactly one succeeds and
/// the rest get 412; afterwards the ETag is one revision further, the winner answered with that
/// ETag, and the audit log holds exactly one more `action` record for the entity. `read` is where
/// the resource and its ETag are read.
async fn update_race(
    app: &TestApp,
    client: &Client<'_>,
    read: &str,
    entity: Entity,
    action: &str,
    make: impl Fn(usize) -> TestRequest,
) -> Vec<Won> {
    let mut won = Vec::new();
    for round in 0..ROUNDS {
        let before = etag_of(app, read).await;
        let audited_before = audited(app, &entity, action).await;
        let responses = with_one_etag(client, N, &before, |i| make(round * N + i)).await;
        let statuses = statuses(&responses);
        let what = format!("{N} updates of {} {} with ETag {before}", entity.kind, entity.id);
        let index = one_winner(&what, &statuses, &[412]);
        let now = app.get(read).await.expect(200);
        let after = now.etag();
        assert_eq!(revision(&after), revision(&before) + 1, "{what}: the ETag moves one step; statuses {statuses:?}");
        assert_eq!(responses[index].etag(), after, "{what}: the winner's ETag is the current one");
        assert_eq!(
            audited(app, &entity, action).await,
            audited_before + 1,
            "{what}: exactly one '{action}' audit record; statuses {statuses:?}"
        );
        won.push(Won { index: round * N + index, after: now.json() });
    }
    won
}

/// `N` DELETEs at once of the resource at `path`, with its current ETag: exactly one succeeds,
/// the rest get 412 or 404 (or one of `also`), and the audit log holds exactly one more `action`
/// record for the entity.
async fn delete_race(app: &TestApp, client: &Client<'_>, path: &str, entity: Entity, action: &str, also: &[u16]) {
    let etag = etag_of(app, path).await;
    let audited_before = audited(app, &entity, action).await;
    let responses = with_one_etag(client, N, &etag, |_| TestRequest::delete().uri(path)).await;
    let statuses = statuses(&responses);
    let what = format!("{N} DELETEs of {} {} with ETag {etag}", entity.kind, entity.id);
    let losers: Vec<u16> = [412, 404].iter().chain(also).copied().collect();
    one_winner(&what, &statuses, &losers);
    assert_eq!(
        audited(app, &entity, action).await,
        audited_before + 1,
        "{what}: exactly one '{action}' audit record; statuses {statuses:?}"
    );
}

fn patch(path: &str, body: Value) -> TestRequest {
    TestRequest::patch().uri(path).set_json(body)
}

fn post(path: &str, body: Value) -> TestRequest {
    TestRequest::post().uri(path).set_json(body)
}

fn requirement(i: usize) -> Value {
    json!({"statement": format!("Krav {i}: højst 80 sager over 52 uger"), "indicator": "Sager over 52 uger",
           "unit": "count", "comparator": "at_most", "target": {"value": 80, "due": "2015-12-31"}})
}

/// A plan with one goal, for the content under a goal.
async fn goal(app: &TestApp) -> String {
    let plan = app.plan("849", 2015).await;
    let goal = app
        .post(&format!("/api/v1/plans/{}/goals", id(&plan)), &json!({"title": "Sygedagpengeområdet", "kind": "local"}))
        .await
        .expect(201)
        .json();
    id(&goal)
}

// ---- ETag races: updates ----

#[actix_web::test]
async fn plan_updates_race() {
    let app = TestApp::new().await;
    let plan = id(&app.plan("185", 2017).await);
    let path = format!("/api/v1/plans/{plan}");
    let rounds = update_race(&app, &app.admin(), &path, Entity::new("plan", &plan), "update", |i| {
        patch(&path, json!({"summary": format!("Udgave {i}")}))
    })
    .await;
    for won in rounds {
        assert_eq!(won.after["summary"], format!("Udgave {}", won.index), "the winner's change is the one stored");
    }
}

#[actix_web::test]
async fn municipality_updates_race() {
    let app = TestApp::new().await;
    app.municipality("185", "Tårnby Kommune").await;
    let path = "/api/v1/municipalities/185";
    let rounds = update_race(&app, &app.admin(), path, Entity::new("municipality", "185"), "update", |i| {
        patch(path, json!({"name": format!("Tårnby Kommune {i}")}))
    })
    .await;
    for won in rounds {
        assert_eq!(won.after["name"], format!("Tårnby Kommune {}", won.index));
    }
}

#[actix_web::test]
async fn user_updates_race() {
    let app = TestApp::new().await;
    app.municipality("185", "Tårnby Kommune").await;
    let user = app
        .post(
            "/api/v1/users",
            &json!({"username": "planner.taarnby", "role": "planner", "municipalities": ["185"], "password": "a-long-enough-password"}),
        )
        .await
        .expect(201)
        .json();
    let path = format!("/api/v1/users/{}", id(&user));
    let rounds = update_race(&app, &app.admin(), &path, Entity::new("user", id(&user)), "update", |i| {
        patch(&path, json!({"display_name": format!("Planlægger {i}")}))
    })
    .await;
    for won in rounds {
        assert_eq!(won.after["display_name"], format!("Planlægger {}", won.index));
    }
}

#[actix_web::test]
async fn section_updates_race() {
    let app = TestApp::new().await;
    let plan = id(&app.plan("185", 2017).await);
    let section = app
        .post(&format!("/api/v1/plans/{plan}/sections"), &json!({"heading": "Indledning", "body": "Tekst"}))
        .await
        .expect(201)
        .json();
    let path = format!("/api/v1/sections/{}", id(&section));
    let rounds = update_race(&app, &app.admin(), &path, Entity::new("section", id(&section)), "update", |i| {
        patch(&path, json!({"heading": format!("Indledning {i}")}))
    })
    .await;
    for won in rounds {
        assert_eq!(won.after["heading"], format!("Indledning {}", won.index));
    }
}

#[actix_web::test]
async fn focus_area_updates_race() {
    let app = TestApp::new().await;
    let plan = id(&app.plan("173", 2019).await);
    let area = app
        .post(&format!("/api/v1/plans/{plan}/focus-areas"), &json!({"title": "Flere i beskæftigelse"}))
        .await
        .expect(201)
        .json();
    let path = format!("/api/v1/focus-areas/{}", id(&area));
    let rounds = update_race(&app, &app.admin(), &path, Entity::new("focus_area", id(&area)), "update", |i| {
        patch(&path, json!({"title": format!("Indsatsområde {i}")}))
    })
    .await;
    for won in rounds {
        assert_eq!(won.after["title"], format!("Indsatsområde {}", won.index));
    }
}

#[actix_web::test]
async fn goal_updates_race() {
    let app = TestApp::new().await;
    let goal = goal(&app).await;
    let path = format!("/api/v1/goals/{goal}");
    let rounds = update_race(&app, &app.admin(), &path, Entity::new("goal", &goal), "update", |i| {
        patch(&path, json!({"title": format!("Mål {i}")}))
    })
    .await;
    for won in rounds {
        assert_eq!(won.after["title"], format!("Mål {}", won.index));
    }
}

#[actix_web::test]
async fn requirement_updates_race() {
    let app = TestApp::new().await;
    let goal = goal(&app).await;
    let created = app.post(&format!("/api/v1/goals/{goal}/requirements"), &requirement(0)).await.expect(201).json();
    let path = format!("/api/v1/requirements/{}", id(&created));
    let rounds = update_race(&app, &app.admin(), &path, Entity::new("requirement", id(&created)), "update", |i| {
        patch(&path, json!({"statement": format!("Udgave {i}")}))
    })
    .await;
    for won in rounds {
        assert_eq!(won.after["statement"], format!("Udgave {}", won.index));
    }
}

#[actix_web::test]
async fn follow_up_measure_updates_race() {
    let app = TestApp::new().await;
    let goal = goal(&app).await;
    let measure = app
        .post(
            &format!("/api/v1/goals/{goal}/follow-up-measures"),
            &json!({"indicator": "Tilgang til langtidsledighed", "unit": "persons"}),
        )
        .await
        .expect(201)
        .json();
    let path = format!("/api/v1/follow-up-measures/{}", id(&measure));
    let rounds =
        update_race(&app, &app.admin(), &path, Entity::new("follow_up_measure", id(&measure)), "update", |i| {
            patch(&path, json!({"indicator": format!("Indikator {i}")}))
        })
        .await;
    for won in rounds {
        assert_eq!(won.after["indicator"], format!("Indikator {}", won.index));
    }
}

/// A plan with version 1 in an open hearing to which Handicaprådet is invited, and a token for
/// Handicaprådet.
struct InHearing {
    app: TestApp,
    plan: String,
    hearing: String,
    consultee: String,
}

async fn in_hearing() -> InHearing {
    let app = TestApp::new().await;
    app.municipality("173", "Lyngby-Taarbæk Kommune").await;
    let consultee = app.user_token("handicapraadet", "consultee", &["173"], Some("Handicaprådet")).await;
    let plan = id(&app.plan("173", 2019).await);
    app.post(&format!("/api/v1/plans/{plan}/versions"), &json!({"label": "Udkast"})).await.expect(201);
    let hearing = app
        .post(
            &format!("/api/v1/plans/{plan}/hearings"),
            &json!({"version": 1, "title": "Høring", "closes_at": in_days(14), "parties": ["Handicaprådet"]}),
        )
        .await
        .expect(201)
        .json();
    InHearing { app, plan, hearing: id(&hearing), consultee }
}

impl InHearing {
    /// A comment by Handicaprådet.
    async fn comment(&self) -> String {
        let comment = self
            .app
            .with_token(&self.consultee)
            .post(&format!("/api/v1/hearings/{}/comments", self.hearing), &json!({"body": "Rådet bakker op."}))
            .await
            .expect(201)
            .json();
        id(&comment)
    }
}

#[actix_web::test]
async fn hearing_updates_race() {
    let InHearing { app, hearing, .. } = in_hearing().await;
    let path = format!("/api/v1/hearings/{hearing}");
    let rounds = update_race(&app, &app.admin(), &path, Entity::new("hearing", &hearing), "update", |i| {
        patch(&path, json!({"title": format!("Høring {i}"), "closes_at": in_days(15 + i as i64)}))
    })
    .await;
    for won in rounds {
        assert_eq!(won.after["title"], format!("Høring {}", won.index));
    }
}

#[actix_web::test]
async fn comment_updates_race() {
    let setup = in_hearing().await;
    let comment = setup.comment().await;
    let app = &setup.app;
    let path = format!("/api/v1/comments/{comment}");
    let rounds =
        update_race(app, &app.with_token(&setup.consultee), &path, Entity::new("comment", &comment), "update", |i| {
            patch(&path, json!({"body": format!("Bemærkning {i}")}))
        })
        .await;
    for won in rounds {
        assert_eq!(won.after["body"], format!("Bemærkning {}", won.index));
    }
}

#[actix_web::test]
async fn first_responses_to_a_comment_race() {
    // The first response needs no If-Match: of many at once, one is recorded and the others are
    // refused as stale (412) or as replacing without If-Match (428), never silently overwritten.
    let setup = in_hearing().await;
    let app = &setup.app;
    for _ in 0..ROUNDS {
        let comment = setup.comment().await;
        let read = format!("/api/v1/comments/{comment}");
        let path = format!("{read}/response");
        let before = etag_of(app, &read).await;
        let requests = (0..N)
            .map(|i| {
                TestRequest::put().uri(&path).set_json(json!({"disposition": "noted", "text": format!("Svar {i}")}))
            })
            .collect();
        let responses = all_at_once(&app.admin(), requests).await;
        let statuses = statuses(&responses);
        let index = one_winner("first responses", &statuses, &[412, 428]);
        let after = app.get(&read).await.expect(200);
        assert_eq!(revision(&after.etag()), revision(&before) + 1, "{statuses:?}");
        assert_eq!(after.json()["response"]["text"], format!("Svar {index}"));
        assert_eq!(audited(app, &Entity::new("comment", &comment), "respond").await, 1, "{statuses:?}");
    }
}

#[actix_web::test]
async fn replaced_responses_race() {
    let setup = in_hearing().await;
    let comment = setup.comment().await;
    let app = &setup.app;
    let read = format!("/api/v1/comments/{comment}");
    let path = format!("{read}/response");
    app.call(TestRequest::put().uri(&path).set_json(json!({"disposition": "noted", "text": "Første svar"})))
        .await
        .expect(200);
    let rounds = update_race(app, &app.admin(), &read, Entity::new("comment", &comment), "respond", |i| {
        TestRequest::put().uri(&path).set_json(json!({"disposition": "accommodated", "text": format!("Svar {i}")}))
    })
    .await;
    for won in rounds {
        assert_eq!(won.after["response"]["text"], format!("Svar {}", won.index));
    }
}

// ---- ETag races: deletes, withdrawals, deactivations ----

#[actix_web::test]
async fn plan_deletes_race() {
    let app = TestApp::new().await;
    for year in 2017..2017 + ROUNDS as i32 {
        let plan = id(&app.plan("185", year).await);
        let path = format!("/api/v1/plans/{plan}");
        delete_race(&app, &app.admin(), &path, Entity::new("plan", &plan), "delete", &[]).await;
        app.get(&path).await.problem(404);
    }
}

#[actix_web::test]
async fn user_deactivations_race() {
    let app = TestApp::new().await;
    app.municipality("185", "Tårnby Kommune").await;
    for i in 0..ROUNDS {
        let user = app
            .post(
                "/api/v1/users",
                &json!({"username": format!("viewer{i}"), "role": "viewer", "municipalities": ["185"], "password": "a-long-enough-password"}),
            )
            .await
            .expect(201)
            .json();
        let path = format!("/api/v1/users/{}", id(&user));
        let before = revision(&etag_of(&app, &path).await);
        delete_race(&app, &app.admin(), &path, Entity::new("user", id(&user)), "deactivate", &[]).await;
        let after = app.get(&path).await.expect(200);
        assert_eq!(after.json()["active"], false);
        assert_eq!(revision(&after.etag()), before + 1, "deactivated once");
    }
}

#[actix_web::test]
async fn client_deactivations_race() {
    // Service clients have no update; deactivation is their only change.
    let app = TestApp::new().await;
    for _ in 0..ROUNDS {
        let client = app
            .post("/api/v1/clients", &json!({"name": "Jobindsats-import", "role": "admin"}))
            .await
            .expect(201)
            .json();
        let client_id = client["client_id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/clients/{client_id}");
        let before = revision(&etag_of(&app, &path).await);
        delete_race(&app, &app.admin(), &path, Entity::new("client", &client_id), "deactivate", &[]).await;
        let after = app.get(&path).await.expect(200);
        assert_eq!(after.json()["active"], false);
        assert_eq!(revision(&after.etag()), before + 1, "deactivated once");
    }
}

/// `ROUNDS` items created by POSTing `body` to `list`, each deleted by `N` DELETEs at once;
/// afterwards it is gone. `kind` is the audit log's name for the items.
async fn content_delete_race(app: &TestApp, list: &str, item: &str, kind: &'static str, body: Value) {
    for _ in 0..ROUNDS {
        let created = id(&app.post(list, &body).await.expect(201).json());
        let path = format!("{item}/{created}");
        delete_race(app, &app.admin(), &path, Entity::new(kind, &created), "delete", &[]).await;
        app.get(&path).await.problem(404);
    }
}

#[actix_web::test]
async fn section_deletes_race() {
    let app = TestApp::new().await;
    let plan = id(&app.plan("185", 2017).await);
    let body = json!({"heading": "Indledning", "body": "Tekst"});
    content_delete_race(&app, &format!("/api/v1/plans/{plan}/sections"), "/api/v1/sections", "section", body).await;
}

#[actix_web::test]
async fn focus_area_deletes_race() {
    let app = TestApp::new().await;
    let plan = id(&app.plan("173", 2019).await);
    let list = format!("/api/v1/plans/{plan}/focus-areas");
    content_delete_race(&app, &list, "/api/v1/focus-areas", "focus_area", json!({"title": "Flere i beskæftigelse"}))
        .await;
}

#[actix_web::test]
async fn goal_deletes_race() {
    let app = TestApp::new().await;
    let plan = id(&app.plan("849", 2015).await);
    let body = json!({"title": "Sygedagpengeområdet", "kind": "local"});
    content_delete_race(&app, &format!("/api/v1/plans/{plan}/goals"), "/api/v1/goals", "goal", body).await;
}

#[actix_web::test]
async fn requirement_deletes_race() {
    let app = TestApp::new().await;
    let goal = goal(&app).await;
    let list = format!("/api/v1/goals/{goal}/requirements");
    content_delete_race(&app, &list, "/api/v1/requirements", "requirement", requirement(0)).await;
}

#[actix_web::test]
async fn follow_up_measure_deletes_race() {
    let app = TestApp::new().await;
    let goal = goal(&app).await;
    let list = format!("/api/v1/goals/{goal}/follow-up-measures");
    let body = json!({"indicator": "Tilgang", "unit": "persons"});
    content_delete_race(&app, &list, "/api/v1/follow-up-measures", "follow_up_measure", body).await;
}

#[actix_web::test]
async fn measurement_deletes_race() {
    // Measurements are never updated (a revised figure is a new measurement); deleting one
    // entered by mistake is their only change.
    let app = TestApp::new().await;
    let goal = goal(&app).await;
    let created = app.post(&format!("/api/v1/goals/{goal}/requirements"), &requirement(0)).await.expect(201).json();
    let list = format!("/api/v1/requirements/{}/measurements", id(&created));
    let body = json!({"period_end": "2015-03-31", "value": 84, "source": "Jobindsats.dk"});
    content_delete_race(&app, &list, "/api/v1/measurements", "measurement", body).await;
}

#[actix_web::test]
async fn comment_withdrawals_race() {
    // A withdrawn comment stays (marked withdrawn): a late withdrawal may also be told that the
    // comment is withdrawn (409).
    let setup = in_hearing().await;
    let app = &setup.app;
    for _ in 0..ROUNDS {
        let comment = setup.comment().await;
        let path = format!("/api/v1/comments/{comment}");
        let before = revision(&etag_of(app, &path).await);
        let consultee = app.with_token(&setup.consultee);
        delete_race(app, &consultee, &path, Entity::new("comment", &comment), "withdraw", &[409]).await;
        let after = app.get(&path).await.expect(200);
        assert_eq!(after.json()["status"], "withdrawn");
        assert_eq!(revision(&after.etag()), before + 1, "withdrawn once");
    }
}

// ---- Positions ----

/// On a list of 8 items, at once: 8 inserts at position 0, 2 deletes and 4 moves. Every request
/// succeeds, and the list ends up with exactly the items it should, at positions `0..n-1`.
async fn positions_race(app: &TestApp, list: &str, item: &str, new: impl Fn(usize) -> Value) {
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(id(&app.post(list, &new(i)).await.expect(201).json()));
    }
    let mut moves = [(1, 6), (6, 0), (7, 2), (4, 99)].into_iter().peekable();
    let mut deletes = [0, 3].into_iter().peekable();
    let (mut kinds, mut requests) = (Vec::new(), Vec::new());
    for i in 0..8 {
        let mut body = new(100 + i);
        body["position"] = json!(0);
        kinds.push("insert");
        requests.push(post(list, body));
        if let Some((moved, to)) = moves.next_if(|_| i % 2 == 0) {
            kinds.push("move");
            requests.push(
                patch(&format!("{item}/{}", ids[moved]), json!({"position": to})).insert_header(("if-match", "*")),
            );
        }
        if let Some(deleted) = deletes.next_if(|_| i % 4 == 1) {
            kinds.push("delete");
            requests
                .push(TestRequest::delete().uri(&format!("{item}/{}", ids[deleted])).insert_header(("if-match", "*")));
        }
    }
    let responses = all_at_once(&app.admin(), requests).await;
    let statuses = statuses(&responses);
    let labelled: Vec<String> = kinds.iter().zip(&statuses).map(|(k, s)| format!("{k} {s}")).collect();
    all_succeeded(&format!("inserts, moves and deletes in {list}"), &statuses);
    let inserted: Vec<String> =
        kinds.iter().zip(&responses).filter(|(k, _)| **k == "insert").map(|(_, r)| id(&r.json())).collect();
    let items = app.get(&format!("{list}?limit=500")).await.expect(200).json()["items"].as_array().unwrap().clone();
    let positions: Vec<i64> = items.iter().map(|i| i["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, (0..items.len() as i64).collect::<Vec<_>>(), "positions in {list} after {labelled:?}");
    let mut listed: Vec<String> = items.iter().map(id).collect();
    let mut expected: Vec<String> =
        ids.iter().enumerate().filter(|(i, _)| *i != 0 && *i != 3).map(|(_, id)| id.clone()).chain(inserted).collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected, "the items in {list} after {labelled:?}");
}

#[actix_web::test]
async fn section_positions_stay_contiguous_under_races() {
    let app = TestApp::new().await;
    let plan = id(&app.plan("185", 2017).await);
    positions_race(
        &app,
        &format!("/api/v1/plans/{plan}/sections"),
        "/api/v1/sections",
        |i| json!({"heading": format!("Afsnit {i}"), "body": "Tekst"}),
    )
    .await;
}

#[actix_web::test]
async fn focus_area_positions_stay_contiguous_under_races() {
    let app = TestApp::new().await;
    let plan = id(&app.plan("185", 2017).await);
    positions_race(
        &app,
        &format!("/api/v1/plans/{plan}/focus-areas"),
        "/api/v1/focus-areas",
        |i| json!({"title": format!("Indsatsområde {i}")}),
    )
    .await;
}

#[actix_web::test]
async fn goal_positions_stay_contiguous_under_races() {
    let app = TestApp::new().await;
    let plan = id(&app.plan("185", 2017).await);
    positions_race(
        &app,
        &format!("/api/v1/plans/{plan}/goals"),
        "/api/v1/goals",
        |i| json!({"title": format!("Mål {i}"), "kind": "local"}),
    )
    .await;
}

#[actix_web::test]
async fn requirement_positions_stay_contiguous_under_races() {
    let app = TestApp::new().await;
    let goal = goal(&app).await;
    positions_race(&app, &format!("/api/v1/goals/{goal}/requirements"), "/api/v1/requirements", requirement).await;
}

#[actix_web::test]
async fn follow_up_measure_positions_stay_contiguous_under_races() {
    let app = TestApp::new().await;
    let goal = goal(&app).await;
    positions_race(
        &app,
        &format!("/api/v1/goals/{goal}/follow-up-measures"),
        "/api/v1/follow-up-measures",
        |i| json!({"indicator": format!("Indikator {i}"), "unit": "persons"}),
    )
    .await;
}

// ---- The workflow ----

fn decision(outcome: &str, version: i64) -> Value {
    json!({"body": "Byrådet", "outcome": outcome, "version": version, "meeting_date": "2016-10-27"})
}

/// Makes a version of the plan and has the committee recommend it; returns its number.
async fn recommend(app: &TestApp, plan: &str) -> i64 {
    let version = app.post(&format!("/api/v1/plans/{plan}/versions"), &json!({"label": "Til godkendelse"})).await;
    let number = version.expect(201).json()["number"].as_i64().unwrap();
    app.post(&format!("/api/v1/plans/{plan}/decisions"), &decision("recommended", number)).await.expect(201);
    assert_eq!(app.get(&format!("/api/v1/plans/{plan}")).await.json()["status"], "awaiting_approval");
    number
}

/// The version numbers an anonymous caller can read, among `1..=latest`, checked three ways:
/// the version list, each version, and each version's document.
async fn public_versions(app: &TestApp, plan: &str, latest: i64) -> Vec<i64> {
    let anonymous = app.anonymous();
    let listed = anonymous.get(&format!("/api/v1/plans/{plan}/versions?limit=500")).await;
    let listed: Vec<i64> = match listed.status.as_u16() {
        200 => listed.json()["items"].as_array().unwrap().iter().map(|v| v["number"].as_i64().unwrap()).collect(),
        _ => {
            listed.problem(404);
            Vec::new()
        }
    };
    let mut readable = Vec::new();
    for n in 1..=latest {
        let version = anonymous.get(&format!("/api/v1/plans/{plan}/versions/{n}")).await.status.as_u16();
        let document = anonymous.get(&format!("/api/v1/plans/{plan}/versions/{n}/document")).await.status.as_u16();
        assert!(matches!((version, document), (200, 200) | (404, 404)), "version {n}: {version}, document {document}");
        if version == 200 {
            readable.push(n);
        }
    }
    assert_eq!(listed, readable, "the versions anonymous callers see listed are those they can read");
    readable
}

#[actix_web::test]
async fn of_parallel_approvals_exactly_one_is_recorded() {
    let app = TestApp::new().await;
    for year in 2017..2017 + ROUNDS as i32 {
        let plan = id(&app.plan("201", year).await);
        let version = recommend(&app, &plan).await;
        let plan_path = format!("/api/v1/plans/{plan}");
        let before = app.get(&plan_path).await.expect(200).etag();
        let updates = audited(&app, &Entity::new("plan", &plan), "update").await;
        let requests =
            (0..10).map(|_| post(&format!("{plan_path}/decisions"), decision("approved", version))).collect();
        let statuses = statuses(&all_at_once(&app.admin(), requests).await);
        one_winner("10 approvals", &statuses, &[409]);
        let after = app.get(&plan_path).await.expect(200);
        assert_eq!(revision(&after.etag()), revision(&before) + 1, "adopted once; {statuses:?}");
        let after = after.json();
        assert_eq!((after["status"].as_str(), after["adopted_version"].as_i64()), (Some("adopted"), Some(version)));
        let decisions = app.get(&format!("{plan_path}/decisions")).await.expect(200).json();
        let approvals = decisions["items"].as_array().unwrap().iter().filter(|d| d["outcome"] == "approved").count();
        assert_eq!(approvals, 1, "{decisions}");
        assert_eq!(audited(&app, &Entity::new("plan", &plan), "update").await, updates + 1, "{statuses:?}");
        assert_eq!(public_versions(&app, &plan, version).await, [version]);
    }
}

/// Approvals and rejections of the version awaiting approval, interleaved, all at once: exactly
/// one decision is recorded and the plan and what is public agree with it. Returns the winner.
async fn approval_against_rejection(app: &TestApp, plan: &str, version: i64, adopted_before: Option<i64>) -> String {
    let plan_path = format!("/api/v1/plans/{plan}");
    let outcomes: Vec<&str> =
        (0..10).map(|i| if (i as i64 + version) % 2 == 0 { "approved" } else { "rejected" }).collect();
    let requests = outcomes.iter().map(|o| post(&format!("{plan_path}/decisions"), decision(o, version))).collect();
    let statuses = statuses(&all_at_once(&app.admin(), requests).await);
    let winner = outcomes[one_winner("5 approvals and 5 rejections", &statuses, &[409])].to_owned();
    let stored = app.get(&plan_path).await.expect(200).json();
    let decided: Vec<Value> = app.get(&format!("{plan_path}/decisions?limit=500")).await.expect(200).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["version"] == version && d["outcome"] != "recommended")
        .cloned()
        .collect();
    assert_eq!(decided.len(), 1, "one decision on version {version}: {decided:?}");
    assert_eq!(decided[0]["outcome"], winner.as_str());
    let public = public_versions(app, plan, version).await;
    if winner == "approved" {
        assert_eq!((stored["status"].as_str(), stored["adopted_version"].as_i64()), (Some("adopted"), Some(version)));
        assert!(public.contains(&version), "the approved version is public: {public:?}");
    } else {
        assert_eq!((stored["status"].as_str(), stored["adopted_version"].as_i64()), (Some("draft"), adopted_before));
        assert!(!public.contains(&version), "the rejected version is not public: {public:?}");
        app.anonymous().get(&format!("{plan_path}/versions/{version}")).await.problem(404);
        app.anonymous().get(&format!("{plan_path}/versions/{version}/document")).await.problem(404);
    }
    match stored["adopted_version"].as_i64() {
        Some(adopted) => assert!(public.contains(&adopted), "the adopted version {adopted} is public: {public:?}"),
        None => assert!(public.is_empty(), "nothing adopted, nothing public: {public:?}"),
    }
    winner
}

#[actix_web::test]
async fn approval_racing_rejection_leaves_one_decision_and_agreeing_visibility() {
    let app = TestApp::new().await;
    let mut winners = Vec::new();
    for year in 2017..2021 {
        let plan = id(&app.plan("201", year).await);
        let version = recommend(&app, &plan).await;
        winners.push(approval_against_rejection(&app, &plan, version, None).await);
    }
    eprintln!("winners: {winners:?}");
}

#[actix_web::test]
async fn approval_racing_rejection_of_a_revision_keeps_the_adopted_version_public() {
    let app = TestApp::new().await;
    let mut winners = Vec::new();
    for year in 2017..2020 {
        let plan = id(&app.plan("201", year).await);
        let first = recommend(&app, &plan).await;
        app.post(&format!("/api/v1/plans/{plan}/decisions"), &decision("approved", first)).await.expect(201);
        app.post(&format!("/api/v1/plans/{plan}/revisions"), &json!({})).await.expect(200);
        let second = recommend(&app, &plan).await;
        let winner = approval_against_rejection(&app, &plan, second, Some(first)).await;
        let adopted = app.get(&format!("/api/v1/plans/{plan}")).await.json()["adopted_version"].as_i64();
        assert_eq!(adopted, Some(if winner == "approved" { second } else { first }));
        winners.push(winner);
    }
    eprintln!("winners: {winners:?}");
}

#[actix_web::test]
async fn parallel_versions_get_numbers_one_to_twenty_and_move_the_plan_etag_twenty_times() {
    let app = TestApp::new().await;
    let plan = id(&app.plan("201", 2017).await);
    let plan_path = format!("/api/v1/plans/{plan}");
    let before = etag_of(&app, &plan_path).await;
    let requests = (0..20).map(|i| post(&format!("{plan_path}/versions"), json!({"label": format!("v{i}")}))).collect();
    let responses = all_at_once(&app.admin(), requests).await;
    let statuses = statuses(&responses);
    all_succeeded("20 versions", &statuses);
    let mut numbers: Vec<i64> = responses.iter().map(|r| r.json()["number"].as_i64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=20).collect::<Vec<_>>());
    let after = app.get(&plan_path).await.expect(200);
    assert_eq!(revision(&after.etag()), revision(&before) + 20, "one plan revision per version; {statuses:?}");
    assert_eq!(after.json()["latest_version"], 20);
    let listed = app.get(&format!("{plan_path}/versions?limit=500")).await.expect(200).json();
    let listed: Vec<i64> = listed["items"].as_array().unwrap().iter().map(|v| v["number"].as_i64().unwrap()).collect();
    assert_eq!(listed, (1..=20).collect::<Vec<_>>());
    let log = app.get("/api/v1/audit?entity_type=version&limit=500").await.expect(200).json();
    assert_eq!(log["total"], 20, "one audit record per version");
}

#[actix_web::test]
async fn of_parallel_revisions_exactly_one_starts() {
    let app = TestApp::new().await;
    for year in 2017..2017 + ROUNDS as i32 {
        let plan = id(&app.plan("201", year).await);
        let version = recommend(&app, &plan).await;
        let plan_path = format!("/api/v1/plans/{plan}");
        app.post(&format!("{plan_path}/decisions"), &decision("approved", version)).await.expect(201);
        let before = etag_of(&app, &plan_path).await;
        let updates = audited(&app, &Entity::new("plan", &plan), "update").await;
        let requests = (0..N).map(|_| post(&format!("{plan_path}/revisions"), json!({}))).collect();
        let statuses = statuses(&all_at_once(&app.admin(), requests).await);
        one_winner("revisions", &statuses, &[409]);
        let after = app.get(&plan_path).await.expect(200);
        assert_eq!(revision(&after.etag()), revision(&before) + 1, "{statuses:?}");
        let after = after.json();
        assert_eq!((after["status"].as_str(), after["adopted_version"].as_i64()), (Some("draft"), Some(version)));
        assert_eq!(audited(&app, &Entity::new("plan", &plan), "update").await, updates + 1, "{statuses:?}");
        assert_eq!(public_versions(&app, &plan, version).await, [version]);
    }
}

#[actix_web::test]
async fn of_parallel_closes_exactly_one_closes_the_hearing() {
    let InHearing { app, plan, hearing, .. } = in_hearing().await;
    let plan_path = format!("/api/v1/plans/{plan}");
    let mut hearing = hearing;
    for round in 0..ROUNDS {
        if round > 0 {
            let again = json!({"version": 1, "title": format!("Høring {round}"), "closes_at": in_days(14), "parties": ["Handicaprådet"]});
            hearing = id(&app.post(&format!("{plan_path}/hearings"), &again).await.expect(201).json());
        }
        assert_eq!(app.get(&plan_path).await.json()["status"], "in_hearing");
        let plan_updates = audited(&app, &Entity::new("plan", &plan), "update").await;
        let path = format!("/api/v1/hearings/{hearing}");
        let before = etag_of(&app, &path).await;
        let requests = (0..N).map(|_| post(&format!("{path}/close"), json!({}))).collect();
        let statuses = statuses(&all_at_once(&app.admin(), requests).await);
        one_winner("closes", &statuses, &[409]);
        let after = app.get(&path).await.expect(200);
        assert_eq!(revision(&after.etag()), revision(&before) + 1, "{statuses:?}");
        assert_eq!(after.json()["status"], "closed");
        assert_eq!(audited(&app, &Entity::new("hearing", &hearing), "close").await, 1, "{statuses:?}");
        assert_eq!(app.get(&plan_path).await.json()["status"], "draft");
        assert_eq!(
            audited(&app, &Entity::new("plan", &plan), "update").await,
            plan_updates + 1,
            "the plan left in_hearing once; {statuses:?}"
        );
    }
}
