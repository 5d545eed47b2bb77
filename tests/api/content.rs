//! A plan's content: sections, focus areas, goals, result requirements and follow-up measures,
//! entered from the seed plans and read back unchanged; validation; ordering; deletion rules.

use crate::common::{error_fields, TestApp};
use serde_json::{json, Value};

/// Every field that was sent comes back the same (objects compared field by field).
#[track_caller]
fn assert_kept(sent: &Value, returned: &Value) {
    match sent {
        Value::Object(fields) => {
            for (name, value) in fields {
                if name == "position" {
                    continue;
                }
                assert_kept(value, &returned[name]);
            }
        }
        other => assert_eq!(other, returned, "sent {sent}, got back {returned}"),
    }
}

async fn post(app: &TestApp, path: &str, body: &Value) -> Value {
    let created = app.post(path, body).await.expect(201).json();
    assert_kept(body, &created);
    created
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

/// Jammerbugt's Beskæftigelsesplan 2015: the three goal kinds side by side.
async fn jammerbugt(app: &TestApp) -> (String, Vec<(Value, Vec<Value>)>) {
    let plan = app.plan("849", 2015).await;
    let plan_id = id(&plan);
    let goals = vec![
        (
            json!({"number": "Mål 1", "title": "Flere unge skal have en uddannelse", "kind": "ministerial",
                   "target_groups": ["LAB 2.12", "LAB 2.13"],
                   "initiatives": ["Beskæftigelsesindsatsen for unge uden uddannelse flyttes ind på VUC"]}),
            vec![json!({
                "statement": "Antallet af unge på uddannelseshjælp reduceres med 10 % fra januar 2014 til december 2015, svarende til et fald fra 280 i januar 2014 til 252 i december 2015.",
                "indicator": "Unge på uddannelseshjælp (antal personer)", "unit": "persons", "comparator": "decrease_by_percent",
                "baseline": {"value": 280, "as_of": "2014-01-31"},
                "target": {"value": 10, "value_max": null, "due": "2015-12-31", "placeholder": false},
                "data_source": "Jobindsats.dk", "frequency": "monthly"})],
        ),
        (
            json!({"number": "Mål 2", "title": "Langvarige modtagere af offentlig forsørgelse skal have en tværfaglig og sammenhængende indsats", "kind": "ministerial"}),
            vec![json!({
                "statement": "Der må maksimalt tildeles 4 førtidspensioner pr. måned i 2015.",
                "indicator": "Tilkendte førtidspensioner pr. måned", "unit": "per_month", "comparator": "at_most",
                "target": {"value": 4, "due": "2015-12-31"}, "data_source": "Jobindsats.dk", "frequency": "monthly"})],
        ),
        (
            json!({"number": "Mål 3", "title": "Langtidsledigheden skal bekæmpes", "kind": "ministerial", "target_groups": ["LAB 2.1"]}),
            vec![json!({
                "statement": "Antallet af langtidsledige reduceres med 20 % fra januar 2014 til december 2015, svarende til et fald fra 168 personer i januar 2014 til 134 personer i december 2015.",
                "indicator": "Langtidsledige (antal personer)", "unit": "persons", "comparator": "decrease_by_percent",
                "baseline": {"value": 168, "as_of": "2014-01-31"}, "target": {"value": 20, "due": "2015-12-31"},
                "data_source": "Jobindsats.dk", "frequency": "monthly"})],
        ),
        (
            json!({"title": "Revalidering", "kind": "local", "description": "Revalideringen skal altid tilrettelægges som kortest mulig vej til selvforsørgelse."}),
            vec![json!({
                "statement": "Der forventes gennemsnitligt at være minimum 100 igangværende revalideringsbevillinger, dog maksimalt 175.",
                "indicator": "Igangværende revalideringsbevillinger", "unit": "count", "comparator": "between",
                "baseline": {"value": 142, "as_of": "2014-09-30"}, "target": {"value": 100, "value_max": 175, "due": "2015-12-31"}})],
        ),
        (
            json!({"title": "Sygedagpengeområdet", "kind": "local"}),
            vec![json!({
                "statement": "Der forventes gennemsnitligt at være maksimalt 80 sygedagpengesager med en varighed på over 52 uger.",
                "indicator": "Sygedagpengesager over 52 uger", "unit": "count", "comparator": "at_most",
                "baseline": {"value": 96, "as_of": "2014-09-30"}, "target": {"value": 80, "due": "2015-12-31"}})],
        ),
        (
            json!({"title": "Borgertilfredshed", "kind": "qualitative"}),
            vec![json!({
                "statement": "Mindst 1 gang om året inviterer Jobcenter Jammerbugt en repræsentativ gruppe af borgere til dialogmøde.",
                "indicator": "Dialogmøde med borgere afholdt", "unit": "none", "comparator": "done",
                "target": {"due": "2015-12-31"}, "frequency": "yearly"})],
        ),
    ];
    let mut entered = Vec::new();
    for (goal, requirements) in goals {
        let created = post(app, &format!("/api/v1/plans/{plan_id}/goals"), &goal).await;
        let mut made = Vec::new();
        for requirement in requirements {
            made.push(post(app, &format!("/api/v1/goals/{}/requirements", id(&created)), &requirement).await);
        }
        entered.push((goal, made));
    }
    (plan_id, entered)
}

#[actix_web::test]
async fn jammerbugt_2015_reads_back_unchanged() {
    let app = TestApp::new().await;
    let (plan_id, entered) = jammerbugt(&app).await;
    let goals = app.get(&format!("/api/v1/plans/{plan_id}/goals")).await.expect(200).json();
    assert_eq!(goals["total"], 6);
    for (i, (sent, requirements)) in entered.iter().enumerate() {
        let goal = &goals["items"][i];
        assert_kept(sent, goal);
        assert_eq!(goal["position"], i);
        let listed = app.get(&format!("/api/v1/goals/{}/requirements", id(goal))).await.expect(200).json();
        assert_eq!(&listed["items"].as_array().unwrap()[..], &requirements[..]);
        for requirement in requirements {
            let read = app.get(&format!("/api/v1/requirements/{}", id(requirement))).await.expect(200).json();
            assert_eq!(&read, requirement);
        }
    }
    let kinds: Vec<&str> = goals["items"].as_array().unwrap().iter().map(|g| g["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ministerial", "ministerial", "ministerial", "local", "local", "qualitative"]);
    // Whole numbers come back whole.
    let first = &entered[0].1[0];
    assert_eq!(first["baseline"]["value"].to_string(), "280");
    assert_eq!(first["target"]["value"].to_string(), "10");
}

#[actix_web::test]
async fn lyngby_taarbaek_2019_draft_with_placeholders_and_follow_up_measures() {
    let app = TestApp::new().await;
    let plan = app.plan("173", 2019).await;
    let plan_id = id(&plan);
    let section = post(
        &app,
        &format!("/api/v1/plans/{plan_id}/sections"),
        &json!({"heading": "Indledning", "body": "**UDKAST** – Beskæftigelsesplan 2019 for Lyngby-Taarbæk Kommune.\n\n> “Flere i job” – og færre på offentlig forsørgelse."}),
    )
    .await;
    let employment =
        post(&app, &format!("/api/v1/plans/{plan_id}/focus-areas"), &json!({"title": "Flere i beskæftigelse"})).await;
    let integration = post(
        &app,
        &format!("/api/v1/plans/{plan_id}/focus-areas"),
        &json!({"title": "Jobrettet integration for flygtninge og familiesammenførte"}),
    )
    .await;
    let goal1 = post(
        &app,
        &format!("/api/v1/plans/{plan_id}/goals"),
        &json!({"number": "MÅL 1", "title": "Antallet af personer der modtager offentlig forsørgelse skal falde med x pct. fra 2018 til 2019.",
                "kind": "ministerial", "focus_area_id": id(&employment)}),
    )
    .await;
    let placeholder = post(
        &app,
        &format!("/api/v1/goals/{}/requirements", id(&goal1)),
        &json!({"statement": "Antallet af personer der modtager offentlig forsørgelse skal falde med x pct. fra 2018 til 2019.",
                "indicator": "Personer på offentlig forsørgelse", "unit": "persons", "comparator": "decrease_by_percent",
                "baseline": {"value": null, "as_of": "2018-12-31"}, "target": {"due": "2019-12-31", "placeholder": true}}),
    )
    .await;
    assert_eq!(
        placeholder["target"],
        json!({"value": null, "value_max": null, "due": "2019-12-31", "placeholder": true})
    );
    post(
        &app,
        &format!("/api/v1/goals/{}/follow-up-measures", id(&goal1)),
        &json!({"indicator": "Antallet af personer der modtager offentlig forsørgelse i mere end 52 uger.", "unit": "persons"}),
    )
    .await;
    let goal6 = post(
        &app,
        &format!("/api/v1/plans/{plan_id}/goals"),
        &json!({"number": "MÅL 6", "title": "xx pct. af flygtninge og familiesammenførte til flygtninge skal være i beskæftigelse i gennemsnit over månederne i 2018.",
                "kind": "ministerial", "focus_area_id": id(&integration)}),
    )
    .await;
    for indicator in [
        "Andelen af kvindelige flygtninge og familiesammenførte som er i selvforsørgelse følges.",
        "Andelen af borgere, der efter endt IGU-forløb overgår til selvforsørgelse følges.",
        "Overblik over virksomheder som jobcentret samarbejder med om integration.",
    ] {
        post(
            &app,
            &format!("/api/v1/goals/{}/follow-up-measures", id(&goal6)),
            &json!({"indicator": indicator, "unit": "percent"}),
        )
        .await;
    }
    let measures = app.get(&format!("/api/v1/goals/{}/follow-up-measures", id(&goal6))).await.expect(200).json();
    assert_eq!(measures["total"], 3);
    assert_eq!(
        measures["items"][2]["indicator"],
        "Overblik over virksomheder som jobcentret samarbejder med om integration."
    );
    assert_eq!(app.get(&format!("/api/v1/sections/{}", id(&section))).await.expect(200).json(), section);
    let in_area =
        app.get(&format!("/api/v1/plans/{plan_id}/goals?focus_area_id={}", id(&integration))).await.expect(200).json();
    assert_eq!(in_area["total"], 1);
    assert_eq!(in_area["items"][0]["number"], "MÅL 6");
}

fn requirement(overrides: Value) -> Value {
    let mut base = json!({"statement": "Højst 12,5 pct. ved udgangen af 2017", "indicator": "Andel på sygedagpenge",
                          "unit": "percent", "comparator": "at_most", "target": {"value": 12.5, "due": "2017-12-31"}});
    json_patch::merge(&mut base, &overrides);
    base
}

#[actix_web::test]
async fn every_requirement_rule_answers_with_its_field() {
    let app = TestApp::new().await;
    let plan = app.plan("201", 2017).await;
    let goal =
        post(&app, &format!("/api/v1/plans/{}/goals", id(&plan)), &json!({"title": "Sygedagpenge", "kind": "local"}))
            .await;
    let path = format!("/api/v1/goals/{}/requirements", id(&goal));
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "between needs value_max",
            json!({"comparator": "between", "unit": "count", "target": {"value": 100}}),
            vec!["target.value_max"],
        ),
        (
            "between needs max ≥ min",
            json!({"comparator": "between", "unit": "count", "target": {"value": 100, "value_max": 99}}),
            vec!["target.value_max"],
        ),
        ("value_max only for between", json!({"target": {"value_max": 20}}), vec!["target.value_max"]),
        ("percent needs a baseline", json!({"comparator": "decrease_by_percent", "unit": "persons"}), vec!["baseline"]),
        (
            "percent needs the baseline's value",
            json!({"comparator": "increase_by_percent", "unit": "persons", "baseline": {"as_of": "2016-12-31"}}),
            vec!["baseline.value"],
        ),
        ("a decrease needs a baseline", json!({"comparator": "decrease_by", "unit": "weeks"}), vec!["baseline"]),
        ("non-placeholder needs a value", json!({"target": {"value": null}}), vec!["target.value"]),
        ("non-placeholder needs a deadline", json!({"target": {"due": null}}), vec!["target.due"]),
        ("done takes no number", json!({"comparator": "done", "unit": "none"}), vec!["target.value"]),
        (
            "done takes no baseline",
            json!({"comparator": "done", "unit": "none", "target": {"value": null}, "baseline": {"value": 1, "as_of": "2016-01-01"}}),
            vec!["baseline"],
        ),
        ("dates are real", json!({"target": {"due": "2017-02-29"}}), vec!["target.due"]),
        ("dates have one form", json!({"target": {"due": "31.12.2017"}}), vec!["target.due"]),
        (
            "baseline before the deadline",
            json!({"baseline": {"value": 13.9, "as_of": "2018-01-01"}}),
            vec!["target.due"],
        ),
        ("percent at most 100", json!({"target": {"value": 125}}), vec!["target.value"]),
        ("no negative numbers", json!({"unit": "count", "target": {"value": -4}}), vec!["target.value"]),
        ("texts are bounded", json!({"statement": "x".repeat(2001), "indicator": " "}), vec!["statement", "indicator"]),
        ("positions count from 0", json!({"position": -1}), vec!["position"]),
    ];
    for (rule, overrides, fields) in cases {
        let response = app.post(&path, &requirement(overrides)).await;
        assert_eq!(response.status, 422, "{rule}: {}", response.text());
        assert_eq!(error_fields(&response.problem(422)), fields, "{rule}");
    }
    for (what, body) in [
        ("unknown comparator", requirement(json!({"comparator": "roughly"}))),
        ("unknown unit", requirement(json!({"unit": "bananas"}))),
        ("unknown field", requirement(json!({"colour": "red"}))),
        ("unknown target field", requirement(json!({"target": {"deadline": "2017-12-31"}}))),
        ("number as text", requirement(json!({"target": {"value": "12,5"}}))),
    ] {
        assert_eq!(app.post(&path, &body).await.status, 400, "{what}");
    }
    assert_eq!(app.get(&path).await.expect(200).json()["total"], 0, "nothing refused was stored");
    post(&app, &path, &requirement(json!({}))).await;
}

