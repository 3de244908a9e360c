//! An organization's counters and seat pools, held in memory by the PostgreSQL group-commit
//! batch that locked them. The lane locks each organization's counters row at the top of its
//! transaction (`SELECT … FOR UPDATE`, see `postgres::group_commit`), so no other transaction
//! changes that row or the seat pools (every seat-changing write takes the counters row first,
//! `inventory::lock_org`) until the batch commits. Its use cases can therefore take queue
//! numbers and claim and release seats in memory; the batch writes what changed as deltas,
//! in one statement for the whole batch, before it commits.
//!
//! Why: a create's statements ran one after another on the lane, and two of its five were
//! the counters' UPDATE and the seat claim; a deactivation's were the same two plus reads
//! asking whether the organization has alert settings, group tier rules, tier waits or
//! anyone queued, which most have not. The held state answers those too, from the one read
//! the batch makes of all its organizations when it begins (`hold`); a wait or a queued user
//! written in the batch sets its flag (`note_wait`, `note_queued`), and one that ended keeps
//! it set, which costs only a read that finds nothing.
//!
//! Savepoints: `snapshot` and `restore` go with `deferred::Mark`, so a use case rolled back
//! takes its in-memory changes with it. A store function that changes these rows by SQL
//! (a purchase's `add_purchased`, say) first `flush`es the organization: its pending deltas
//! are written in the current savepoint and it is loaded again on next use; were that
//! savepoint rolled back, the snapshot gives back the pending deltas with the rows.
//! Nothing is held outside a lane's batch (SQLite, the owner API): there every function here
//! says "not held" and the callers use SQL as before.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{DbConn, Q};

/// One tier's pool as held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPool {
    pub tier: String,
    pub purchased: i64,
    pub claimed: i64,
    pub updated_at: NaiveDateTime,
    /// `claimed` as the database has it.
    stored_claimed: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counters {
    queue_counter: i64,
    user_count: i64,
    users_version: i64,
}

/// What a batch holds of one organization.
#[derive(Debug, Clone)]
struct Org {
    counters: Counters,
    /// `counters` as the database has them.
    stored: Counters,
    pools: Vec<HeldPool>,
    has_alerts: bool,
    has_policies: bool,
    /// Anyone waits for a tier (`tier_waits`); set when a wait is recorded in the batch.
    has_waits: bool,
    /// Anyone is queued for a seat; set when a queued user's row is written in the batch.
    has_queue: bool,
    /// The last number of the organization's event feed in the database when loaded (the
    /// batch's own events are kept, `seat_events::last_seq` looks at those first).
    stored_last_event: i64,
}

/// The organizations the running batch locked: each loaded when the batch began, or again
/// on its next use after a `flush` (`None` until then).
#[derive(Debug, Clone, Default)]
struct Held(HashMap<String, Option<Org>>);

