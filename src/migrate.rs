//! Opening the database and migrating it when other processes may do the same at the same
//! moment: several `serve` processes started together on a fresh database, or `migrate`
//! beside them (docs/deployment.md).
//!
//! Migrating itself is serialised (`Db::migrate` holds a migration lock taken before the
//! pending migrations are read), but on SQLite opening a new file can still meet another
//! process's lock (`database is locked`, seen at the WAL switch of a fresh file even with a
//! busy timeout). Opening and migrating again after a pause then finds the other process's
//! migrations recorded. The attempts are bounded, so a migration that is broken still fails
//! the start, seconds later.

use std::time::Duration;

use crate::store::Db;

/// Attempts before the last error is returned; the pauses between them double from
/// `FIRST_PAUSE` (0.2 + 0.4 + … + 3.2 s = 6.2 s in all, while a whole migration of a fresh
/// database takes well under a second).
const ATTEMPTS: u32 = 6;
const FIRST_PAUSE: Duration = Duration::from_millis(200);

/// `open()` a handle and migrate it, again after a pause when either step fails.
pub fn open_and_migrate(open: impl Fn() -> anyhow::Result<Db>) -> anyhow::Result<Db> {
    let mut pause = FIRST_PAUSE;
    let mut attempt = 1;
    loop {
        match open().and_then(|db| db.migrate().map(|()| db)) {
            Ok(db) => return Ok(db),
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(error = %e, attempt, "opening or migrating the database failed (another process migrating it?); trying again");
                std::thread::sleep(pause);
                pause *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}
