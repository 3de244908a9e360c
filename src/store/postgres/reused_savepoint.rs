//! One savepoint name reused for a run of units that each must be all-or-nothing: the use
//! cases of a group-commit batch, the steps of a `/Bulk`. Releasing one unit's savepoint and
//! opening the next one's go out together, in one round trip (the simple query protocol
//! takes several statements at once); a unit that failed is rolled back to the savepoint,
//! which stays open for the next. The last one is released by whatever encloses it (an
//! outer savepoint's release, or COMMIT).

use diesel::connection::SimpleConnection;

use crate::error::Error;
use crate::store::DbConn;

/// The statements of one savepoint name.
pub struct Names {
    open: &'static str,
    next: &'static str,
    rollback: &'static str,
}

/// Around each use case of a shared batch (`group_commit`).
pub const USE_CASE: Names = Names {
    open: "SAVEPOINT use_case;",
    next: "RELEASE SAVEPOINT use_case;SAVEPOINT use_case;",
    rollback: "ROLLBACK TO SAVEPOINT use_case;",
};

/// Around each step of a `/Bulk` (`store::Steps`), inside its use case's.
pub const STEP: Names = Names {
    open: "SAVEPOINT step;",
    next: "RELEASE SAVEPOINT step;SAVEPOINT step;",
    rollback: "ROLLBACK TO SAVEPOINT step;",
};

/// Where the savepoint stands between two units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    /// None open yet.
    #[default]
    Closed,
    /// Open with nothing in it: fresh, or a failed unit was rolled back to it.
    Clean,
    /// Open around a unit that succeeded: released when the next one begins.
    Holding,
}

pub struct ReusedSavepoint {
    names: &'static Names,
    state: std::cell::Cell<State>,
}

impl ReusedSavepoint {
    pub fn new(names: &'static Names) -> ReusedSavepoint {
        ReusedSavepoint {
            names,
            state: std::cell::Cell::default(),
        }
    }

    /// Before a unit: the last one's savepoint released and this one's opened (at most one
    /// round trip, none after a rollback).
    pub fn begin(&self, conn: &mut DbConn) -> Result<(), Error> {
        let sql = match self.state.get() {
            State::Closed => self.names.open,
            State::Holding => self.names.next,
            State::Clean => return Ok(()),
        };
        conn.batch_execute(sql)?;
        self.state.set(State::Clean);
        Ok(())
    }

    /// After a unit that succeeded: its changes are kept.
    pub fn succeeded(&self) {
        self.state.set(State::Holding);
    }

    /// After a unit that failed: its changes are undone.
    pub fn failed(&self, conn: &mut DbConn) -> Result<(), Error> {
        conn.batch_execute(self.names.rollback)?;
        self.state.set(State::Clean);
        Ok(())
    }
}
