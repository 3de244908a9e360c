//! The SCIM use cases. A write to `/Users`, `/Groups` or `/Bulk` goes from typed input (a
//! normalized resource, PATCH operations, preconditions) to the resource written and the seat
//! decisions it caused. A handler extracts its input, makes one call here and renders the
//! answer; each call here is one write transaction (Bulk: one per operation), in which
//! `domain::users` / `domain::groups` and the seat engine call the store. The reads are here
//! too, so that no SCIM handler runs anything on a connection.

pub mod bulk;
pub mod groups;
pub mod users;

use serde_json::Value;

use super::seat_decisions::SeatDecisions;
use super::Actor;
use crate::error::Error;
use crate::store::{self, DbConn};

/// Who a SCIM request acts for: its organization and the token it came with.
#[derive(Debug, Clone)]
pub struct ScimCaller {
    pub org_id: String,
    pub token_id: String,
}

impl ScimCaller {
    /// A fresh actor for one use case, whose journal keeps the seat decisions it causes.
    fn actor(&self) -> Actor {
        Actor::scim(&self.token_id).journaled()
    }
}

/// What a write returns: its result and the seat decisions it caused, in order.
#[derive(Debug)]
pub struct Written<T> {
    pub value: T,
    pub decisions: SeatDecisions,
}

impl<T> Written<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Written<U> {
        Written {
            value: f(self.value),
            decisions: self.decisions,
        }
    }
}

/// The decisions `actor` noted, with the queue position of each user queued: `known` is
/// `(first-come number, position)` of the user the use case returns, when it is pending (no
/// query); anyone else queued is looked up in one query.
fn settle(
    conn: &mut DbConn,
    org_id: &str,
    actor: &Actor,
    known: Option<(i64, i64)>,
) -> Result<SeatDecisions, Error> {
    let mut decisions = actor.journal.take();
    if let Some((seq, pos)) = known {
        decisions.place(seq, pos);
    }
    let unplaced = decisions.unplaced();
    if !unplaced.is_empty() {
        for (seq, pos) in store::users::queue_positions(conn, org_id, &unplaced)? {
            decisions.place(seq, pos);
        }
    }
    Ok(decisions)
}

/// Users and groups matching a root `/.search` query, one page of both.
pub async fn search_all(
    db: &store::Db,
    org_id: &str,
    query: crate::scim::list::ListQuery,
) -> Result<super::search::Mixed, Error> {
    let org = org_id.to_string();
    db.read(move |c| super::search::search_all(c, &org, &query))
        .await
}

/// PATCH sees the resource as the client does: with its `id`, so that an unchanged readOnly
/// `id` in a path-less value (Okta's group rename) is recognised as unchanged. Normalizing
/// afterwards drops it again.
fn with_id(resource: &mut Value, id: &str) {
    if let Some(m) = resource.as_object_mut() {
        m.insert("id".into(), Value::String(id.to_string()));
    }
}
