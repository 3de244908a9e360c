//! Group commit for PostgreSQL. Every seat-changing write takes its organization's lock and
//! holds it through its statements and the commit's WAL flush, so one transaction per request
//! tops out near 500 writes/s per organization whatever the hardware (`docs/benchmarks.md`).
//! Here a few lanes, each a thread with a connection of its own, run the write use cases
//! queued meanwhile in one transaction, each inside its own savepoint: a use case that fails
//! rolls back alone, the lock and the flush are paid once per batch, and no caller hears
//! "done" before the batch's COMMIT has returned (`synchronous_commit` stays on).
//!
//! Deadlocks are designed out, not retried: a use case only touches rows of its own
//! organization, every organization belongs to one lane of a process, and a batch takes the
//! transaction-level advisory lock of each organization before running its use cases, in
//! ascending lock-key order. Batches of every process thus take organizations in one global
//! order. The organization's counters row, which seat-changing use cases update, is one no
//! foreign key references (migration `org_counters`): a foreign-key check share-locking a row
//! that another savepoint of the same transaction updated makes PostgreSQL keep a multixact of
//! them all, which cost more with every step.
//!
//! Fewer round trips: the batch takes all its organizations' locks in one round trip, their
//! counters rows locked too, reads them once and holds their counters and seat pools in
//! memory (`store::held`), so its use cases take queue numbers and claim or release seats
//! without a statement, and the changes are written in one statement; the audit rows and
//! seat events of a batch are written once, before it commits (`store::deferred`); the lane
//! opens and ends the savepoints itself, so that between two use cases there is one round
//! trip; and a lone use case runs without a savepoint.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;
use tokio::sync::mpsc;

use super::reused_savepoint::{self, ReusedSavepoint};
use crate::error::Error;
use crate::store::{deferred, ConnManager, DbConn};

/// Lanes per process: batches of different organizations run side by side, and one busy
/// organization fills one lane, not all. Each lane holds a connection beside the pool's,
/// opened when its first write arrives (a CLI command's handle never opens one).
pub const LANES: usize = 4;

/// A batch takes at most this many use cases: the first caller's wait stays bounded, the
/// organizations' locks are not held through an endless batch, and the batch's
/// subtransactions (a savepoint per use case) stay within the 64 that PostgreSQL caches per
/// backend (`PGPROC_MAX_CACHED_SUBXIDS`): past them every other backend's snapshot checks
/// look the transaction up in `pg_subtrans`.
const MAX_BATCH: usize = 60;

/// What a job hands back after running: told whether its batch committed.
type Finish = Box<dyn FnOnce(Result<(), Error>) + Send>;

/// Runs a use case; says whether it succeeded. A use case that failed has undone its kept
/// rows (`deferred`); its statements are undone by the lane (the savepoint around it, or the
/// whole transaction). Without a connection it does not run: the batch failed before it
/// (waiting for its organization's locks past the budget, say), and its caller hears why.
type Run = Box<dyn FnOnce(Option<&mut DbConn>) -> (Finish, bool) + Send>;

struct Job {
    /// The organization's lock key (`lock_key`).
    key: i64,
    org_id: String,
    run: Run,
}

#[derive(Clone)]
pub struct GroupCommit {
    lanes: Vec<mpsc::UnboundedSender<Job>>,
    /// A job that waited this long for its lane is refused unrun.
    budget: Option<std::time::Duration>,
}

impl GroupCommit {
    /// Starts the lanes' threads; each connects (with `budget` as its
    /// `statement_timeout`) when its first job arrives.
    pub fn start(
        manager: &ConnManager,
        budget: Option<std::time::Duration>,
    ) -> anyhow::Result<GroupCommit> {
        let mut lanes = Vec::with_capacity(LANES);
        for n in 0..LANES {
            let (tx, rx) = mpsc::unbounded_channel();
            let manager = manager.clone();
            std::thread::Builder::new()
                .name(format!("pg-commit-{n}"))
                .spawn(move || run(manager, budget, rx))?;
            lanes.push(tx);
        }
        Ok(GroupCommit { lanes, budget })
    }

