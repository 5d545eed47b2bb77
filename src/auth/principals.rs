//! Users and service clients as principals that can hold a token: one lookup for the token
//! endpoint and for token verification.

use diesel::prelude::*;

use super::{Caller, PrincipalKind};
use crate::db::schema::{clients, users};
use crate::db::{stored, DbConnection};
use crate::error::ApiResult;

/// A user or client with what it takes to log in and to act.
#[derive(Debug, Clone)]
pub struct Principal {
    pub id: String,
    /// Username, or the client id: what a person types and what the audit log records.
    pub name: String,
    pub display_name: String,
    pub kind: PrincipalKind,
    pub role: String,
    pub municipalities: String,
    pub party: Option<String>,
    /// Argon2id hash of the password or client secret.
    pub secret_hash: String,
    pub active: bool,
}

impl Principal {
    pub fn caller(&self) -> ApiResult<Caller> {
        Ok(Caller {
            id: self.id.clone(),
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            kind: self.kind,
            role: stored(&self.role)?,
            municipalities: serde_json::from_str(&self.municipalities)
                .map_err(|e| crate::error::ApiError::Internal(format!("stored municipalities: {e}")))?,
            party: self.party.clone(),
        })
    }
}

type Columns = (String, String, String, String, String, Option<String>, String, bool);

fn user(row: Columns) -> Principal {
    let (id, name, display_name, role, municipalities, party, secret_hash, active) = row;
    Principal { id, name, display_name, kind: PrincipalKind::User, role, municipalities, party, secret_hash, active }
}

fn client(row: Columns) -> Principal {
    let (id, display_name, name, role, municipalities, party, secret_hash, active) = row;
    Principal { id, name, display_name, kind: PrincipalKind::Client, role, municipalities, party, secret_hash, active }
}

macro_rules! user_columns {
    () => {
        (
            users::id,
            users::username,
            users::display_name,
            users::role,
            users::municipalities,
            users::party,
            users::password_hash,
            users::active,
        )
    };
}

/// A client's id doubles as its name (what it logs in with).
macro_rules! client_columns {
    () => {
        (
            clients::id,
            clients::name,
            clients::id,
            clients::role,
            clients::municipalities,
            clients::party,
            clients::secret_hash,
            clients::active,
        )
    };
}

pub fn user_by_username(conn: &mut DbConnection, username: &str) -> ApiResult<Option<Principal>> {
    let row = users::table.filter(users::username.eq(username)).select(user_columns!()).first(conn).optional()?;
    Ok(row.map(user))
}

pub fn client_by_id(conn: &mut DbConnection, id: &str) -> ApiResult<Option<Principal>> {
    let row = clients::table.find(id).select(client_columns!()).first(conn).optional()?;
    Ok(row.map(client))
}

/// The user or client with this id (a token's `sub`).
pub fn by_id(conn: &mut DbConnection, id: &str) -> ApiResult<Option<Principal>> {
    let row = users::table.find(id).select(user_columns!()).first(conn).optional()?;
    match row {
        Some(row) => Ok(Some(user(row))),
        None => client_by_id(conn, id),
    }
}
