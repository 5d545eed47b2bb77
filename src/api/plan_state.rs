//! A plan's row and representation, and the one place where plan content is loaded, locked and
//! its status settled.
//!
//! Every change to a plan or its content runs in a write transaction that first takes the plan's
//! lock (`lock*`), then reads everything it decides on: on PostgreSQL (READ COMMITTED) each
//! statement after the lock sees what the previous holder committed, so checks and
//! compare-and-swaps never act on a stale read. On SQLite `BEGIN IMMEDIATE` already serialises
//! writers; the same code runs there.
//!
//! Reads never write: a plan in hearing whose hearings have all passed their deadline *shows*
//! `draft` (`effective`), with the revision and time the settling will store; the next write
//! under the lock, or the background sweep, persists exactly that.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::audit::{self, snapshot};
use crate::api::http;
use crate::auth::policy::{self, Action, Target};
use crate::auth::{Caller, RequestContext};
use crate::db::schema::{hearings, plans};
use crate::db::{expect_one, DbConnection};
use crate::domain::plan_status::{self, Event, PlanStatus};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = plans)]
pub struct PlanRow {
    pub id: String,
    pub municipality_code: String,
    pub year: i32,
    pub title: String,
    pub summary: Option<String>,
    pub covers: String,
    pub status: String,
    pub latest_version: Option<i32>,
    pub adopted_version: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub revision: i64,
}

