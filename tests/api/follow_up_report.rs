//! The follow-up report reads per subject only the measurements the verdict needs: these pin the
//! edges of "the one that counts" (revisions, the deadline, `as_of`, none at all) and that the
//! statements it costs do not grow with the measurements.

use crate::common::TestApp;
use actix_web::test::TestRequest;
use beskplan::api::follow_up::MeasurementRow;
use beskplan::db::schema::measurements;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{json, Value};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

struct Plan {
    app: TestApp,
    plan_id: String,
    planner: String,
    /// At most 4 a month by 2015-12-31, measured.
    at_most: String,
    /// At most 80 by 2015-12-31, never measured.
    unmeasured: String,
    measure: String,
}

async fn plan() -> Plan {
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
    let goal = p
        .post(&format!("/api/v1/plans/{plan_id}/goals"), &json!({"title": "Mål 2", "kind": "local"}))
        .await
        .expect(201)
        .json();
    let requirement = |statement: &str, value: f64| {
        json!({"statement": statement, "indicator": "i", "unit": "count", "comparator": "at_most",
               "target": {"value": value, "due": "2015-12-31"}})
    };
    let mut ids = Vec::new();
    for body in [requirement("Maksimalt 4 førtidspensioner pr. måned", 4.0), requirement("Maksimalt 80 sager", 80.0)]
    {
        ids.push(id(&p.post(&format!("/api/v1/goals/{}/requirements", id(&goal)), &body).await.expect(201).json()));
    }
    let measure = id(&p
        .post(
            &format!("/api/v1/goals/{}/follow-up-measures", id(&goal)),
            &json!({"indicator": "Tilgang til langtidsledighed", "unit": "persons"}),
        )
        .await
        .expect(201)
        .json());
    let unmeasured = ids.pop().unwrap();
    let at_most = ids.pop().unwrap();
    Plan { app, plan_id, planner, at_most, unmeasured, measure }
}

impl Plan {
    async fn record(&self, path: &str, period_end: &str, value: f64) -> Value {
        self.app
            .with_token(&self.planner)
            .post(&format!("/api/v1/{path}/measurements"), &json!({"period_end": period_end, "value": value}))
            .await
            .expect(201)
            .json()
    }

    async fn requirement(&self, period_end: &str, value: f64) -> Value {
        self.record(&format!("requirements/{}", self.at_most), period_end, value).await
    }

    /// Stores a measurement directly, to choose its `recorded_at` (and id).
    fn insert(&self, id: String, period_end: &str, value: f64, recorded_at: NaiveDateTime) {
        let row = MeasurementRow {
            id,
            plan_id: self.plan_id.clone(),
            requirement_id: Some(self.at_most.clone()),
            follow_up_measure_id: None,
            period_end: date(period_end),
            value,
            source: None,
            note: None,
            recorded_at,
            recorded_by: "test".into(),
        };
        let mut conn = self.app.state.pool.get().unwrap();
        diesel::insert_into(measurements::table).values(&row).execute(&mut *conn).unwrap();
    }

    async fn report(&self, as_of: &str) -> Value {
        self.app
            .with_token(&self.planner)
            .get(&format!("/api/v1/plans/{}/follow-up?as_of={as_of}", self.plan_id))
            .await
            .expect(200)
            .json()
    }
}

#[actix_web::test]
async fn of_revised_figures_the_latest_recorded_counts_whatever_the_order_stored() {
    let plan = plan().await;
    let first = plan.requirement("2015-05-31", 5.0).await;
    let revised = plan.requirement("2015-05-31", 4.0).await;
    let report = plan.report("2015-06-15").await;
    assert_eq!(report["requirements"][0]["latest"]["id"], revised["id"]);
    assert_eq!(report["requirements"][0]["status"], "on_track");
    // Stored last but recorded before both: it does not count.
    let earlier = chrono::DateTime::parse_from_rfc3339(first["recorded_at"].as_str().unwrap()).unwrap().naive_utc()
        - chrono::Duration::days(1);
    plan.insert(uuid::Uuid::now_v7().to_string(), "2015-05-31", 9.0, earlier);
    let report = plan.report("2015-06-15").await;
    assert_eq!(report["requirements"][0]["latest"]["id"], revised["id"]);
    assert_eq!(report["requirements"][0]["status"], "on_track");
    // Recorded in the same instant: the later id (ids are time-ordered) counts, on every backend.
    let later = earlier + chrono::Duration::days(3);
    let (a, b) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
    plan.insert(b.clone(), "2015-05-31", 6.0, later);
    plan.insert(a, "2015-05-31", 3.0, later);
    let report = plan.report("2015-06-15").await;
    assert_eq!(report["requirements"][0]["latest"]["id"], b.as_str());
    assert_eq!(report["requirements"][0]["status"], "at_risk");
}

#[actix_web::test]
async fn measurements_after_as_of_are_ignored() {
    let plan = plan().await;
    let may = plan.requirement("2015-05-31", 4.0).await;
    plan.requirement("2015-06-30", 5.0).await;
    plan.record(&format!("follow-up-measures/{}", plan.measure), "2015-07-31", 12.0).await;
    let report = plan.report("2015-06-15").await;
    assert_eq!(report["requirements"][0]["latest"]["id"], may["id"]);
    assert_eq!(report["requirements"][0]["status"], "on_track", "June's 5 is not known on 15 June");
    assert!(report["follow_up_measures"][0]["latest"].is_null(), "{report}");
    // On the period's last day it counts.
    let report = plan.report("2015-06-30").await;
    assert_eq!(report["requirements"][0]["latest"]["value"], 5.0);
    assert_eq!(report["requirements"][0]["status"], "at_risk");
}

