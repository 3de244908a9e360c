//! `/Users`: create, replace, patch and delete a user, each one write transaction that also
//! claims, queues or releases its seat (`domain::users`, `domain::seats`); and the reads.

use serde_json::Value;

use super::{settle, with_id, ScimCaller, Written};
use crate::domain::users::{self, CreateOptions, NewUser, UserView};
use crate::domain::{Actor, Preconditions};
use crate::error::Error;
use crate::scim::patch::{apply, PatchOperation};
use crate::scim::resource::normalize;
use crate::scim::schema::Registry;
use crate::store::{Db, DbConn};

/// A POST /Users body checked and shaped for `create`; needs no database, so it is worked
/// out before the write.
pub fn new_user(body: &Value) -> Result<NewUser, Error> {
    NewUser::new(&normalize(body, &Registry::get().user)?)
}

/// A PUT /Users body as the canonical resource.
pub fn user_resource(body: &Value) -> Result<Value, Error> {
    Ok(normalize(body, &Registry::get().user)?)
}

pub async fn create(
    db: &Db,
    caller: &ScimCaller,
    new: NewUser,
) -> Result<Written<UserView>, Error> {
    let org = &caller.org_id;
    let caller = caller.clone();
    db.write_for_org(org, move |conn| create_in(conn, &caller, new))
        .await
}

pub async fn replace(
    db: &Db,
    caller: &ScimCaller,
    id: String,
    resource: Value,
    pre: Preconditions,
) -> Result<Written<UserView>, Error> {
    let org = &caller.org_id;
    let caller = caller.clone();
    db.write_for_org(org, move |conn| {
        replace_in(conn, &caller, &id, resource, &pre)
    })
    .await
}

pub async fn patch(
    db: &Db,
    caller: &ScimCaller,
    id: String,
    ops: Vec<PatchOperation>,
    pre: Preconditions,
) -> Result<Written<UserView>, Error> {
    let org = &caller.org_id;
    let caller = caller.clone();
    db.write_for_org(org, move |conn| patch_in(conn, &caller, &id, ops, &pre))
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

/// GET /Users/{id}: a point read; `with_groups` loads the `groups` attribute.
pub async fn get(db: &Db, org_id: &str, id: String, with_groups: bool) -> Result<UserView, Error> {
    let org = org_id.to_string();
    db.read_point(move |c| users::get(c, &org, &id, with_groups))
        .await
}

/// A page of users for a list or search query, with `totalResults`. An index lookup (an
/// IdP's `userName eq "…"`) is a point read (the store decides, from `search`'s plan).
pub async fn search(db: &Db, search: users::Search) -> Result<(Vec<UserView>, i64), Error> {
    db.query(search).await
}

/// The view with the decisions its use case noted.
fn written(conn: &mut DbConn, actor: &Actor, view: UserView) -> Result<Written<UserView>, Error> {
    let known = view.row.queue_seq.zip(view.queue_position);
    Ok(Written {
        decisions: settle(conn, &view.row.org_id, actor, known)?,
        value: view,
    })
}

/// POST /Users inside a transaction; the handler and `/Bulk` share it.
pub(super) fn create_in(
    conn: &mut DbConn,
    caller: &ScimCaller,
    new: NewUser,
) -> Result<Written<UserView>, Error> {
    let actor = caller.actor();
    let view = users::create(conn, &caller.org_id, new, CreateOptions::default(), &actor)?;
    written(conn, &actor, view)
}

/// PUT /Users/{id} inside a transaction.
pub(super) fn replace_in(
    conn: &mut DbConn,
    caller: &ScimCaller,
    id: &str,
    resource: Value,
    pre: &Preconditions,
) -> Result<Written<UserView>, Error> {
    let actor = caller.actor();
    let view = users::replace(conn, &caller.org_id, id, resource, pre, &actor)?;
    written(conn, &actor, view)
}

/// PATCH /Users/{id} inside a transaction.
pub(super) fn patch_in(
    conn: &mut DbConn,
    caller: &ScimCaller,
    id: &str,
    ops: Vec<PatchOperation>,
    pre: &Preconditions,
) -> Result<Written<UserView>, Error> {
    let actor = caller.actor();
    let view = users::modify(
        conn,
        &caller.org_id,
        id,
        pre,
        &actor,
        move |mut current: Value| {
            let rs = &Registry::get().user;
            with_id(&mut current, id);
            apply(&mut current, &ops, rs)?;
            // Re-normalize: types, required attributes and write-only values checked once.
            Ok(normalize(&current, rs)?)
        },
    )?;
    written(conn, &actor, view)
}

/// DELETE /Users/{id} inside a transaction.
pub(super) fn delete_in(
    conn: &mut DbConn,
    caller: &ScimCaller,
    id: &str,
    pre: &Preconditions,
) -> Result<Written<()>, Error> {
    let actor = caller.actor();
    users::delete(conn, &caller.org_id, id, pre, &actor)?;
    Ok(Written {
        decisions: settle(conn, &caller.org_id, &actor, None)?,
        value: (),
    })
}
