//! `POST /Bulk` (RFC 7644 §3.7): each operation runs through the same use cases as the
//! single-resource endpoints, each all-or-nothing on its own (`Db::write_steps`: a savepoint
//! of one transaction on SQLite, a transaction each on PostgreSQL), in the order
//! `scim::bulk::run_bulk` picks (request order, an operation waiting for the POSTs whose
//! bulkIds it references).

use serde_json::Value;

use super::groups::GroupInput;
use super::{groups, users, ScimCaller, Written};
use crate::domain::seat_decisions::SeatDecisions;
use crate::domain::{Preconditions, Version};
use crate::error::Error;
use crate::scim::bulk::{run_bulk, BulkMethod, BulkOperation, BulkRequest, BulkResource, Report};
use crate::scim::error::ScimError;
use crate::scim::patch::parse_patch_request;
use crate::store::{Db, DbConn};

/// What an operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Created,
    Updated,
    Deleted,
}

/// What the Bulk answer says of an operation that ran; no need to render the resource (on
/// SQLite this runs on the writer thread).
#[derive(Debug)]
pub struct Done {
    pub applied: Applied,
    /// The resource's id (a POST's new id: what its bulkId stands for).
    pub id: Option<String>,
    /// Its version's entity tag; none after a delete.
    pub version: Option<String>,
}

/// Runs the operations of `request`; returns one report per operation processed, in request
/// order, and the seat decisions of the operations that succeeded, in the order they ran.
pub async fn run(
    db: &Db,
    caller: &ScimCaller,
    request: BulkRequest,
) -> Result<Written<Vec<Report<Done, Error>>>, Error> {
    let org = &caller.org_id;
    let caller = caller.clone();
    db.write_steps_for_org(org, move |conn, steps| {
        let mut decisions = SeatDecisions::default();
        let reports = run_bulk(
            request,
            |op| {
                let done = steps.run(conn, |conn| run_one(conn, &caller, op))?;
                decisions.extend(done.decisions);
                Ok(done.value)
            },
            &|done: &Done| done.id.clone(),
        );
        Ok(Written {
            value: reports,
            decisions,
        })
    })
    .await
}

/// Runs one operation whose `bulkId` references are resolved.
fn run_one(
    conn: &mut DbConn,
    caller: &ScimCaller,
    mut op: BulkOperation,
) -> Result<Written<Done>, Error> {
    let pre = Preconditions {
        if_match: op.version.take(),
        if_none_match: None,
    };
    let id = || {
        op.id.clone().ok_or_else(|| {
            Error::from(ScimError::invalid_path("the operation needs a resource id"))
        })
    };
    let data = op.data.take().unwrap_or(Value::Null);
    let written = |applied: Applied, id: &str, version: Version| Done {
        applied,
        id: Some(id.to_string()),
        version: Some(version.etag()),
    };
    let deleted = |id: String| Done {
        applied: Applied::Deleted,
        id: Some(id),
        version: None,
    };
    Ok(match (op.resource, op.method) {
        (BulkResource::Users, BulkMethod::Post) => {
            let w = users::create_in(conn, caller, users::new_user(&data)?)?;
            w.map(|v| written(Applied::Created, &v.row.id, v.version()))
        }
        (BulkResource::Users, BulkMethod::Put) => {
            // The id is checked before the body, as the single-resource PUT does.
            let id = id()?;
            let resource = users::user_resource(&data)?;
            let w = users::replace_in(conn, caller, &id, resource, &pre)?;
            w.map(|v| written(Applied::Updated, &v.row.id, v.version()))
        }
        (BulkResource::Users, BulkMethod::Patch) => {
            let id = id()?;
            let ops = parse_patch_request(&data)?;
            let w = users::patch_in(conn, caller, &id, ops, &pre)?;
            w.map(|v| written(Applied::Updated, &v.row.id, v.version()))
        }
        (BulkResource::Users, BulkMethod::Delete) => {
            let id = id()?;
            users::delete_in(conn, caller, &id, &pre)?.map(|()| deleted(id))
        }
        (BulkResource::Groups, BulkMethod::Post) => {
            let w = groups::create_in(conn, caller, GroupInput::from_body(&data)?)?;
            w.map(|v| written(Applied::Created, &v.row.id, v.version()))
        }
        (BulkResource::Groups, BulkMethod::Put) => {
            let id = id()?;
            let input = GroupInput::from_body(&data)?;
            let w = groups::replace_in(conn, caller, &id, input, &pre, false)?;
            w.map(|v| written(Applied::Updated, &v.row.id, v.version()))
        }
        (BulkResource::Groups, BulkMethod::Patch) => {
            let id = id()?;
            let ops = parse_patch_request(&data)?;
            let w = groups::patch_in(conn, caller, &id, ops, &pre, false)?;
            w.map(|v| written(Applied::Updated, &v.row.id, v.version()))
        }
        (BulkResource::Groups, BulkMethod::Delete) => {
            let id = id()?;
            groups::delete_in(conn, caller, &id, &pre)?.map(|()| deleted(id))
        }
    })
}
