//! Group commit for SQLite. SQLite has one writer at a time and every commit pays for an
//! fsync, so one thread owns the write connection and runs every queued write use case in a
//! single `BEGIN IMMEDIATE … COMMIT`, each inside its own savepoint: a use case that fails
//! rolls back alone, and no caller hears "done" before the whole batch is durable. A use case
//! that takes savepoints of its own (Bulk) runs alone in a transaction instead: under an
//! enclosing savepoint SQLite keeps an undo copy of every page the whole request touches,
//! where its own savepoints free theirs one by one.
//!
//! A commit does not wait for the disk on the writer thread: the connection's commits do not
//! sync (see `writer_connection`), and the `Syncer` thread then flushes the WAL
//! file with one `fdatasync` for every batch committed meanwhile and only after that tells
//! their callers. No caller hears "done" before its change is on disk, and the writer runs
//! the next batch while the last one reaches the disk instead of waiting for it.
//!
//! The measurements behind these choices and the constants below are in
//! `docs/benchmarks.md`, "Measurements behind the code".

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;
use tokio::sync::mpsc;

use crate::error::Error;
use crate::store::{ConnManager, DbConn};

/// What a job hands back after running: told whether the batch committed.
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;

/// Runs a use case, then says whether the transaction may commit (a use case in a savepoint
/// has undone its own failure already; one running alone fails the transaction).
type Run = Box<dyn FnOnce(&mut DbConn) -> (Finish, bool) + Send>;

struct Job {
    run: Run,
    /// Runs in a transaction of its own, outside any savepoint.
    alone: bool,
}

/// A batch takes no more jobs once it has run this long, which also bounds how long it holds
/// the write lock. Its callers' answers are then on their way (through the sync thread) while
/// the writer runs the jobs that queued meanwhile, instead of every client waiting for one
/// long batch and the writer then idling for their next requests. 1 ms measured best.
const BATCH_TIME: std::time::Duration = std::time::Duration::from_millis(1);

#[derive(Clone)]
pub struct BatchWriter {
    jobs: mpsc::UnboundedSender<Job>,
    /// A job that waited this long for the writer is refused unrun (see `submit`).
    budget: Option<std::time::Duration>,
}

impl BatchWriter {
    pub fn start(
        manager: ConnManager,
        gate: std::sync::Arc<ReaderGate>,
        budget: Option<std::time::Duration>,
    ) -> anyhow::Result<BatchWriter> {
        let mut writer = BatchWriter::start_with(manager, gate, REWIND_AT_FRAMES)?;
        writer.budget = budget;
        Ok(writer)
    }

    /// `start`, rewinding the WAL once it holds `rewind_at_frames` frames.
    fn start_with(
        manager: ConnManager,
        gate: std::sync::Arc<ReaderGate>,
        rewind_at_frames: i64,
    ) -> anyhow::Result<BatchWriter> {
        let conn = writer_connection(&manager)?;
        // The database file is the manager's URL, as `sqlite::prepare_file` already uses it.
        let syncer = Syncer::start(format!("{}-wal", manager.url).into())?;
        let checkpoints = Checkpointer::start(&manager, rewind_at_frames)?;
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(manager, conn, rx, checkpoints, syncer, gate))?;
        Ok(BatchWriter {
            jobs: tx,
            budget: None,
        })
    }

    /// Queue `f`; `deliver` gets its result once the transaction it ran in has committed.
    /// `alone`: `f` takes savepoints of its own and runs in a transaction of its own;
    /// otherwise it runs in a savepoint of a shared batch.
    ///
    /// The time budget bounds the wait for the writer, not the use case itself: a job still
    /// queued after its budget is refused before it runs (nothing changed; `429`, to be sent
    /// again later). A running use case is never interrupted: interrupting a statement that
    /// writes inside a SQLite transaction rolls back the whole transaction, and with it the
    /// other callers' use cases of the batch. What one use case can do is bounded instead by
    /// the input limits (`scim::limits`, Bulk's operation count).
    pub fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
        deliver: impl FnOnce(Result<T, Error>) + Send + 'static,
        alone: bool,
    ) {
        let span = tracing::Span::current();
        let queued = crate::store::budget::Queued::now(self.budget);
        let run = move |conn: &mut DbConn| {
            if let Some(refused) = queued.refusal() {
                return (finisher(Err(refused), deliver), true);
            }
            let result = span.in_scope(|| {
                if alone {
                    crate::store::catch_panic(|| f(conn))
                } else {
                    crate::store::savepoint(conn, f)
                }
            });
            let commit = !alone || result.is_ok();
            (finisher(result, deliver), commit)
        };
        self.send(Job {
            run: Box::new(run),
            alone,
        });
    }

    fn send(&self, job: Job) {
        // If the writer thread is gone the job is dropped with its `deliver`, and the
        // caller's channel closes: it answers "unavailable" instead of waiting forever.
        if self.jobs.send(job).is_err() {
            tracing::error!("the SQLite writer thread has stopped; a write was refused");
        }
    }
}

