//! Organizations (tenants) and their verified domains.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::cached::{cached, native};
use super::schema::{org_counters, org_domains, organizations};
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
pub struct OrgRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

/// A new organization, with its counters at zero.
pub fn insert(conn: &mut DbConn, row: &OrgRow) -> Q<()> {
    diesel::insert_into(organizations::table)
        .values(row)
        .execute(conn)?;
    diesel::insert_into(org_counters::table)
        .values(org_counters::org_id.eq(&row.id))
        .execute(conn)
        .map(|_| ())
}

pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> Q<Option<OrgRow>> {
    organizations::table
        .filter(organizations::slug.eq(slug))
        .select(OrgRow::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: &str) -> Q<Option<OrgRow>> {
    organizations::table
        .find(id)
        .select(OrgRow::as_select())
        .first(conn)
        .optional()
}

/// Take the organization's lock (its counters' row) for the rest of the transaction and
/// return the next first-come number. Every seat-changing use case calls this first, so on
/// PostgreSQL they run one at a time per organization (on SQLite `BEGIN IMMEDIATE` already
/// does). The counters are a row of their own, which no foreign key references (see the
/// migration `org_counters`).
/// `new_users` are counted into `user_count` in the same statement (a create passes 1), so a
/// create touches the organization row once, not twice.
pub fn lock_and_next_seq(conn: &mut DbConn, org_id: &str, new_users: i64) -> Q<i64> {
    // A group-commit batch locked the row already and holds the counters (`held`).
    if let Some(seq) = super::held::next_seq(conn, org_id, new_users)? {
        return Ok(seq);
    }
    native!(conn, |c| cached!(diesel::update(
        org_counters::table.find(org_id)
    )
    .set((
        org_counters::queue_counter.eq(org_counters::queue_counter + 1),
        org_counters::user_count.eq(org_counters::user_count + new_users),
        org_counters::users_version.eq(org_counters::users_version + new_users),
    ))
    .returning(org_counters::queue_counter))
    .get_result(c))
}

/// Count users in or out (`delta` ±1), in the transaction that inserts or deletes them.
pub fn add_users(conn: &mut DbConn, org_id: &str, delta: i64) -> Q<()> {
    if super::held::add_users(conn, org_id, delta)?.is_some() {
        return Ok(());
    }
    native!(conn, |c| cached!(diesel::update(
        org_counters::table.find(org_id)
    )
    .set((
        org_counters::user_count.eq(org_counters::user_count + delta),
        org_counters::users_version.eq(org_counters::users_version + delta.abs()),
    )))
    .rows(c))
    .map(|_| ())
}

/// The organization's user count (the total of an unfiltered user list) and its
/// `users_version`, read together.
pub fn user_count_and_version(conn: &mut DbConn, org_id: &str) -> Q<(i64, i64)> {
    if let Some(held) = super::held::user_count_and_version(conn, org_id)? {
        return Ok(held);
    }
    native!(conn, |c| cached!(org_counters::table
        .find(org_id)
        .select((org_counters::user_count, org_counters::users_version))
        .limit(1))
    .get_result(c))
}

pub fn add_domain(conn: &mut DbConn, org_id: &str, domain: &str, now: NaiveDateTime) -> Q<()> {
    diesel::insert_into(org_domains::table)
        .values((
            org_domains::org_id.eq(org_id),
            org_domains::domain.eq(domain.to_ascii_lowercase()),
            org_domains::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn domains(conn: &mut DbConn, org_id: &str) -> Q<Vec<String>> {
    org_domains::table
        .filter(org_domains::org_id.eq(org_id))
        .order(org_domains::domain.asc())
        .select(org_domains::domain)
        .load(conn)
}

/// Remove a verified domain; false when the organization did not have it.
pub fn remove_domain(conn: &mut DbConn, org_id: &str, domain: &str) -> Q<bool> {
    let n = diesel::delete(
        org_domains::table
            .filter(org_domains::org_id.eq(org_id))
            .filter(org_domains::domain.eq(domain.to_ascii_lowercase())),
    )
    .execute(conn)?;
    Ok(n == 1)
}

pub fn has_domain(conn: &mut DbConn, org_id: &str, domain: &str) -> Q<bool> {
    use diesel::dsl::{exists, select};
    select(exists(
        org_domains::table
            .filter(org_domains::org_id.eq(org_id))
            .filter(org_domains::domain.eq(domain.to_ascii_lowercase())),
    ))
    .get_result(conn)
}
