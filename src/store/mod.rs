//! Storage: diesel only. One code path for SQLite and PostgreSQL through `DbConn`.
//! Functions in the submodules never open transactions; use cases do, once, via `write_tx`.

pub mod alerts;
pub mod audit;
pub mod budget;
pub mod cached;
pub mod contracts;
pub mod deferred;
pub mod filter_sql;
pub mod groups;
pub mod held;
pub mod invitations;
pub mod invoices;
mod kept;
pub mod mail;
pub mod members;
pub mod oauth;
pub mod orgs;
mod page_marks;
pub mod plan;
pub mod postgres;
pub mod provisioning_log;
pub mod query;
pub mod reports;
pub mod schema;
pub mod seat_changes;
pub mod seat_events;
pub mod seat_policy;
pub mod seats;
pub mod signin_links;
pub mod sqlite;
pub mod sso;
pub mod tier_waits;
pub mod tokens;
pub mod users;
pub mod versions;
pub mod web_sessions;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryResult};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use self::postgres::group_commit::GroupCommit;
use self::sqlite::{fold, writer};
use crate::error::Error;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which backend a URL names. Chosen from the scheme, never by trying each in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Pg,
    Sqlite,
}

impl Backend {
    /// The backend of an open connection.
    pub fn of(conn: &DbConn) -> Backend {
        match conn {
            DbConn::Pg(_) => Backend::Pg,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }

    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Pg
        } else {
            Backend::Sqlite
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConnManager {
    url: String,
    backend: Backend,
    /// Apply the SQLite pragmas in `connect` (for connections made outside a pool).
    pragmas: bool,
    /// Counts the uses that found the database gone, across the pools of this manager.
    losses: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl ConnManager {
    pub fn new(url: &str) -> Self {
        let backend = Backend::from_url(url);
        let url = match backend {
            Backend::Sqlite => sqlite::path_of(url).to_string(),
            Backend::Pg => url.to_string(),
        };
        Self {
            url,
            backend,
            pragmas: false,
            losses: Default::default(),
        }
    }

    /// A connection of its own, outside any pool (the SQLite writer, the checkpointer).
    pub fn open(&self) -> Result<DbConn, r2d2::Error> {
        self.connect_to(&self.url)
    }

    /// `open`, to `target`: the manager's URL, or for SQLite a `file:` URI naming the
    /// same file (the writer's, through `sqlite::wal_vfs`).
    fn connect_to(&self, target: &str) -> Result<DbConn, r2d2::Error> {
        let mut conn = match self.backend {
            Backend::Pg => PgConnection::establish(target).map(DbConn::Pg),
            Backend::Sqlite => SqliteConnection::establish(target).map(DbConn::Sqlite),
        }
        .map_err(r2d2::Error::ConnectionError)?;
        // Every SQLite connection, the writer's included, compares with `scim_fold`.
        if let DbConn::Sqlite(c) = &mut conn {
            fold::register(c).map_err(r2d2::Error::QueryError)?;
        }
        if self.pragmas {
            sqlite::Pragmas.apply(&mut conn)?;
        }
        Ok(conn)
    }
}

/// A pooled connection, with what the pool needs to know to hand it out unchecked.
pub struct Pooled {
    conn: DbConn,
    /// Its last use failed: check it before the next.
    suspect: bool,
    /// When it last went back to the pool.
    returned_at: std::time::Instant,
    /// The manager's `losses` when it was opened or last checked.
    losses_seen: u64,
    losses: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Pooled {
    /// After a use: a failed one is checked before the next use, and one that found the
    /// database gone (`Error::Unavailable`: a dropped connection, see `Error::from`) has
    /// every connection of the manager checked, since a restart drops them all.
    fn used<T>(&mut self, result: &Result<T, Error>) {
        self.suspect = result.is_err();
        if matches!(result, Err(Error::Unavailable)) {
            self.losses
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn trusted(&self) -> bool {
        !self.suspect
            && self.returned_at.elapsed() < TRUSTED_FOR
            && self.losses_seen == self.losses.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// How long a connection whose last use succeeded is handed out without a `SELECT 1` first:
/// on PostgreSQL that check is a round trip per checkout, and a lookup takes two connections
/// (the token check and the lookup). A connection the database dropped within
/// that time fails its next use instead, answered 503 with `Retry-After` (IdPs send it
/// again), and the pool checks all its connections before their next use.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

impl ManageConnection for ConnManager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Pooled, r2d2::Error> {
        let losses_seen = self.losses.load(std::sync::atomic::Ordering::Relaxed);
        Ok(Pooled {
            conn: self.open()?,
            suspect: false,
            returned_at: std::time::Instant::now(),
            losses_seen,
            losses: self.losses.clone(),
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), r2d2::Error> {
        if pooled.trusted() {
            return Ok(());
        }
        let losses_seen = self.losses.load(std::sync::atomic::Ordering::Relaxed);
        pooled
            .conn
            .batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)?;
        pooled.suspect = false;
        pooled.losses_seen = losses_seen;
        Ok(())
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.returned_at = std::time::Instant::now();
        is_broken(&mut pooled.conn)
    }
}

/// Whether the connection was left inside a transaction it cannot end (a failed COMMIT or
/// ROLLBACK): such a connection is dropped, not used again.
pub(crate) fn is_broken(conn: &mut DbConn) -> bool {
    match conn {
        DbConn::Pg(c) => AnsiTransactionManager::is_broken_transaction_manager(c),
        DbConn::Sqlite(c) => AnsiTransactionManager::is_broken_transaction_manager(c),
    }
}

/// Settings of each new pooled connection: SQLite's pragmas and, on PostgreSQL, the
/// handle's time budget as the session's `statement_timeout` — set once per connection, so
/// no request pays a round trip for it.
#[derive(Debug, Clone, Copy)]
struct SessionSettings {
    pg_statement_timeout: Option<Duration>,
}

impl CustomizeConnection<Pooled, r2d2::Error> for SessionSettings {
    fn on_acquire(&self, pooled: &mut Pooled) -> Result<(), r2d2::Error> {
        if self.pg_statement_timeout.is_some() {
            set_statement_timeout(&mut pooled.conn, self.pg_statement_timeout)
                .map_err(r2d2::Error::QueryError)?;
        }
        sqlite::Pragmas.apply(&mut pooled.conn)
    }
}

pub type Pool = r2d2::Pool<ConnManager>;

/// How writes reach the database.
#[derive(Clone)]
enum Writer {
    /// PostgreSQL: the SCIM use cases of one organization (`write_for_org`) through the
    /// group-commit lanes; any other write a pooled connection and a transaction of its own.
    Pg { pool: Pool, lanes: GroupCommit },
    /// SQLite: one writer thread batching use cases into shared transactions.
    Batch(writer::BatchWriter),
}

/// The database handle the server shares: a read pool, and the write path of the backend.
#[derive(Clone)]
pub struct Db {
    read: Pool,
    /// SQLite: connections for `read_point`, used on the calling thread. A pool of their own
    /// so that long reads holding every `read` connection never make a point read wait.
    point: Option<Pool>,
    write: Writer,
    backend: Backend,
    /// Where deep user list pages seek from; shared by the handles of one server, and lent
    /// to the store's list queries inside `read` (see `page_marks`).
    page_marks: std::sync::Arc<page_marks::PageMarks>,
    /// SQLite: every connection use outside the writer thread passes here (`with_conn`), so
    /// the writer can rewind the WAL. PostgreSQL has no WAL of ours to rewind: `None`.
    readers: Option<std::sync::Arc<writer::ReaderGate>>,
    /// Time budget of each request's database work (see `budget`); `None` for the CLI's
    /// and tests' handles.
    budget: Option<Duration>,
}

/// Connections for point reads: one per thread that can run one at a time (an async worker
/// runs a point read to completion before it takes the next task), with room to spare.
const POINT_POOL_SIZE: u32 = 4;

impl Db {
    /// A server's handle. No pool keeps a minimum of idle connections: replenishing one is
    /// done by a pool thread, and a thread inside libpq's connection setup while the process
    /// exits crashed it (SIGSEGV in exit handlers) — most often after a database was dropped
    /// and the pool kept retrying. Connections are still reused; they are opened on demand.
    pub fn connect(url: &str, pool_size: u32) -> anyhow::Result<Db> {
        Db::open(url, pool_size, 0, None)
    }

    /// A server's handle whose every read and write stops once its database work has run
    /// for `budget` (see `budget`): no request holds a connection, or the SQLite writer,
    /// for longer.
    pub fn connect_with_budget(
        url: &str,
        pool_size: u32,
        budget: Option<Duration>,
    ) -> anyhow::Result<Db> {
        Db::open(url, pool_size, 0, budget)
    }

    /// A short-lived command's handle: a small pool.
    pub fn connect_for_command(url: &str) -> anyhow::Result<Db> {
        Db::open(url, 2, 0, None)
    }

    fn open(
        url: &str,
        pool_size: u32,
        min_idle: u32,
        budget: Option<Duration>,
    ) -> anyhow::Result<Db> {
        let backend = Backend::from_url(url);
        if backend == Backend::Sqlite {
            budget::install_sqlite_handler();
        }
        let manager = ConnManager::new(url);
        if backend == Backend::Sqlite {
            sqlite::prepare_file(&manager)?;
        }
        let pool = |size: u32| -> anyhow::Result<Pool> {
            Ok(r2d2::Pool::builder()
                .max_size(size)
                .min_idle(Some(min_idle))
                // A SQLite file connection does not break the way a socket does, and a
                // `SELECT 1` before every checkout cost as much as a point read.
                .test_on_check_out(backend == Backend::Pg)
                .connection_timeout(Duration::from_secs(10))
                .connection_customizer(Box::new(SessionSettings {
                    pg_statement_timeout: budget,
                }))
                .build(manager.clone())?)
        };
        let read = pool(pool_size.max(2))?;
        let point = match backend {
            Backend::Pg => None,
            Backend::Sqlite => Some(pool(POINT_POOL_SIZE)?),
        };
        let (write, readers) = match backend {
            Backend::Pg => {
                let lanes = GroupCommit::start(&manager, budget)?;
                let pool = read.clone();
                (Writer::Pg { pool, lanes }, None)
            }
            Backend::Sqlite => {
                let mut c = manager.clone();
                c.pragmas = true;
                let gate = std::sync::Arc::new(writer::ReaderGate::default());
                let writer = writer::BatchWriter::start(c, gate.clone(), budget)?;
                (Writer::Batch(writer), Some(gate))
            }
        };
        Ok(Db {
            read,
            point,
            write,
            backend,
            page_marks: Default::default(),
            readers,
            budget,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Run pending migrations of the backend in use.
    pub fn migrate(&self) -> anyhow::Result<()> {
        let mut pooled = self.read.get()?;
        let conn = &mut pooled.conn;
        // Migrations may build indexes on large tables: no budget for them, and the
        // connection's own budget back before it returns to the pool.
        set_statement_timeout(conn, None)?;
        let result = migrate_alone(conn);
        set_statement_timeout(conn, self.budget)?;
        result
    }

    /// Run a read-only closure on a pooled connection, off the async workers, in one
    /// snapshot of the database (`in_snapshot`).
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let (budget, marks) = (self.budget, self.page_marks.clone());
        run_blocking(self.read.clone(), self.readers.clone(), move |conn| {
            // A snapshot: the one kind of read whose user lists may seek from page marks.
            let _marks = page_marks::Using::start(marks);
            in_snapshot(conn, budget, f)
        })
        .await
    }

    /// Run a read where its plan says it belongs: a point read (`read_point`) when it finds
    /// its rows through an index, else a pooled snapshot read (`read`).
    pub async fn query<R: Read>(&self, read: R) -> Result<R::Output, Error> {
        match read.access() {
            plan::Access::Point => self.read_point(move |c| read.run(c)).await,
            plan::Access::Scan => self.read(move |c| read.run(c)).await,
        }
    }

    /// Run a read that touches a handful of rows through an index (token checks, a resource
    /// by id, an IdP's `userName eq` lookup). On SQLite it runs right here on the calling
    /// thread: it takes microseconds, less than the two thread switches of `read`, and WAL
    /// readers never wait for the writer. On PostgreSQL it runs off the async workers like
    /// `read` (a network round trip must not hold one). Either way without `read`'s
    /// transaction: one row's read needs no snapshot kept across statements, and on
    /// PostgreSQL its BEGIN and COMMIT would be two more round trips per lookup.
    pub async fn read_point<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        match &self.point {
            Some(pool) => {
                let _deadline = self.budget.map(budget::Deadline::start);
                with_conn(pool, self.readers.as_deref(), f)
            }
            // PostgreSQL: the connection's `statement_timeout` is the budget.
            None => run_blocking(self.read.clone(), self.readers.clone(), f).await,
        }
    }

    /// Run a use case in one write transaction (the write lock is taken up front). Returns
    /// only once the change is committed.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        self.write_in(f, false).await
    }

    /// Run a use case that touches only the rows of organization `org_id` (a SCIM write) in
    /// a write transaction, and return once it is committed. On PostgreSQL it is committed
    /// together with the other such use cases queued meanwhile (`postgres::group_commit`),
    /// inside a savepoint of its own; on SQLite every write already is (`write`).
    pub async fn write_for_org<T: Send + 'static>(
        &self,
        org_id: &str,
        f: impl FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        match &self.write {
            Writer::Pg { lanes, .. } => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                lanes.submit(org_id, f, move |r| {
                    let _ = tx.send(r);
                });
                rx.await
                    .map_err(|_| Error::Unavailable)?
                    .map_err(busy_if_over_budget)
            }
            Writer::Batch(_) => self.write(f).await,
        }
    }

    /// `write_for_org` for a use case made of independent steps (Bulk's operations), each
    /// all-or-nothing through `Steps::run`, a savepoint: a 1,000-step load pays for one
    /// commit. On SQLite the use case runs alone in a transaction of the writer, not in a
    /// savepoint of a shared batch (see `writer`); on PostgreSQL in a batch like any other
    /// (PostgreSQL keeps no undo copy per savepoint).
    pub async fn write_steps_for_org<T: Send + 'static>(
        &self,
        org_id: &str,
        f: impl FnOnce(&mut DbConn, Steps) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        match &self.write {
            Writer::Pg { .. } => {
                self.write_for_org(org_id, move |conn| f(conn, Steps::default()))
                    .await
            }
            Writer::Batch(_) => {
                self.write_in(move |conn| f(conn, Steps::default()), true)
                    .await
            }
        }
    }

    async fn write_in<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
        alone: bool,
    ) -> Result<T, Error> {
        match &self.write {
            Writer::Pg { pool, .. } => {
                run_blocking(pool.clone(), self.readers.clone(), move |conn| {
                    write_tx(conn, f)
                })
                .await
                .map_err(busy_if_over_budget)
            }
            Writer::Batch(w) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let deliver = move |r| {
                    let _ = tx.send(r);
                };
                w.submit(f, deliver, alone);
                rx.await.map_err(|_| Error::Unavailable)?
            }
        }
    }

    /// Synchronous write for the CLI, jobs and tests: its own transaction on a pooled
    /// connection (SQLite's file lock orders it with the writer thread).
    pub fn write_sync<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, Error>,
    ) -> Result<T, Error> {
        with_conn(&self.read, self.readers.as_deref(), |conn| {
            write_tx(conn, f)
        })
    }

    /// Synchronous read access for the CLI and background jobs.
    pub fn read_sync<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, Error>,
    ) -> Result<T, Error> {
        with_conn(&self.read, self.readers.as_deref(), f)
    }
}

/// A read that knows how it reaches its rows (`plan`), so that `Db::query` can choose
/// where to run it: a domain query (a list, a resource by id) built from a request.
pub trait Read: Send + 'static {
    type Output: Send + 'static;