/// Hands `result` to `deliver` once the transaction it ran in has committed; if it did not
/// commit, a use case that had failed keeps its own error.
fn finisher<T: Send + 'static>(
    result: Result<T, Error>,
    deliver: impl FnOnce(Result<T, Error>) + Send + 'static,
) -> Finish {
    Box::new(move |committed: Result<(), String>| {
        deliver(match committed {
            Ok(()) => result,
            Err(e) => {
                result.and_then(|_| Err(Error::Internal(anyhow::anyhow!("commit failed: {e}"))))
            }
        })
    })
}

/// The writer's connection. Savepoints keep their undo pages in a statement journal: in
/// memory, not a temporary file written for every use case. The WAL is checkpointed by the
/// `Checkpointer`, so no commit of the writer pays for copying pages into the database file.
/// Commits do not wait for the disk: they are made durable by the `Syncer` before anyone
/// is told of them. Through `wal_vfs` (the default), the connection runs with
/// `synchronous = FULL` and `checkpoint_fullfsync`, which that VFS needs to tell a commit's
/// sync (frames written out, not synced) from a checkpoint's (real); without it,
/// `synchronous = NORMAL` (no sync at COMMIT; a checkpoint still syncs).
/// The WAL file keeps the size a burst gave it (about half a second of writes) and is
/// reused from its start: cutting it back (`journal_size_limit`) made the commit after each
/// rewind wait for the truncation to reach the disk.
fn writer_connection(manager: &ConnManager) -> anyhow::Result<DbConn> {
    use diesel::connection::SimpleConnection;
    let (mut conn, sync) = match super::wal_vfs::uri(&manager.url) {
        Some(uri) => (
            manager.connect_to(&uri)?,
            "PRAGMA synchronous = FULL; PRAGMA checkpoint_fullfsync = ON;",
        ),
        None => (manager.open()?, "PRAGMA synchronous = NORMAL;"),
    };
    conn.batch_execute(
        "PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -2048;",
    )?;
    conn.batch_execute(sync)?;
    Ok(conn)
}

/// Lets the WAL start over from its beginning. Under constant writes the background
/// checkpoint never catches up with the last commit, and SQLite only rewinds a WAL whose
/// every frame is in the database file and that no reader still reads, so the WAL would
/// grow without end. Two steps on the writer thread, while no
/// write can happen:
///
/// 1. `copy_tail`, after a background round that left `REWIND_AT_FRAMES` frames or more: a
///    PASSIVE checkpoint copies the frames committed during the round (it waits for nobody).
/// 2. `try_rewind`, right after: with this process's readers held at the `ReaderGate`, a
///    RESTART rewinds (it has nothing left to copy). Readers of other processes (a CLI
///    command) are waited for with SQLite's busy handler, up to 20 ms.
fn copy_tail(conn: &mut DbConn) {
    use diesel::connection::SimpleConnection;
    if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
        tracing::warn!(error = %e, "WAL checkpoint failed; retrying later");
    }
}