#[actix_web::test]
async fn after_the_deadline_the_verdict_is_on_the_deadline_and_later_figures_are_only_shown() {
    let plan = plan().await;
    let report = plan.report("2016-01-15").await;
    assert_eq!(report["requirements"][0]["status"], "no_data");
    plan.requirement("2015-11-30", 3.0).await;
    plan.requirement("2015-12-31", 5.0).await;
    // Revised after the deadline's period: still the deadline's figure, and it counts.
    plan.requirement("2015-12-31", 4.0).await;
    let january = plan.requirement("2016-01-31", 9.0).await;
    let report = plan.report("2016-02-15").await;
    assert_eq!(report["requirements"][0]["status"], "met", "4 in December meets at most 4");
    assert_eq!(report["requirements"][0]["latest"]["id"], january["id"], "the latest shown is after the deadline");
    assert_eq!(report["counts"]["met"], 1);
    // On the deadline itself the same figure decides.
    let report = plan.report("2015-12-31").await;
    assert_eq!(report["requirements"][0]["status"], "met");
    assert_eq!(report["requirements"][0]["latest"]["value"], 4.0);
    // The CSV shows the same: the verdict from December, the figure from January.
    let csv = plan
        .app
        .with_token(&plan.planner)
        .call(
            TestRequest::get()
                .uri(&format!("/api/v1/plans/{}/follow-up?as_of=2016-02-15", plan.plan_id))
                .insert_header(("accept", "text/csv")),
        )
        .await
        .expect(200)
        .text();
    let row = csv.lines().nth(1).unwrap();
    assert!(row.contains(",at_most,4,,2015-12-31,,met,2016-01-31,9,,,"), "{row}");

    // Only figures after the deadline: nothing to judge by, the figure still shown.
    let plan = self::plan().await;
    plan.requirement("2016-01-31", 1.0).await;
    let report = plan.report("2016-02-15").await;
    assert_eq!(report["requirements"][0]["status"], "no_data");
    assert_eq!(report["requirements"][0]["latest"]["value"], 1.0);
}

#[actix_web::test]
async fn unmeasured_subjects_have_no_data_and_measures_show_their_latest() {
    let plan = plan().await;
    let report = plan.report("2015-06-15").await;
    assert_eq!(report["requirements"][1]["requirement_id"], plan.unmeasured.as_str());
    assert_eq!(report["requirements"][1]["status"], "no_data");
    assert!(report["requirements"][1]["latest"].is_null());
    assert!(report["follow_up_measures"][0]["latest"].is_null());
    assert_eq!(report["counts"], json!({"met": 0, "on_track": 0, "at_risk": 0, "not_met": 0, "no_data": 2}));

    let measure = format!("follow-up-measures/{}", plan.measure);
    plan.record(&measure, "2015-03-31", 7.0).await;
    let april = plan.record(&measure, "2015-04-30", 6.5).await;
    plan.record(&measure, "2015-02-28", 8.0).await;
    plan.record(&measure, "2015-07-31", 5.0).await;
    // A requirement's figures are not the measure's.
    plan.requirement("2015-05-31", 100.0).await;
    let report = plan.report("2015-06-15").await;
    let latest = &report["follow_up_measures"][0]["latest"];
    assert_eq!(latest["id"], april["id"]);
    assert_eq!(latest["follow_up_measure_id"], plan.measure.as_str());
    assert_eq!(latest["value"], 6.5);
    assert_eq!(report["requirements"][1]["status"], "no_data", "another requirement's figures do not count");
}

#[actix_web::test]
async fn the_report_costs_the_same_statements_however_many_measurements() {
    let plan = plan().await;
    let path = format!("/api/v1/plans/{}/follow-up?as_of=2016-06-30", plan.plan_id);
    let empty = plan.app.statements_for(&path).await;
    plan.requirement("2015-01-31", 3.0).await;
    plan.record(&format!("follow-up-measures/{}", plan.measure), "2015-01-31", 3.0).await;
    let few = plan.app.statements_for(&path).await;
    // Two years of daily figures, each revised once.
    let start = date("2015-01-01").and_hms_opt(12, 0, 0).unwrap();
    for day in 0..730 {
        let period_end = (date("2015-01-01") + chrono::Duration::days(day)).format("%Y-%m-%d").to_string();
        for revision in 0..2 {
            let recorded_at = start + chrono::Duration::days(day + 1) + chrono::Duration::hours(revision);
            let value = if revision == 0 { 99.0 } else { (day % 7) as f64 };
            plan.insert(uuid::Uuid::now_v7().to_string(), &period_end, value, recorded_at);
        }
    }
    let many = plan.app.statements_for(&path).await;
    assert_eq!((empty, few), (many, many), "statements for (no, few, 1,460 more) measurements");
    let report = plan.report("2016-06-30").await;
    // The deadline's figure as revised (364 % 7 = 0, not the first 99) meets at most 4; the latest
    // shown is 30 June's.
    assert_eq!(report["requirements"][0]["status"], "met");
    assert_eq!(report["requirements"][0]["latest"]["period_end"], "2016-06-30");
    assert_eq!(report["requirements"][0]["latest"]["value"], (546 % 7) as f64);
}