    /// How the read reaches its rows.
    fn access(&self) -> plan::Access;

    /// The read itself, on the connection `Db::query` chose.
    fn run(self, conn: &mut DbConn) -> Result<Self::Output, Error>;
}

/// Runs `f` on a connection of `pool`, inside the `readers` gate when there is one (SQLite;
/// see `writer::ReaderGate`): every use of a connection outside the SQLite writer thread
/// goes through here.
fn with_conn<T>(
    pool: &Pool,
    readers: Option<&writer::ReaderGate>,
    f: impl FnOnce(&mut DbConn) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut pooled = pool.get().map_err(|_| Error::Unavailable)?;
    let _inside = readers.map(writer::ReaderGate::enter);
    let result = f(&mut pooled.conn);
    pooled.used(&result);
    result
}

/// Runs `f` in one read-only transaction: a read of several statements (a page of users and
/// its `totalResults`, a report and its counts) sees the database as of one moment, not
/// each statement the writes committed since the one before. PostgreSQL needs REPEATABLE
/// READ for that (READ COMMITTED takes a snapshot per statement); a SQLite read
/// transaction keeps the snapshot its first statement took.
///
/// With a `budget`, the whole read stops once it has run that long on SQLite; on
/// PostgreSQL each statement does, through the connection's `statement_timeout` (see
/// `budget`).
fn in_snapshot<T>(
    conn: &mut DbConn,
    budget: Option<Duration>,
    f: impl FnOnce(&mut DbConn) -> Result<T, Error>,
) -> Result<T, Error> {
    const SNAPSHOT: Begin = Begin {
        sqlite: "BEGIN DEFERRED",
        pg: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    };
    // Only SQLite's progress handler reads the deadline.
    let _deadline = budget.map(budget::Deadline::start);
    transaction(conn, SNAPSHOT, f)
}

