//! Follow-up: Jammerbugt's 2015 measurements give the statuses an analyst would; the report as
//! CSV; import all or nothing, without duplicates.

use crate::common::{error_fields, TestApp};
use actix_web::test::TestRequest;
use serde_json::{json, Value};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

struct Jammerbugt {
    app: TestApp,
    plan_id: String,
    planner: String,
    /// Requirement ids: long-term unemployed (−20 %), early retirement (≤ 4/month),
    /// rehabilitation (100–175), citizen dialogue (done), sickness benefit (≤ 80, no data).
    requirements: Vec<String>,
    measure: String,
}

async fn jammerbugt() -> Jammerbugt {
    let app = TestApp::new().await;
    app.municipality("849", "Jammerbugt Kommune").await;
    let planner = app.user_token("planner.jammerbugt", "planner", &["849"], None).await;
    let p = app.with_token(&planner);
    let plan = p
        .post("/api/v1/plans", &json!({"municipality": "849", "year": 2015, "title": "Beskæftigelsesplan 2015"}))
        .await
        .expect(201)
        .json();
    let plan_id = id(&plan);
    let specs = [
        (
            "Mål 3",
            json!({"statement": "Langtidsledige reduceres med 20 % fra 168 til 134", "indicator": "Langtidsledige", "unit": "persons", "comparator": "decrease_by_percent", "baseline": {"value": 168, "as_of": "2014-01-31"}, "target": {"value": 20, "due": "2015-12-31"}}),
        ),
        (
            "Mål 2",
            json!({"statement": "Maksimalt 4 førtidspensioner pr. måned", "indicator": "Førtidspensioner", "unit": "per_month", "comparator": "at_most", "target": {"value": 4, "due": "2015-12-31"}}),
        ),
        (
            "Revalidering",
            json!({"statement": "Minimum 100, dog maksimalt 175 revalideringsbevillinger", "indicator": "Revalideringer", "unit": "count", "comparator": "between", "target": {"value": 100, "value_max": 175, "due": "2015-12-31"}}),
        ),
        (
            "Borgertilfredshed",
            json!({"statement": "Dialogmøde med borgere mindst 1 gang om året", "indicator": "Dialogmøde afholdt", "unit": "none", "comparator": "done", "target": {"due": "2015-12-31"}}),
        ),
        (
            "Sygedagpenge",
            json!({"statement": "Maksimalt 80 sygedagpengesager over 52 uger", "indicator": "Sager over 52 uger", "unit": "count", "comparator": "at_most", "baseline": {"value": 96, "as_of": "2014-09-30"}, "target": {"value": 80, "due": "2015-12-31"}}),
        ),
    ];
    let mut requirements = Vec::new();
    let mut measure = String::new();
    for (title, requirement) in specs {
        let goal = p
            .post(&format!("/api/v1/plans/{plan_id}/goals"), &json!({"title": title, "kind": "local"}))
            .await
            .expect(201)
            .json();
        requirements.push(id(&p
            .post(&format!("/api/v1/goals/{}/requirements", id(&goal)), &requirement)
            .await
            .expect(201)
            .json()));
        if measure.is_empty() {
            let created = p
                .post(
                    &format!("/api/v1/goals/{}/follow-up-measures", id(&goal)),
                    &json!({"indicator": "Tilgang til langtidsledighed", "unit": "persons"}),
                )
                .await
                .expect(201)
                .json();
            measure = id(&created);
        }
    }
    Jammerbugt { app, plan_id, planner, requirements, measure }
}

