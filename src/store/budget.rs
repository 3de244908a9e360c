//! A time budget for each request's database work. A read past it is cancelled and
//! answered `400 tooMany` (RFC 7644's "more than the server is willing to calculate"),
//! which IdPs do not retry in a loop; a write past it changed nothing and is answered `429`
//! with `Retry-After` (`Db::write`): it only waited because the database was busy.
//!
//! - PostgreSQL: every connection of a server's pool runs with `statement_timeout` set to
//!   the budget (once, when the pool opens it): lists, point reads and writes alike, a lock
//!   wait included. Migrations lift it for their own connection.
//! - SQLite reads: a progress handler on every connection of the process (installed through
//!   `sqlite3_auto_extension`, since diesel does not expose the raw handle) asks every few
//!   thousand VM steps whether this thread's read is past its deadline, which `Deadline`
//!   sets around the read (pooled and point reads). Without a deadline (the writer, CLI,
//!   migrations) it never stops anything.
//! - SQLite writes: the budget bounds the wait for the writer thread (`writer::submit`);
//!   a running write is bounded by the input limits instead, since interrupting it would
//!   roll back the other use cases of its batch.
//! - Queued writes on either backend (SQLite's writer, PostgreSQL's group-commit lanes): one
//!   that waited past its budget for its turn is refused unrun (`Queued`).

use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// VM steps between two looks at the clock (each look costs a clock read).
const STEPS: i32 = 4096;

/// While alive, SQLite work on this thread stops once `budget` has passed.
/// When a write was queued for a group commit, to refuse it unrun if it waited past its
/// budget for its turn: it changed nothing, and is sent again later (`429`).
pub struct Queued {
    at: Instant,
    budget: Option<Duration>,
}

impl Queued {
    pub fn now(budget: Option<Duration>) -> Queued {
        Queued {
            at: Instant::now(),
            budget,
        }
    }

    /// The refusal, when the write has waited past its budget.
    pub fn refusal(&self) -> Option<crate::error::Error> {
        let late = self.budget.is_some_and(|b| self.at.elapsed() > b);
        late.then(|| {
            crate::error::Error::TooManyRequests(
                "the database is busy: this write waited for its turn over its time budget \
                 and was not run; send it again later"
                    .into(),
            )
        })
    }
}

pub struct Deadline {
    previous: Option<Instant>,
}

impl Deadline {
    pub fn start(budget: Duration) -> Deadline {
        let previous = DEADLINE.with(|d| d.replace(Some(Instant::now() + budget)));
        Deadline { previous }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        let previous = self.previous;
        let _ = DEADLINE.try_with(|d| d.set(previous));
    }
}

/// Returning non-zero interrupts the statement (SQLITE_INTERRUPT, "interrupted").
unsafe extern "C" fn progress(_: *mut std::ffi::c_void) -> std::ffi::c_int {
    let over = DEADLINE
        .try_with(|d| d.get().is_some_and(|t| Instant::now() >= t))
        .unwrap_or(false);
    std::ffi::c_int::from(over)
}

unsafe extern "C" fn on_open(
    db: *mut libsqlite3_sys::sqlite3,
    _: *mut *mut std::ffi::c_char,
    _: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::ffi::c_int {
    // SAFETY: SQLite calls this with the handle of a connection being opened; the handler
    // takes no context pointer.
    unsafe {
        libsqlite3_sys::sqlite3_progress_handler(db, STEPS, Some(progress), std::ptr::null_mut())
    };
    libsqlite3_sys::SQLITE_OK
}

/// Install the progress handler for every SQLite connection opened from now on (once per
/// process; call before opening connections).
pub fn install_sqlite_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a plain function as an auto-extension; SQLite keeps the pointer
        // for the process's lifetime, and a function item lives that long.
        unsafe {
            libsqlite3_sys::sqlite3_auto_extension(Some(on_open));
        }
    });
}