impl PlanRow {
    /// The plan resource itself: public once a version has been adopted, so that people can
    /// find the adopted version, even while a revision is being drafted.
    pub fn target(&self) -> Target<'_> {
        Target::plan(&self.municipality_code, self.adopted_version.is_some())
    }

    /// The plan's live content: public only while the plan is adopted (then it is the adopted
    /// version); a revision's draft content stays private.
    pub fn content_target(&self) -> Target<'_> {
        Target::plan(&self.municipality_code, self.status == PlanStatus::Adopted.as_str())
    }

    pub fn status(&self) -> ApiResult<PlanStatus> {
        PlanStatus::parse(&self.status)
            .ok_or_else(|| ApiError::Internal(format!("plan {} has status {:?}", self.id, self.status)))
    }

    pub fn covers(&self) -> ApiResult<Vec<String>> {
        serde_json::from_str(&self.covers).map_err(|e| ApiError::Internal(format!("plan {} covers: {e}", self.id)))
    }

    /// Refuses a content change unless the plan is a draft or in hearing.
    pub fn ensure_editable(&self) -> ApiResult<()> {
        let status = self.status()?;
        if status.content_editable() {
            Ok(())
        } else {
            Err(ApiError::Conflict(format!(
                "the plan is {}; its content can change only while it is draft or in_hearing",
                status.as_str()
            )))
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Plan {
    #[schema(example = "0193a4b2-7c1e-7d3a-9f00-1a2b3c4d5e6f")]
    pub id: String,
    /// Kommunekode of the municipality that owns the plan.
    #[schema(example = "185")]
    pub municipality: String,
    /// Every municipality the plan covers (a jobcenter may serve several); includes `municipality`.
    #[schema(example = json!(["185", "155"]))]
    pub covers: Vec<String>,
    #[schema(example = 2017)]
    pub year: i32,
    #[schema(example = "Beskæftigelsesplan 2017")]
    pub title: String,
    pub summary: Option<String>,
    pub status: PlanStatus,
    /// Number of the newest version, if any.
    pub latest_version: Option<i32>,
    /// Number of the version the city council adopted, if any.
    pub adopted_version: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(example = "\"1\"")]
    pub etag: String,
}

impl TryFrom<PlanRow> for Plan {
    type Error = ApiError;

    fn try_from(row: PlanRow) -> ApiResult<Self> {
        Ok(Plan {
            status: row.status()?,
            covers: row.covers()?,
            etag: http::etag(row.revision),
            id: row.id,
            municipality: row.municipality_code,
            year: row.year,
            title: row.title,
            summary: row.summary,
            latest_version: row.latest_version,
            adopted_version: row.adopted_version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A plan as stored, without settling.
fn stored(conn: &mut DbConnection, id: &str) -> ApiResult<PlanRow> {
    plans::table
        .find(id)
        .select(PlanRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no plan with id {id}")))
}

/// A plan as readers see it (settled, see the module note). Never writes.
pub fn find(conn: &mut DbConnection, id: &str) -> ApiResult<PlanRow> {
    let row = stored(conn, id)?;
    effective_one(conn, row)
}

fn effective_one(conn: &mut DbConnection, row: PlanRow) -> ApiResult<PlanRow> {
    if row.status != PlanStatus::InHearing.as_str() {
        return Ok(row);
    }
    let last_deadline: Option<NaiveDateTime> = hearings::table
        .filter(hearings::plan_id.eq(&row.id))
        .filter(hearings::closed_at.is_null())
        .select(diesel::dsl::max(hearings::closes_at))
        .first(conn)?;
    Ok(settled(row, last_deadline, crate::now()))
}

/// The rows of a list as readers see them: one query for the plans in hearing among them.
pub fn effective(conn: &mut DbConnection, rows: Vec<PlanRow>) -> ApiResult<Vec<PlanRow>> {
    let in_hearing: Vec<&str> =
        rows.iter().filter(|r| r.status == PlanStatus::InHearing.as_str()).map(|r| r.id.as_str()).collect();
    if in_hearing.is_empty() {
        return Ok(rows);
    }
    let deadlines: Vec<(String, Option<NaiveDateTime>)> = hearings::table
        .filter(hearings::plan_id.eq_any(&in_hearing))
        .filter(hearings::closed_at.is_null())
        .group_by(hearings::plan_id)
        .select((hearings::plan_id, diesel::dsl::max(hearings::closes_at)))
        .load(conn)?;
    let now = crate::now();
    Ok(rows
        .into_iter()
        .map(|row| {
            let last = deadlines.iter().find(|(id, _)| *id == row.id).and_then(|(_, at)| *at);
            settled(row, last, now)
        })
        .collect())
}

/// The settling rule: a plan in hearing is back in draft once the last deadline of its hearings
/// not closed by hand has passed (or none is left), at that deadline, one revision on.
fn settled(mut row: PlanRow, last_deadline: Option<NaiveDateTime>, now: NaiveDateTime) -> PlanRow {
    if row.status != PlanStatus::InHearing.as_str() || last_deadline.is_some_and(|at| at > now) {
        return row;
    }
    row.status = PlanStatus::Draft.as_str().to_owned();
    row.revision += 1;
    row.updated_at = last_deadline.map_or(row.updated_at, |at| at.max(row.updated_at));
    row
}

/// Finds a plan the caller may take `action` on (404 when it may not see it, 403 when it may
/// see it but not act). For reads; changes use `lock_for`.
pub fn find_for(conn: &mut DbConnection, ctx: &RequestContext, id: &str, action: Action) -> ApiResult<PlanRow> {
    let row = find(conn, id)?;
    policy::authorize(ctx.caller.as_ref(), action, row.target())?;
    Ok(row)
}

/// The plan that owns some content, when the caller may read its live content (404 otherwise).
pub fn for_content_read(conn: &mut DbConnection, ctx: &RequestContext, plan_id: &str) -> ApiResult<PlanRow> {
    let plan = find(conn, plan_id)?;
    policy::authorize(ctx.caller.as_ref(), Action::Read, plan.content_target())?;
    Ok(plan)
}

/// Takes the plan's lock for the rest of the write transaction, then reads the plan after it and
/// persists a pending settling. On PostgreSQL the update holds the row lock until commit, so
/// every change to one plan and its content queues here; on SQLite the writer already holds the
/// database.
pub fn lock(conn: &mut DbConnection, id: &str) -> ApiResult<PlanRow> {
    let locked = diesel::update(plans::table.find(id))
        .set(plans::content_revision.eq(plans::content_revision + 1))
        .execute(conn)?;
    if locked == 0 {
        return Err(ApiError::NotFound(format!("no plan with id {id}")));
    }
    let row = stored(conn, id)?;
    let shown = effective_one(conn, row.clone())?;
    if shown.status == row.status {
        return Ok(row);
    }
    let ctx = RequestContext::system(Caller::system());
    let next =
        plan_status::next(row.status()?, Event::HearingClosed { others_open: false }).map_err(ApiError::Internal)?;
    set_status_at(conn, &ctx, &row, next, row.adopted_version, shown.updated_at)
}

/// `lock`, for a caller that must be allowed `action` on the plan.
pub fn lock_for(conn: &mut DbConnection, ctx: &RequestContext, id: &str, action: Action) -> ApiResult<PlanRow> {
    let row = lock(conn, id)?;
    policy::authorize(ctx.caller.as_ref(), action, row.target())?;
    Ok(row)
}

/// `lock`, for a change to the plan's content: the caller must be allowed to edit it (404/403)
/// and the plan must be editable in its status (409).
pub fn lock_for_content(conn: &mut DbConnection, ctx: &RequestContext, id: &str) -> ApiResult<PlanRow> {
    let row = lock_for(conn, ctx, id, Action::EditPlan)?;
    row.ensure_editable()?;
    Ok(row)
}

/// Moves a locked plan to a status (and adopted version), compare-and-swapping on the revision
/// read under the lock, with its audit record. Returns the plan after.
pub fn set_status(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    plan: &PlanRow,
    status: PlanStatus,
    adopted_version: Option<i32>,
) -> ApiResult<PlanRow> {
    set_status_at(conn, ctx, plan, status, adopted_version, crate::now())
}

fn set_status_at(
    conn: &mut DbConnection,
    ctx: &RequestContext,
    plan: &PlanRow,
    status: PlanStatus,
    adopted_version: Option<i32>,
    at: NaiveDateTime,
) -> ApiResult<PlanRow> {
    let count = diesel::update(plans::table.filter(plans::id.eq(&plan.id)).filter(plans::revision.eq(plan.revision)))
        .set((
            plans::status.eq(status.as_str()),
            plans::adopted_version.eq(adopted_version),
            plans::updated_at.eq(at),
            plans::revision.eq(plan.revision + 1),
        ))
        .execute(conn)?;
    expect_one(count)?;
    let after = stored(conn, &plan.id)?;
    audit::record(
        conn,
        ctx,
        "update",
        "plan",
        &plan.id,
        snapshot(&Plan::try_from(plan.clone())?),
        snapshot(&Plan::try_from(after.clone())?),
    )?;
    Ok(after)
}

/// Records that a locked plan changed in a way its representation shows (a new version):
/// `latest_version` and one revision on, compare-and-swapped.
pub fn set_latest_version(conn: &mut DbConnection, plan: &PlanRow, number: i32) -> ApiResult<PlanRow> {
    let count = diesel::update(plans::table.filter(plans::id.eq(&plan.id)).filter(plans::revision.eq(plan.revision)))
        .set((
            plans::latest_version.eq(Some(number)),
            plans::updated_at.eq(crate::now()),
            plans::revision.eq(plan.revision + 1),
        ))
        .execute(conn)?;
    expect_one(count)?;
    stored(conn, &plan.id)
}

/// Persists the settling of every plan in hearing whose hearings are over (the background
/// sweep); returns how many went back to draft.
pub fn settle_all(conn: &mut DbConnection) -> ApiResult<usize> {
    let ids: Vec<String> =
        plans::table.filter(plans::status.eq(PlanStatus::InHearing.as_str())).select(plans::id).load(conn)?;
    let mut settled = 0;
    for id in ids {
        let changed = conn.write(|conn| {
            let before = stored(conn, &id)?;
            Ok::<_, ApiError>(lock(conn, &id)?.status != before.status)
        })?;
        settled += usize::from(changed);
    }
    Ok(settled)
}
