//! `/Groups`: create, replace, patch and delete a group, each one write transaction; and the
//! reads.
//! Member changes are row operations (`domain::groups`); a user joining or leaving a group
//! mapped to a tier is moved, or waits, in the same transaction (`domain::seat_policy`).

use serde_json::Value;

use super::{settle, with_id, ScimCaller, Written};
use crate::domain::groups::{self, member_refs, GroupView, MemberChange, MemberRef};
use crate::domain::{Actor, Preconditions};
use crate::error::Error;
use crate::scim::patch::{apply, MemberOp, PatchOperation};
use crate::scim::resource::normalize;
use crate::scim::schema::Registry;
use crate::store::{Db, DbConn};

/// A group body as the canonical resource (without members) and its member refs.
#[derive(Debug, Clone)]
pub struct GroupInput {
    pub resource: Value,
    pub members: Vec<MemberRef>,
}

impl GroupInput {
    /// From a POST or PUT /Groups body; needs no database.
    pub fn from_body(body: &Value) -> Result<GroupInput, Error> {
        let mut resource = normalize(body, &Registry::get().group)?;
        let members = match resource.as_object_mut().and_then(|m| m.remove("members")) {
            Some(list) => member_refs(&list)?,
            None => Vec::new(),
        };
        Ok(GroupInput { resource, members })
    }
}

fn member_change(op: MemberOp) -> Result<MemberChange, Error> {
    Ok(match op {
        MemberOp::Add(list) => MemberChange::Add(member_refs(&Value::Array(list))?),
        MemberOp::Remove(ids) => MemberChange::Remove(ids),
        MemberOp::RemoveAll => MemberChange::RemoveAll,
        MemberOp::ReplaceAll(list) => MemberChange::ReplaceAll(member_refs(&Value::Array(list))?),
    })
}

pub async fn create(
    db: &Db,
    caller: &ScimCaller,
    input: GroupInput,
) -> Result<Written<GroupView>, Error> {
    let org = &caller.org_id;
    let caller = caller.clone();
    db.write_for_org(org, move |conn| create_in(conn, &caller, input))
        .await
}

/// PUT /Groups/{id}; `with_members`: whether the returned view carries the members.
pub async fn replace(
    db: &Db,
    caller: &ScimCaller,
    id: String,
    input: GroupInput,
    pre: Preconditions,
    with_members: bool,
) -> Result<Written<GroupView>, Error> {
    let org = &caller.org_id;
    let caller = caller.clone();
    db.write_for_org(org, move |conn| {
        replace_in(conn, &caller, &id, input, &pre, with_members)
    })
    .await
}

/// PATCH /Groups/{id}; `with_members`: whether the returned view carries the members.
pub async fn patch(
    db: &Db,
    caller: &ScimCaller,
    id: String,
    ops: Vec<PatchOperation>,
    pre: Preconditions,
    with_members: bool,
) -> Result<Written<GroupView>, Error> {
    let org = &caller.org_id;
    let caller = caller.clone();
    db.write_for_org(org, move |conn| {
        patch_in(conn, &caller, &id, ops, &pre, with_members)
    })
    .await
}

pub async fn delete(
    db: &Db,
    caller: &ScimCaller,
    id: String,
    pre: Preconditions,
) -> Result<Written<()>, Error> {
    let org = &caller.org_id;
    let caller = caller.clone();
    db.write_for_org(org, move |conn| delete_in(conn, &caller, &id, &pre))
        .await
}

/// GET /Groups/{id}. Members can number 100,000: only a read without them is a point read.
pub async fn get(
    db: &Db,
    org_id: &str,
    id: String,
    with_members: bool,
) -> Result<GroupView, Error> {
    let get = groups::Get {
        org_id: org_id.to_string(),
        id,
        with_members,
    };
    db.query(get).await
}

/// A page of groups for a list or search query, with `totalResults`. An index lookup that
/// leaves members out is a point read (the store decides, from `search`'s plan).
pub async fn search(db: &Db, search: groups::Search) -> Result<(Vec<GroupView>, i64), Error> {
    db.query(search).await
}

fn written<T>(
    conn: &mut DbConn,
    caller: &ScimCaller,
    actor: &Actor,
    value: T,
) -> Result<Written<T>, Error> {
    Ok(Written {
        decisions: settle(conn, &caller.org_id, actor, None)?,
        value,
    })
}

/// POST /Groups inside a transaction; the handler and `/Bulk` share it.
pub(super) fn create_in(
    conn: &mut DbConn,
    caller: &ScimCaller,
    input: GroupInput,
) -> Result<Written<GroupView>, Error> {
    let actor = caller.actor();
    let GroupInput { resource, members } = input;
    let view = groups::create(conn, &caller.org_id, resource, members, &actor)?;
    written(conn, caller, &actor, view)
}

/// PUT /Groups/{id} inside a transaction.
pub(super) fn replace_in(
    conn: &mut DbConn,
    caller: &ScimCaller,
    id: &str,
    input: GroupInput,
    pre: &Preconditions,
    with_members: bool,
) -> Result<Written<GroupView>, Error> {
    let actor = caller.actor();
    let GroupInput { resource, members } = input;
    let view = groups::modify(
        conn,
        &caller.org_id,
        id,
        pre,
        &actor,
        move |_| Ok((resource, vec![MemberChange::ReplaceAll(members)])),
        with_members,
    )?;
    written(conn, caller, &actor, view)
}

/// PATCH /Groups/{id} inside a transaction.
pub(super) fn patch_in(
    conn: &mut DbConn,
    caller: &ScimCaller,
    id: &str,
    ops: Vec<PatchOperation>,
    pre: &Preconditions,
    with_members: bool,
) -> Result<Written<GroupView>, Error> {
    let actor = caller.actor();
    let view = groups::modify(
        conn,
        &caller.org_id,
        id,
        pre,
        &actor,
        move |mut current: Value| {
            let rs = &Registry::get().group;
            with_id(&mut current, id);
            let outcome = apply(&mut current, &ops, rs)?;
            let changes = outcome
                .member_ops
                .into_iter()
                .map(member_change)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((normalize(&current, rs)?, changes))
        },
        with_members,
    )?;
    written(conn, caller, &actor, view)
}

/// DELETE /Groups/{id} inside a transaction.
pub(super) fn delete_in(
    conn: &mut DbConn,
    caller: &ScimCaller,
    id: &str,
    pre: &Preconditions,
) -> Result<Written<()>, Error> {
    let actor = caller.actor();
    groups::delete(conn, &caller.org_id, id, pre, &actor)?;
    written(conn, caller, &actor, ())
}