/// PostgreSQL: the session's `statement_timeout` to `budget` (`None`: none). SQLite has no
/// such setting (its budget is `budget::Deadline`): nothing to do.
pub(crate) fn set_statement_timeout(
    conn: &mut DbConn,
    budget: Option<Duration>,
) -> QueryResult<()> {
    match conn {
        DbConn::Pg(c) => {
            let ms = budget.map_or(0, |b| b.as_millis().max(1));
            c.batch_execute(&format!("SET statement_timeout = {ms}"))
        }
        DbConn::Sqlite(_) => Ok(()),
    }
}

/// A write stopped by the time budget changed nothing and costs what it cost only because
/// the database is busy (it waited for locks or for the writer): `429` with `Retry-After`,
/// so that an IdP sends it again later instead of recording a failure. A read over budget
/// stays `400 tooMany`: sent again, it would cost the same.
fn busy_if_over_budget(e: Error) -> Error {
    match e {
        Error::OverBudget => Error::TooManyRequests(
            "the database is busy: this write went over its time budget and changed \
             nothing; send it again later"
                .into(),
        ),
        e => e,
    }
}

async fn run_blocking<T: Send + 'static>(
    pool: Pool,
    readers: Option<std::sync::Arc<writer::ReaderGate>>,
    f: impl FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let span = tracing::Span::current();
    actix_web::web::block(move || span.in_scope(|| with_conn(&pool, readers.as_deref(), f)))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// The key of the session advisory lock a PostgreSQL migration holds ("scim-mig" in ASCII).
