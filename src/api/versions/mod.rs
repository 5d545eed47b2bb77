//! Versions: immutable snapshots of the whole plan document, numbered 1, 2, … per plan; their
//! differences; and the document rendered for people.
//!
//! Here the store (a version is made under the plan's lock and kept as bytes); the document is
//! assembled from the plan's content in `assembly`, and the HTTP operations are in `handlers`.

mod assembly;
mod handlers;

pub use assembly::current_document;
pub use handlers::{create_version, diff_versions, get_version, list_versions, version_document, DiffQuery};

use std::sync::{Arc, OnceLock};

use actix_web::web;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::api::audit::{self, snapshot};
use crate::api::compress::{self, Coding};
use crate::api::plan_state;
use crate::auth::policy::{self, Action, Target};
use crate::auth::RequestContext;
use crate::db::schema::{plans as plans_table, versions};
use crate::db::DbConnection;
use crate::domain::document::Document;
use crate::domain::validate::Checks;
use crate::error::{ApiError, ApiResult};
use crate::now;

/// A version's stored representation, kept in memory once read: immutable, so never stale.
#[derive(Debug)]
pub struct StoredVersion {
    pub body: web::Bytes,
    pub etag: String,
    /// The body in each of `Coding::ALL`, compressed the first time a client asks for it, so
    /// that no request compresses it again; `None` when it is too small to be worth it.
    encoded: [OnceLock<Option<web::Bytes>>; Coding::ALL.len()],
}

impl StoredVersion {
    pub fn new(body: web::Bytes, etag: String) -> Self {
        StoredVersion { body, etag, encoded: Default::default() }
    }

    /// The body in `coding`; compresses it on the first call (run it off the async workers).
    pub fn encoded(&self, coding: Coding) -> Option<&web::Bytes> {
        let index = Coding::ALL.iter().position(|c| *c == coding).expect("a coding of Coding::ALL");
        self.encoded[index]
            .get_or_init(|| {
                let worth = compress::worth_compressing(self.body.len() as u64);
                worth.then(|| web::Bytes::from(coding.encode(&self.body)))
            })
            .as_ref()
    }
}

pub type VersionCache = quick_cache::sync::Cache<(String, i32), Arc<StoredVersion>>;

/// How many version bodies are kept in memory.
pub const CACHED_VERSIONS: usize = 256;

/// A version as listed: without its document, with when it was adopted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Version {
    pub number: i32,
    #[schema(example = "Udkast til høring")]
    pub label: String,
    pub note: Option<String>,
    pub plan_id: String,
    pub created_at: DateTime<Utc>,
    /// Who made it (username or client id).
    pub created_by: String,
    /// When the city council approved it; adopted versions stay public.
    pub adopted_at: Option<DateTime<Utc>>,
}

/// A version with the whole plan document as it was.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionDocument {
    pub number: i32,
    pub label: String,
    pub note: Option<String>,
    pub plan_id: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub document: Document,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVersion {
    #[schema(
        example = "Udkast til høring",
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t-\r \u0085\u00A0\u00AD\u1680\u180E\u2000-\u200D\u2028\u2029\u202F\u205F\u2060\u3000\uFEFF]"
    )]
    pub label: String,
    #[schema(max_length = 5000)]
    pub note: Option<String>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = versions)]
pub(super) struct VersionRow {
    plan_id: String,
    number: i32,
    label: String,
    note: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
    adopted_at: Option<NaiveDateTime>,
}

impl From<VersionRow> for Version {
    fn from(row: VersionRow) -> Self {
        Version {
            number: row.number,
            label: row.label,
            note: row.note,
            plan_id: row.plan_id,
            created_at: row.created_at.and_utc(),
            created_by: row.created_by,
            adopted_at: row.adopted_at.map(|at| at.and_utc()),
        }
    }
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(error.to_string())
}

