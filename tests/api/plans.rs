//! Plans: create, read, list, merge-patch update and delete, with the contract's conventions.

use crate::common::{error_fields, TestApp};
use actix_web::test::TestRequest;
use serde_json::json;

#[actix_web::test]
async fn create_answers_201_with_location_etag_and_the_plan() {
    let app = TestApp::new().await;
    app.municipality("185", "Tårnby Kommune").await;
    app.municipality("155", "Dragør Kommune").await;
    let response = app
        .post(
            "/api/v1/plans",
            &json!({"municipality": "185", "year": 2017, "title": "Beskæftigelsesplan 2017", "covers": ["185", "155"]}),
        )
        .await
        .expect(201);
    let plan = response.json();
    let id = plan["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    assert_eq!(response.header("location").unwrap(), format!("/api/v1/plans/{id}"));
    assert_eq!(response.etag(), plan["etag"].as_str().unwrap());
    assert_eq!(plan["municipality"], "185");
    assert_eq!(plan["covers"], json!(["185", "155"]));
    assert_eq!(plan["status"], "draft");
    assert_eq!(plan["latest_version"], json!(null));
    assert_eq!(plan["adopted_version"], json!(null));
    assert!(plan["created_at"].as_str().unwrap().ends_with('Z'));

    let read = app.get(&format!("/api/v1/plans/{id}")).await.expect(200).json();
    assert_eq!(read, plan);
}

#[actix_web::test]
async fn covers_defaults_to_the_own_municipality() {
    let app = TestApp::new().await;
    let plan = app.plan("849", 2015).await;
    assert_eq!(plan["covers"], json!(["849"]));
}

#[actix_web::test]
async fn one_plan_per_municipality_and_year() {
    let app = TestApp::new().await;
    app.plan("201", 2017).await;
    let problem =
        app.post("/api/v1/plans", &json!({"municipality": "201", "year": 2017, "title": "Igen"})).await.problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("2017"), "{problem}");
    // Another year, or another municipality the same year, is fine.
    app.plan("201", 2018).await;
    app.plan("165", 2017).await;
}

#[actix_web::test]
async fn invalid_fields_are_listed_together() {
    let app = TestApp::new().await;
    app.municipality("185", "Tårnby Kommune").await;
    let problem = app
        .post(
            "/api/v1/plans",
            &json!({"municipality": "185", "year": 1999, "title": "  ", "covers": ["155", "18x", "155"]}),
        )
        .await
        .problem(422);
    assert_eq!(error_fields(&problem), ["year", "title", "covers", "covers[0]", "covers[1]", "covers[2]"]);

    let problem =
        app.post("/api/v1/plans", &json!({"municipality": "999", "year": 2020, "title": "T"})).await.problem(422);
    assert_eq!(error_fields(&problem), ["municipality"]);
    let problem =
        app.post("/api/v1/plans", &json!({"municipality": "1850", "year": 2020, "title": "T"})).await.problem(422);
    assert_eq!(error_fields(&problem), ["municipality"]);

    // More municipalities than Denmark has: one error for the list, not one per entry.
    let covers: Vec<String> = (100..200).map(|code| code.to_string()).chain(["185".to_owned()]).collect();
    let body = json!({"municipality": "185", "year": 2020, "title": "T", "covers": covers});
    let problem = app.post("/api/v1/plans", &body).await.problem(422);
    assert_eq!(error_fields(&problem), ["covers"]);
    assert_eq!(problem["errors"][0]["message"], "at most 98 entries");
}

