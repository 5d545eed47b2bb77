//! Domain rules as pure functions over plain values: no database, no HTTP.

pub mod ordering;
pub mod plan_status;
pub mod requirement;
pub mod validate;
