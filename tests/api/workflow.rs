//! Versions and the decision workflow, walked with Allerød's Beskæftigelsesplan 2017: the
//! committee (Erhvervs- og Beskæftigelsesudvalget) recommends on 28 September 2016, case 13/4229,
//! and the city council approves.

use crate::common::{self, TestApp};
use actix_web::test::TestRequest;
use scraper::{Html, Selector};
use serde_json::{json, Value};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

struct Allerod {
    app: TestApp,
    plan_id: String,
    planner: String,
    approver: String,
    placeholder_id: String,
}

async fn allerod() -> Allerod {
    let app = TestApp::new().await;
    app.municipality("201", "Allerød Kommune").await;
    let planner = app.user_token("planner.alleroed", "planner", &["201"], None).await;
    let approver = app.user_token("udvalg.alleroed", "approver", &["201"], None).await;
    let p = app.with_token(&planner);
    let plan = p
        .post("/api/v1/plans", &json!({"municipality": "201", "year": 2017, "title": "Beskæftigelsesplan 2017", "summary": "Allerød Kommunes beskæftigelsesplan for 2017."}))
        .await
        .expect(201)
        .json();
    let plan_id = id(&plan);
    p.post(
        &format!("/api/v1/plans/{plan_id}/sections"),
        &json!({"heading": "Indledning", "body": "Beskæftigelsesplanen fastlægger **mål og strategier** for 2017."}),
    )
    .await
    .expect(201);
    let goals = [
        (
            "Resultatmål 1",
            "Flere unge skal have en uddannelse",
            json!({"statement": "Den gennemsnitlige andel af unge på offentlig forsørgelse, som påbegynder en ordinær uddannelse skal i 2017 hver måned være på 3,75 pct.", "indicator": "Andel unge der påbegynder uddannelse", "unit": "percent", "comparator": "at_least", "baseline": {"value": 3.2, "as_of": "2015-12-31"}, "target": {"value": 3.75, "due": "2017-12-31"}, "frequency": "monthly"}),
        ),
        (
            "Resultatmål 5",
            "Færre langvarige sygedagpengeforløb",
            json!({"statement": "Andelen af langvarige sygedagpengeforløb med over 26 ugers varighed skal nedbringes til højst xx pct.", "indicator": "Andel sygedagpengeforløb over 26 uger", "unit": "percent", "comparator": "at_most", "baseline": {"value": 13.9, "as_of": "2015-12-31"}, "target": {"due": "2017-12-31", "placeholder": true}, "data_source": "Jobindsats.dk", "frequency": "half_yearly"}),
        ),
    ];
    let mut placeholder_id = String::new();
    for (number, title, requirement) in goals {
        let goal = p
            .post(
                &format!("/api/v1/plans/{plan_id}/goals"),
                &json!({"number": number, "title": title, "kind": "local"}),
            )
            .await
            .expect(201)
            .json();
        let created =
            p.post(&format!("/api/v1/goals/{}/requirements", id(&goal)), &requirement).await.expect(201).json();
        if created["target"]["placeholder"] == true {
            placeholder_id = id(&created);
        }
    }
    Allerod { app, plan_id, planner, approver, placeholder_id }
}

