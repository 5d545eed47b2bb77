//! The permission matrix: every route × every role (and anonymous) × a target in the caller's own
//! municipality and in another one. The table is data; a route in the OpenAPI document without a
//! row fails `every_route_has_a_row`.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};

use crate::common::{self, TestApp};
use actix_web::test::TestRequest;
use serde_json::{json, Value};

const WHO: [&str; 6] = ["admin", "planner", "approver", "consultee", "viewer", "anonymous"];
const OWN: &str = "185";
const OTHER: &str = "201";

// Statuses in the order of `WHO`, for things of a draft plan (own municipality, other one).
const READ_OWN: [u16; 6] = [200, 200, 200, 404, 200, 404];
const READ_OTHER: [u16; 6] = [200, 404, 404, 404, 404, 404];
const CREATE_OWN: [u16; 6] = [201, 201, 403, 404, 403, 401];
const CREATE_OTHER: [u16; 6] = [201, 404, 404, 404, 404, 401];
const UPDATE_OWN: [u16; 6] = [200, 200, 403, 404, 403, 401];
const UPDATE_OTHER: [u16; 6] = [200, 404, 404, 404, 404, 401];
const DELETE_OWN: [u16; 6] = [204, 204, 403, 404, 403, 401];
const DELETE_OTHER: [u16; 6] = [204, 404, 404, 404, 404, 401];
// … and of an adopted plan: public to read, frozen (409) to those who could otherwise change it.
const ADOPTED_CHANGE_OWN: [u16; 6] = [409, 409, 403, 403, 403, 401];
const ADOPTED_CHANGE_OTHER: [u16; 6] = [409, 403, 403, 403, 403, 401];