#[actix_web::test]
async fn a_requirement_merge_patch_reaches_into_the_target() {
    let app = TestApp::new().await;
    let plan = app.plan("201", 2017).await;
    let goal =
        post(&app, &format!("/api/v1/plans/{}/goals", id(&plan)), &json!({"title": "Sygedagpenge", "kind": "local"}))
            .await;
    let created = post(&app, &format!("/api/v1/goals/{}/requirements", id(&goal)), &requirement(json!({}))).await;
    let path = format!("/api/v1/requirements/{}", id(&created));
    let patched = app
        .patch(&path, Some(created["etag"].as_str().unwrap()), &json!({"target": {"value": 12}}))
        .await
        .expect(200)
        .json();
    assert_eq!(patched["target"], json!({"value": 12, "value_max": null, "due": "2017-12-31", "placeholder": false}));
    // A change that breaks a rule is refused whole.
    let problem = app.patch(&path, Some("*"), &json!({"comparator": "between"})).await.problem(422);
    assert_eq!(error_fields(&problem), ["target.value_max"]);
    let problem = app.patch(&path, Some("*"), &json!({"goal_id": id(&goal)})).await.problem(422);
    assert_eq!(error_fields(&problem), ["goal_id"]);
    app.patch(&path, Some(created["etag"].as_str().unwrap()), &json!({"statement": "Forældet"})).await.problem(412);
}