/// A requirement's measurements read by cursor: a figure recorded meanwhile for an earlier
/// period (which an offset would push the page boundary over) does not make a page repeat one.
#[actix_web::test]
async fn measurement_pages_by_cursor_hold_under_inserts() {
    let j = jammerbugt().await;
    let requirement = &j.requirements[1];
    for month in ["03", "05", "07", "09"] {
        measure(&j.app, &j.planner, requirement, &format!("2015-{month}-28"), 4.0).await;
    }
    let p = j.app.with_token(&j.planner);
    let path = format!("/api/v1/requirements/{requirement}/measurements");
    let first = p.get(&format!("{path}?limit=2")).await.expect(200).json();
    let periods = |page: &Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|m| m["period_end"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(periods(&first), ["2015-03-28", "2015-05-28"]);
    measure(&j.app, &j.planner, requirement, "2015-01-28", 3.0).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = p.get(&format!("{path}?limit=2&after={cursor}")).await.expect(200).json();
    assert_eq!(periods(&second), ["2015-07-28", "2015-09-28"]);
    assert!(second.get("next_cursor").is_none());
    assert_eq!(second["total"], 5);
    // The cursor holds its item's place, so it stays good when that item is deleted.
    let last_of_first = &first["items"][1];
    let deleted = p
        .delete(
            &format!("/api/v1/measurements/{}", last_of_first["id"].as_str().unwrap()),
            last_of_first["etag"].as_str(),
        )
        .await;
    assert_eq!(deleted.status, 204);
    let again = p.get(&format!("{path}?limit=2&after={cursor}")).await.expect(200).json();
    assert_eq!(periods(&again), ["2015-07-28", "2015-09-28"]);
    p.get(&format!("{path}?after=bm90LWEtY3Vyc29y")).await.problem(422);
}

async fn measure(app: &TestApp, token: &str, requirement: &str, period_end: &str, value: f64) -> Value {
    app.with_token(token)
        .post(
            &format!("/api/v1/requirements/{requirement}/measurements"),
            &json!({"period_end": period_end, "value": value, "source": "Jobindsats.dk"}),
        )
        .await
        .expect(201)
        .json()
}

#[actix_web::test]
async fn jammerbugt_2015_measurements_give_the_analysts_statuses() {
    let Jammerbugt { app, plan_id, planner, requirements, measure: measure_id } = jammerbugt().await;
    let p = app.with_token(&planner);
    measure(&app, &planner, &requirements[0], "2014-12-31", 160.0).await;
    let revised = measure(&app, &planner, &requirements[0], "2014-12-31", 149.0).await;
    measure(&app, &planner, &requirements[1], "2015-05-31", 5.0).await;
    measure(&app, &planner, &requirements[2], "2015-05-31", 142.0).await;
    measure(&app, &planner, &requirements[3], "2015-04-30", 1.0).await;
    p.post(
        &format!("/api/v1/follow-up-measures/{measure_id}/measurements"),
        &json!({"period_end": "2015-05-31", "value": 12}),
    )
    .await
    .expect(201);

    let report = p.get(&format!("/api/v1/plans/{plan_id}/follow-up?as_of=2015-06-15")).await.expect(200).json();
    let statuses: Vec<&str> =
        report["requirements"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    // 149 in December 2014 is below the straight line (≈151) from 168 to 134: on track; five
    // early retirements in May break "at most 4": at risk; 142 is within 100–175; the dialogue
    // meeting was held; no sickness benefit figures yet.
    assert_eq!(statuses, ["on_track", "at_risk", "on_track", "met", "no_data"]);
    assert_eq!(report["counts"], json!({"met": 1, "on_track": 2, "at_risk": 1, "not_met": 0, "no_data": 1}));
    assert_eq!(report["requirements"][0]["latest"]["id"], revised["id"], "the revised figure counts");
    assert_eq!(report["requirements"][0]["latest"]["value"], 149.0);
    assert_eq!(report["follow_up_measures"][0]["latest"]["value"], 12.0);
    assert_eq!(report["as_of"], "2015-06-15");

    // At the end of the year.
    measure(&app, &planner, &requirements[0], "2015-12-31", 138.0).await;
    measure(&app, &planner, &requirements[1], "2015-12-31", 3.0).await;
    let report = p.get(&format!("/api/v1/plans/{plan_id}/follow-up?as_of=2016-01-31")).await.expect(200).json();
    let statuses: Vec<&str> =
        report["requirements"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["not_met", "met", "met", "met", "no_data"]);

    // The history stays.
    let history = p.get(&format!("/api/v1/requirements/{}/measurements", requirements[0])).await.expect(200).json();
    assert_eq!(history["total"], 3);
    // Measurements are recorded after adoption too.
    app.force_adopted(&plan_id);
    measure(&app, &planner, &requirements[4], "2015-06-30", 85.0).await;
    // Validation.
    let problem = p
        .post(
            &format!("/api/v1/requirements/{}/measurements", requirements[3]),
            &json!({"period_end": "2015-13-01", "value": 2}),
        )
        .await
        .problem(422);
    assert_eq!(error_fields(&problem), ["period_end", "value"]);
    p.post(
        &format!("/api/v1/requirements/{}/measurements", requirements[0]),
        &json!({"period_end": "2015-01-31", "value": "mange"}),
    )
    .await
    .problem(400);
    p.get(&format!("/api/v1/plans/{plan_id}/follow-up?as_of=i%20g%C3%A5r")).await.problem(422);
}

#[actix_web::test]
async fn measurements_are_deleted_with_if_match_and_are_not_public() {
    let Jammerbugt { app, plan_id, planner, requirements, .. } = jammerbugt().await;
    let m = measure(&app, &planner, &requirements[1], "2015-01-31", 2.0).await;
    let path = format!("/api/v1/measurements/{}", id(&m));
    app.force_adopted(&plan_id);
    app.anonymous().get(&path).await.problem(404);
    app.anonymous().get(&format!("/api/v1/plans/{plan_id}/follow-up")).await.problem(404);
    let viewer = app.user_token("viewer.jammerbugt", "viewer", &["849"], None).await;
    app.with_token(&viewer).get(&path).await.expect(200);
    app.with_token(&viewer).delete(&path, Some("*")).await.problem(403);
    app.with_token(&planner).delete(&path, None).await.problem(428);
    app.with_token(&planner).delete(&path, Some(m["etag"].as_str().unwrap())).await.expect(204);
    app.with_token(&planner).get(&path).await.problem(404);
}

#[actix_web::test]
async fn the_report_as_csv_imports_back_without_duplicates() {
    let Jammerbugt { app, plan_id, planner, requirements, measure: measure_id } = jammerbugt().await;
    let p = app.with_token(&planner);
    measure(&app, &planner, &requirements[0], "2015-03-31", 150.5).await;
    measure(&app, &planner, &requirements[2], "2015-03-31", 120.0).await;
    p.post(
        &format!("/api/v1/follow-up-measures/{measure_id}/measurements"),
        &json!({"period_end": "2015-03-31", "value": 7, "note": "Foreløbigt tal; \"revideres\""}),
    )
    .await
    .expect(201);

    let csv_request = |dialect: &str| {
        TestRequest::get()
            .uri(&format!("/api/v1/plans/{plan_id}/follow-up?as_of=2015-04-30&dialect={dialect}"))
            .insert_header(("accept", "text/csv"))
    };
    let standard = p.call(csv_request("standard")).await.expect(200);
    assert_eq!(standard.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    let text = standard.text();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("kind,id,goal_id,text,comparator,"), "{}", lines[0]);
    assert_eq!(lines.len(), 1 + 5 + 1, "a row per requirement and follow-up measure");
    // 150.5 at the end of March 2015 is above the line from 168 to 134.4 (≈147.6 then): at risk.
    assert!(
        lines[1].contains(",decrease_by_percent,20,,2015-12-31,168,at_risk,2015-03-31,150.5,Jobindsats.dk,"),
        "{}",
        lines[1]
    );
    let danish = p.call(csv_request("danish")).await.expect(200).text();
    assert!(danish.lines().nth(1).unwrap().contains(";at_risk;2015-03-31;150,5;Jobindsats.dk;"), "{danish}");

    // Into a fresh database with the same plan: export → import → export gives the same figures.
    let import = |body: String| {
        TestRequest::post()
            .uri(&format!("/api/v1/plans/{plan_id}/measurements:import"))
            .insert_header(("content-type", "text/csv"))
            .set_payload(body)
    };
    let again = p.call(import(text.clone())).await.expect(200).json();
    assert_eq!(again, json!({"created": 0, "unchanged": 3, "skipped": 3}), "importing the export changes nothing");
    let again = p.call(import(danish.clone())).await.expect(200).json();
    assert_eq!(again["created"], 0, "nor does the Danish export");
    let history = p.get(&format!("/api/v1/requirements/{}/measurements", requirements[0])).await.expect(200).json();
    assert_eq!(history["total"], 1);

    // New figures from a spreadsheet, semicolons and decimal commas.
    let sheet = format!(
        "kind;id;period_end;value;source;note\nrequirement;{};2015-04-30;147,25;Jobindsats.dk;\nrequirement;{};2015-04-30;1;;Dialogmøde 28. april\nfollow_up_measure;{measure_id};2015-04-30;6;;\n",
        requirements[0], requirements[3]
    );
    assert_eq!(
        p.call(import(sheet.clone())).await.expect(200).json(),
        json!({"created": 3, "unchanged": 0, "skipped": 0})
    );
    assert_eq!(p.call(import(sheet)).await.expect(200).json(), json!({"created": 0, "unchanged": 3, "skipped": 0}));
    let report = p.get(&format!("/api/v1/plans/{plan_id}/follow-up?as_of=2015-05-01")).await.expect(200).json();
    assert_eq!(report["requirements"][0]["latest"]["value"], 147.25);
    assert_eq!(report["requirements"][3]["status"], "met");
}

#[actix_web::test]
async fn a_bad_row_stops_the_whole_import() {
    let Jammerbugt { app, plan_id, planner, requirements, .. } = jammerbugt().await;
    let p = app.with_token(&planner);
    let body = format!(
        "kind,id,period_end,value\nrequirement,{},2015-04-30,140\nrequirement,{},2015-02-30,4\nrequirement,unknown,2015-04-30,1\nrequirement,{},2015-04-30,2\ngoal,x,2015-04-30,1\nrequirement,{},2015-04-30,mange\n",
        requirements[0], requirements[1], requirements[3], requirements[1]
    );
    let problem = p
        .call(
            TestRequest::post()
                .uri(&format!("/api/v1/plans/{plan_id}/measurements:import"))
                .insert_header(("content-type", "text/csv"))
                .set_payload(body),
        )
        .await
        .problem(422);
    assert_eq!(
        error_fields(&problem),
        ["rows[2].period_end", "rows[3].id", "rows[4].value", "rows[5].kind", "rows[6].value"]
    );
    let report = p.get(&format!("/api/v1/plans/{plan_id}/follow-up")).await.expect(200).json();
    assert!(report["requirements"].as_array().unwrap().iter().all(|r| r["latest"].is_null()), "nothing was imported");
    let wrong_header = "what,ever\n1,2\n";
    let problem = p
        .call(
            TestRequest::post()
                .uri(&format!("/api/v1/plans/{plan_id}/measurements:import"))
                .insert_header(("content-type", "text/csv"))
                .set_payload(wrong_header),
        )
        .await
        .problem(422);
    assert_eq!(error_fields(&problem), ["header"]);
    p.call(TestRequest::post().uri(&format!("/api/v1/plans/{plan_id}/measurements:import")).set_json(json!({})))
        .await
        .problem(415);
}
