//! People (users) and scripted integrations (service clients), both admin-only. Users are
//! deactivated, never deleted, so the audit log's actors stay meaningful.
//!
//! Every change is one write transaction that compare-and-swaps on the revision the caller's
//! `If-Match` was checked against (`UPDATE … WHERE id = ? AND revision = ?`): of two requests
//! with one ETag exactly one wins, the other gets 412, on both backends. On PostgreSQL the
//! update waits for a concurrent one to commit and then finds the revision moved on.

mod clients;
mod people;

pub use clients::{
    create_client, deactivate_client, find_client, get_client, list_clients, ClientRow, CreatedClient, NewClient,
    ServiceClient,
};
pub use people::{
    bootstrap_admin, create_user, create_user_handler, deactivate_user, find_user, get_user, list_users, update_user,
    NewUser, User, UserPatch, UserQuery, UserRow,
};

use crate::api::municipalities;
use crate::auth::policy::{self, Action, Target};
use crate::auth::{RequestContext, Role};
use crate::db::DbConnection;
use crate::domain::validate::{is_municipality_code, Checks, MAX_MUNICIPALITIES};
use crate::error::{ApiError, ApiResult};

/// Users and clients are the admin's alone (403 for anyone else: the routes are no secret).
fn admin_only(ctx: &RequestContext) -> ApiResult<()> {
    policy::authorize(ctx.caller.as_ref(), Action::Administer, Target::service())
}

/// A principal's municipalities as stored: a JSON array of kommunekoder.
fn parse_codes(text: &str) -> ApiResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| ApiError::Internal(format!("stored municipalities: {e}")))
}

fn store_codes(codes: &[String]) -> ApiResult<String> {
    serde_json::to_string(codes).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Rules shared by users and clients: a role's municipalities and party.
fn check_principal(
    conn: &mut DbConnection,
    checks: &mut Checks,
    role: Role,
    municipalities: &[String],
    party: Option<&str>,
) -> ApiResult<()> {
    if role != Role::Admin && municipalities.is_empty() {
        checks.fail("municipalities", format!("a {} needs at least one municipality", role.as_str()));
    }
    let listed = if checks.at_most("municipalities", municipalities.len(), MAX_MUNICIPALITIES) {
        municipalities.len()
    } else {
        0
    };
    for (i, code) in municipalities.iter().take(listed).enumerate() {
        let field = format!("municipalities[{i}]");
        if !is_municipality_code(code) {
            checks.municipality_code(&field, code);
        } else if !municipalities::exists(conn, code)? {
            checks.fail(&field, format!("unknown municipality {code}"));
        }
    }
    match (role, party) {
        (Role::Consultee, None) => checks.fail("party", "a consultee needs its party, e.g. \"Handicaprådet\""),
        (Role::Consultee, Some(p)) => checks.text("party", p, 200),
        (_, Some(_)) => checks.fail("party", "only consultees have a party"),
        (_, None) => {}
    }
    Ok(())
}
