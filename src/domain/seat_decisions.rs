//! Seat decisions: what a use case did to whose seat (claimed a tier, queued, released a tier,
//! activated someone from the queue, changed or waits for a tier), noted by the seat engine as
//! it decides, in order. A SCIM write returns them with its result, so the provisioning log
//! can say why a user is where it is, for group writes and `/Bulk` as much as for `/Users`.
//!
//! They are noted through the `Actor` every seat function already takes (its `Journal`): the
//! seat engine is called from a dozen use cases, and only the SCIM ones keep what it notes.

use std::fmt;
use std::sync::{Arc, Mutex};

use super::Tier;
use crate::store::users::UserRow;

/// What was decided for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    /// Given a seat of this tier on create or reactivation.
    Claimed(Tier),
    /// Put at the back of the queue; `position` is filled in before the use case returns
    /// (`queue_seq` is its first-come number).
    Queued {
        queue_seq: i64,
        position: Option<i64>,
    },
    /// Its seat of this tier went back to the pool.
    Released(Tier),
    /// Given a seat of this tier from the queue.
    Activated(Tier),
    /// Moved between tiers (group tier policy, a tier wait served, a swap).
    TierChanged { from: Tier, to: Tier },
    /// Keeps its seat and waits for a seat of this tier (group tier policy).
    WaitsFor(Tier),
}

impl fmt::Display for Decided {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decided::Claimed(t) => write!(f, "claimed {t}"),
            Decided::Queued {
                position: Some(p), ..
            } => write!(f, "queued at position {p}"),
            Decided::Queued { position: None, .. } => f.write_str("queued"),
            Decided::Released(t) => write!(f, "released {t}"),
            Decided::Activated(t) => write!(f, "got a {t} seat from the queue"),
            Decided::TierChanged { from, to } => write!(f, "tier changed {from} → {to}"),
            Decided::WaitsFor(t) => write!(f, "tier change waits for a {t} seat"),
        }
    }
}

/// One decision: who (id and userName) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatDecision {
    pub user_id: String,
    pub user_name: String,
    pub what: Decided,
}

/// The decisions of one request, in the order they were taken.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeatDecisions(pub Vec<SeatDecision>);

impl SeatDecisions {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first-come numbers of queued users whose position is not known yet.
    pub fn unplaced(&self) -> Vec<i64> {
        self.0
            .iter()
            .filter_map(|d| match d.what {
                Decided::Queued {
                    queue_seq,
                    position: None,
                } => Some(queue_seq),
                _ => None,
            })
            .collect()
    }

    /// Fill in the queue position of the user queued with first-come number `seq`.
    pub fn place(&mut self, seq: i64, pos: i64) {
        for d in &mut self.0 {
            if let Decided::Queued {
                queue_seq,
                position,
            } = &mut d.what
            {
                if *queue_seq == seq {
                    *position = Some(pos);
                }
            }
        }
    }

    pub fn extend(&mut self, other: SeatDecisions) {
        self.0.extend(other.0);
    }
}

/// Where an actor notes the seat decisions taken on its behalf. Closed (the default) notes
/// nothing; the clones of one open journal share it.
#[derive(Debug, Clone, Default)]
pub struct Journal(Option<Arc<Mutex<Vec<SeatDecision>>>>);

impl Journal {
    pub fn open() -> Journal {
        Journal(Some(Arc::default()))
    }

    pub fn note(&self, user: &UserRow, what: Decided) {
        if let Some(list) = &self.0 {
            // A poisoned lock only means a panicking use case, whose decisions are discarded.
            let mut list = list.lock().unwrap_or_else(|e| e.into_inner());
            list.push(SeatDecision {
                user_id: user.id.clone(),
                user_name: user.user_name.clone(),
                what,
            });
        }
    }

    /// Everything noted so far, leaving the journal empty.
    pub fn take(&self) -> SeatDecisions {
        match &self.0 {
            Some(list) => SeatDecisions(std::mem::take(
                &mut *list.lock().unwrap_or_else(|e| e.into_inner()),
            )),
            None => SeatDecisions::default(),
        }
    }
}
