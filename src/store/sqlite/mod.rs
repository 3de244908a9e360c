//! The embedded SQLite engine: everything the default backend needs beyond diesel's own
//! `SqliteConnection`, kept here so the rest of `store` reads the same on both backends.
//!
//! - `writer`: one thread group-commits every write use case (`Db::write` on SQLite), a
//!   sync thread makes each batch durable before its callers hear of it, and a checkpoint
//!   thread keeps the WAL short (`ReaderGate` lets the writer rewind it).
//! - `wal_vfs`: the VFS the writer's connection opens through, which hands a commit's WAL
//!   frames to the kernel in a few large writes.
//! - `fold`: `scim_fold`, the case fold of `caseExact = false` strings, registered on every
//!   connection (PostgreSQL has it from a migration).
//! - `timestamp`: the hot rows' timestamps in SQLite's text layout, without chrono's
//!   general-purpose parser and formatter.
//!
//! `wal_vfs` here and `store::budget`'s progress handler are the crate's only unsafe code
//! (calls into SQLite's C API); every unsafe block says why it is sound. Why each piece
//! exists, with the measurements behind it: `docs/benchmarks.md`, "Measurements behind
//! the code".

pub mod fold;
pub mod timestamp;
pub mod wal_vfs;
pub mod writer;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, CustomizeConnection};

pub use timestamp::{MaybeTs, Ts};

use super::{ConnManager, DbConn, Pooled};

/// SQLite accepts a bare path or `sqlite://path`; diesel wants the bare path.
pub(super) fn path_of(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Per-checkout SQLite settings; WAL itself is set once, when the file is prepared.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pragmas;

/// How long a SQLite connection waits for a lock before it gives up with "busy".
pub(crate) const BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 10000;";

impl CustomizeConnection<Pooled, r2d2::Error> for Pragmas {
    fn on_acquire(&self, pooled: &mut Pooled) -> Result<(), r2d2::Error> {
        self.apply(&mut pooled.conn)
    }
}

impl Pragmas {
    pub(super) fn apply(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        if let DbConn::Sqlite(c) = conn {
            // synchronous=FULL: a committed user or invoice survives a power cut, not only a crash.
            // A small page cache per reader (the OS caches the file for all of them); the
            // writer sets a larger one for itself.
            c.batch_execute(BUSY_TIMEOUT)
                .map_err(r2d2::Error::QueryError)?;
            c.batch_execute(
                "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA cache_size = -512;",
            )
            .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Creates the database's folder and switches the file to WAL.
pub(super) fn prepare_file(manager: &ConnManager) -> anyhow::Result<()> {
    let path = std::path::Path::new(&manager.url);
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let mut conn = manager.open()?;
    // Another process switching the same new file at the same moment holds its lock for an
    // instant: wait for it rather than fail the start.
    conn.batch_execute(BUSY_TIMEOUT)?;
    // WAL lets readers run beside the single writer; it is persistent in the file.
    conn.batch_execute("PRAGMA journal_mode = WAL;")?;
    Ok(())
}
