//! Hearings, replaying the seed: Handicaprådet in Lyngby-Taarbæk comments on the draft
//! Beskæftigelsesplan 2019 (minutes of 21 November 2018, item 8), the administration answers, and
//! the hearing summary (høringsnotat) is published.

use crate::common::{error_fields, TestApp};
use actix_web::test::TestRequest;
use scraper::{Html, Selector};
use serde_json::{json, Value};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

struct Draft {
    app: TestApp,
    plan_id: String,
    planner: String,
    handicapraadet: String,
    goals: Vec<String>,
    requirement: String,
}

async fn lyngby_taarbaek_draft() -> Draft {
    let app = TestApp::new().await;
    app.municipality("173", "Lyngby-Taarbæk Kommune").await;
    let planner = app.user_token("planner.ltk", "planner", &["173"], None).await;
    let handicapraadet = app.user_token("handicapraadet.ltk", "consultee", &["173"], Some("Handicaprådet")).await;
    let p = app.with_token(&planner);
    let plan = p
        .post(
            "/api/v1/plans",
            &json!({"municipality": "173", "year": 2019, "title": "Beskæftigelsesplan 2019 – UDKAST"}),
        )
        .await
        .expect(201)
        .json();
    let plan_id = id(&plan);
    let mut goals = Vec::new();
    for (number, title) in [
        ("MÅL 1", "Antallet af personer der modtager offentlig forsørgelse skal falde med x pct. fra 2018 til 2019."),
        ("MÅL 4", "Andelen af personer i virksomhedsrettet tilbud skal minimum være xx pct. i 2018."),
        ("MÅL 10", "X pct. af borgere i ressourceforløb skal være i virksomhedsrettet tilbud i gennemsnit i 2019"),
        ("MÅL 11", "Flere personer med handicap skal i uddannelse og beskæftigelse"),
    ] {
        let goal = p
            .post(
                &format!("/api/v1/plans/{plan_id}/goals"),
                &json!({"number": number, "title": title, "kind": "ministerial"}),
            )
            .await
            .expect(201)
            .json();
        goals.push(id(&goal));
    }
    let requirement = p
        .post(&format!("/api/v1/goals/{}/requirements", goals[1]), &json!({"statement": "Minimum xx pct. i virksomhedsrettet tilbud", "indicator": "Andel i virksomhedsrettet tilbud", "unit": "percent", "comparator": "at_least", "target": {"due": "2019-12-31", "placeholder": true}}))
        .await
        .expect(201)
        .json();
    p.post(&format!("/api/v1/plans/{plan_id}/versions"), &json!({"label": "Udkast til høring"})).await.expect(201);
    Draft { app, plan_id, planner, handicapraadet, goals, requirement: id(&requirement) }
}

