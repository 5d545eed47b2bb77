//! Domain rules as pure functions over plain values: no database, no HTTP.

pub mod attainment;
pub mod diff;
pub mod document;
pub mod hearing;
pub mod ordering;
pub mod phrasing;
pub mod plan_status;
pub mod readiness;
pub mod requirement;
pub mod validate;
