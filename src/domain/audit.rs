//! Writing audit events, always inside the transaction of the change.

use serde::Serialize;

use super::Actor;
use crate::store::{self, audit::AuditRow, DbConn};

pub fn record(
    conn: &mut DbConn,
    org_id: &str,
    actor: &Actor,
    kind: &str,
    subject: Option<&str>,
    detail: impl Serialize,
) -> diesel::QueryResult<()> {
    // Straight to bytes: a `Value`'s Display goes through the formatting machinery.
    let detail = serde_json::to_string(&detail)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    // Seat changes are also public events, written in the same transaction.
    if let Some(event) = super::events::public_kind(kind) {
        super::events::emit(conn, org_id, event, subject, detail.clone())?;
    }
    store::audit::insert(
        conn,
        AuditRow {
            // Time-ordered (v7): new rows append to the id indexes instead of dirtying a random
            // page of each per insert.
            id: uuid::Uuid::now_v7().to_string(),
            org_id: org_id.to_string(),
            at: store::now(),
            actor: actor.id.clone(),
            source: actor.source.as_str().to_string(),
            kind: kind.to_string(),
            subject_id: subject.map(str::to_string),
            detail,
        },
    )
}
