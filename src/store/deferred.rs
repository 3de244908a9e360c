//! Rows a group-commit batch writes once, at its end, instead of one statement each: the
//! audit rows and seat events of its use cases (two or three per seat change). On
//! PostgreSQL every statement is a round trip, and the use cases of one organization run one
//! after another, so those statements were much of a create's time. While a batch runs
//! (`Batch`), `store::audit` and `store::seat_events` keep the rows on the lane's thread
//! (`kept::KeptRows`); the rows of a use case or step whose savepoint was rolled back are
//! forgotten with it (`Mark`, `undo_to`); and the rest are written in a few multi-row
//! INSERTs before the batch commits, in its transaction, so they commit or roll back with it.
//!
//! The organizations' counters and seat pools the batch holds (`held`) go along: written
//! before the rows, and given back to a savepoint's state with its rows.
//!
//! Nothing in a write use case reads the audit log or the event feed back, except the feed's
//! last number, which `seat_events::last_seq` takes from the kept events once an
//! organization has one. Outside a batch (SQLite's writer, any other write) nothing is kept
//! and every row is written at once.

use super::kept::{self, KeptRows};
use super::{audit, held, seat_events, DbConn, Q};

/// Rows kept for the batch running on this thread, from `start` until dropped (whatever is
/// still kept then was not written: the batch failed).
pub struct Batch(());

impl Batch {
    pub fn start() -> Batch {
        kept::with(&audit::KEPT, KeptRows::start);
        kept::with(&seat_events::KEPT, KeptRows::start);
        held::start();
        Batch(())
    }

    /// Writes the kept rows, in the batch's transaction on `conn`.
    pub fn write(&self, conn: &mut DbConn) -> Q<()> {
        held::write(conn)?;
        audit::write_kept(conn)?;
        seat_events::write_kept(conn)
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        kept::with(&audit::KEPT, KeptRows::stop);
        kept::with(&seat_events::KEPT, KeptRows::stop);
        held::stop();
    }
}

/// How many rows were kept when a savepoint began, to undo back to if it fails.
pub struct Mark {
    audit: usize,
    events: usize,
    held: Option<held::Snapshot>,
}

/// Where the kept rows stand; `None` outside a batch.
pub fn mark() -> Option<Mark> {
    Some(Mark {
        audit: kept::with(&audit::KEPT, |k| k.count())?,
        events: kept::with(&seat_events::KEPT, |k| k.count())?,
        held: held::snapshot(),
    })
}

/// Forgets the rows kept since `mark`: its savepoint was rolled back.
pub fn undo_to(mark: Mark) {
    kept::with(&audit::KEPT, |k| k.truncate(mark.audit));
    kept::with(&seat_events::KEPT, |k| k.truncate(mark.events));
    if let Some(snapshot) = mark.held {
        held::restore(snapshot);
    }
}