/// `(route, variant, statuses for a target in the own municipality, … in the other)`, statuses
/// in the order of `WHO`. Everyone but admin acts in municipality 185.
const MATRIX: &[(&str, &str, [u16; 6], [u16; 6])] = &[
    ("GET /healthz", "", [200; 6], [200; 6]),
    ("GET /readyz", "", [200; 6], [200; 6]),
    ("GET /problems", "", [200; 6], [200; 6]),
    ("GET /problems/{slug}", "", [200; 6], [200; 6]),
    ("POST /api/v1/auth/token", "", [200; 6], [200; 6]),
    ("GET /api/v1/me", "", [200, 200, 200, 200, 200, 401], [200, 200, 200, 200, 200, 401]),
    ("GET /api/v1/users", "", [200, 403, 403, 403, 403, 401], [200, 403, 403, 403, 403, 401]),
    ("POST /api/v1/users", "", [201, 403, 403, 403, 403, 401], [201, 403, 403, 403, 403, 401]),
    ("GET /api/v1/users/{id}", "", [200, 403, 403, 403, 403, 401], [200, 403, 403, 403, 403, 401]),
    ("PATCH /api/v1/users/{id}", "", [200, 403, 403, 403, 403, 401], [200, 403, 403, 403, 403, 401]),
    ("DELETE /api/v1/users/{id}", "", [204, 403, 403, 403, 403, 401], [204, 403, 403, 403, 403, 401]),
    ("GET /api/v1/clients", "", [200, 403, 403, 403, 403, 401], [200, 403, 403, 403, 403, 401]),
    ("POST /api/v1/clients", "", [201, 403, 403, 403, 403, 401], [201, 403, 403, 403, 403, 401]),
    ("DELETE /api/v1/clients/{id}", "", [204, 403, 403, 403, 403, 401], [204, 403, 403, 403, 403, 401]),
    ("GET /api/v1/audit", "", [200, 403, 403, 403, 403, 401], [200, 403, 403, 403, 403, 401]),
    ("GET /api/v1/municipalities", "", [200; 6], [200; 6]),
    ("POST /api/v1/municipalities", "", [201, 403, 403, 403, 403, 401], [201, 403, 403, 403, 403, 401]),
    ("GET /api/v1/municipalities/{code}", "", [200; 6], [200; 6]),
    ("PATCH /api/v1/municipalities/{code}", "", [200, 403, 403, 403, 403, 401], [200, 403, 403, 403, 403, 401]),
    ("GET /api/v1/plans", "", [200; 6], [200; 6]),
    ("POST /api/v1/plans", "", [201, 201, 403, 403, 403, 401], [201, 403, 403, 403, 403, 401]),
    ("GET /api/v1/plans/{plan_id}", "draft", [200, 200, 200, 404, 200, 404], [200, 404, 404, 404, 404, 404]),
    ("GET /api/v1/plans/{plan_id}", "adopted", [200; 6], [200; 6]),
    ("PATCH /api/v1/plans/{plan_id}", "draft", [200, 200, 403, 404, 403, 401], [200, 404, 404, 404, 404, 401]),
    ("PATCH /api/v1/plans/{plan_id}", "adopted", [409, 409, 403, 403, 403, 401], [409, 403, 403, 403, 403, 401]),
    ("DELETE /api/v1/plans/{plan_id}", "draft", [204, 204, 403, 404, 403, 401], [204, 404, 404, 404, 404, 401]),
    ("DELETE /api/v1/plans/{plan_id}", "adopted", [409, 409, 403, 403, 403, 401], [409, 403, 403, 403, 403, 401]),
    ("GET /api/v1/clients/{id}", "", [200, 403, 403, 403, 403, 401], [200, 403, 403, 403, 403, 401]),
    ("GET /api/v1/plans/{plan_id}/sections", "draft", READ_OWN, READ_OTHER),
    ("GET /api/v1/plans/{plan_id}/sections", "adopted", [200; 6], [200; 6]),
    ("POST /api/v1/plans/{plan_id}/sections", "draft", CREATE_OWN, CREATE_OTHER),
    ("POST /api/v1/plans/{plan_id}/sections", "adopted", ADOPTED_CHANGE_OWN, ADOPTED_CHANGE_OTHER),
    ("GET /api/v1/sections/{id}", "draft", READ_OWN, READ_OTHER),
    ("GET /api/v1/sections/{id}", "adopted", [200; 6], [200; 6]),
    ("PATCH /api/v1/sections/{id}", "draft", UPDATE_OWN, UPDATE_OTHER),
    ("PATCH /api/v1/sections/{id}", "adopted", ADOPTED_CHANGE_OWN, ADOPTED_CHANGE_OTHER),
    ("DELETE /api/v1/sections/{id}", "draft", DELETE_OWN, DELETE_OTHER),
    ("DELETE /api/v1/sections/{id}", "adopted", ADOPTED_CHANGE_OWN, ADOPTED_CHANGE_OTHER),
    ("GET /api/v1/plans/{plan_id}/focus-areas", "draft", READ_OWN, READ_OTHER),
    ("POST /api/v1/plans/{plan_id}/focus-areas", "draft", CREATE_OWN, CREATE_OTHER),
    ("GET /api/v1/focus-areas/{id}", "draft", READ_OWN, READ_OTHER),
    ("PATCH /api/v1/focus-areas/{id}", "draft", UPDATE_OWN, UPDATE_OTHER),
    ("DELETE /api/v1/focus-areas/{id}", "draft", DELETE_OWN, DELETE_OTHER),
    ("GET /api/v1/plans/{plan_id}/goals", "draft", READ_OWN, READ_OTHER),
    ("POST /api/v1/plans/{plan_id}/goals", "draft", CREATE_OWN, CREATE_OTHER),
    ("GET /api/v1/goals/{id}", "draft", READ_OWN, READ_OTHER),
    ("PATCH /api/v1/goals/{id}", "draft", UPDATE_OWN, UPDATE_OTHER),
    ("DELETE /api/v1/goals/{id}", "draft", DELETE_OWN, DELETE_OTHER),
    ("GET /api/v1/goals/{goal_id}/requirements", "draft", READ_OWN, READ_OTHER),
    ("GET /api/v1/goals/{goal_id}/requirements", "adopted", [200; 6], [200; 6]),
    ("POST /api/v1/goals/{goal_id}/requirements", "draft", CREATE_OWN, CREATE_OTHER),
    ("POST /api/v1/goals/{goal_id}/requirements", "adopted", ADOPTED_CHANGE_OWN, ADOPTED_CHANGE_OTHER),
    ("GET /api/v1/requirements/{id}", "draft", READ_OWN, READ_OTHER),
    ("PATCH /api/v1/requirements/{id}", "draft", UPDATE_OWN, UPDATE_OTHER),
    ("DELETE /api/v1/requirements/{id}", "draft", DELETE_OWN, DELETE_OTHER),
    ("GET /api/v1/goals/{goal_id}/follow-up-measures", "draft", READ_OWN, READ_OTHER),
    ("POST /api/v1/goals/{goal_id}/follow-up-measures", "draft", CREATE_OWN, CREATE_OTHER),
    ("GET /api/v1/follow-up-measures/{id}", "draft", READ_OWN, READ_OTHER),
    ("PATCH /api/v1/follow-up-measures/{id}", "draft", UPDATE_OWN, UPDATE_OTHER),
    ("DELETE /api/v1/follow-up-measures/{id}", "draft", DELETE_OWN, DELETE_OTHER),
    ("GET /api/v1/plans/{plan_id}/versions", "draft", READ_OWN, READ_OTHER),
    ("POST /api/v1/plans/{plan_id}/versions", "draft", CREATE_OWN, CREATE_OTHER),
    ("GET /api/v1/plans/{plan_id}/versions/{n}", "draft", READ_OWN, READ_OTHER),
    ("GET /api/v1/plans/{plan_id}/versions/{n}/diff", "draft", READ_OWN, READ_OTHER),
    ("GET /api/v1/plans/{plan_id}/versions/{n}/document", "draft", READ_OWN, READ_OTHER),
    ("GET /api/v1/plans/{plan_id}/readiness", "draft", READ_OWN, READ_OTHER),
    ("GET /api/v1/plans/{plan_id}/decisions", "draft", READ_OWN, READ_OTHER),
    ("POST /api/v1/plans/{plan_id}/decisions", "draft", [201, 403, 201, 404, 403, 401], CREATE_OTHER),
    ("GET /api/v1/decisions/{id}", "draft", READ_OWN, READ_OTHER),
    (
        "POST /api/v1/plans/{plan_id}/revisions",
        "adopted",
        [200, 200, 403, 403, 403, 401],
        [200, 403, 403, 403, 403, 401],
    ),
    ("GET /api/v1/plans/{plan_id}/hearings", "open", [200; 6], [200; 6]),
    ("POST /api/v1/plans/{plan_id}/hearings", "draft", CREATE_OWN, CREATE_OTHER),
    // Hearings and comments: the consultee is Handicaprådet in 185, invited to every hearing.
    ("GET /api/v1/hearings/{id}", "open", [200, 200, 200, 200, 200, 404], READ_OTHER),
    ("PATCH /api/v1/hearings/{id}", "open", [200, 200, 403, 403, 403, 401], UPDATE_OTHER),
    ("POST /api/v1/hearings/{id}/close", "open", [200, 200, 403, 403, 403, 401], UPDATE_OTHER),
    ("GET /api/v1/hearings/{id}/comments", "open", [200, 200, 200, 200, 200, 404], READ_OTHER),
    ("POST /api/v1/hearings/{id}/comments", "open", [201, 201, 403, 201, 403, 401], CREATE_OTHER),
    ("GET /api/v1/hearings/{id}/summary", "open", [200, 200, 200, 404, 200, 404], READ_OTHER),
    ("GET /api/v1/hearings/{id}/summary", "closed", [200; 6], [200; 6]),
    // A comment the admin registered: only its author (or an admin) edits or withdraws it.
    ("GET /api/v1/comments/{id}", "open", [200, 200, 200, 200, 200, 404], READ_OTHER),
    ("PATCH /api/v1/comments/{id}", "open", [200, 403, 403, 403, 403, 401], UPDATE_OTHER),
    ("DELETE /api/v1/comments/{id}", "open", [204, 403, 403, 403, 403, 401], DELETE_OTHER),
    ("PUT /api/v1/comments/{id}/response", "open", [200, 200, 403, 403, 403, 401], UPDATE_OTHER),
    // Follow-up is internal to the municipality, also once the plan is adopted.
    ("GET /api/v1/requirements/{id}/measurements", "draft", READ_OWN, READ_OTHER),
    ("POST /api/v1/requirements/{id}/measurements", "draft", CREATE_OWN, CREATE_OTHER),
    ("POST /api/v1/requirements/{id}/measurements", "adopted", CREATE_OWN, CREATE_OTHER),
    ("GET /api/v1/follow-up-measures/{id}/measurements", "draft", READ_OWN, READ_OTHER),
    ("POST /api/v1/follow-up-measures/{id}/measurements", "draft", CREATE_OWN, CREATE_OTHER),
    ("GET /api/v1/measurements/{id}", "draft", READ_OWN, READ_OTHER),
    ("DELETE /api/v1/measurements/{id}", "draft", DELETE_OWN, DELETE_OTHER),
    ("GET /api/v1/plans/{plan_id}/follow-up", "draft", READ_OWN, READ_OTHER),
    ("GET /api/v1/plans/{plan_id}/follow-up", "adopted", READ_OWN, READ_OTHER),
    ("POST /api/v1/plans/{plan_id}/measurements:import", "draft", UPDATE_OWN, UPDATE_OTHER),
];

