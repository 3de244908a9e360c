//! Rows a group-commit batch writes once, at its end, instead of one statement each: the
//! audit rows and seat events of its use cases (two or three per seat change). On
//! PostgreSQL every statement is a round trip, and the use cases of one organization run one
//! after another, so those statements were most of a create's time. The rows are kept on
//! the lane's thread while the batch runs (`Batch`), undone with the savepoint of a use case
//! or step that failed (`store::savepoint`), and written in a few multi-row INSERTs before
//! the batch commits — in the same transaction, so they commit or roll back with it.
//!
//! Nothing in a write use case reads the audit log or the event feed back, except the feed's
//! last number, which `seat_events::last_seq` takes from here once an organization has an
//! event in the batch. Outside a batch (SQLite's writer, any other write) nothing is kept
//! and every row is written at once.

use std::cell::RefCell;
use std::collections::HashMap;

use diesel::prelude::*;

use super::audit::AuditRow;
use super::schema::{audit_log, seat_events};
use super::seat_events::EventRow;
use super::{DbConn, Q};

thread_local! {
    static KEPT: RefCell<Option<Kept>> = const { RefCell::new(None) };
}

#[derive(Default)]
struct Kept {
    audit: Vec<AuditRow>,
    events: Vec<EventRow>,
    /// The last event number of each organization with an event in the batch.
    last_seq: HashMap<String, i64>,
}

/// Rows kept for the batch running on this thread, from `start` until dropped (whatever
/// is still kept then was not written: the batch failed).
pub struct Batch(());

impl Batch {
    pub fn start() -> Batch {
        KEPT.with(|k| *k.borrow_mut() = Some(Kept::default()));
        Batch(())
    }

    /// Writes the kept rows, in the batch's transaction on `conn`: a multi-row INSERT per
    /// table on PostgreSQL (batches are PostgreSQL's; on SQLite a statement per row).
    pub fn write(&self, conn: &mut DbConn) -> Q<()> {
        let kept = KEPT.with(|k| k.borrow_mut().replace(Kept::default()));
        let Some(Kept {
            mut audit,
            mut events,
            ..
        }) = kept
        else {
            return Ok(());
        };
        // PostgreSQL binds at most 65,535 parameters per statement; 8 columns a row.
        const ROWS: usize = 4_000;
        match conn {
            DbConn::Pg(c) => {
                while !audit.is_empty() {
                    let rest = audit.split_off(audit.len().min(ROWS));
                    diesel::insert_into(audit_log::table)
                        .values(std::mem::replace(&mut audit, rest))
                        .execute(c)?;
                }
                for rows in events.chunks(ROWS) {
                    diesel::insert_into(seat_events::table)
                        .values(rows)
                        .execute(c)?;
                }
            }
            DbConn::Sqlite(c) => {
                for row in audit.drain(..) {
                    diesel::insert_into(audit_log::table)
                        .values(row)
                        .execute(c)?;
                }
                for row in events.drain(..) {
                    diesel::insert_into(seat_events::table)
                        .values(row)
                        .execute(c)?;
                }
            }
        }
        Ok(())
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        KEPT.with(|k| *k.borrow_mut() = None);
    }
}

/// How much was kept when a savepoint began, to undo back to if it fails.
pub struct Mark {
    audit: usize,
    events: usize,
    last_seq: HashMap<String, i64>,
}

/// Where the kept rows stand; `None` outside a batch.
pub fn mark() -> Option<Mark> {
    KEPT.with(|k| {
        k.borrow().as_ref().map(|kept| Mark {
            audit: kept.audit.len(),
            events: kept.events.len(),
            last_seq: kept.last_seq.clone(),
        })
    })
}

/// Forgets the rows kept since `mark`: its savepoint was rolled back.
pub fn undo_to(mark: Mark) {
    KEPT.with(|k| {
        if let Some(kept) = k.borrow_mut().as_mut() {
            kept.audit.truncate(mark.audit);
            kept.events.truncate(mark.events);
            kept.last_seq = mark.last_seq;
        }
    });
}

/// Keeps `row` for the batch; gives it back when no batch runs on this thread (write it now).
pub(super) fn keep_audit(row: AuditRow) -> Option<AuditRow> {
    KEPT.with(|k| match k.borrow_mut().as_mut() {
        Some(kept) => {
            kept.audit.push(row);
            None
        }
        None => Some(row),
    })
}

/// `keep_audit` for a seat event; the organization's last number moves to its own.
pub(super) fn keep_event(row: &EventRow) -> bool {
    KEPT.with(|k| match k.borrow_mut().as_mut() {
        Some(kept) => {
            kept.last_seq.insert(row.org_id.clone(), row.seq);
            kept.events.push(row.clone());
            true
        }
        None => false,
    })
}

/// The last event number of `org_id` if the batch has one of its events.
pub(super) fn last_seq(org_id: &str) -> Option<i64> {
    KEPT.with(|k| k.borrow().as_ref()?.last_seq.get(org_id).copied())
}