#[actix_web::test]
async fn handicapraadets_hearing_of_the_2019_draft() {
    let Draft { app, plan_id, planner, handicapraadet, goals, requirement } = lyngby_taarbaek_draft().await;
    let (p, h, anonymous) = (app.with_token(&planner), app.with_token(&handicapraadet), app.anonymous());
    let plan_path = format!("/api/v1/plans/{plan_id}");

    // Before the hearing the consultee sees nothing of the draft.
    h.get(&format!("{plan_path}/versions/1")).await.problem(404);

    let hearing = p
        .post(&format!("{plan_path}/hearings"), &json!({"version": 1, "title": "Høring af beskæftigelsesplanen", "closes_at": in_days(14), "parties": ["Handicaprådet", "RAR Hovedstaden", "Integrationsrådet"]}))
        .await
        .expect(201)
        .json();
    assert_eq!(hearing["status"], "open");
    let hearing_id = id(&hearing);
    assert_eq!(app.get(&plan_path).await.expect(200).json()["status"], "in_hearing");

    // The invited consultee reads the version in hearing and its document, but not the live draft.
    h.get(&format!("{plan_path}/versions/1")).await.expect(200);
    h.get(&format!("{plan_path}/versions/1/document")).await.expect(200);
    h.get(&format!("{plan_path}/goals")).await.problem(404);
    h.get(&format!("/api/v1/hearings/{hearing_id}")).await.expect(200);

    // Handicaprådet's points, each on what it concerns.
    let points = [
        ("Rådets medlemmer lægger vægt på at Jobcentret skaber kontakter direkte til virksomheder for at skabe beskæftigelse, også for borgere udenfor LAB; borgere der ønsker skånejob fx.", Some(("goal", goals[3].clone())), "supports"),
        ("Det er vigtigt, at borgeren ikke oplever sagsbehandlerskifte, da det er afgørende at der er kontinuitet i sagsbehandlingen, når handicappede borgere skal i beskæftigelse.", Some(("goal", goals[3].clone())), "neutral"),
        ("Genoptræning og rehabilitering er vigtigt, da borgere der får en genoptræning og rehabilitering hurtigere får meningsfulde job, både på kort og på langt sigt.", Some(("goal", goals[2].clone())), "supports"),
        ("Det er en god ide at udvide antallet af sagsbehandlere i Jobcentret på handicapområdet.", None, "supports"),
    ];
    let mut comment_ids = Vec::new();
    for (body, target, stance) in &points {
        let mut comment = json!({"body": body, "stance": stance});
        if let Some((kind, target_id)) = target {
            comment["target"] = json!({"type": kind, "id": target_id});
        }
        let created = h.post(&format!("/api/v1/hearings/{hearing_id}/comments"), &comment).await.expect(201).json();
        assert_eq!(created["party"], "Handicaprådet", "recorded with the consultee's own party");
        assert_eq!(created["submitted_by"], "handicapraadet.ltk");
        comment_ids.push(id(&created));
    }
    // The consultee comments only for its own party, and only on items of the version in hearing.
    h.post(&format!("/api/v1/hearings/{hearing_id}/comments"), &json!({"party": "RAR Hovedstaden", "body": "…"}))
        .await
        .problem(403);
    let problem = h
        .post(
            &format!("/api/v1/hearings/{hearing_id}/comments"),
            &json!({"body": "…", "target": {"type": "goal", "id": "unknown"}}),
        )
        .await
        .problem(422);
    assert_eq!(error_fields(&problem), ["target.id"]);
    // The author edits its own comment while open; a stale ETag is refused.
    let first = app.get(&format!("/api/v1/comments/{}", comment_ids[3])).await.expect(200);
    h.patch(
        &format!("/api/v1/comments/{}", comment_ids[3]),
        Some(&first.etag()),
        &json!({"body": "Det er en god idé at udvide antallet af sagsbehandlere i Jobcentret på handicapområdet."}),
    )
    .await
    .expect(200);
    h.patch(&format!("/api/v1/comments/{}", comment_ids[3]), Some(&first.etag()), &json!({"body": "Forældet"}))
        .await
        .problem(412);
    // A letter from RAR Hovedstaden, registered by the planner; a withdrawn afterthought.
    let letter = p.post(&format!("/api/v1/hearings/{hearing_id}/comments"), &json!({"party": "RAR Hovedstaden", "body": "RAR Hovedstaden bakker op om planens mål.", "target": {"type": "requirement", "id": requirement}})).await.expect(201).json();
    p.post(&format!("/api/v1/hearings/{hearing_id}/comments"), &json!({"party": "Ældrerådet", "body": "…"}))
        .await
        .problem(422);
    let second_thought = h
        .post(&format!("/api/v1/hearings/{hearing_id}/comments"), &json!({"body": "Et udkast, der trækkes tilbage."}))
        .await
        .expect(201)
        .json();
    h.delete(&format!("/api/v1/comments/{}", id(&second_thought)), Some("*")).await.expect(204);
    assert_eq!(
        app.get(&format!("/api/v1/comments/{}", id(&second_thought))).await.expect(200).json()["status"],
        "withdrawn"
    );
    h.delete(&format!("/api/v1/comments/{}", id(&letter)), Some("*")).await.problem(404); // not even visible to it

    // While open, the consultee sees its own party's comments only; anonymous callers nothing.
    let own = h.get(&format!("/api/v1/hearings/{hearing_id}/comments")).await.expect(200).json();
    assert_eq!(own["total"], 5);
    assert!(own["items"].as_array().unwrap().iter().all(|c| c["party"] == "Handicaprådet"));
    h.get(&format!("/api/v1/comments/{}", id(&letter))).await.problem(404);
    anonymous.get(&format!("/api/v1/hearings/{hearing_id}")).await.problem(404);
    anonymous.get(&format!("/api/v1/hearings/{hearing_id}/summary")).await.problem(404);
    assert_eq!(
        p.get(&format!("/api/v1/hearings/{hearing_id}/comments?party=RAR%20Hovedstaden")).await.expect(200).json()
            ["total"],
        1
    );
    assert_eq!(
        p.get(&format!("/api/v1/hearings/{hearing_id}/comments?target_id={}", goals[3])).await.expect(200).json()
            ["total"],
        2
    );
    assert_eq!(
        p.get(&format!("/api/v1/hearings/{hearing_id}/comments?status=withdrawn")).await.expect(200).json()["total"],
        1
    );

    // Readiness: the placeholder, the open hearing, five unanswered comments.
    let readiness = p.get(&format!("{plan_path}/readiness")).await.expect(200).json();
    let kinds: Vec<&str> =
        readiness["blockers"].as_array().unwrap().iter().map(|b| b["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "placeholder_target",
            "open_hearing",
            "unanswered_comment",
            "unanswered_comment",
            "unanswered_comment",
            "unanswered_comment",
            "unanswered_comment"
        ]
    );

    // The deadline passes: late comments are refused, the plan is back in draft.
    app.force_deadline_passed(&hearing_id);
    let problem =
        h.post(&format!("/api/v1/hearings/{hearing_id}/comments"), &json!({"body": "For sent."})).await.problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("deadline"), "{problem}");
    h.patch(&format!("/api/v1/comments/{}", comment_ids[0]), Some("*"), &json!({"body": "Ændret efter fristen"}))
        .await
        .problem(409);
    assert_eq!(app.get(&plan_path).await.expect(200).json()["status"], "draft");
    assert_eq!(anonymous.get(&format!("/api/v1/hearings/{hearing_id}")).await.expect(200).json()["status"], "closed");

    // The administration answers every comment, after the deadline too.
    let answers = [
        ("accommodated", "Jobcentret vil styrke den direkte virksomhedskontakt, også for borgere uden for LAB."),
        (
            "partially_accommodated",
            "Kontinuitet i sagsbehandlingen prioriteres; sagsbehandlerskift kan ikke helt undgås.",
        ),
        ("noted", "Rehabilitering indgår i indsatsen for borgere i ressourceforløb."),
        ("not_accommodated", "Antallet af sagsbehandlere fastlægges i budgettet."),
    ];
    for (comment_id, (disposition, text)) in comment_ids.iter().zip(answers) {
        let answered = p
            .call(
                TestRequest::put()
                    .uri(&format!("/api/v1/comments/{comment_id}/response"))
                    .set_json(json!({"disposition": disposition, "text": text})),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(answered["response"]["disposition"], disposition);
        assert_eq!(answered["response"]["responded_by"], "planner.ltk");
    }
    let letter_response = format!("/api/v1/comments/{}/response", id(&letter));
    p.call(
        TestRequest::put()
            .uri(&letter_response)
            .set_json(json!({"disposition": "noted", "text": "Taget til efterretning."})),
    )
    .await
    .expect(200);
    // Replacing a response needs the comment's ETag.
    let replace = json!({"disposition": "noted", "text": "Tak for opbakningen."});
    p.call(TestRequest::put().uri(&letter_response).set_json(&replace)).await.problem(428);
    p.call(TestRequest::put().uri(&letter_response).insert_header(("if-match", "\"1\"")).set_json(&replace))
        .await
        .problem(412);
    p.call(TestRequest::put().uri(&letter_response).insert_header(("if-match", "*")).set_json(&replace))
        .await
        .expect(200);
    h.call(TestRequest::put().uri(&letter_response).insert_header(("if-match", "*")).set_json(&replace))
        .await
        .problem(403);
    p.call(TestRequest::put().uri(&format!("/api/v1/comments/{}/response", id(&second_thought))).set_json(&replace))
        .await
        .problem(409);

    // Only the placeholder is left.
    let readiness = p.get(&format!("{plan_path}/readiness")).await.expect(200).json();
    let kinds: Vec<&str> =
        readiness["blockers"].as_array().unwrap().iter().map(|b| b["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["placeholder_target"]);

    // The summary is public now: per party, with what each comment concerns and the response.
    let summary = anonymous.get(&format!("/api/v1/hearings/{hearing_id}/summary")).await.expect(200).json();
    assert_eq!(summary["unanswered"], 0);
    let parties: Vec<&str> =
        summary["parties"].as_array().unwrap().iter().map(|p| p["party"].as_str().unwrap()).collect();
    assert_eq!(parties, ["Handicaprådet", "RAR Hovedstaden", "Integrationsrådet"]);
    let handicap = &summary["parties"][0]["comments"];
    assert_eq!(handicap.as_array().unwrap().len(), 4, "the withdrawn comment is left out");
    assert_eq!(handicap[0]["target_label"], "MÅL 11: Flere personer med handicap skal i uddannelse og beskæftigelse");
    assert_eq!(handicap[0]["response"]["disposition"], "accommodated");
    assert_eq!(handicap[3]["target_label"], Value::Null);
    assert_eq!(
        summary["parties"][1]["comments"][0]["target_label"],
        "Resultatkrav: Minimum xx pct. i virksomhedsrettet tilbud"
    );
    assert!(summary["parties"][2]["comments"].as_array().unwrap().is_empty());
    // Anyone reads the comments of a closed hearing (not the withdrawn one).
    assert_eq!(anonymous.get(&format!("/api/v1/hearings/{hearing_id}/comments")).await.expect(200).json()["total"], 5);

    let html = anonymous
        .call(
            TestRequest::get()
                .uri(&format!("/api/v1/hearings/{hearing_id}/summary"))
                .insert_header(("accept", "text/html")),
        )
        .await
        .expect(200)
        .text();
    let page = Html::parse_document(&html);
    let select =
        |s: &str| page.select(&Selector::parse(s).unwrap()).map(|e| e.text().collect::<String>()).collect::<Vec<_>>();
    assert_eq!(select("h1"), ["Høringsnotat: Høring af beskæftigelsesplanen"]);
    assert_eq!(select("main > section > h2"), ["Handicaprådet", "RAR Hovedstaden", "Integrationsrådet"]);
    assert!(html.contains("Delvist imødekommet") && html.contains("kontinuitet i sagsbehandlingen"));
    let markdown = anonymous
        .call(
            TestRequest::get()
                .uri(&format!("/api/v1/hearings/{hearing_id}/summary"))
                .insert_header(("accept", "text/markdown")),
        )
        .await
        .expect(200)
        .text();
    assert!(markdown.starts_with("# Høringsnotat: Høring af beskæftigelsesplanen"), "{markdown}");
    assert!(markdown.contains("**Forvaltningens bemærkning:** Imødekommet"), "{markdown}");
}

#[actix_web::test]
async fn deadlines_and_closing() {
    let Draft { app, plan_id, planner, handicapraadet, .. } = lyngby_taarbaek_draft().await;
    let (p, h) = (app.with_token(&planner), app.with_token(&handicapraadet));
    let plan_path = format!("/api/v1/plans/{plan_id}");
    let problem = p
        .post(
            &format!("{plan_path}/hearings"),
            &json!({"version": 3, "title": "", "closes_at": "i morgen", "parties": ["Handicaprådet", "Handicaprådet"]}),
        )
        .await
        .problem(422);
    assert_eq!(error_fields(&problem), ["title", "parties[1]", "closes_at"]);
    p.post(
        &format!("{plan_path}/hearings"),
        &json!({"version": 1, "title": "H", "closes_at": in_days(-1), "parties": ["Handicaprådet"]}),
    )
    .await
    .problem(422);
    p.post(
        &format!("{plan_path}/hearings"),
        &json!({"version": 3, "title": "H", "closes_at": in_days(7), "parties": ["Handicaprådet"]}),
    )
    .await
    .problem(422);

    // A scheduled hearing takes no comments yet.
    let scheduled = p
        .post(&format!("{plan_path}/hearings"), &json!({"version": 1, "title": "Senere høring", "opens_at": in_days(2), "closes_at": in_days(9), "parties": ["Handicaprådet"]}))
        .await
        .expect(201)
        .json();
    assert_eq!(scheduled["status"], "scheduled");
    let problem = h
        .post(&format!("/api/v1/hearings/{}/comments", id(&scheduled)), &json!({"body": "Tidligt"}))
        .await
        .problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("not opened"));

    // Extend the deadline of an open hearing; close it early; then it is closed for good.
    let open = p
        .post(
            &format!("{plan_path}/hearings"),
            &json!({"version": 1, "title": "Høring", "closes_at": in_days(7), "parties": ["Handicaprådet"]}),
        )
        .await
        .expect(201)
        .json();
    let path = format!("/api/v1/hearings/{}", id(&open));
    p.patch(&path, None, &json!({"closes_at": in_days(21)})).await.problem(428);
    let extended = p
        .patch(&path, Some(open["etag"].as_str().unwrap()), &json!({"closes_at": in_days(21)}))
        .await
        .expect(200)
        .json();
    assert_ne!(extended["closes_at"], open["closes_at"]);
    p.patch(&path, Some("*"), &json!({"closes_at": in_days(-2)})).await.problem(422);
    p.patch(&path, Some("*"), &json!({"parties": ["RAR"]})).await.problem(422);
    h.patch(&path, Some("*"), &json!({"closes_at": in_days(30)})).await.problem(403);
    h.post(&format!("{path}/close"), &json!({})).await.problem(403);
    p.post(&format!("{path}/close"), &json!({})).await.expect(200);
    p.post(&format!("{path}/close"), &json!({})).await.problem(409);
    p.patch(&path, Some("*"), &json!({"closes_at": in_days(30)})).await.problem(409);
    assert_eq!(
        app.get(&plan_path).await.expect(200).json()["status"],
        "in_hearing",
        "the scheduled hearing still holds it"
    );
    p.post(&format!("/api/v1/hearings/{}/close", id(&scheduled)), &json!({})).await.expect(200);
    assert_eq!(app.get(&plan_path).await.expect(200).json()["status"], "draft");

    // A consultee of a party not invited, or of another municipality, sees none of it.
    let ldr = app.user_token("ldr.ltk", "consultee", &["173"], Some("Ældrerådet")).await;
    app.with_token(&ldr).get(&format!("{plan_path}/versions/1")).await.problem(404);
    app.municipality("185", "Tårnby Kommune").await;
    let elsewhere = app.user_token("handicapraadet.taarnby", "consultee", &["185"], Some("Handicaprådet")).await;
    app.with_token(&elsewhere).get(&format!("{plan_path}/versions/1")).await.problem(404);
}

#[actix_web::test]
async fn the_settling_sweep_returns_plans_to_draft() {
    let Draft { app, plan_id, planner, .. } = lyngby_taarbaek_draft().await;
    let p = app.with_token(&planner);
    let hearing = p
        .post(
            &format!("/api/v1/plans/{plan_id}/hearings"),
            &json!({"version": 1, "title": "H", "closes_at": in_days(7), "parties": ["Handicaprådet"]}),
        )
        .await
        .expect(201)
        .json();
    app.force_deadline_passed(&id(&hearing));
    let mut conn = app.state.pool.get().unwrap();
    assert_eq!(beskplan::api::plan_state::settle_all(&mut conn).unwrap(), 1);
    assert_eq!(beskplan::api::plan_state::settle_all(&mut conn).unwrap(), 0);
    drop(conn);
    let drafts = app.get("/api/v1/plans?status=draft").await.expect(200).json();
    assert_eq!(drafts["total"], 1);
    let log = app.get(&format!("/api/v1/audit?entity_type=plan&entity_id={plan_id}")).await.expect(200).json();
    assert_eq!(log["items"][0]["actor"], "system");
}