/// A new item of a kind of plan content and the body that changes it.
fn content_bodies(kind: &str) -> (Value, Value) {
    match kind {
        "sections" => (json!({"heading": "Indledning", "body": "Tekst"}), json!({"heading": "Ny overskrift"})),
        "focus-areas" => (json!({"title": "Unge"}), json!({"title": "Unge under 30"})),
        "goals" => (json!({"title": "Flere unge i uddannelse", "kind": "ministerial"}), json!({"title": "Mål 2"})),
        "requirements" => (
            json!({"statement": "Højst 10", "indicator": "Personer", "unit": "persons", "comparator": "at_most",
                   "target": {"value": 10, "due": "2019-12-31"}}),
            json!({"statement": "Højst 9"}),
        ),
        "follow-up-measures" => {
            (json!({"indicator": "Ledige over 52 uger", "unit": "persons"}), json!({"indicator": "Ny"}))
        }
        other => panic!("unknown content kind {other}"),
    }
}

struct Fixture {
    app: TestApp,
    tokens: Vec<(&'static str, String)>,
    counter: Cell<u32>,
    /// Plan years handed out so far per municipality: one plan per municipality and year.
    years: RefCell<HashMap<String, i32>>,
    /// One plan per (municipality, adopted) that content rows put their items in.
    content_plans: RefCell<HashMap<(String, bool), String>>,
}

impl Fixture {
    async fn new() -> Self {
        let app = TestApp::new().await;
        app.municipality(OWN, "Tårnby Kommune").await;
        app.municipality(OTHER, "Allerød Kommune").await;
        let mut tokens = vec![("admin", app.admin_token.clone())];
        for role in ["planner", "approver", "consultee", "viewer"] {
            let party = (role == "consultee").then_some("Handicaprådet");
            tokens.push((role, app.user_token(&format!("{role}.185"), role, &[OWN], party).await));
        }
        Fixture {
            app,
            tokens,
            counter: Cell::new(0),
            years: RefCell::new(HashMap::new()),
            content_plans: RefCell::new(HashMap::new()),
        }
    }

