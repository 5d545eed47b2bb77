//! The demo data: the five seed documents, entered through the domain code, on a fresh database.

use crate::common::TestApp;
use actix_web::test::TestRequest;
use serde_json::Value;

async fn plan_of(app: &TestApp, municipality: &str) -> Value {
    let list = app.get(&format!("/api/v1/plans?municipality={municipality}")).await.expect(200).json();
    assert_eq!(list["total"], 1, "{municipality}");
    list["items"][0].clone()
}

async fn goals_of(app: &TestApp, plan: &Value) -> Vec<Value> {
    let list =
        app.get(&format!("/api/v1/plans/{}/goals?limit=500", plan["id"].as_str().unwrap())).await.expect(200).json();
    list["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn the_demo_holds_the_five_seed_plans() {
    let app = TestApp::with_settings(|s| s.demo = true).await;
    assert_eq!(app.get("/api/v1/plans").await.expect(200).json()["total"], 5);
    assert_eq!(app.get("/api/v1/municipalities").await.expect(200).json()["total"], 6);
    assert_eq!(app.get("/api/v1/users").await.expect(200).json()["total"], 5, "admin and one per role");
    for (username, _, password) in beskplan::demo::USERS {
        app.login(username, password).await;
    }

    // Tårnby 2017: one jobcenter for Tårnby and Dragør, six goals, adopted.
    let taarnby = plan_of(&app, "185").await;
    assert_eq!(taarnby["covers"], serde_json::json!(["185", "155"]));
    assert_eq!((taarnby["status"].as_str(), taarnby["adopted_version"].as_i64()), (Some("adopted"), Some(1)));
    let goals = goals_of(&app, &taarnby).await;
    assert_eq!(goals.len(), 6);
    assert!(goals[5]["title"].as_str().unwrap().starts_with("Sygemeldte borgere"));

    // Allerød 2017: recommended on 28 September 2016 (13/4229), approved; "højst 12,5 pct.".
    let allerod = plan_of(&app, "201").await;
    assert_eq!(allerod["status"], "adopted");
    let plan_path = format!("/api/v1/plans/{}", allerod["id"].as_str().unwrap());
    let decisions = app.anonymous().get(&format!("{plan_path}/decisions")).await.expect(200).json();
    assert_eq!(decisions["items"][0]["case_number"], "13/4229");
    assert_eq!(decisions["items"][0]["meeting_date"], "2016-09-28");
    assert_eq!(decisions["items"][0]["body"], "Erhvervs- og Beskæftigelsesudvalget");
    assert_eq!(decisions["items"][1]["outcome"], "approved");
    let document = app.anonymous().get(&format!("{plan_path}/versions/1/document")).await.expect(200).text();
    assert!(document.contains("højst 12,5 pct. ved udgangen af 2017"), "Allerød's sygedagpenge requirement");
    assert_eq!(goals_of(&app, &allerod).await.len(), 5);

    // Jammerbugt 2015: the three goal kinds, and measurements that show every status.
    let jammerbugt = plan_of(&app, "849").await;
    let kinds: std::collections::BTreeSet<String> =
        goals_of(&app, &jammerbugt).await.iter().map(|g| g["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["local", "ministerial", "qualitative"]);
    let report_path = format!("/api/v1/plans/{}/follow-up", jammerbugt["id"].as_str().unwrap());
    let autumn = app.get(&format!("{report_path}?as_of=2015-09-30")).await.expect(200).json();
    assert_eq!(
        autumn["counts"],
        serde_json::json!({"met": 1, "on_track": 4, "at_risk": 2, "not_met": 0, "no_data": 1})
    );
    let year_end = app.get(&format!("{report_path}?as_of=2016-01-31")).await.expect(200).json();
    assert_eq!(
        year_end["counts"],
        serde_json::json!({"met": 6, "on_track": 0, "at_risk": 0, "not_met": 1, "no_data": 1})
    );

    // Lyngby-Taarbæk 2019: the UDKAST, in a closed hearing with Handicaprådet's answered comments.
    let lyngby = plan_of(&app, "173").await;
    assert_eq!((lyngby["status"].as_str(), lyngby["latest_version"].as_i64()), (Some("draft"), Some(1)));
    let lyngby_path = format!("/api/v1/plans/{}", lyngby["id"].as_str().unwrap());
    let goals = goals_of(&app, &lyngby).await;
    assert_eq!(goals.len(), 11, "MÅL 1–11");
    let hearings = app.anonymous().get(&format!("{lyngby_path}/hearings")).await.expect(200).json();
    assert_eq!(hearings["total"], 1);
    assert_eq!(hearings["items"][0]["status"], "closed");
    let summary = app
        .anonymous()
        .get(&format!("/api/v1/hearings/{}/summary", hearings["items"][0]["id"].as_str().unwrap()))
        .await
        .expect(200)
        .json();
    let handicap = &summary["parties"][0];
    assert_eq!(handicap["party"], "Handicaprådet");
    assert_eq!(handicap["comments"].as_array().unwrap().len(), 4);
    assert!(handicap["comments"][1]["body"].as_str().unwrap().contains("kontinuitet i sagsbehandlingen"));
    assert_eq!(summary["unanswered"], 0);
    let readiness = app.get(&format!("{lyngby_path}/readiness")).await.expect(200).json();
    assert!(readiness["blockers"].as_array().unwrap().iter().all(|b| b["kind"] == "placeholder_target"), "{readiness}");
    assert_eq!(readiness["blockers"].as_array().unwrap().len(), 9, "the placeholder targets of the draft");

    // Albertslund 2019: three focus areas, ministerial goals without quantitative targets.
    let albertslund = plan_of(&app, "165").await;
    let areas =
        app.get(&format!("/api/v1/plans/{}/focus-areas", albertslund["id"].as_str().unwrap())).await.expect(200).json();
    assert_eq!(areas["total"], 3);
    let goals = goals_of(&app, &albertslund).await;
    let refugees = goals.iter().find(|g| g["number"] == "Ministermål 3").unwrap();
    assert!(refugees["description"].as_str().unwrap().contains("nul-kommune"));
    let requirements =
        app.get(&format!("/api/v1/goals/{}/requirements", refugees["id"].as_str().unwrap())).await.expect(200).json();
    assert_eq!(requirements["total"], 0);
    assert_eq!(albertslund["status"], "adopted");
}

#[actix_web::test]
async fn the_demo_loads_only_into_an_empty_database() {
    let app = TestApp::with_settings(|s| s.demo = true).await;
    let again = app.reopen().await;
    assert_eq!(again.get("/api/v1/plans").await.expect(200).json()["total"], 5);
    let other = TestApp::new().await;
    other.plan("101", 2020).await;
    let mut conn = other.state.pool.get().unwrap();
    assert!(!beskplan::demo::load(&mut conn, &other.state.versions).unwrap());
    drop(conn);
    assert_eq!(other.get("/api/v1/plans").await.expect(200).json()["total"], 1);
    let markdown = app
        .call(
            TestRequest::get()
                .uri(&format!(
                    "/api/v1/plans/{}/versions/1/document",
                    plan_of(&app, "185").await["id"].as_str().unwrap()
                ))
                .insert_header(("accept", "text/markdown")),
        )
        .await
        .expect(200)
        .text();
    assert!(markdown.contains("# Beskæftigelsesplan 2017"));
}