/// Step 2 of `copy_tail`'s docs. Gives up, until the next round, if this process's readers
/// do not all leave within `READERS_LEAVE` (a long report read).
fn try_rewind(conn: &mut DbConn, gate: &ReaderGate) {
    use diesel::connection::SimpleConnection;
    let Some(_no_readers) = gate.close(READERS_LEAVE) else {
        return;
    };
    let outcome = conn.batch_execute("PRAGMA busy_timeout = 20; PRAGMA wal_checkpoint(RESTART);");
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "WAL restart failed; retrying later");
    }
    if let Err(e) = conn.batch_execute(super::BUSY_TIMEOUT) {
        tracing::warn!(error = %e, "could not restore the writer's busy timeout");
    }
}

/// How long the writer waits for the readers inside to finish before a rewind. A point read
/// takes microseconds; a page of users about a millisecond.
const READERS_LEAVE: std::time::Duration = std::time::Duration::from_millis(5);

/// Where this process's database readers pass: every read (and every write outside the
/// writer thread) is inside while it uses its connection. For a WAL rewind the writer
/// closes it: readers that arrive wait, and the writer waits for those inside to leave.
/// Without it the rewind waited with SQLite's busy handler, which sleeps 1, 2, 5 and 10 ms
/// in turn and lets new readers in meanwhile: under steady reads it could not get its turn.
#[derive(Debug, Default)]
pub struct ReaderGate {
    state: std::sync::Mutex<GateState>,
    changed: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    inside: usize,
    closed: bool,
}

/// A reader inside the gate; leaves when dropped.
pub struct Inside<'a>(&'a ReaderGate);

/// The gate closed with nobody inside; opens when dropped.
pub struct Closed<'a>(&'a ReaderGate);

impl ReaderGate {
    fn state(&self) -> std::sync::MutexGuard<'_, GateState> {
        // The state is two plain fields kept consistent under the lock: a panic elsewhere
        // while it was held leaves nothing half-done.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Enter as a reader; waits only while the writer rewinds the WAL.
    pub fn enter(&self) -> Inside<'_> {
        let mut s = self.state();
        while s.closed {
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        s.inside += 1;
        Inside(self)
    }

    /// Close the gate and wait up to `wait` for the readers inside to leave; `None` (and
    /// the gate open again) if they have not.
    fn close(&self, wait: std::time::Duration) -> Option<Closed<'_>> {
        let mut s = self.state();
        s.closed = true;
        let (mut s, _) = self
            .changed
            .wait_timeout_while(s, wait, |s| s.inside > 0)
            .unwrap_or_else(|e| e.into_inner());
        if s.inside == 0 {
            return Some(Closed(self));
        }
        s.closed = false;
        drop(s);
        self.changed.notify_all();
        None
    }
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        let mut s = self.0.state();
        s.inside -= 1;
        let last_out = s.inside == 0 && s.closed;
        drop(s);
        if last_out {
            self.0.changed.notify_all();
        }
    }
}

impl Drop for Closed<'_> {
    fn drop(&mut self) {
        self.0.state().closed = false;
        self.0.changed.notify_all();
    }
}

