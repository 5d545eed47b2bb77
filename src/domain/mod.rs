//! Domain rules as pure functions over plain values: no database, no HTTP.

pub mod plan_status;
pub mod validate;