    fn next(&self) -> u32 {
        self.counter.set(self.counter.get() + 1);
        self.counter.get()
    }

    fn next_year(&self, municipality: &str) -> i32 {
        let mut years = self.years.borrow_mut();
        let year = years.entry(municipality.to_owned()).or_insert(2000);
        *year += 1;
        assert!(*year <= 2100, "out of plan years");
        *year
    }

    /// A fresh resource for one request, made by the admin.
    async fn plan(&self, municipality: &str, adopted: bool) -> String {
        let plan = self
            .app
            .post(
                "/api/v1/plans",
                &json!({"municipality": municipality, "year": self.next_year(municipality), "title": "Matrix"}),
            )
            .await
            .expect(201)
            .json();
        let id = plan["id"].as_str().unwrap().to_owned();
        if adopted {
            self.app.force_adopted(&id);
        }
        id
    }

    async fn user(&self, municipality: &str) -> String {
        let body = json!({"username": format!("matrix.{}", self.next()), "role": "viewer",
                          "municipalities": [municipality], "password": "a-long-enough-password"});
        self.app.post("/api/v1/users", &body).await.expect(201).json()["id"].as_str().unwrap().to_owned()
    }

    /// A new item of plan content (made by the admin) in the municipality's shared draft or
    /// adopted plan: `(the plan or goal it hangs on, the item's id)`.
    async fn content(&self, kind: &str, municipality: &str, adopted: bool) -> (String, String) {
        let key = (municipality.to_owned(), adopted);
        let cached = self.content_plans.borrow().get(&key).cloned();
        let plan = match cached {
            Some(plan) => plan,
            None => {
                let plan = self.plan(municipality, false).await;
                self.content_plans.borrow_mut().insert(key, plan.clone());
                plan
            }
        };
        // An adopted plan takes no new content: open it for a moment, as a revision would.
        self.app.force_state(&plan, "draft", None, None);
        let parent = if matches!(kind, "requirements" | "follow-up-measures") {
            let (goal, _) = content_bodies("goals");
            self.app.post(&format!("/api/v1/plans/{plan}/goals"), &goal).await.expect(201).json()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        } else {
            plan.clone()
        };
        let parent_path =
            if parent == plan { format!("/api/v1/plans/{plan}") } else { format!("/api/v1/goals/{parent}") };
        let (body, _) = content_bodies(kind);
        let item = self.app.post(&format!("{parent_path}/{kind}"), &body).await.expect(201).json();
        if adopted {
            self.app.force_adopted(&plan);
        }
        (parent_path, item["id"].as_str().unwrap().to_owned())
    }