/// Checkpoints the WAL on a connection and thread of its own, when the writer says it has
/// committed, at most every `CHECKPOINT_EVERY`. PASSIVE: it never blocks the writer or a
/// reader; what it cannot copy yet (pages a reader still sees) waits for the next round.
/// After a round that leaves the WAL holding `REWIND_AT_FRAMES` frames or more, the writer
/// finishes the job (`copy_tail`, `try_rewind`), which stalls writes while it copies the
/// frames committed during the round and syncs the database file (mostly that sync, whose
/// pages are scattered over the file).
struct Checkpointer {
    wake: std::sync::mpsc::SyncSender<()>,
    restart_due: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// The writer rewinds the WAL once a background round leaves it holding this many frames
/// (about 128 MiB of 4 KiB pages): rewinding after every round stalled writes twice a
/// second, and the requests right after a burst met those stalls. The cost is disk: the WAL
/// file keeps the size it reached (a little over this), and a crash recovery reads it whole.
/// Under light load SQLite rewinds the WAL by itself whenever no reader holds it.
const REWIND_AT_FRAMES: i64 = 32_768;

/// A PASSIVE checkpoint; the number of frames in the WAL (SQLite's `log` column).
fn wal_frames_after_checkpoint(conn: &mut DbConn) -> Result<i64, diesel::result::Error> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Outcome {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        log: i64,
    }
    match conn {
        DbConn::Sqlite(c) => Ok(diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
            .get_result::<Outcome>(c)?
            .log),
        DbConn::Pg(_) => Ok(0),
    }
}

impl Checkpointer {
    fn start(manager: &ConnManager, rewind_at_frames: i64) -> anyhow::Result<Checkpointer> {
        let mut conn = manager.open()?;
        let (wake, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let restart_due = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let due = restart_due.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                // Ends when the writer thread, the only sender, is gone.
                while rx.recv().is_ok() {
                    match wal_frames_after_checkpoint(&mut conn) {
                        Ok(frames) if frames >= rewind_at_frames => {
                            due.store(true, std::sync::atomic::Ordering::Release)
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "WAL checkpoint failed; retrying later")
                        }
                    }
                    std::thread::sleep(CHECKPOINT_EVERY);
                }
            })?;
        Ok(Checkpointer { wake, restart_due })
    }

    /// Whether a background round has left the WAL long enough to rewind since the last call.
    fn restart_due(&self) -> bool {
        self.restart_due
            .swap(false, std::sync::atomic::Ordering::AcqRel)
    }

    /// Ask for a checkpoint; a no-op when one is already asked for.
    fn nudge(&self) {
        let _ = self.wake.try_send(());
    }
}

/// Makes committed batches durable, off the writer thread. Each round takes every batch
/// committed since the last one, flushes the WAL file once (a sync started after a commit
/// returned covers every frame of it), then hands each batch its outcome.
struct Syncer {
    batches: std::sync::mpsc::Sender<Vec<Finish>>,
}

impl Syncer {
    fn start(wal: std::path::PathBuf) -> anyhow::Result<Syncer> {
        let (batches, rx) = std::sync::mpsc::channel::<Vec<Finish>>();
        std::thread::Builder::new()
            .name("sqlite-sync".into())
            .spawn(move || {
                // Ends when the writer thread, the only sender, is gone.
                while let Ok(first) = rx.recv() {
                    let mut round = vec![first];
                    round.extend(rx.try_iter());
                    let synced = sync_file(&wal);
                    if let Err(e) = &synced {
                        tracing::error!(error = %e, "WAL sync failed; committed writes answered as failed");
                    }
                    for finish in round.into_iter().flatten() {
                        finish(synced.clone());
                    }
                }
            })?;
        Ok(Syncer { batches })
    }

    /// Hand over the finishers of a committed batch.
    fn after_sync(&self, finishers: Vec<Finish>) {
        if let Err(unsent) = self.batches.send(finishers) {
            // The sync thread is gone (it only ends with the writer): say so rather than
            // claim a durability nobody checked.
            for finish in unsent.0 {
                finish(Err("the WAL sync thread has stopped".into()));
            }
        }
    }
}

/// `fdatasync` of a file through a handle of its own: the page cache is per file, so this
/// flushes what the writer's connection wrote. Opened per round so a WAL file SQLite
/// recreated is never missed.
fn sync_file(path: &std::path::Path) -> Result<(), String> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_data())
        .map_err(|e| format!("syncing {}: {e}", path.display()))
}

fn begin(conn: &mut DbConn) -> Result<(), String> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
            .map_err(|e| e.to_string()),
        DbConn::Pg(_) => Err("the batch writer is for SQLite only".into()),
    }
}

