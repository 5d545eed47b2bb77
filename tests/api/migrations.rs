//! Migrations apply, revert and apply again on the test backend, and match `schema.rs`.

use crate::common::TestDatabase;
use beskplan::api;
use beskplan::db::schema::{
    audit_log, clients, focus_areas, follow_up_measures, goals, idempotency_keys, municipalities, plans, requirements,
    sections, users,
};
use beskplan::db::{self, DatabaseUrl};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[test]
fn up_down_up() {
    let database = TestDatabase::new();
    let pool = db::connect(
        &DatabaseUrl::parse(database.url()),
        1,
        prometheus::IntCounter::new("statements", "SQL statements").unwrap(),
        None,
    )
    .unwrap();
    let mut conn = pool.get().unwrap();
    assert!(db::migrate(&mut conn).unwrap() > 0);
    assert_eq!(db::migrate(&mut conn).unwrap(), 0, "a second run applies nothing");
    db::revert_all(&mut conn).unwrap();
    assert!(municipalities::table.count().get_result::<i64>(&mut *conn).is_err(), "tables are gone");
    assert!(db::migrate(&mut conn).unwrap() > 0);

    // Every column of schema.rs exists with a compatible type: select every table whole.
    macro_rules! select_all {
        ($($table:ident => $row:ty),* $(,)?) => {$(
            let rows: Vec<$row> = $table::table.select(<$row>::as_select()).load(&mut *conn).unwrap();
            assert!(rows.is_empty(), "{} is empty after migrating", stringify!($table));
        )*};
    }
    select_all!(
        municipalities => api::municipalities::MunicipalityRow,
        plans => api::plans::PlanRow,
        users => api::users::UserRow,
        clients => api::users::ClientRow,
        sections => api::sections::SectionRow,
        focus_areas => api::focus_areas::FocusAreaRow,
        goals => api::goals::GoalRow,
        requirements => api::requirements::RequirementRow,
        follow_up_measures => api::follow_up_measures::FollowUpMeasureRow,
    );
    type Audit =
        (String, NaiveDateTime, String, String, String, String, Option<String>, Option<String>, Option<String>);
    audit_log::table.select(audit_log::all_columns).load::<Audit>(&mut *conn).unwrap();
    type Idempotency = (String, String, String, Option<i32>, Option<String>, Option<Vec<u8>>, NaiveDateTime);
    idempotency_keys::table.select(idempotency_keys::all_columns).load::<Idempotency>(&mut *conn).unwrap();
    let revisions: Vec<i64> = plans::table.select(plans::content_revision).load(&mut *conn).unwrap();
    assert!(revisions.is_empty());
}

#[test]
fn sqlite_is_set_up_for_a_server() {
    let database = TestDatabase::new();
    if database.is_postgres() {
        return;
    }
    let pool = db::connect(
        &DatabaseUrl::parse(database.url()),
        1,
        prometheus::IntCounter::new("statements", "SQL statements").unwrap(),
        None,
    )
    .unwrap();
    let mut conn = pool.get().unwrap();
    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let mut pragma = |name: &str| {
        diesel::sql_query(format!("SELECT CAST((SELECT * FROM pragma_{name}) AS TEXT) AS value"))
            .get_result::<Value>(&mut *conn)
            .unwrap()
            .value
    };
    assert_eq!(pragma("journal_mode"), "wal");
    assert_eq!(pragma("foreign_keys"), "1");
    assert_eq!(pragma("busy_timeout"), "5000");
    assert_eq!(pragma("synchronous"), "1");
}

#[test]
fn database_urls() {
    assert_eq!(DatabaseUrl::parse("./data/x.sqlite3"), DatabaseUrl::Sqlite("./data/x.sqlite3".into()));
    assert_eq!(DatabaseUrl::parse("sqlite:///tmp/x.db"), DatabaseUrl::Sqlite("/tmp/x.db".into()));
    assert_eq!(DatabaseUrl::parse("sqlite:x.db"), DatabaseUrl::Sqlite("x.db".into()));
    let pg = DatabaseUrl::parse("postgres://app:secret@127.0.0.1:5432/beskplan");
    assert_eq!(pg.backend(), db::Backend::Postgres);
    assert_eq!(pg.redacted(), "postgres://app:***@127.0.0.1:5432/beskplan");
    assert!(matches!(DatabaseUrl::parse("postgresql://h/db"), DatabaseUrl::Postgres(_)));
}