const MIGRATION_LOCK: i64 = 0x7363_696d_2d6d_6967;

/// Runs the pending migrations holding the database's migration lock, taken before the
/// pending ones are read: of several processes starting at once on one database, one
/// migrates and the others wait, then find nothing left to do. On PostgreSQL a session
/// advisory lock; on SQLite the write lock (`BEGIN IMMEDIATE`; each migration is then a
/// savepoint of that transaction).
fn migrate_alone(conn: &mut DbConn) -> anyhow::Result<()> {
    match conn {
        DbConn::Pg(_) => {
            conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let result = run_migrations(conn);
            let unlocked =
                conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
            result.and(unlocked.map_err(anyhow::Error::from))
        }
        DbConn::Sqlite(_) => write_tx(conn, run_migrations),
    }
}

pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<()> {
    match conn {
        DbConn::Pg(c) => {
            c.run_pending_migrations(PG_MIGRATIONS)
                .map_err(|e| anyhow::anyhow!("migrating PostgreSQL: {e}"))?;
        }
        DbConn::Sqlite(c) => {
            c.run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| anyhow::anyhow!("migrating SQLite: {e}"))?;
        }
    }
    Ok(())
}

/// One write transaction that takes the write lock at BEGIN: `BEGIN IMMEDIATE` on SQLite
/// (a deferred BEGIN would fail with "database is locked" when two readers upgrade), plain
/// `BEGIN` on PostgreSQL where seat-changing use cases lock their organization row first.
pub fn write_tx<T, E: From<diesel::result::Error>>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E> {
    const WRITE: Begin = Begin {
        sqlite: "BEGIN IMMEDIATE",
        pg: "BEGIN",
    };
    transaction(conn, WRITE, f)
}

