//! What the plan's content resources (sections, focus areas, goals, requirements, follow-up
//! measures) share: access through the owning plan, and ordered positions.

use crate::domain::validate::Checks;

pub use crate::api::plan_state::{for_content_read as plan_for_read, lock_for_content as plan_for_change};

/// A requested position must not be negative.
pub fn check_position(checks: &mut Checks, position: Option<i32>) {
    if position.is_some_and(|p| p < 0) {
        checks.fail("position", "must be 0 or more");
    }
}

/// Text lists (target groups, initiatives): each entry present and bounded.
pub fn check_text_list(checks: &mut Checks, field: &str, items: &[String], max_items: usize, max_length: usize) {
    if items.len() > max_items {
        checks.fail(field, format!("at most {max_items} entries"));
    }
    for (i, item) in items.iter().enumerate() {
        checks.text(&format!("{field}[{i}]"), item, max_length);
    }
}

/// Position bookkeeping for one table ordered within a parent (a plan or a goal).
macro_rules! ordered_table {
    ($name:ident, $table:ident, $parent:ident) => {
        pub mod $name {
            use diesel::prelude::*;

            use crate::db::schema::$table as t;
            use crate::db::DbConnection;

            pub fn count(conn: &mut DbConnection, parent: &str) -> QueryResult<i32> {
                let n: i64 = t::table.filter(t::$parent.eq(parent)).count().get_result(conn)?;
                Ok(i32::try_from(n).unwrap_or(i32::MAX))
            }

            /// Makes room at `at`: the items there and after move down one.
            pub fn open(conn: &mut DbConnection, parent: &str, at: i32) -> QueryResult<()> {
                diesel::update(t::table.filter(t::$parent.eq(parent)).filter(t::position.ge(at)))
                    .set(t::position.eq(t::position + 1))
                    .execute(conn)
                    .map(|_| ())
            }

            /// Closes the gap an item left at `at`.
            pub fn close(conn: &mut DbConnection, parent: &str, at: i32) -> QueryResult<()> {
                diesel::update(t::table.filter(t::$parent.eq(parent)).filter(t::position.gt(at)))
                    .set(t::position.eq(t::position - 1))
                    .execute(conn)
                    .map(|_| ())
            }

            /// Moves an item from `from` to `to`, shifting the others.
            pub fn shift(conn: &mut DbConnection, parent: &str, id: &str, from: i32, to: i32) -> QueryResult<()> {
                if from == to {
                    return Ok(());
                }
                diesel::update(t::table.find(id)).set(t::position.eq(-1)).execute(conn)?;
                close(conn, parent, from)?;
                open(conn, parent, to)?;
                diesel::update(t::table.find(id)).set(t::position.eq(to)).execute(conn).map(|_| ())
            }
        }
    };
}

ordered_table!(section_order, sections, plan_id);
ordered_table!(focus_area_order, focus_areas, plan_id);
ordered_table!(goal_order, goals, plan_id);
ordered_table!(requirement_order, requirements, goal_id);
ordered_table!(follow_up_measure_order, follow_up_measures, goal_id);