/// A strong ETag: a hash of the bytes.
pub fn strong_etag(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>())
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    plan_id: &str,
    input: NewVersion,
) -> ApiResult<(VersionDocument, String)> {
    let mut checks = Checks::new();
    checks.text("label", &input.label, 200);
    checks.optional_text("note", input.note.as_deref(), 5000);
    checks.finish()?;
    conn.write(|conn| {
        // Locks the plan row (PostgreSQL) or the database (SQLite): numbers never collide.
        let plan = plan_state::lock_for_content(conn, ctx, plan_id)?;
        let last: Option<i32> = versions::table
            .filter(versions::plan_id.eq(plan_id))
            .select(diesel::dsl::max(versions::number))
            .first(conn)?;
        let number = last.unwrap_or(0) + 1;
        let created_at = now();
        let version = VersionDocument {
            number,
            label: input.label.trim().to_owned(),
            note: input.note.clone(),
            plan_id: plan_id.to_owned(),
            created_at: created_at.and_utc(),
            created_by: ctx.actor().to_owned(),
            document: current_document(conn, &plan)?,
        };
        let body = serde_json::to_string(&version).map_err(internal)?;
        let etag = strong_etag(&[body.as_bytes()]);
        diesel::insert_into(versions::table)
            .values((
                versions::plan_id.eq(plan_id),
                versions::number.eq(number),
                versions::label.eq(&version.label),
                versions::note.eq(&version.note),
                versions::created_at.eq(created_at),
                versions::created_by.eq(&version.created_by),
                versions::body.eq(&body),
                versions::etag.eq(&etag),
            ))
            .execute(conn)?;
        plan_state::set_latest_version(conn, &plan, number)?;
        let listed = Version {
            number,
            label: version.label.clone(),
            note: version.note.clone(),
            plan_id: plan_id.to_owned(),
            created_at: version.created_at,
            created_by: version.created_by.clone(),
            adopted_at: None,
        };
        audit::record(conn, ctx, "create", "version", &format!("{plan_id}/{number}"), None, snapshot(&listed))?;
        Ok((version, etag))
    })
}

/// A version the caller may read: its bytes (from memory when they were read before), and
/// whether it is public (adopted at some point).
pub fn read(
    conn: &mut DbConnection,
    cache: &VersionCache,
    ctx: &RequestContext,
    plan_id: &str,
    number: i32,
) -> ApiResult<(Arc<StoredVersion>, bool)> {
    read_with_owner(conn, cache, ctx, plan_id, number).map(|(stored, public, _)| (stored, public))
}

/// `read`, and the kommunekode of the municipality that owns the plan.
pub(super) fn read_with_owner(
    conn: &mut DbConnection,
    cache: &VersionCache,
    ctx: &RequestContext,
    plan_id: &str,
    number: i32,
) -> ApiResult<(Arc<StoredVersion>, bool, String)> {
    // One query for what the policy needs: the owning municipality and whether it was adopted.
    let found: Option<(String, Option<NaiveDateTime>)> = versions::table
        .inner_join(plans_table::table)
        .filter(versions::plan_id.eq(plan_id))
        .filter(versions::number.eq(number))
        .select((plans_table::municipality_code, versions::adopted_at))
        .first(conn)
        .optional()?;
    let Some((municipality, adopted_at)) = found else {
        return Err(ApiError::NotFound(format!("no version {number} of plan {plan_id}")));
    };
    let public = adopted_at.is_some();
    let readable = policy::authorize(ctx.caller.as_ref(), Action::Read, Target::plan(&municipality, public));
    if readable.is_err() {
        // Otherwise only a consultee whose party a hearing on this version invites reads it.
        let invitations = crate::api::hearings::invitations(conn, plan_id, number)?;
        if !policy::consultee_may_read_version(ctx.caller.as_ref(), &municipality, &invitations) {
            return readable.map(|_| unreachable!());
        }
    }
    let key = (plan_id.to_owned(), number);
    if let Some(stored) = cache.get(&key) {
        return Ok((stored, public, municipality));
    }
    let (body, etag): (String, String) =
        versions::table.find((plan_id, number)).select((versions::body, versions::etag)).first(conn)?;
    let stored = Arc::new(StoredVersion::new(web::Bytes::from(body), etag));
    cache.insert(key, stored.clone());
    Ok((stored, public, municipality))
}

/// Parses a stored version.
pub fn document_of(stored: &StoredVersion) -> ApiResult<VersionDocument> {
    serde_json::from_slice(&stored.body).map_err(internal)
}