fn run(
    manager: ConnManager,
    mut conn: DbConn,
    mut rx: mpsc::UnboundedReceiver<Job>,
    checkpoints: Checkpointer,
    syncer: Syncer,
    gate: std::sync::Arc<ReaderGate>,
) {
    // A job that must run alone, met while filling a batch: it starts the next round.
    let mut next: Option<Job> = None;
    loop {
        let first = match next.take() {
            Some(job) => job,
            None => match rx.blocking_recv() {
                Some(job) => job,
                None => return,
            },
        };
        if checkpoints.restart_due() {
            copy_tail(&mut conn);
            try_rewind(&mut conn, &gate);
        }
        if let Err(e) = begin(&mut conn) {
            tracing::error!(error = %e, "could not begin a write transaction; reconnecting");
            // Run nothing: dropping the job closes its caller's channel ("unavailable"),
            // and the jobs still queued are tried on the fresh connection.
            drop(first);
            if let Ok(fresh) = writer_connection(&manager) {
                conn = fresh;
            }
            continue;
        }
        let alone = first.alone;
        let started = std::time::Instant::now();
        let (finish, ok) = (first.run)(&mut conn);
        let mut finishers = vec![finish];
        while !alone && started.elapsed() < BATCH_TIME {
            match rx.try_recv() {
                Ok(job) if !job.alone => finishers.push((job.run)(&mut conn).0),
                Ok(job) => {
                    next = Some(job);
                    break;
                }
                Err(_) => break,
            }
        }
        let committed = if ok {
            <DbConn as Connection>::TransactionManager::commit_transaction(&mut conn)
                .map_err(|e| e.to_string())
        } else {
            Err("rolled back".to_string())
        };
        match committed {
            Ok(()) => syncer.after_sync(finishers),
            Err(e) => {
                let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(&mut conn);
                for finish in finishers {
                    finish(Err(e.clone()));
                }
            }
        }
        checkpoints.nudge();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome_of(syncer: &Syncer) -> Result<(), String> {
        let (tx, rx) = std::sync::mpsc::channel();
        syncer.after_sync(vec![Box::new(move |r| {
            let _ = tx.send(r);
        })]);
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("the syncer answers")
    }

    #[test]
    fn the_gate_closes_once_its_readers_leave_and_holds_new_ones() {
        let gate = std::sync::Arc::new(ReaderGate::default());
        let short = std::time::Duration::from_millis(20);
        let reading = gate.enter();
        assert!(gate.close(short).is_none(), "a reader stayed inside");
        drop(gate.enter()); // open again
        let leaver = {
            let gate = gate.clone();
            std::thread::spawn(move || {
                let _inside = gate.enter();
                std::thread::sleep(std::time::Duration::from_millis(50));
            })
        };
        drop(reading);
        std::thread::sleep(std::time::Duration::from_millis(10));
        let closed = gate.close(std::time::Duration::from_secs(5));
        assert!(closed.is_some(), "the reader left");
        leaver.join().expect("reader");
        // A reader arriving now waits until the gate opens.
        let (tx, rx) = std::sync::mpsc::channel();
        let arriving = {
            let gate = gate.clone();
            std::thread::spawn(move || {
                let _inside = gate.enter();
                let _ = tx.send(());
            })
        };
        assert!(rx.recv_timeout(short).is_err(), "held at the closed gate");
        drop(closed);
        assert!(rx.recv_timeout(std::time::Duration::from_secs(5)).is_ok());
        arriving.join().expect("reader");
    }

    /// Commits back to back over 3.5 checkpoint rounds, with a reader of this process
    /// reading all along, through a writer that rewinds the WAL once a round leaves
    /// `rewind_at_frames` frames: how many rewinds the WAL header counts, the commits, and
    /// the WAL file's size.
    fn rewinds_under_reads(rewind_at_frames: i64) -> (u32, u64, u64) {
        use diesel::connection::SimpleConnection;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db.sqlite");
        let url = path.to_str().expect("utf-8 path").to_string();
        let mut manager = ConnManager::new(&url);
        super::super::prepare_file(&manager).expect("prepare");
        manager
            .open()
            .expect("connect")
            .batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .expect("create");
        manager.pragmas = true;
        let gate = std::sync::Arc::new(ReaderGate::default());
        let writer = BatchWriter::start_with(manager.clone(), gate.clone(), rewind_at_frames)
            .expect("writer");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (manager, gate, stop) = (manager.clone(), gate.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut conn = manager.open().expect("reader");
                let mut reads = 0u64;
                // Read transactions back to back, each a little while: SQLite's own rewind
                // (one try, at a commit) practically never finds the WAL free of readers.
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _in = gate.enter();
                    conn.batch_execute("BEGIN; SELECT max(id) FROM t;")
                        .expect("read");
                    std::thread::sleep(std::time::Duration::from_micros(300));
                    conn.batch_execute("COMMIT").expect("end read");
                    reads += 1;
                }
                reads
            })
        };
        // Back to back, so that the background checkpoint never catches up by itself (with
        // pauses between commits SQLite rewinds the WAL on its own).
        let started = std::time::Instant::now();
        let mut commits = 0;
        while started.elapsed() < 3 * CHECKPOINT_EVERY + CHECKPOINT_EVERY / 2 {
            let (tx, rx) = std::sync::mpsc::channel();
            writer.submit(
                |conn: &mut DbConn| {
                    conn.batch_execute("INSERT INTO t (body) VALUES (hex(randomblob(1500)))")
                        .map_err(Error::from)
                },
                move |r| {
                    let _ = tx.send(r.is_ok());
                },
                false,
            );
            assert!(rx.recv().expect("answered"), "write committed");
            commits += 1;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().expect("reader") > 0);
        // The WAL header counts the rewinds (its checkpoint sequence number, bytes 12..16).
        let wal = std::fs::read(format!("{url}-wal")).expect("the WAL");
        let rewinds = u32::from_be_bytes([wal[12], wal[13], wal[14], wal[15]]);
        (rewinds, commits, wal.len() as u64)
    }

    #[test]
    fn the_wal_is_rewound_under_reads() {
        let (rewinds, commits, _) = rewinds_under_reads(1);
        assert!(
            rewinds >= 2,
            "{rewinds} rewinds in {commits} commits over 3.5 checkpoint rounds"
        );
    }

    /// Below the threshold the WAL is not rewound: every commit's frame is still in the file.
    #[test]
    fn the_wal_is_not_rewound_before_it_holds_the_threshold() {
        let (rewinds, commits, wal_bytes) = rewinds_under_reads(i64::MAX);
        assert_eq!(rewinds, 0, "{commits} commits");
        // Each commit appends at least one 4 KiB page and its 24-byte frame header.
        assert!(
            wal_bytes >= commits * 4120,
            "{wal_bytes} bytes of WAL after {commits} commits"
        );
    }

    #[test]
    fn a_batch_hears_ok_once_its_file_is_synced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wal = dir.path().join("db-wal");
        std::fs::write(&wal, b"frames").expect("write");
        assert_eq!(outcome_of(&Syncer::start(wal).expect("start")), Ok(()));
    }

    #[test]
    fn a_failed_sync_fails_the_batch_and_its_callers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let syncer = Syncer::start(dir.path().join("missing-wal")).expect("start");
        let outcome = outcome_of(&syncer);
        assert!(outcome.is_err(), "{outcome:?}");
        // The caller of a use case that succeeded inside the batch hears an error.
        let (tx, rx) = std::sync::mpsc::channel();
        finisher(Ok::<_, Error>(7), move |r| {
            let _ = tx.send(r);
        })(outcome);
        assert!(matches!(
            rx.recv().expect("delivered"),
            Err(Error::Internal(_))
        ));
    }
}