/// The statement that opens a transaction, per backend.
struct Begin {
    sqlite: &'static str,
    pg: &'static str,
}

/// Runs `f` in a transaction opened by `begin`: committed if `f` succeeds, rolled back if
/// it fails.
fn transaction<T, E: From<diesel::result::Error>>(
    conn: &mut DbConn,
    begin: Begin,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, begin.sqlite)?,
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction_sql(c, begin.pg)?,
    }
    let result = f(conn);
    end(conn, result)
}

/// Ends the transaction or savepoint opened last: committed if `result` is a success,
/// rolled back if it is a failure (which it then returns).
fn end<T, E: From<diesel::result::Error>>(conn: &mut DbConn, result: Result<T, E>) -> Result<T, E> {
    match result {
        Ok(v) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(v)
        }
        Err(e) => {
            <DbConn as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// How `Db::write_steps_for_org` makes each step all-or-nothing: a savepoint of the
/// transaction the use case runs in. On PostgreSQL the steps reuse one savepoint name
/// (`postgres::reused_savepoint`), so a `/Bulk` create costs the round trips of a single
/// create, not one more.
pub struct Steps(postgres::reused_savepoint::ReusedSavepoint);

impl Default for Steps {
    fn default() -> Steps {
        Steps(postgres::reused_savepoint::ReusedSavepoint::new(
            &postgres::reused_savepoint::STEP,
        ))
    }
}

impl Steps {
    /// Runs one step: an error (or a panic) undoes only what `f` did.
    pub fn run<T>(
        &self,
        conn: &mut DbConn,
        f: impl FnOnce(&mut DbConn) -> Result<T, Error>,
    ) -> Result<T, Error> {
        if matches!(conn, DbConn::Sqlite(_)) {
            return savepoint(conn, f);
        }
        self.0.begin(conn)?;
        let kept = deferred::mark();
        let result = catch_panic(|| f(conn));
        match &result {
            Ok(_) => self.0.succeeded(),
            Err(_) => {
                if let Some(mark) = kept {
                    deferred::undo_to(mark);
                }
                self.0.failed(conn)?;
            }
        }
        result
    }
}

/// Run `f` inside a savepoint of the current transaction: an error rolls back only what `f`
/// did. A panic is caught and treated as an error, so one bad request cannot take a shared
/// transaction (or the SQLite writer thread) down.
pub fn savepoint<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, Error>,
) -> Result<T, Error> {
    <DbConn as Connection>::TransactionManager::begin_transaction(conn)?;
    let kept = deferred::mark();
    let result = catch_panic(|| f(conn));
    if let (Err(_), Some(mark)) = (&result, kept) {
        deferred::undo_to(mark);
    }
    end(conn, result)
}

/// A use case that panics fails like one that returned an error, so its changes roll back
/// and the writer thread lives on.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Error::Internal(anyhow::anyhow!(
            "a write use case panicked"
        )))
    })
}