#[actix_web::test]
async fn malformed_bodies_are_400_problems() {
    let app = TestApp::new().await;
    app.municipality("185", "Tårnby Kommune").await;
    let cases = [
        ("not json", "{\"municipality\": "),
        ("wrong type", r#"{"municipality": "185", "year": "2017", "title": "T"}"#),
        ("unknown field", r#"{"municipality": "185", "year": 2017, "title": "T", "colour": "red"}"#),
        ("missing field", r#"{"municipality": "185", "title": "T"}"#),
        ("array", r#"[1, 2]"#),
    ];
    for (what, body) in cases {
        let response = app
            .call(
                TestRequest::post()
                    .uri("/api/v1/plans")
                    .insert_header(("content-type", "application/json"))
                    .set_payload(body),
            )
            .await;
        assert_eq!(response.status, 400, "{what}: {}", response.text());
        response.problem(400);
    }
    let raw_invalid_utf8 = app
        .call(
            TestRequest::post()
                .uri("/api/v1/plans")
                .insert_header(("content-type", "application/json"))
                .set_payload(&b"{\"municipality\": \"\xff\xfe\"}"[..]),
        )
        .await;
    raw_invalid_utf8.problem(400);
}

#[actix_web::test]
async fn wrong_content_type_is_415_and_oversized_body_413() {
    let app = TestApp::with_settings(|s| s.body_limit = 1024).await;
    let response = app
        .call(TestRequest::post().uri("/api/v1/plans").insert_header(("content-type", "text/plain")).set_payload("{}"))
        .await;
    response.problem(415);
    let big = json!({"municipality": "185", "year": 2017, "title": "x".repeat(5000)});
    app.post("/api/v1/plans", &big).await.problem(413);
}

#[actix_web::test]
async fn danish_text_round_trips_exactly() {
    let app = TestApp::new().await;
    app.municipality("173", "Lyngby-Taarbæk Kommune").await;
    let summary = "Udkast – “Flere i job” og ‘færre på offentlig forsørgelse’: æøå ÆØÅ é ü.\n\n".repeat(40);
    let plan = app
        .post(
            "/api/v1/plans",
            &json!({"municipality": "173", "year": 2019, "title": "Beskæftigelsesplan 2019 – UDKAST", "summary": summary}),
        )
        .await
        .expect(201)
        .json();
    let read = app.get(&format!("/api/v1/plans/{}", plan["id"].as_str().unwrap())).await.expect(200).json();
    assert_eq!(read["summary"], summary);
    assert_eq!(read["title"], "Beskæftigelsesplan 2019 – UDKAST");
    let municipality = app.get("/api/v1/municipalities/173").await.expect(200).json();
    assert_eq!(municipality["name"], "Lyngby-Taarbæk Kommune");
}

#[actix_web::test]
async fn unknown_plan_is_404() {
    let app = TestApp::new().await;
    app.get("/api/v1/plans/0193a4b2-7c1e-7d3a-9f00-1a2b3c4d5e6f").await.problem(404);
    app.get("/api/v1/plans/not-a-uuid").await.problem(404);
}

#[actix_web::test]
async fn get_with_if_none_match_is_304() {
    let app = TestApp::new().await;
    let plan = app.plan("185", 2017).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    let etag = plan["etag"].as_str().unwrap();
    let response = app.call(TestRequest::get().uri(&path).insert_header(("if-none-match", etag))).await.expect(304);
    assert!(response.body.is_empty());
    assert_eq!(response.etag(), etag);
    app.call(TestRequest::get().uri(&path).insert_header(("if-none-match", "\"other\""))).await.expect(200);
    app.call(TestRequest::get().uri(&path).insert_header(("if-none-match", "*"))).await.expect(304);
}

#[actix_web::test]
async fn patch_is_a_merge_patch_guarded_by_if_match() {
    let app = TestApp::new().await;
    app.municipality("155", "Dragør Kommune").await;
    let plan = app.plan("185", 2017).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    let etag = plan["etag"].as_str().unwrap().to_owned();

    app.patch(&path, None, &json!({"title": "Ny"})).await.problem(428);
    app.patch(&path, Some("\"999\""), &json!({"title": "Ny"})).await.problem(412);

    let response =
        app.patch(&path, Some(&etag), &json!({"summary": "Kort resumé", "covers": ["185", "155"]})).await.expect(200);
    let patched = response.json();
    assert_eq!(patched["summary"], "Kort resumé");
    assert_eq!(patched["covers"], json!(["185", "155"]));
    assert_eq!(patched["title"], "Beskæftigelsesplan 2017", "absent fields stay");
    assert_ne!(patched["etag"], json!(etag));
    assert_eq!(response.etag(), patched["etag"].as_str().unwrap());

    // The old ETag is stale now; `*` matches any state; null clears an optional field.
    app.patch(&path, Some(&etag), &json!({"title": "Forældet"})).await.problem(412);
    let cleared = app.patch(&path, Some("*"), &json!({"summary": null})).await.expect(200).json();
    assert_eq!(cleared["summary"], json!(null));

    // Unquoted tags, as clients copy them by hand, match too; weak tags never do.
    let current = cleared["etag"].as_str().unwrap().trim_matches('"').to_owned();
    app.patch(&path, Some(&format!("W/\"{current}\"")), &json!({"title": "Svag"})).await.problem(412);
    app.patch(&path, Some(&current), &json!({"title": "Uden citationstegn"})).await.expect(200);
}

#[actix_web::test]
async fn patch_refuses_read_only_unknown_and_null_required_fields() {
    let app = TestApp::new().await;
    let plan = app.plan("185", 2017).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());

    let problem = app.patch(&path, Some("*"), &json!({"status": "adopted", "latest_version": 3})).await.problem(422);
    assert_eq!(error_fields(&problem), ["status", "latest_version"]);
    app.patch(&path, Some("*"), &json!({"colour": "red"})).await.problem(400);
    app.patch(&path, Some("*"), &json!({"year": "2018"})).await.problem(400);
    app.patch(&path, Some("*"), &json!(["title"])).await.problem(400);
    let problem = app.patch(&path, Some("*"), &json!({"title": null})).await.problem(422);
    assert_eq!(error_fields(&problem), ["title"]);
    let problem = app.patch(&path, Some("*"), &json!({"covers": ["155"]})).await.problem(422);
    assert_eq!(error_fields(&problem), ["covers", "covers[0]"]);

    let unchanged = app.get(&path).await.expect(200).json();
    assert_eq!(unchanged, plan, "refused patches change nothing");
}

#[actix_web::test]
async fn patch_to_a_taken_year_is_409() {
    let app = TestApp::new().await;
    app.plan("185", 2017).await;
    let plan = app.plan("185", 2018).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    app.patch(&path, Some("*"), &json!({"year": 2017})).await.problem(409);
    let moved = app.patch(&path, Some("*"), &json!({"year": 2019})).await.expect(200).json();
    assert_eq!(moved["year"], 2019);
}

#[actix_web::test]
async fn delete_needs_if_match_and_removes_a_draft() {
    let app = TestApp::new().await;
    let plan = app.plan("185", 2017).await;
    let path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    app.delete(&path, None).await.problem(428);
    app.delete(&path, Some("\"41\"")).await.problem(412);
    app.delete(&path, Some(plan["etag"].as_str().unwrap())).await.expect(204);
    app.get(&path).await.problem(404);
    app.delete(&path, Some("*")).await.problem(404);
}

#[actix_web::test]
async fn list_filters_pages_and_links() {
    let app = TestApp::new().await;
    for year in 2015..=2019 {
        app.plan("185", year).await;
    }
    app.plan("201", 2017).await;

    let all = app.get("/api/v1/plans").await.expect(200);
    let body = all.json();
    assert_eq!(body["total"], 6);
    assert_eq!(body["limit"], 50);
    assert_eq!(body["offset"], 0);
    assert_eq!(all.header("link"), None, "everything fits on one page");
    let years: Vec<i64> = body["items"].as_array().unwrap().iter().map(|p| p["year"].as_i64().unwrap()).collect();
    assert_eq!(years, [2019, 2018, 2017, 2017, 2016, 2015], "newest year first");

    let filtered = app.get("/api/v1/plans?municipality=185&year=2017").await.expect(200).json();
    assert_eq!(filtered["total"], 1);
    assert_eq!(filtered["items"][0]["municipality"], "185");
    let drafts = app.get("/api/v1/plans?status=draft").await.expect(200).json();
    assert_eq!(drafts["total"], 6);
    let adopted = app.get("/api/v1/plans?status=adopted").await.expect(200).json();
    assert_eq!(adopted["total"], 0);

    let page = app.get("/api/v1/plans?municipality=185&limit=2&offset=2").await.expect(200);
    let body = page.json();
    assert_eq!(body["total"], 5);
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert_eq!(body["items"][0]["year"], 2017);
    let link = page.header("link").unwrap();
    assert!(link.contains("</api/v1/plans?municipality=185&limit=2&offset=4>; rel=\"next\""), "{link}");
    assert!(link.contains("</api/v1/plans?municipality=185&limit=2&offset=0>; rel=\"prev\""), "{link}");
    let last = app.get("/api/v1/plans?municipality=185&limit=2&offset=4").await.expect(200);
    assert!(!last.header("link").unwrap().contains("next"));
}

#[actix_web::test]
async fn list_refuses_bad_queries() {
    let app = TestApp::new().await;
    for query in ["limit=0", "limit=501", "offset=-1"] {
        app.get(&format!("/api/v1/plans?{query}")).await.problem(422);
    }
    for query in ["limit=abc", "year=twenty", "status=approved", "colour=red", "limit=99999999999999999999"] {
        app.get(&format!("/api/v1/plans?{query}")).await.problem(400);
    }
    let max = app.get("/api/v1/plans?limit=500").await.expect(200).json();
    assert_eq!(max["limit"], 500);
}

#[actix_web::test]
async fn a_plan_that_is_not_a_draft_cannot_be_edited_or_deleted() {
    let app = TestApp::new().await;
    let plan = app.plan("201", 2017).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/plans/{id}");
    // Decisions arrive with a later issue; until then set the status the way they will.
    app.force_state(&id, "awaiting_approval", None, None);
    let problem = app.patch(&path, Some("*"), &json!({"title": "Ændret"})).await.problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("awaiting_approval"), "{problem}");
    app.delete(&path, Some("*")).await.problem(409);
    app.force_state(&id, "adopted", Some(1), Some(1));
    let problem = app.patch(&path, Some("*"), &json!({"title": "Ændret"})).await.problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("adopted"), "{problem}");
}

#[actix_web::test]
async fn a_draft_that_had_a_version_cannot_be_deleted() {
    let app = TestApp::new().await;
    let plan = app.plan("201", 2017).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    app.force_state(&id, "draft", Some(1), None);
    let problem = app.delete(&format!("/api/v1/plans/{id}"), Some("*")).await.problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("version"), "{problem}");
    // In hearing, content may change, but the plan is not deletable.
    app.force_state(&id, "in_hearing", Some(1), None);
    app.patch(&format!("/api/v1/plans/{id}"), Some("*"), &json!({"summary": "Under høring"})).await.expect(200);
}