    /// The municipality's shared draft plan with version 1, for the workflow and hearing rows.
    async fn versioned_plan(&self, municipality: &str) -> String {
        let key = (format!("{municipality}/versioned"), false);
        if let Some(plan) = self.content_plans.borrow().get(&key).cloned() {
            return plan;
        }
        let plan = self.plan(municipality, false).await;
        self.app.post(&format!("/api/v1/plans/{plan}/versions"), &json!({"label": "1"})).await.expect(201);
        self.content_plans.borrow_mut().insert(key, plan.clone());
        plan
    }

    /// A new hearing on the versioned plan, inviting Handicaprådet; closed when asked.
    async fn hearing(&self, municipality: &str, closed: bool) -> String {
        let plan = self.versioned_plan(municipality).await;
        let closes_at = (chrono::Utc::now() + chrono::Duration::days(14)).to_rfc3339();
        let body =
            json!({"version": 1, "title": "Høring", "closes_at": closes_at, "parties": ["Handicaprådet", "RAR"]});
        let hearing = self.app.post(&format!("/api/v1/plans/{plan}/hearings"), &body).await.expect(201).json();
        let id = hearing["id"].as_str().unwrap().to_owned();
        if closed {
            self.app.post(&format!("/api/v1/hearings/{id}/close"), &json!({})).await.expect(200);
        }
        id
    }

    /// A comment the admin registers for Handicaprådet in a new open hearing.
    async fn comment(&self, municipality: &str) -> String {
        let hearing = self.hearing(municipality, false).await;
        let body = json!({"party": "Handicaprådet", "body": "Høringssvar"});
        let comment = self.app.post(&format!("/api/v1/hearings/{hearing}/comments"), &body).await.expect(201).json();
        comment["id"].as_str().unwrap().to_owned()
    }

    async fn client(&self, municipality: &str) -> String {
        let body = json!({"name": "Matrix", "role": "viewer", "municipalities": [municipality]});
        self.app.post("/api/v1/clients", &body).await.expect(201).json()["client_id"].as_str().unwrap().to_owned()
    }