async fn titles(app: &TestApp, plan_id: &str) -> Vec<String> {
    let list = app.get(&format!("/api/v1/plans/{plan_id}/goals")).await.expect(200).json();
    let items = list["items"].as_array().unwrap();
    for (i, goal) in items.iter().enumerate() {
        assert_eq!(goal["position"], i, "positions stay contiguous");
    }
    items.iter().map(|g| g["title"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn positions_insert_move_and_close_up() {
    let app = TestApp::new().await;
    let plan = app.plan("185", 2017).await;
    let plan_id = id(&plan);
    let goals_path = format!("/api/v1/plans/{plan_id}/goals");
    let mut ids = std::collections::HashMap::new();
    for (title, position) in [("B", None), ("D", None), ("A", Some(0)), ("C", Some(2)), ("E", Some(99))] {
        let mut body = json!({"title": title, "kind": "local"});
        if let Some(p) = position {
            body["position"] = json!(p);
        }
        let created = app.post(&goals_path, &body).await.expect(201).json();
        ids.insert(title, id(&created));
    }
    assert_eq!(titles(&app, &plan_id).await, ["A", "B", "C", "D", "E"]);

    app.patch(&format!("/api/v1/goals/{}", ids["E"]), Some("*"), &json!({"position": 1})).await.expect(200);
    assert_eq!(titles(&app, &plan_id).await, ["A", "E", "B", "C", "D"]);
    app.patch(&format!("/api/v1/goals/{}", ids["A"]), Some("*"), &json!({"position": 10})).await.expect(200);
    assert_eq!(titles(&app, &plan_id).await, ["E", "B", "C", "D", "A"]);
    app.delete(&format!("/api/v1/goals/{}", ids["B"]), Some("*")).await.expect(204);
    assert_eq!(titles(&app, &plan_id).await, ["E", "C", "D", "A"]);
    app.patch(&format!("/api/v1/goals/{}", ids["C"]), Some("*"), &json!({"position": -2})).await.problem(422);

    // Sections order on their own, per plan.
    for heading in ["Indledning", "Udfordringer", "Økonomi"] {
        app.post(&format!("/api/v1/plans/{plan_id}/sections"), &json!({"heading": heading, "body": ""}))
            .await
            .expect(201);
    }
    app.post(&format!("/api/v1/plans/{plan_id}/sections"), &json!({"heading": "Resumé", "body": "", "position": 0}))
        .await
        .expect(201);
    let sections = app.get(&format!("/api/v1/plans/{plan_id}/sections")).await.expect(200).json();
    let headings: Vec<&str> =
        sections["items"].as_array().unwrap().iter().map(|s| s["heading"].as_str().unwrap()).collect();
    assert_eq!(headings, ["Resumé", "Indledning", "Udfordringer", "Økonomi"]);
}

#[actix_web::test]
async fn deleting_a_goal_takes_its_requirements_and_follow_up_measures() {
    let app = TestApp::new().await;
    let (_, entered) = jammerbugt(&app).await;
    let goal_id = entered[0].1[0]["goal_id"].as_str().unwrap().to_owned();
    let measure = post(
        &app,
        &format!("/api/v1/goals/{goal_id}/follow-up-measures"),
        &json!({"indicator": "Unge i uddannelse", "unit": "persons"}),
    )
    .await;
    let requirement_id = id(&entered[0].1[0]);
    app.delete(&format!("/api/v1/goals/{goal_id}"), Some("*")).await.expect(204);
    app.get(&format!("/api/v1/goals/{goal_id}")).await.problem(404);
    app.get(&format!("/api/v1/requirements/{requirement_id}")).await.problem(404);
    app.get(&format!("/api/v1/follow-up-measures/{}", id(&measure))).await.problem(404);
    let audit = app.get(&format!("/api/v1/audit?entity_type=goal&entity_id={goal_id}")).await.expect(200).json();
    let before = &audit["items"][0]["before"];
    assert_eq!(before["requirements"][0]["id"], requirement_id.as_str(), "the record keeps what went with the goal");
    assert_eq!(before["follow_up_measures"][0]["id"], id(&measure).as_str());
}

#[actix_web::test]
async fn a_focus_area_with_goals_is_deleted_only_when_asked_to_detach_them() {
    let app = TestApp::new().await;
    let plan = app.plan("165", 2019).await;
    let plan_id = id(&plan);
    let area = post(
        &app,
        &format!("/api/v1/plans/{plan_id}/focus-areas"),
        &json!({"title": "Unge", "description": "Flere unge i uddannelse"}),
    )
    .await;
    let goal = post(
        &app,
        &format!("/api/v1/plans/{plan_id}/goals"),
        &json!({"title": "Flere unge i uddannelse", "kind": "ministerial", "focus_area_id": id(&area)}),
    )
    .await;
    let area_path = format!("/api/v1/focus-areas/{}", id(&area));
    let problem = app.delete(&area_path, Some("*")).await.problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("detach"), "{problem}");
    app.get(&area_path).await.expect(200);
    app.delete(&format!("{area_path}?detach=maybe"), Some("*")).await.problem(400);
    app.delete(&format!("{area_path}?detach=true"), Some("*")).await.expect(204);
    let detached = app.get(&format!("/api/v1/goals/{}", id(&goal))).await.expect(200).json();
    assert_eq!(detached["focus_area_id"], Value::Null);

    // A focus area of another plan cannot be used.
    let other = app.plan("165", 2020).await;
    let foreign = post(&app, &format!("/api/v1/plans/{}/focus-areas", id(&other)), &json!({"title": "Andet"})).await;
    let problem = app
        .post(
            &format!("/api/v1/plans/{plan_id}/goals"),
            &json!({"title": "X", "kind": "local", "focus_area_id": id(&foreign)}),
        )
        .await
        .problem(422);
    assert_eq!(error_fields(&problem), ["focus_area_id"]);
}

#[actix_web::test]
async fn content_changes_only_while_draft_or_in_hearing() {
    let app = TestApp::new().await;
    let (plan_id, entered) = jammerbugt(&app).await;
    let requirement_path = format!("/api/v1/requirements/{}", id(&entered[1].1[0]));
    app.force_state(&plan_id, "in_hearing", Some(1), None);
    app.patch(&requirement_path, Some("*"), &json!({"target": {"value": 3}})).await.expect(200);
    for status in ["awaiting_approval", "adopted"] {
        app.force_state(&plan_id, status, Some(1), (status == "adopted").then_some(1));
        let problem = app.patch(&requirement_path, Some("*"), &json!({"target": {"value": 5}})).await.problem(409);
        assert!(problem["detail"].as_str().unwrap().contains(status), "{problem}");
        app.post(&format!("/api/v1/plans/{plan_id}/sections"), &json!({"heading": "Tillæg", "body": ""}))
            .await
            .problem(409);
        app.delete(&format!("/api/v1/goals/{}", entered[0].1[0]["goal_id"].as_str().unwrap()), Some("*"))
            .await
            .problem(409);
    }
    assert_eq!(app.get(&requirement_path).await.expect(200).json()["target"]["value"], 3);
}

#[actix_web::test]
async fn goals_filter_by_kind_and_exact_target_group() {
    let app = TestApp::new().await;
    let plan = app.plan("185", 2017).await;
    let path = format!("/api/v1/plans/{}/goals", id(&plan));
    for (title, kind, groups) in [
        ("Mål 1", "ministerial", json!(["LAB 2.1"])),
        ("Mål 2", "ministerial", json!(["LAB 2.12", "LAB 2.13"])),
        ("Lokalt", "local", json!(["LAB 2.1", "LAB 2.5"])),
        ("50% af \"de unge\"", "qualitative", json!(["LAB_2%1"])),
    ] {
        app.post(&path, &json!({"title": title, "kind": kind, "target_groups": groups})).await.expect(201);
    }
    let count = |query: &'static str| {
        let app = &app;
        let path = path.clone();
        async move { app.get(&format!("{path}?{query}")).await.expect(200).json()["total"].as_i64().unwrap() }
    };
    assert_eq!(count("kind=ministerial").await, 2);
    assert_eq!(count("target_group=LAB%202.1").await, 2, "LAB 2.1 is not LAB 2.12");
    assert_eq!(count("target_group=LAB%202.13").await, 1);
    assert_eq!(count("target_group=LAB%202.1&kind=local").await, 1);
    assert_eq!(count("target_group=LAB_2%251").await, 1, "wildcards in the value are taken literally");
    assert_eq!(count("target_group=LAB%25").await, 0);
    app.get(&format!("{path}?kind=national")).await.problem(400);
}
