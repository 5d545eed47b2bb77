//! The integration tests, as one test binary with a module per area: linking a binary against the
//! whole service is most of what `cargo test` costs, so there is one instead of one per file.
//! Run one area with `cargo test --test api races::` (a module path filters the test names).
//!
//! Every test runs the real application in process on a database of its own (`common`): SQLite by
//! default, PostgreSQL when `TEST_DATABASE_URL` is set. `durability` and the command-line test in
//! `auth` start the built binary (`CARGO_BIN_EXE_beskplan`) as a process of its own.

mod common;

mod audit;
mod auth;
mod compression;
mod content;
mod demo;
mod durability;
mod faults;
mod follow_up;
mod follow_up_report;
mod hearings;
mod idempotency;
mod limits;
mod migrations;
mod municipalities;
mod operations;
mod permissions;
mod plan_state;
mod plans;
mod races;
mod robustness;
mod storage;
mod workflow;
