//! Municipalities: the kommunekode is the key.

use crate::common::{error_fields, TestApp};
use serde_json::json;

#[actix_web::test]
async fn create_read_list_and_rename() {
    let app = TestApp::new().await;
    let response =
        app.post("/api/v1/municipalities", &json!({"code": "185", "name": "Tårnby Kommune"})).await.expect(201);
    assert_eq!(response.header("location").as_deref(), Some("/api/v1/municipalities/185"));
    let created = response.json();
    assert_eq!(created["name"], "Tårnby Kommune");
    app.municipality("155", "Dragør Kommune").await;

    let list = app.get("/api/v1/municipalities").await.expect(200).json();
    let codes: Vec<&str> = list["items"].as_array().unwrap().iter().map(|m| m["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["155", "185"]);
    assert_eq!(list["total"], 2);

    app.patch("/api/v1/municipalities/185", None, &json!({"name": "Tårnby"})).await.problem(428);
    let renamed = app
        .patch("/api/v1/municipalities/185", Some(created["etag"].as_str().unwrap()), &json!({"name": "Tårnby K."}))
        .await
        .expect(200)
        .json();
    assert_eq!(renamed["name"], "Tårnby K.");
    assert_eq!(renamed["code"], "185");
    app.patch("/api/v1/municipalities/185", Some(created["etag"].as_str().unwrap()), &json!({"name": "X"}))
        .await
        .problem(412);
    app.patch("/api/v1/municipalities/185", Some("*"), &json!({"code": "186"})).await.problem(422);
    app.patch("/api/v1/municipalities/999", Some("*"), &json!({"name": "X"})).await.problem(404);
}

#[actix_web::test]
async fn code_is_three_digits_and_unique() {
    let app = TestApp::new().await;
    app.municipality("201", "Allerød Kommune").await;
    app.post("/api/v1/municipalities", &json!({"code": "201", "name": "Igen"})).await.problem(409);
    let problem = app.post("/api/v1/municipalities", &json!({"code": "20", "name": ""})).await.problem(422);
    assert_eq!(error_fields(&problem), ["code", "name"]);
    app.get("/api/v1/municipalities/000").await.problem(404);
}