/// Current time in UTC, truncated to microseconds so it round-trips through both backends.
pub fn now() -> chrono::NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    let micros = t.and_utc().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.naive_utc())
        .unwrap_or(t)
}

/// Shorthand used by every store function.
pub type Q<T> = QueryResult<T>;

#[cfg(test)]
mod tests {
    use super::*;

    fn names(m: &EmbeddedMigrations) -> Vec<String> {
        use diesel::migration::MigrationSource;
        let list: Vec<_> =
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(m).expect("embedded migrations");
        list.iter().map(|m| m.name().to_string()).collect()
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        assert_eq!(names(&SQLITE_MIGRATIONS), names(&PG_MIGRATIONS));
        assert!(!names(&SQLITE_MIGRATIONS).is_empty());
    }

    #[test]
    fn backend_is_chosen_by_scheme() {
        assert_eq!(Backend::from_url("postgres://x/y"), Backend::Pg);
        assert_eq!(Backend::from_url("postgresql://x/y"), Backend::Pg);
        assert_eq!(Backend::from_url("sqlite://data/x.db"), Backend::Sqlite);
        assert_eq!(Backend::from_url("data/x.db"), Backend::Sqlite);
        assert_eq!(sqlite::path_of("sqlite://data/x.db"), "data/x.db");
    }
}