thread_local! {
    /// `None` while no batch runs on this thread.
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// A batch begins on this thread: from now on `hold` may be called.
pub fn start() {
    HELD.with(|h| *h.borrow_mut() = Some(Held::default()));
}

/// The batch ended (written or not): nothing is held.
pub fn stop() {
    HELD.with(|h| *h.borrow_mut() = None);
}

/// The batch locked the counters rows of `org_ids`, at the top of its transaction: they are
/// held from now on, loaded in one read.
pub fn hold(conn: &mut DbConn, org_ids: &[String]) -> Q<()> {
    let mut found = load(conn, org_ids)?;
    HELD.with(|h| {
        if let Some(held) = h.borrow_mut().as_mut() {
            for id in org_ids {
                // An organization without a counters row stays unloaded: its first use
                // loads it again and answers `NotFound`.
                held.0.insert(id.clone(), found.remove(id));
            }
        }
    });
    Ok(())
}

/// What is held, for a savepoint to go back to; `None` outside a batch.
#[derive(Debug)]
pub struct Snapshot(Held);

pub fn snapshot() -> Option<Snapshot> {
    HELD.with(|h| h.borrow().clone().map(Snapshot))
}

/// The savepoint taken with `snapshot` was rolled back: so are the held changes since.
pub fn restore(snapshot: Snapshot) {
    HELD.with(|h| {
        let mut h = h.borrow_mut();
        if h.is_some() {
            *h = Some(snapshot.0);
        }
    });
}

/// `f` on `org_id` as held, when it is loaded (one not loaded yet reads the database when
/// it is, and finds there what `f` would have noted).
fn if_loaded(org_id: &str, f: impl FnOnce(&mut Org)) {
    HELD.with(|h| {
        if let Some(Some(org)) = h
            .borrow_mut()
            .as_mut()
            .and_then(|held| held.0.get_mut(org_id))
        {
            f(org);
        }
    });
}

/// `org_id` as held, when it is loaded.
fn loaded(org_id: &str) -> Option<Org> {
    HELD.with(|h| {
        h.borrow()
            .as_ref()
            .and_then(|held| held.0.get(org_id).cloned().flatten())
    })
}

/// Keeps `org` (or, `None`, forgets what was loaded) as `org_id`'s held state.
fn put(org_id: &str, org: Option<Org>) {
    HELD.with(|h| {
        if let Some(held) = h.borrow_mut().as_mut() {
            held.0.insert(org_id.to_string(), org);
        }
    });
}

/// `f` on `org_id` as held, in place, loading it first when a flush left it unloaded; `None`
/// when the batch did not lock it (or no batch runs: the caller uses SQL).
fn with_org<R>(conn: &mut DbConn, org_id: &str, f: impl FnOnce(&mut Org) -> R) -> Q<Option<R>> {
    let is_loaded = HELD.with(|h| {
        h.borrow()
            .as_ref()
            .and_then(|held| held.0.get(org_id).map(Option::is_some))
    });
    match is_loaded {
        None => return Ok(None),
        Some(false) => {
            let org = load(conn, &[org_id.to_string()])?
                .remove(org_id)
                .ok_or(diesel::result::Error::NotFound)?;
            put(org_id, Some(org));
        }
        Some(true) => {}
    }
    Ok(HELD.with(|h| {
        h.borrow_mut()
            .as_mut()
            .and_then(|held| held.0.get_mut(org_id))
            .and_then(Option::as_mut)
            .map(f)
    }))
}

fn pg(conn: &mut DbConn) -> Q<&mut PgConnection> {
    match conn {
        DbConn::Pg(c) => Ok(c),
        // Only a PostgreSQL lane holds anything.
        DbConn::Sqlite(_) => Err(diesel::result::Error::QueryBuilderError(
            "held organization state is for PostgreSQL only".into(),
        )),
    }
}

/// One row of `LOAD`: an organization's counters, flags and last event number, with one of
/// its pools (if any).
#[derive(QueryableByName)]
struct Loaded {
    #[diesel(sql_type = diesel::sql_types::Text)]
    org_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    queue_counter: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    user_count: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    users_version: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    has_alerts: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    has_policies: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    has_waits: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    has_queue: bool,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    last_event: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    tier: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    purchased: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    claimed: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    updated_at: Option<NaiveDateTime>,
}

const LOAD: &str = "SELECT c.org_id, c.queue_counter, c.user_count, c.users_version, \
     EXISTS (SELECT 1 FROM alert_settings a WHERE a.org_id = c.org_id) AS has_alerts, \
     EXISTS (SELECT 1 FROM group_tier_policies g WHERE g.org_id = c.org_id) AS has_policies, \
     EXISTS (SELECT 1 FROM tier_waits w WHERE w.org_id = c.org_id) AS has_waits, \
     EXISTS (SELECT 1 FROM scim_users u WHERE u.org_id = c.org_id AND u.queue_seq IS NOT NULL) \
       AS has_queue, \
     COALESCE((SELECT max(e.seq) FROM seat_events e WHERE e.org_id = c.org_id), 0) AS last_event, \
     p.tier, p.purchased, p.claimed, p.updated_at \
     FROM org_counters c LEFT JOIN seat_pools p ON p.org_id = c.org_id \
     WHERE c.org_id = ANY($1) ORDER BY c.org_id, p.tier";

/// The organizations' counters, pools, last event numbers and flags, in one read (the row
/// locks are the batch's already). An organization without a counters row is absent.
fn load(conn: &mut DbConn, org_ids: &[String]) -> Q<HashMap<String, Org>> {
    let rows = diesel::sql_query(LOAD)
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(org_ids)
        .load::<Loaded>(pg(conn)?)?;
    let mut orgs: HashMap<String, Org> = HashMap::new();
    for r in rows {
        let org = orgs.entry(r.org_id.clone()).or_insert_with(|| {
            let counters = Counters {
                queue_counter: r.queue_counter,
                user_count: r.user_count,
                users_version: r.users_version,
            };
            Org {
                counters,
                stored: counters,
                pools: Vec::new(),
                has_alerts: r.has_alerts,
                has_policies: r.has_policies,
                has_waits: r.has_waits,
                has_queue: r.has_queue,
                stored_last_event: r.last_event,
            }
        });
        if let (Some(tier), Some(purchased), Some(claimed), Some(updated_at)) =
            (r.tier, r.purchased, r.claimed, r.updated_at)
        {
            org.pools.push(HeldPool {
                tier,
                purchased,
                claimed,
                updated_at,
                stored_claimed: claimed,
            });
        }
    }
    Ok(orgs)
}

/// `orgs::lock_and_next_seq` on a held organization: the next first-come number, with
/// `new_users` counted in.
pub fn next_seq(conn: &mut DbConn, org_id: &str, new_users: i64) -> Q<Option<i64>> {
    with_org(conn, org_id, |org| {
        let c = &mut org.counters;
        c.queue_counter += 1;
        c.user_count += new_users;
        c.users_version += new_users;
        c.queue_counter
    })
}

/// `orgs::add_users` on a held organization.
pub fn add_users(conn: &mut DbConn, org_id: &str, delta: i64) -> Q<Option<()>> {
    with_org(conn, org_id, |org| {
        org.counters.user_count += delta;
        org.counters.users_version += delta.abs();
    })
}

/// `orgs::user_count_and_version` on a held organization.
pub fn user_count_and_version(conn: &mut DbConn, org_id: &str) -> Q<Option<(i64, i64)>> {
    with_org(conn, org_id, |org| {
        (org.counters.user_count, org.counters.users_version)
    })
}

/// The held pools, by tier.
pub fn pools(conn: &mut DbConn, org_id: &str) -> Q<Option<Vec<HeldPool>>> {
    with_org(conn, org_id, |org| org.pools.clone())
}

/// `seats::claim_first_free` on a held organization: `Some(None)` when both tiers are full.
pub fn claim_first_free(
    conn: &mut DbConn,
    org_id: &str,
    order: [&str; 2],
    now: NaiveDateTime,
) -> Q<Option<Option<String>>> {
    with_org(conn, org_id, |org| {
        for tier in order {
            if let Some(p) = org
                .pools
                .iter_mut()
                .find(|p| p.tier == tier && p.claimed < p.purchased)
            {
                p.claimed += 1;
                p.updated_at = now;
                return Some(p.tier.clone());
            }
        }
        None
    })
}

/// `seats::release` on a held organization: true when a claimed seat was given back.
pub fn release(conn: &mut DbConn, org_id: &str, tier: &str, now: NaiveDateTime) -> Q<Option<bool>> {
    with_org(conn, org_id, |org| {
        match org
            .pools
            .iter_mut()
            .find(|p| p.tier == tier && p.claimed > 0)
        {
            Some(p) => {
                p.claimed -= 1;
                p.updated_at = now;
                true
            }
            None => false,
        }
    })
}

/// Whether the organization has alert settings; `None` when not held.
pub fn has_alerts(conn: &mut DbConn, org_id: &str) -> Q<Option<bool>> {
    with_org(conn, org_id, |org| org.has_alerts)
}

/// Whether the organization has group tier rules; `None` when not held. (A rule that went
/// with its group in this batch still counts: looking for rules that are not there is only
/// a wasted read.)
pub fn has_policies(conn: &mut DbConn, org_id: &str) -> Q<Option<bool>> {
    with_org(conn, org_id, |org| org.has_policies)
}

/// Whether anyone in the organization waits for a tier; `None` when not held. (Waits that
/// ended in this batch still count: looking for them again is only a wasted read.)
pub fn has_waits(conn: &mut DbConn, org_id: &str) -> Q<Option<bool>> {
    with_org(conn, org_id, |org| org.has_waits)
}

/// A tier wait was recorded for someone of `org_id` in this batch.
pub fn note_wait(org_id: &str) {
    if_loaded(org_id, |org| org.has_waits = true);
}

/// Whether anyone in the organization is queued for a seat; `None` when not held. (A queue
/// drained in this batch still counts: the drain's next read finds it empty.)
pub fn has_queue(conn: &mut DbConn, org_id: &str) -> Q<Option<bool>> {
    with_org(conn, org_id, |org| org.has_queue)
}

/// A queued user's row of `org_id` was written in this batch.
pub fn note_queued(org_id: &str) {
    if_loaded(org_id, |org| org.has_queue = true);
}

/// The last event number of the organization in the database, as loaded; `None` when not
/// held.
pub fn stored_last_event(conn: &mut DbConn, org_id: &str) -> Q<Option<i64>> {
    with_org(conn, org_id, |org| org.stored_last_event)
}

/// Before SQL changes `org_id`'s counters, pools or flags in this batch: its pending changes
/// are written now, and it is loaded again on next use.
pub fn flush(conn: &mut DbConn, org_id: &str) -> Q<()> {
    if let Some(org) = loaded(org_id) {
        write_orgs(conn, &[(org_id.to_string(), org)])?;
        put(org_id, None);
    }
    Ok(())
}

/// Writes every held organization's changes, in the batch's transaction before it commits.
pub fn write(conn: &mut DbConn) -> Q<()> {
    let orgs: Vec<(String, Org)> = HELD.with(|h| {
        h.borrow()
            .as_ref()
            .map(|held| {
                held.0
                    .iter()
                    .filter_map(|(id, org)| Some((id.clone(), org.clone()?)))
                    .collect()
            })
            .unwrap_or_default()
    });
    write_orgs(conn, &orgs)
}

/// One statement for the changes of all `orgs`: the counters' deltas and the pools' (deltas,
/// not values: the CHECK on `claimed <= purchased` still guards them); none when nothing
/// changed.
fn write_orgs(conn: &mut DbConn, orgs: &[(String, Org)]) -> Q<()> {
    use diesel::sql_types::{Array, BigInt, Text, Timestamp};
    let (mut ids, mut queue, mut users, mut versions) = (vec![], vec![], vec![], vec![]);
    let (mut pool_orgs, mut tiers, mut deltas) = (vec![], vec![], vec![]);
    for (id, org) in orgs {
        let (now, then) = (org.counters, org.stored);
        if now != then {
            ids.push(id.as_str());
            queue.push(now.queue_counter - then.queue_counter);
            users.push(now.user_count - then.user_count);
            versions.push(now.users_version - then.users_version);
        }
        for p in org.pools.iter().filter(|p| p.claimed != p.stored_claimed) {
            pool_orgs.push(id.as_str());
            tiers.push(p.tier.as_str());
            deltas.push(p.claimed - p.stored_claimed);
        }
    }
    if ids.is_empty() && tiers.is_empty() {
        return Ok(());
    }
    diesel::sql_query(WRITE)
        .bind::<Array<Text>, _>(ids)
        .bind::<Array<BigInt>, _>(queue)
        .bind::<Array<BigInt>, _>(users)
        .bind::<Array<BigInt>, _>(versions)
        .bind::<Array<Text>, _>(pool_orgs)
        .bind::<Array<Text>, _>(tiers)
        .bind::<Array<BigInt>, _>(deltas)
        .bind::<Timestamp, _>(super::now())
        .execute(pg(conn)?)?;
    Ok(())
}

/// `write_orgs`' statement: the counters through a data-modifying CTE (run whether or not
/// the rest reads it), the pools by the outer UPDATE.
const WRITE: &str = "WITH d AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], \
     $4::bigint[]) AS d(org_id, q, u, v)), \
     counters AS (UPDATE org_counters o SET queue_counter = o.queue_counter + d.q, \
       user_count = o.user_count + d.u, users_version = o.users_version + d.v \
       FROM d WHERE o.org_id = d.org_id), \
     p AS (SELECT * FROM unnest($5::text[], $6::text[], $7::bigint[]) AS p(org_id, tier, delta)) \
     UPDATE seat_pools s SET claimed = s.claimed + p.delta, updated_at = $8 \
     FROM p WHERE s.org_id = p.org_id AND s.tier = p.tier";
