//! Read queries behind the reports: the pending queue in queue order, a page at a time, and
//! the aggregates (totals, tiers asked for, global seat sums for metrics).

use chrono::NaiveDateTime;
use diesel::dsl::{count, count_star};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::{group_tier_policies, scim_group_members, scim_user_emails, scim_users};
use super::{DbConn, Q};

/// The columns of a pending user a report shows.
#[derive(Debug, Clone, Queryable)]
pub struct PendingRow {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    pub external_id: Option<String>,
    pub source: String,
    pub pending_since: Option<NaiveDateTime>,
    pub queue_seq: i64,
}

/// Where a page of the queue starts.
#[derive(Debug, Clone, Copy)]
pub enum From {
    /// Skip this many (JSON pages).
    Offset(i64),
    /// After this first-come number (keyset: the CSV stream reads the queue with this).
    AfterSeq(i64),
}

/// Up to `limit` pending users in queue order (`queue_seq`).
pub fn pending_page(conn: &mut DbConn, org_id: &str, from: From, limit: i64) -> Q<Vec<PendingRow>> {
    let mut q = scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::queue_seq.is_not_null())
        .order(scim_users::queue_seq.asc())
        .select((
            scim_users::id,
            scim_users::user_name,
            scim_users::display_name,
            scim_users::external_id,
            scim_users::source,
            scim_users::pending_since,
            scim_users::queue_seq.assume_not_null(),
        ))
        .limit(limit)
        .into_boxed();
    q = match from {
        From::Offset(n) => q.offset(n),
        From::AfterSeq(seq) => q.filter(scim_users::queue_seq.gt(seq)),
    };
    q.load(conn)
}

/// Length of the organization's queue.
pub fn pending_count(conn: &mut DbConn, org_id: &str) -> Q<i64> {
    scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::queue_seq.is_not_null())
        .count()
        .get_result(conn)
}

/// True when anyone waits.
pub fn queue_nonempty(conn: &mut DbConn, org_id: &str) -> Q<bool> {
    let head: Option<String> = scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::queue_seq.is_not_null())
        .select(scim_users::id)
        .first(conn)
        .optional()?;
    Ok(head.is_some())
}

/// True when anyone but `user_id` waits.
pub fn queue_nonempty_except(conn: &mut DbConn, org_id: &str, user_id: &str) -> Q<bool> {
    let head: Option<String> = scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::queue_seq.is_not_null())
        .filter(scim_users::id.ne(user_id))
        .select(scim_users::id)
        .first(conn)
        .optional()?;
    Ok(head.is_some())
}

/// Pending users per source (`scim`, `jit`, `invitation`, …).
pub fn pending_by_source(conn: &mut DbConn, org_id: &str) -> Q<Vec<(String, i64)>> {
    scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::queue_seq.is_not_null())
        .group_by(scim_users::source)
        .select((scim_users::source, count_star()))
        .order(scim_users::source.asc())
        .load(conn)
}

/// Pending users in a group mapped to any of `tiers` (a user in several counts once).
pub fn pending_in_tier_groups(conn: &mut DbConn, org_id: &str, tiers: &[&str]) -> Q<i64> {
    scim_users::table
        .inner_join(scim_group_members::table.on(scim_group_members::member_id.eq(scim_users::id)))
        .inner_join(
            group_tier_policies::table
                .on(group_tier_policies::group_id.eq(scim_group_members::group_id)),
        )
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::queue_seq.is_not_null())
        .filter(group_tier_policies::org_id.eq(org_id))
        .filter(group_tier_policies::tier.eq_any(tiers))
        .select(count(scim_users::id).aggregate_distinct())
        .get_result(conn)
}

/// `(user id, email, primary, position)` for the users given, one query per page.
pub fn emails_of(
    conn: &mut DbConn,
    org_id: &str,
    user_ids: &[String],
) -> Q<Vec<(String, String, bool, i32)>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    scim_user_emails::table
        .filter(scim_user_emails::org_id.eq(org_id))
        .filter(scim_user_emails::user_id.eq_any(user_ids))
        .order((
            scim_user_emails::user_id.asc(),
            scim_user_emails::position.asc(),
        ))
        .select((
            scim_user_emails::user_id,
            scim_user_emails::value,
            scim_user_emails::is_primary,
            scim_user_emails::position,
        ))
        .load(conn)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct TierSums {
    #[diesel(sql_type = Text)]
    pub tier: String,
    #[diesel(sql_type = BigInt)]
    pub purchased: i64,
    #[diesel(sql_type = BigInt)]
    pub claimed: i64,
}

/// Seats per tier summed over every organization (metrics). Raw SQL: diesel's `sum` of a
/// BIGINT is NUMERIC on PostgreSQL, which the multi-backend connection cannot load.
pub fn global_tier_sums(conn: &mut DbConn) -> Q<Vec<TierSums>> {
    const SQL: &str = "SELECT tier, CAST(COALESCE(SUM(purchased), 0) AS BIGINT) AS purchased, \
        CAST(COALESCE(SUM(claimed), 0) AS BIGINT) AS claimed FROM seat_pools GROUP BY tier ORDER BY tier";
    match conn {
        DbConn::Pg(c) => diesel::sql_query(SQL).load(c),
        DbConn::Sqlite(c) => diesel::sql_query(SQL).load(c),
    }
}

/// Pending users over every organization (metrics).
pub fn global_pending(conn: &mut DbConn) -> Q<i64> {
    scim_users::table
        .filter(scim_users::queue_seq.is_not_null())
        .count()
        .get_result(conn)
}

/// `SELECT 1`: is the database reachable (readiness).
pub fn ping(conn: &mut DbConn) -> Q<()> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute("SELECT 1")
}