#[actix_web::test]
async fn allerod_2017_from_draft_to_adoption_and_revision() {
    let Allerod { app, plan_id, planner, approver, placeholder_id } = allerod().await;
    let (p, a, anonymous) = (app.with_token(&planner), app.with_token(&approver), app.anonymous());
    let plan_path = format!("/api/v1/plans/{plan_id}");

    // Nothing to decide on yet.
    let readiness = a.get(&format!("{plan_path}/readiness")).await.expect(200).json();
    assert_eq!(
        readiness,
        json!({"version": null, "ready": false, "blockers": [{"kind": "no_version", "id": null, "detail": "the plan has no version yet"}]})
    );

    // Version 1, with the placeholder.
    let v1 = p
        .post(&format!("{plan_path}/versions"), &json!({"label": "Udkast", "note": "Til udvalgets første behandling"}))
        .await
        .expect(201);
    assert_eq!(v1.header("location").unwrap(), format!("{plan_path}/versions/1"));
    let v1_etag = v1.etag();
    let v1 = v1.json();
    assert_eq!(v1["number"], 1);
    assert_eq!(v1["created_by"], "planner.alleroed");
    assert_eq!(v1["document"]["goals"].as_array().unwrap().len(), 2);
    assert_eq!(app.get(&plan_path).await.expect(200).json()["latest_version"], 1);

    // Refused while a target is a placeholder, with the blocker named.
    let decision = json!({"body": "Erhvervs- og Beskæftigelsesudvalget", "outcome": "recommended", "version": 1, "meeting_date": "2016-09-28", "case_number": "13/4229"});
    let problem = a.post(&format!("{plan_path}/decisions"), &decision).await.problem(409);
    assert_eq!(problem["blockers"][0]["kind"], "placeholder_target");
    assert_eq!(problem["blockers"][0]["id"], placeholder_id.as_str());
    assert!(problem["blockers"][0]["detail"].as_str().unwrap().starts_with("Resultatmål 5"));
    assert_eq!(app.get(&plan_path).await.expect(200).json()["status"], "draft", "nothing changed");

    // The target is set; version 2; the diff shows exactly that.
    p.patch(&format!("/api/v1/requirements/{placeholder_id}"), Some("*"), &json!({
        "statement": "Andelen af langvarige sygedagpengeforløb med over 26 ugers varighed skal nedbringes til højst 12,5 pct. ved udgangen af 2017, svarende til et fald på 1,4 pct. point fra niveauet i 2015.",
        "target": {"value": 12.5, "placeholder": false}})).await.expect(200);
    p.post(&format!("{plan_path}/versions"), &json!({"label": "Til indstilling"})).await.expect(201);
    let diff = a.get(&format!("{plan_path}/versions/2/diff?against=1")).await.expect(200).json();
    assert_eq!((diff["from"].as_i64(), diff["to"].as_i64()), (Some(1), Some(2)));
    assert!(diff["added"].as_array().unwrap().is_empty() && diff["removed"].as_array().unwrap().is_empty());
    let changed = diff["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{diff}");
    assert_eq!(changed[0]["type"], "requirement");
    assert_eq!(changed[0]["id"], placeholder_id.as_str());
    assert_eq!(changed[0]["fields"]["target"]["before"]["placeholder"], true);
    assert_eq!(changed[0]["fields"]["target"]["after"]["value"], 12.5);
    let same = a.get(&format!("{plan_path}/versions/2/diff?against=2")).await.expect(200).json();
    assert_eq!(same, json!({"from": 2, "to": 2, "added": [], "removed": [], "changed": []}));

    // Version 1 is unchanged by the later edits.
    let again = a.get(&format!("{plan_path}/versions/1")).await.expect(200);
    assert_eq!(again.etag(), v1_etag);
    assert_eq!(again.json(), v1);

    // A decision on an older version is refused; the planner cannot decide; then the committee recommends.
    a.post(&format!("{plan_path}/decisions"), &decision).await.problem(409);
    p.post(
        &format!("{plan_path}/decisions"),
        &json!({"body": "Udvalget", "outcome": "recommended", "version": 2, "meeting_date": "2016-09-28"}),
    )
    .await
    .problem(403);
    let created = a.post(&format!("{plan_path}/decisions"), &with_version(&decision, 2)).await.expect(201);
    let location = created.header("location").unwrap();
    let etag = created.header("etag").unwrap();
    let recommended = created.json();
    assert_eq!(location, format!("/api/v1/decisions/{}", recommended["id"].as_str().unwrap()));
    assert_eq!(recommended["etag"], etag.as_str());
    // The decision is a resource of its own: readable where Location says, conditional by ETag,
    // and as hidden as its plan.
    assert_eq!(a.get(&location).await.expect(200).json(), recommended);
    let not_modified = app
        .call(actix_web::test::TestRequest::get().uri(&location).insert_header(("if-none-match", etag.as_str())))
        .await;
    assert_eq!(not_modified.status, 304);
    anonymous.get(&location).await.problem(404);
    app.get("/api/v1/decisions/0193a4b2-7c1e-7d3a-9f00-1a2b3c4d5e6f").await.problem(404);
    assert_eq!(recommended["case_number"], "13/4229");
    assert_eq!(recommended["recorded_by"], "udvalg.alleroed");
    assert_eq!(app.get(&plan_path).await.expect(200).json()["status"], "awaiting_approval");
    anonymous.get(&plan_path).await.problem(404);
    anonymous.get(&format!("{plan_path}/versions/2")).await.problem(404);
    // Content is frozen while awaiting approval.
    p.post(&format!("{plan_path}/sections"), &json!({"heading": "Tillæg", "body": ""})).await.problem(409);

    // The council approves: adopted, version 2 public.
    a.post(
        &format!("{plan_path}/decisions"),
        &json!({"body": "Byrådet", "outcome": "approved", "version": 2, "meeting_date": "2016-10-27"}),
    )
    .await
    .expect(201);
    // A public read may be cached by anyone for a minute; a token's read only by the caller.
    let public_read = anonymous.get(&plan_path).await.expect(200);
    assert_eq!(public_read.header("cache-control").as_deref(), Some("public, max-age=60"));
    assert!(public_read.header("vary").is_some_and(|v| v.contains("Authorization")));
    let own_read = a.get(&plan_path).await.expect(200);
    assert_eq!(own_read.header("cache-control").as_deref(), Some("private, no-cache"));
    let adopted = public_read.json();
    assert_eq!((adopted["status"].as_str(), adopted["adopted_version"].as_i64()), (Some("adopted"), Some(2)));
    let public = anonymous.get(&format!("{plan_path}/versions/2")).await.expect(200);
    assert_eq!(public.header("cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
    anonymous.get(&format!("{plan_path}/versions/1")).await.problem(404);
    let listed = anonymous.get(&format!("{plan_path}/versions")).await.expect(200).json();
    assert_eq!(listed["total"], 1, "anonymous callers see only the adopted version");
    assert!(listed["items"][0]["adopted_at"].is_string());
    assert_eq!(a.get(&format!("{plan_path}/versions")).await.expect(200).json()["total"], 2);
    anonymous.get(&format!("{plan_path}/sections")).await.expect(200);
    let decisions = anonymous.get(&format!("{plan_path}/decisions")).await.expect(200).json();
    let outcomes: Vec<&str> =
        decisions["items"].as_array().unwrap().iter().map(|d| d["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["recommended", "approved"]);
    a.post(
        &format!("{plan_path}/decisions"),
        &json!({"body": "Byrådet", "outcome": "approved", "version": 2, "meeting_date": "2016-10-27"}),
    )
    .await
    .problem(409);

    // A revision: a draft again, while version 2 stays public and the draft content private.
    a.post(&format!("{plan_path}/revisions"), &json!({})).await.problem(403);
    let revised = p.post(&format!("{plan_path}/revisions"), &json!({})).await.expect(200).json();
    assert_eq!((revised["status"].as_str(), revised["adopted_version"].as_i64()), (Some("draft"), Some(2)));
    p.post(&format!("{plan_path}/revisions"), &json!({})).await.problem(409);
    anonymous.get(&format!("{plan_path}/versions/2")).await.expect(200);
    anonymous.get(&format!("{plan_path}/versions/2/document")).await.expect(200);
    anonymous.get(&format!("{plan_path}/sections")).await.problem(404);
    assert_eq!(anonymous.get(&plan_path).await.expect(200).json()["status"], "draft");
    p.post(&format!("{plan_path}/sections"), &json!({"heading": "Tillæg nr. 1", "body": "Justerede mål."}))
        .await
        .expect(201);

    // Every step is in the audit log.
    let log =
        app.get(&format!("/api/v1/audit?entity_type=plan&entity_id={plan_id}&limit=500")).await.expect(200).json();
    let statuses: Vec<&str> =
        log["items"].as_array().unwrap().iter().rev().filter_map(|e| e["after"]["status"].as_str()).collect();
    assert_eq!(statuses, ["draft", "awaiting_approval", "adopted", "draft"], "created, recommended, approved, revised");
}

/// The same decision on another version.
fn with_version(decision: &Value, version: i64) -> Value {
    let mut decision = decision.clone();
    decision["version"] = json!(version);
    decision
}

#[actix_web::test]
async fn decisions_follow_the_status_machine() {
    let Allerod { app, plan_id, planner, approver, placeholder_id } = allerod().await;
    let (p, a) = (app.with_token(&planner), app.with_token(&approver));
    let plan_path = format!("/api/v1/plans/{plan_id}");
    p.patch(
        &format!("/api/v1/requirements/{placeholder_id}"),
        Some("*"),
        &json!({"target": {"value": 12.5, "placeholder": false}}),
    )
    .await
    .expect(200);
    p.post(&format!("{plan_path}/versions"), &json!({"label": "1"})).await.expect(201);
    let decide =
        |outcome: &str| json!({"body": "Byrådet", "outcome": outcome, "version": 1, "meeting_date": "2016-10-27"});
    a.post(&format!("{plan_path}/decisions"), &decide("approved")).await.problem(409);
    a.post(&format!("{plan_path}/decisions"), &decide("returned")).await.problem(409);
    a.post(&format!("{plan_path}/decisions"), &decide("noted")).await.expect(201);
    a.post(&format!("{plan_path}/decisions"), &decide("recommended")).await.expect(201);
    a.post(&format!("{plan_path}/decisions"), &decide("returned")).await.expect(201);
    assert_eq!(app.get(&plan_path).await.expect(200).json()["status"], "draft");
    a.post(&format!("{plan_path}/decisions"), &decide("recommended")).await.expect(201);
    a.post(&format!("{plan_path}/decisions"), &decide("rejected")).await.expect(201);
    assert_eq!(app.get(&plan_path).await.expect(200).json()["status"], "draft");
    let problem = a
        .post(
            &format!("{plan_path}/decisions"),
            &json!({"body": " ", "outcome": "noted", "version": 9, "meeting_date": "2016-02-30"}),
        )
        .await
        .problem(422);
    assert_eq!(common::error_fields(&problem), ["body", "meeting_date"]);
    let problem = a.post(&format!("{plan_path}/decisions"), &with_version(&decide("noted"), 9)).await.problem(422);
    assert_eq!(common::error_fields(&problem), ["version"]);
    a.post(
        &format!("{plan_path}/decisions"),
        &json!({"body": "B", "outcome": "vetoed", "version": 1, "meeting_date": "2016-10-27"}),
    )
    .await
    .problem(400);
}

#[actix_web::test]
async fn the_document_is_a_complete_accessible_page_that_escapes_content() {
    let Allerod { app, plan_id, planner, placeholder_id, .. } = allerod().await;
    let p = app.with_token(&planner);
    let plan_path = format!("/api/v1/plans/{plan_id}");
    p.post(&format!("{plan_path}/sections"), &json!({"heading": "Om <script>alert('x')</script>", "body": "Tekst med <img src=x onerror=alert(1)> og **fed** skrift.\n\n# En overskrift"})).await.expect(201);
    let area = p
        .post(&format!("{plan_path}/focus-areas"), &json!({"title": "Sygedagpenge & fastholdelse"}))
        .await
        .expect(201)
        .json();
    let goal_id = app.get(&format!("/api/v1/requirements/{placeholder_id}")).await.expect(200).json()["goal_id"]
        .as_str()
        .unwrap()
        .to_owned();
    p.patch(&format!("/api/v1/goals/{goal_id}"), Some("*"), &json!({"focus_area_id": id(&area)})).await.expect(200);
    p.patch(
        &format!("/api/v1/requirements/{placeholder_id}"),
        Some("*"),
        &json!({"target": {"value": 12.5, "placeholder": false}}),
    )
    .await
    .expect(200);
    p.post(&format!("{plan_path}/versions"), &json!({"label": "Til indstilling"})).await.expect(201);

    let response = p.get(&format!("{plan_path}/versions/1/document")).await.expect(200);
    assert_eq!(response.header("content-type").as_deref(), Some("text/html; charset=utf-8"));
    let html = response.text();
    assert!(!html.contains("<script>") && !html.contains("<img"), "content cannot inject markup");
    let page = Html::parse_document(&html);
    let one = |selector: &str| {
        page.select(&Selector::parse(selector).unwrap()).next().unwrap_or_else(|| panic!("no {selector}"))
    };
    let all = |selector: &str| page.select(&Selector::parse(selector).unwrap()).collect::<Vec<_>>();
    assert_eq!(one("html").value().attr("lang"), Some("da"));
    assert_eq!(one("title").text().collect::<String>(), "Beskæftigelsesplan 2017");
    assert_eq!(all("h1").len(), 1);
    assert_eq!(one("h1").text().collect::<String>(), "Beskæftigelsesplan 2017");
    assert!(one("main").text().collect::<String>().contains("Allerød Kommune"));
    // The table of contents links to headings that exist.
    let links = all("nav a");
    assert!(links.len() >= 4);
    for link in links {
        let target = link.value().attr("href").unwrap().trim_start_matches('#').to_owned();
        assert!(
            page.select(&Selector::parse(&format!("[id=\"{target}\"]")).unwrap()).next().is_some(),
            "no element with id {target}"
        );
    }
    // Goals grouped by focus area, the others after; targets written out in Danish.
    let groups: Vec<String> = all("main > section > h2").iter().map(|h| h.text().collect()).collect();
    assert_eq!(groups, ["Indledning", "Om <script>alert('x')</script>", "Sygedagpenge & fastholdelse", "Øvrige mål"]);
    let targets: Vec<String> = all("dd.target").iter().map(|d| d.text().collect()).collect();
    assert_eq!(targets, ["højst 12,5 pct. ved udgangen af 2017", "mindst 3,75 pct. ved udgangen af 2017"]);
    assert!(html.contains("<strong>fed</strong>"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // Heading levels never skip: h1, then h2, h3, h4 below.
    let levels: Vec<u8> = all("h1, h2, h3, h4").iter().map(|h| h.value().name()[1..].parse().unwrap()).collect();
    for pair in levels.windows(2) {
        assert!(pair[1] <= pair[0] + 1, "heading levels skip: {levels:?}");
    }

    let markdown = p
        .call(
            TestRequest::get()
                .uri(&format!("{plan_path}/versions/1/document"))
                .insert_header(("accept", "text/markdown")),
        )
        .await
        .expect(200);
    assert_eq!(markdown.header("content-type").as_deref(), Some("text/markdown; charset=utf-8"));
    let text = markdown.text();
    assert!(text.starts_with("# Beskæftigelsesplan 2017\n"), "{text}");
    assert!(text.contains("  - Mål: højst 12,5 pct. ved udgangen af 2017"), "{text}");
    assert!(!text.contains("<script>") && text.contains("&lt;script&gt;"), "{text}");
    let preferred = p
        .call(
            TestRequest::get()
                .uri(&format!("{plan_path}/versions/1/document"))
                .insert_header(("accept", "text/markdown;q=0.9, text/html")),
        )
        .await
        .expect(200);
    assert!(preferred.text().starts_with("<!DOCTYPE html>"));
    p.call(
        TestRequest::get()
            .uri(&format!("{plan_path}/versions/1/document"))
            .insert_header(("accept", "application/pdf")),
    )
    .await
    .problem(406);
}

#[actix_web::test]
async fn versions_are_cacheable_forever() {
    let Allerod { app, plan_id, planner, .. } = allerod().await;
    let p = app.with_token(&planner);
    let plan_path = format!("/api/v1/plans/{plan_id}");
    let created = p.post(&format!("{plan_path}/versions"), &json!({"label": "1"})).await.expect(201);
    let etag = created.etag();
    let read = p.get(&format!("{plan_path}/versions/1")).await.expect(200);
    assert_eq!(read.etag(), etag);
    assert_eq!(
        read.header("cache-control").as_deref(),
        Some("private, max-age=31536000, immutable"),
        "a draft version needs a token"
    );
    assert_eq!(read.body, created.body, "served as stored");
    let unchanged = p
        .call(
            TestRequest::get().uri(&format!("{plan_path}/versions/1")).insert_header(("if-none-match", etag.as_str())),
        )
        .await
        .expect(304);
    assert_eq!(unchanged.header("cache-control"), read.header("cache-control"), "a 304 keeps the caching rule");
    // The rendered document likewise.
    let page_path = format!("{plan_path}/versions/1/document");
    let page = p.call(TestRequest::get().uri(&page_path).insert_header(("accept", "text/html"))).await.expect(200);
    let page_unchanged = p
        .call(
            TestRequest::get()
                .uri(&page_path)
                .insert_header(("accept", "text/html"))
                .insert_header(("if-none-match", page.etag().as_str())),
        )
        .await
        .expect(304);
    assert_eq!(page_unchanged.header("cache-control").as_deref(), Some("private, max-age=300"));
    // After a restart the stored bytes are the same.
    let restarted = app.reopen().await;
    let again = restarted.get(&format!("{plan_path}/versions/1")).await.expect(200);
    assert_eq!((again.etag(), again.body), (etag, created.body));
    p.get(&format!("{plan_path}/versions/2")).await.problem(404);
    p.get(&format!("{plan_path}/versions/x")).await.problem(400);
    p.get(&format!("{plan_path}/versions/1/diff")).await.problem(400);
    p.post(&format!("{plan_path}/versions"), &json!({"label": ""})).await.problem(422);
    // A plan that had a version cannot be deleted.
    p.delete(&plan_path, Some("*")).await.problem(409);
}