    /// The request a row describes, aimed at the given municipality.
    async fn request(&self, route: &str, variant: &str, m: &str) -> TestRequest {
        let n = self.next();
        let adopted = variant == "adopted";
        let json_post = |uri: String, body: Value| TestRequest::post().uri(&uri).set_json(body);
        let patch =
            |uri: String, body: Value| TestRequest::patch().uri(&uri).insert_header(("if-match", "*")).set_json(body);
        let delete = |uri: String| TestRequest::delete().uri(&uri).insert_header(("if-match", "*"));
        match route {
            "GET /healthz"
            | "GET /readyz"
            | "GET /problems"
            | "GET /api/v1/me"
            | "GET /api/v1/users"
            | "GET /api/v1/clients"
            | "GET /api/v1/audit"
            | "GET /api/v1/municipalities"
            | "GET /api/v1/plans" => TestRequest::get().uri(route.split_once(' ').unwrap().1),
            "GET /problems/{slug}" => TestRequest::get().uri("/problems/conflict"),
            "POST /api/v1/auth/token" => json_post(
                "/api/v1/auth/token".into(),
                json!({"grant_type": "password", "username": "admin", "password": common::ADMIN_PASSWORD}),
            ),
            "POST /api/v1/users" => json_post(
                "/api/v1/users".into(),
                json!({"username": format!("new.{n}"), "role": "viewer", "municipalities": [m],
                       "password": "a-long-enough-password"}),
            ),
            "GET /api/v1/users/{id}" => TestRequest::get().uri(&format!("/api/v1/users/{}", self.user(m).await)),
            "PATCH /api/v1/users/{id}" => {
                patch(format!("/api/v1/users/{}", self.user(m).await), json!({"display_name": "Omdøbt"}))
            }
            "DELETE /api/v1/users/{id}" => delete(format!("/api/v1/users/{}", self.user(m).await)),
            "POST /api/v1/clients" => json_post(
                "/api/v1/clients".into(),
                json!({"name": "Integration", "role": "viewer", "municipalities": [m]}),
            ),
            "DELETE /api/v1/clients/{id}" => delete(format!("/api/v1/clients/{}", self.client(m).await)),
            "POST /api/v1/municipalities" => json_post(
                "/api/v1/municipalities".into(),
                json!({"code": format!("{}", 300 + n), "name": "Ny Kommune"}),
            ),
            "GET /api/v1/municipalities/{code}" => TestRequest::get().uri(&format!("/api/v1/municipalities/{m}")),
            "PATCH /api/v1/municipalities/{code}" => {
                patch(format!("/api/v1/municipalities/{m}"), json!({"name": format!("Kommune {m}")}))
            }
            "POST /api/v1/plans" => json_post(
                "/api/v1/plans".into(),
                json!({"municipality": m, "year": self.next_year(m), "title": "Beskæftigelsesplan"}),
            ),
            "GET /api/v1/plans/{plan_id}" => {
                TestRequest::get().uri(&format!("/api/v1/plans/{}", self.plan(m, adopted).await))
            }
            "PATCH /api/v1/plans/{plan_id}" => {
                patch(format!("/api/v1/plans/{}", self.plan(m, adopted).await), json!({"summary": "Ændret"}))
            }
            "DELETE /api/v1/plans/{plan_id}" => delete(format!("/api/v1/plans/{}", self.plan(m, adopted).await)),
            "GET /api/v1/clients/{id}" => TestRequest::get().uri(&format!("/api/v1/clients/{}", self.client(m).await)),
            "GET /api/v1/requirements/{id}/measurements" | "GET /api/v1/follow-up-measures/{id}/measurements" => {
                let kind = if route.contains("requirements") { "requirements" } else { "follow-up-measures" };
                let (_, item) = self.content(kind, m, adopted).await;
                TestRequest::get().uri(&format!("/api/v1/{kind}/{item}/measurements"))
            }
            "POST /api/v1/requirements/{id}/measurements" | "POST /api/v1/follow-up-measures/{id}/measurements" => {
                let kind = if route.contains("requirements") { "requirements" } else { "follow-up-measures" };
                let (_, item) = self.content(kind, m, adopted).await;
                json_post(
                    format!("/api/v1/{kind}/{item}/measurements"),
                    json!({"period_end": "2019-06-30", "value": 8}),
                )
            }
            "GET /api/v1/measurements/{id}" | "DELETE /api/v1/measurements/{id}" => {
                let (_, item) = self.content("requirements", m, adopted).await;
                let body = json!({"period_end": "2019-06-30", "value": 8});
                let created =
                    self.app.post(&format!("/api/v1/requirements/{item}/measurements"), &body).await.expect(201).json();
                let path = format!("/api/v1/measurements/{}", created["id"].as_str().unwrap());
                if route.starts_with("GET") {
                    TestRequest::get().uri(&path)
                } else {
                    delete(path)
                }
            }
            "GET /api/v1/plans/{plan_id}/follow-up" => {
                let (_, _) = self.content("requirements", m, adopted).await;
                let plan = self.content_plans.borrow()[&(m.to_owned(), adopted)].clone();
                TestRequest::get().uri(&format!("/api/v1/plans/{plan}/follow-up"))
            }
            "POST /api/v1/plans/{plan_id}/measurements:import" => {
                let (_, item) = self.content("requirements", m, adopted).await;
                let plan = self.content_plans.borrow()[&(m.to_owned(), adopted)].clone();
                TestRequest::post()
                    .uri(&format!("/api/v1/plans/{plan}/measurements:import"))
                    .insert_header(("content-type", "text/csv"))
                    .set_payload(format!("kind,id,period_end,value\nrequirement,{item},2019-06-30,7\n"))
            }
            "GET /api/v1/plans/{plan_id}/versions"
            | "GET /api/v1/plans/{plan_id}/versions/{n}"
            | "GET /api/v1/plans/{plan_id}/versions/{n}/diff"
            | "GET /api/v1/plans/{plan_id}/versions/{n}/document"
            | "GET /api/v1/plans/{plan_id}/readiness"
            | "GET /api/v1/plans/{plan_id}/decisions"
            | "GET /api/v1/plans/{plan_id}/hearings" => {
                let plan = self.versioned_plan(m).await;
                let path = route.split_once(' ').unwrap().1.replace("{plan_id}", &plan).replace("{n}", "1");
                let query = if route.ends_with("/diff") { "?against=1" } else { "" };
                TestRequest::get().uri(&format!("{path}{query}"))
            }
            "POST /api/v1/plans/{plan_id}/versions" => json_post(
                format!("/api/v1/plans/{}/versions", self.versioned_plan(m).await),
                json!({"label": "Ny version"}),
            ),
            "POST /api/v1/plans/{plan_id}/decisions" => json_post(
                format!("/api/v1/plans/{}/decisions", self.versioned_plan(m).await),
                json!({"body": "Udvalget", "outcome": "noted", "version": 1, "meeting_date": "2018-11-21"}),
            ),
            "GET /api/v1/decisions/{id}" => {
                let plan = self.versioned_plan(m).await;
                let body = json!({"body": "Udvalget", "outcome": "noted", "version": 1, "meeting_date": "2018-11-21"});
                let created = self.app.post(&format!("/api/v1/plans/{plan}/decisions"), &body).await.expect(201);
                TestRequest::get().uri(&created.header("location").unwrap())
            }
            "POST /api/v1/plans/{plan_id}/revisions" => {
                json_post(format!("/api/v1/plans/{}/revisions", self.plan(m, true).await), json!({}))
            }
            "POST /api/v1/plans/{plan_id}/hearings" => json_post(
                format!("/api/v1/plans/{}/hearings", self.versioned_plan(m).await),
                json!({"version": 1, "title": "Høring", "closes_at": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339(),
                       "parties": ["Handicaprådet"]}),
            ),
            "GET /api/v1/hearings/{id}"
            | "GET /api/v1/hearings/{id}/comments"
            | "GET /api/v1/hearings/{id}/summary" => {
                let hearing = self.hearing(m, variant == "closed").await;
                TestRequest::get().uri(&route.split_once(' ').unwrap().1.replace("{id}", &hearing))
            }
            "PATCH /api/v1/hearings/{id}" => patch(
                format!("/api/v1/hearings/{}", self.hearing(m, false).await),
                json!({"closes_at": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339()}),
            ),
            "POST /api/v1/hearings/{id}/close" => {
                json_post(format!("/api/v1/hearings/{}/close", self.hearing(m, false).await), json!({}))
            }
            "POST /api/v1/hearings/{id}/comments" => json_post(
                format!("/api/v1/hearings/{}/comments", self.hearing(m, false).await),
                json!({"party": "Handicaprådet", "body": "Rådet bakker op."}),
            ),
            "GET /api/v1/comments/{id}" => {
                TestRequest::get().uri(&format!("/api/v1/comments/{}", self.comment(m).await))
            }
            "PATCH /api/v1/comments/{id}" => {
                patch(format!("/api/v1/comments/{}", self.comment(m).await), json!({"body": "Ændret"}))
            }
            "DELETE /api/v1/comments/{id}" => delete(format!("/api/v1/comments/{}", self.comment(m).await)),
            "PUT /api/v1/comments/{id}/response" => TestRequest::put()
                .uri(&format!("/api/v1/comments/{}/response", self.comment(m).await))
                .set_json(json!({"disposition": "noted", "text": "Taget til efterretning."})),
            content_route => {
                let (method, template) = content_route.split_once(' ').unwrap();
                let segments: Vec<&str> = template.trim_start_matches("/api/v1/").split('/').collect();
                let (kind, by_id) = match segments.as_slice() {
                    [_, _, kind] => (*kind, false),
                    [kind, "{id}"] => (*kind, true),
                    _ => panic!("no request for the route {content_route}; add it here and to MATRIX"),
                };
                let (parent, id) = self.content(kind, m, adopted).await;
                let (new, change) = content_bodies(kind);
                match (method, by_id) {
                    ("GET", false) => TestRequest::get().uri(&format!("{parent}/{kind}")),
                    ("POST", false) => json_post(format!("{parent}/{kind}"), new),
                    ("GET", true) => TestRequest::get().uri(&format!("/api/v1/{kind}/{id}")),
                    ("PATCH", true) => patch(format!("/api/v1/{kind}/{id}"), change),
                    ("DELETE", true) => delete(format!("/api/v1/{kind}/{id}")),
                    _ => panic!("no request for the route {content_route}"),
                }
            }
        }
    }
}

#[actix_web::test]
async fn every_route_answers_every_role_as_the_matrix_says() {
    let fixture = Fixture::new().await;
    let mut failures = Vec::new();
    for (route, variant, own, other) in MATRIX {
        for (municipality, expected) in [(OWN, own), (OTHER, other)] {
            for (i, who) in WHO.iter().enumerate() {
                let request = fixture.request(route, variant, municipality).await;
                let client = match fixture.tokens.iter().find(|(role, _)| role == who) {
                    Some((_, token)) => fixture.app.with_token(token),
                    None => fixture.app.anonymous(),
                };
                let response = client.call(request).await;
                if response.status.as_u16() != expected[i] {
                    failures.push(format!(
                        "{route} {variant} in {municipality} as {who}: expected {}, got {} {}",
                        expected[i],
                        response.status.as_u16(),
                        response.text()
                    ));
                } else if response.status.is_client_error() {
                    response.problem(expected[i]);
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} cells differ:\n{}", failures.len(), failures.join("\n"));
}

#[actix_web::test]
async fn every_route_has_a_row() {
    let api = serde_json::to_value(beskplan::api::openapi()).unwrap();
    let documented: BTreeSet<String> = api["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| format!("{} {path}", m.to_uppercase())))
        .collect();
    let covered: BTreeSet<String> = MATRIX.iter().map(|(route, ..)| route.to_string()).collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    let stale: Vec<_> = covered.difference(&documented).collect();
    assert!(missing.is_empty(), "routes without a row in MATRIX: {missing:?}");
    assert!(stale.is_empty(), "rows for routes that do not exist: {stale:?}");
}

#[actix_web::test]
async fn lists_show_only_what_the_caller_may_see() {
    let fixture = Fixture::new().await;
    let own_draft = fixture.plan(OWN, false).await;
    let other_draft = fixture.plan(OTHER, false).await;
    let other_adopted = fixture.plan(OTHER, true).await;
    let expected: [(&str, Vec<&String>); 6] = [
        ("admin", vec![&own_draft, &other_draft, &other_adopted]),
        ("planner", vec![&own_draft, &other_adopted]),
        ("approver", vec![&own_draft, &other_adopted]),
        ("consultee", vec![&other_adopted]),
        ("viewer", vec![&own_draft, &other_adopted]),
        ("anonymous", vec![&other_adopted]),
    ];
    for (who, plans) in expected {
        let client = match fixture.tokens.iter().find(|(role, _)| *role == who) {
            Some((_, token)) => fixture.app.with_token(token),
            None => fixture.app.anonymous(),
        };
        let list = client.get("/api/v1/plans?limit=500").await.expect(200).json();
        let mut seen: Vec<String> =
            list["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect();
        seen.sort();
        let mut wanted: Vec<String> = plans.into_iter().cloned().collect();
        wanted.sort();
        assert_eq!(seen, wanted, "{who}");
        assert_eq!(list["total"], wanted.len(), "{who}: total counts only visible plans");
    }
}