    /// Queue `f`, a use case touching only the rows of organization `org_id`; `deliver`
    /// gets its result once the batch it ran in has committed.
    ///
    /// The budget bounds both the wait for the lane (a job queued longer is refused unrun:
    /// nothing changed, `429`) and each statement (the connection's `statement_timeout`,
    /// which rolls back only the use case whose statement it stopped).
    pub fn submit<T: Send + 'static>(
        &self,
        org_id: &str,
        f: impl FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
        deliver: impl FnOnce(Result<T, Error>) + Send + 'static,
    ) {
        let span = tracing::Span::current();
        let queued = crate::store::budget::Queued::now(self.budget);
        let run = move |conn: Option<&mut DbConn>| {
            let Some(conn) = conn else {
                let not_run: Finish = Box::new(move |batch: Result<(), Error>| {
                    deliver(Err(batch.err().unwrap_or(Error::Unavailable)))
                });
                return (not_run, false);
            };
            if let Some(refused) = queued.refusal() {
                return (finisher(Err(refused), deliver), false);
            }
            let kept = deferred::mark();
            let result = span.in_scope(|| crate::store::catch_panic(|| f(conn)));
            if let (Err(_), Some(mark)) = (&result, kept) {
                deferred::undo_to(mark);
            }
            let ok = result.is_ok();
            (finisher(result, deliver), ok)
        };
        let key = lock_key(org_id);
        let lane = &self.lanes[lane_of(key)];
        // If the lane's thread is gone the job is dropped with its `deliver`: the caller's
        // channel closes and it answers "unavailable" instead of waiting forever.
        if lane
            .send(Job {
                key,
                org_id: org_id.to_string(),
                run: Box::new(run),
            })
            .is_err()
        {
            tracing::error!("a PostgreSQL commit lane has stopped; a write was refused");
        }
    }
}

/// The key of an organization's advisory lock: FNV-1a of its id, the same in every process
/// (std's hasher is seeded per process). Two organizations sharing a key only share a lock.
pub fn lock_key(org_id: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in org_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

fn lane_of(key: i64) -> usize {
    (key as u64 % LANES as u64) as usize
}

/// Hands `result` to `deliver` once the batch it ran in has committed; if it did not
/// commit, a use case that had failed keeps its own error.
fn finisher<T: Send + 'static>(
    result: Result<T, Error>,
    deliver: impl FnOnce(Result<T, Error>) + Send + 'static,
) -> Finish {
    Box::new(move |committed: Result<(), Error>| {
        deliver(match committed {
            Ok(()) => result,
            Err(e) => result.and(Err(e)),
        })
    })
}

fn lane_connection(
    manager: &ConnManager,
    budget: Option<std::time::Duration>,
) -> anyhow::Result<DbConn> {
    let mut conn = manager.open()?;
    crate::store::set_statement_timeout(&mut conn, budget)?;
    Ok(conn)
}

/// Runs SQL statements of the lane's own (its locks) in one round trip: the simple
/// query protocol takes several at once, where each parameterized statement is one.
fn execute(conn: &mut DbConn, sql: &str) -> Result<(), Error> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute(sql).map_err(Error::from)
}

/// The statement that takes organization `key`'s advisory lock until the transaction ends
/// (`key` is a number this module computed: nothing from a request is in the SQL).
fn lock_sql(key: i64) -> String {
    // Quoted and cast: an unquoted i64::MIN would be read as a numeric, not a bigint.
    format!("SELECT pg_advisory_xact_lock('{key}'::bigint);")
}

/// The statement that locks the counters rows of `org_ids` until the transaction ends, so
/// that the batch holds their counters and seat pools (`held`): every other seat-changing
/// transaction locks its organization's row first (`inventory::lock_org`) and waits.
fn hold_sql(org_ids: &[String]) -> String {
    // The ids are organizations', from our database; quoted as literals all the same.
    let quoted: Vec<String> = org_ids
        .iter()
        .map(|id| format!("'{}'", id.replace('\'', "''")))
        .collect();
    format!(
        "SELECT 1 FROM org_counters WHERE org_id IN ({}) FOR UPDATE;",
        quoted.join(",")
    )
}

/// Why a batch did not commit, for each of its callers: a statement past the budget says
/// "send it again later" (`429`); anything else (a lost connection) "unavailable" (`503`),
/// both answers IdPs retry.
fn batch_failure(e: Error) -> Error {
    match e {
        Error::OverBudget => Error::TooManyRequests(
            "the database is busy: the batch this write ran in went over its time budget \
             and changed nothing; send it again later"
                .into(),
        ),
        _ => Error::Unavailable,
    }
}

fn run(
    manager: ConnManager,
    budget: Option<std::time::Duration>,
    mut rx: mpsc::UnboundedReceiver<Job>,
) {
    let mut conn: Option<DbConn> = None;
    loop {
        let Some(first) = rx.blocking_recv() else {
            return;
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        // Ascending lock keys: the global order every batch takes organizations in (two
        // organizations of one key kept apart). Stable, so one organization's use cases keep
        // the order they arrived in.
        jobs.sort_by(|a, b| (a.key, &a.org_id).cmp(&(b.key, &b.org_id)));
        let Some(c) = begun(&mut conn, &manager, budget) else {
            // Run nothing: dropping the jobs closes their callers' channels ("unavailable",
            // which IdPs send again); the next batch connects again.
            continue;
        };
        if run_batch(c, jobs).is_err() || crate::store::is_broken(c) {
            // A fresh connection for the next batch; dropping this one rolls back whatever
            // it still had open.
            conn = None;
        }
    }
}

/// The lane's connection with a transaction begun. A connection the database dropped (a
/// restart, `pg_terminate_backend`) fails its BEGIN, before any use case ran: it is
/// replaced and the BEGIN tried once more, so no caller pays for it.
fn begun<'c>(
    conn: &'c mut Option<DbConn>,
    manager: &ConnManager,
    budget: Option<std::time::Duration>,
) -> Option<&'c mut DbConn> {
    if let Some(c) = conn.as_mut() {
        if begin(c).is_ok() {
            return conn.as_mut();
        }
    }
    *conn = None;
    let mut fresh = match lane_connection(manager, budget) {
        Ok(fresh) => fresh,
        Err(e) => {
            tracing::error!(error = %e, "a commit lane could not connect");
            return None;
        }
    };
    if let Err(e) = begin(&mut fresh) {
        tracing::error!(error = %e, "a commit lane could not begin a transaction");
        return None;
    }
    Some(conn.insert(fresh))
}

/// The transaction begun on `conn`, with `jobs` (sorted by lock key); every caller is told
/// once it has ended. A lone job runs as the whole transaction, without a savepoint.
fn run_batch(conn: &mut DbConn, jobs: Vec<Job>) -> Result<(), ()> {
    let shared = jobs.len() > 1;
    let mut finishers: Vec<Finish> = Vec::with_capacity(jobs.len());
    let mut may_commit = true;
    // The audit rows and seat events of the batch, written once before it commits.
    let kept = deferred::Batch::start();
    let ran = (|| -> Result<(), Error> {
        // One round trip for every organization's locks, outside any savepoint (a
        // rolled-back savepoint would give them up): the advisory locks in ascending key
        // order, then the counters rows; then one read of what the batch holds of them.
        let mut keys: Vec<i64> = jobs.iter().map(|job| job.key).collect();
        keys.dedup();
        let mut orgs: Vec<String> = jobs.iter().map(|job| job.org_id.clone()).collect();
        orgs.sort();
        orgs.dedup();
        let mut sql: String = keys.iter().map(|key| lock_sql(*key)).collect();
        sql.push_str(&hold_sql(&orgs));
        let locked = execute(conn, &sql)
            .and_then(|()| crate::store::held::hold(conn, &orgs).map_err(Error::from));
        if let Err(e) = locked {
            // No job ran; each hears the batch's failure.
            for unrun in jobs {
                finishers.push((unrun.run)(None).0);
            }
            return Err(e);
        }
        // Around each use case of a shared batch; a use case's own savepoints (Bulk's steps,
        // diesel's) nest inside it under other names.
        let savepoint = ReusedSavepoint::new(&reused_savepoint::USE_CASE);
        for job in jobs {
            if shared {
                savepoint.begin(conn)?;
            }
            let (finish, ok) = (job.run)(Some(conn));
            finishers.push(finish);
            match (shared, ok) {
                (true, true) => savepoint.succeeded(),
                (true, false) => savepoint.failed(conn)?,
                // A lone use case that failed: the transaction is rolled back below.
                (false, ok) => may_commit = ok,
            }
        }
        if may_commit {
            kept.write(conn)?;
        }
        Ok(())
    })();
    drop(kept);
    let committed = match ran {
        Ok(()) if may_commit => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)
                .map_err(Error::from)
        }
        // A lone use case that failed: its own error is its answer.
        Ok(()) => rollback(conn),
        Err(e) => {
            let _ = rollback(conn);
            Err(e)
        }
    };
    let failed = committed.is_err();
    let outcome = committed.map_err(batch_failure);
    for finish in finishers {
        finish(outcome.as_ref().map(|_| ()).map_err(copy_of));
    }
    // Jobs never reached (the batch failed before them) are dropped unrun: their callers
    // hear "unavailable" from their closed channels.
    if failed {
        Err(())
    } else {
        Ok(())
    }
}

/// The batch failure's error, once per caller (`Error` is not `Clone`).
fn copy_of(e: &Error) -> Error {
    match e {
        Error::TooManyRequests(m) => Error::TooManyRequests(m.clone()),
        _ => Error::Unavailable,
    }
}

fn begin(conn: &mut DbConn) -> Result<(), Error> {
    match conn {
        DbConn::Pg(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN").map_err(Error::from)
        }
        DbConn::Sqlite(_) => Err(Error::Internal(anyhow::anyhow!(
            "group commit is for PostgreSQL only"
        ))),
    }
}

fn rollback(conn: &mut DbConn) -> Result<(), Error> {
    <DbConn as Connection>::TransactionManager::rollback_transaction(conn).map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_the_same_in_every_process_and_spread_over_the_lanes() {
        // FNV-1a's published value for "a", so a change of the function shows here: two
        // processes running different versions would take locks in different orders.
        assert_eq!(lock_key("a") as u64, 0xaf63_dc4c_8601_ec8c);
        let mut per_lane = [0; LANES];
        for _ in 0..1000 {
            per_lane[lane_of(lock_key(&uuid::Uuid::new_v4().to_string()))] += 1;
        }
        assert!(per_lane.iter().all(|&n| n > 150), "{per_lane:?}");
    }
}
