//! User provisioning use cases. Every write runs in one transaction: the resource change, the
//! seat claim or release, the queue drain it causes, and the audit events.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::seats;
use super::seats::inventory::{self, STATUS_ACTIVE, STATUS_INACTIVE};
use super::{audit, Actor, Preconditions, Tier, Version};
use crate::error::Error;
use crate::scim::error::ScimError;
use crate::scim::filter::{parse_for, TypedFilter};
use crate::scim::list::ListQuery;
use crate::scim::resource::str_attr;
use crate::scim::schema::Registry;
use crate::store::plan::Access;
use crate::store::query::ListSpec;
use crate::store::{self, users::EmailRow, users::UserRow, DbConn};

/// A user with what its SCIM representation needs besides the row.
#[derive(Debug, Clone)]
pub struct UserView {
    pub row: UserRow,
    /// `(group id, group display name)`
    pub groups: Vec<(String, String)>,
    pub queue_position: Option<i64>,
}

impl UserView {
    /// How a person is named on a page: the display name, else the user name.
    pub fn label(&self) -> &str {
        self.row
            .display_name
            .as_deref()
            .unwrap_or(&self.row.user_name)
    }

    /// The version its `meta.version` and ETag show (a pending user's holds its position).
    pub fn version(&self) -> Version {
        Version {
            counter: self.row.version,
            queue_position: self.queue_position,
        }
    }
}

/// `pre` checked against the user's current version; a pending user's queue position is read
/// only when the request has a precondition, so a plain write pays nothing for it.
fn check_write(conn: &mut DbConn, pre: &Preconditions, row: &UserRow) -> Result<(), Error> {
    if pre.is_empty() {
        return Ok(());
    }
    let queue_position = match row.queue_seq {
        Some(seq) => store::users::queue_positions(conn, &row.org_id, &[seq])?
            .first()
            .map(|&(_, pos)| pos),
        None => None,
    };
    pre.check_write(Version {
        counter: row.version,
        queue_position,
    })
}

/// Columns derived from the canonical resource.
#[derive(Debug)]
struct Indexed {
    user_name: String,
    /// The case-folded userName the unique index and `userName eq` lookups use.
    user_name_norm: String,
    external_id: Option<String>,
    display_name: Option<String>,
    active: bool,
    emails: Vec<EmailRow>,
}

fn indexed(resource: &Value) -> Result<Indexed, Error> {
    let user_name = str_attr(resource, "userName")
        .ok_or_else(|| ScimError::invalid_value("'userName' is required"))?
        .to_string();
    let emails = resource
        .get("emails")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|e| {
                    Some(EmailRow {
                        value: e.get("value")?.as_str()?.to_string(),
                        email_type: e.get("type").and_then(Value::as_str).map(str::to_string),
                        primary: e.get("primary").and_then(Value::as_bool).unwrap_or(false),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Indexed {
        user_name_norm: user_name.to_lowercase(),
        user_name,
        external_id: str_attr(resource, "externalId").map(str::to_string),
        display_name: str_attr(resource, "displayName").map(str::to_string),
        // RFC 7643 leaves an absent `active` open; an IdP that omits it means a usable account.
        active: resource
            .get("active")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        emails,
    })
}

fn user_name_taken() -> Error {
    // The value itself stays out of the message: error details end up in logs.
    ScimError::uniqueness("another user already has this userName (userName is case-insensitive)")
        .into()
}

fn ensure_user_name_free(
    conn: &mut DbConn,
    org_id: &str,
    user_name: &str,
    except_id: Option<&str>,
) -> Result<(), Error> {
    match store::users::find_by_user_name(conn, org_id, user_name)? {
        Some(existing) if Some(existing.id.as_str()) != except_id => Err(user_name_taken()),
        _ => Ok(()),
    }
}

/// Options of a create beyond the resource itself.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub preferred_tier: Option<Tier>,
}

/// A user to create, with everything that needs no database worked out: built before the
/// write transaction, so SQLite's single writer spends its time on SQL alone.
#[derive(Debug)]
pub struct NewUser {
    id: String,
    ix: Indexed,
    resource: String,
}

impl NewUser {
    /// From a normalized resource.
    pub fn new(resource: &Value) -> Result<NewUser, Error> {
        Ok(NewUser {
            // Time-ordered (v7): new rows append to the id indexes instead of dirtying a
            // random page of each per insert.
            id: uuid::Uuid::now_v7().to_string(),
            ix: indexed(resource)?,
            resource: resource.to_string(),
        })
    }
}

/// The detail of a `user.created` event (a struct: every create writes one).
#[derive(serde::Serialize)]
struct Created<'a> {
    status: &'a str,
    tier: Option<&'a str>,
}

/// Create a user; claims a seat or queues it.
#[tracing::instrument(skip_all, fields(org = %org_id))]
pub fn create(
    conn: &mut DbConn,
    org_id: &str,
    new: NewUser,
    opts: CreateOptions,
    actor: &Actor,
) -> Result<UserView, Error> {
    let NewUser { id, ix, resource } = new;
    let seq = inventory::lock_org_adding_user(conn, org_id)?;
    let now = store::now();
    let mut row = UserRow {
        id,
        org_id: org_id.to_string(),
        user_name_norm: ix.user_name_norm,
        user_name: ix.user_name,
        external_id: ix.external_id,
        display_name: ix.display_name,
        active: ix.active,
        seat_status: STATUS_INACTIVE.into(),
        seat_tier: None,
        seated_at: None,
        pending_since: None,
        queue_seq: None,
        source: actor.source.as_str().into(),
        resource,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    if row.active {
        // A new user is in no group yet, so only an explicit preference applies.
        seats::claim_or_queue(conn, &mut row, seq, opts.preferred_tier, actor)?;
    }
    // The unique index on (org, userName) is the check: a taken userName fails this insert,
    // and the savepoint or transaction around the use case undoes the seat claim and audit.
    // (A lookup first cost a statement on every create for a case IdPs rarely hit.)
    store::users::insert(conn, &row).map_err(|e| match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => user_name_taken(),
        e => e.into(),
    })?;
    store::users::insert_emails(conn, org_id, &row.id, &ix.emails)?;
    audit::record(
        conn,
        org_id,
        actor,
        "user.created",
        Some(&row.id),
        Created {
            status: &row.seat_status,
            tier: row.seat_tier.as_deref(),
        },
    )?;
    // A new user belongs to no group yet.
    one_view(conn, org_id, row, false)
}

pub fn get(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    with_groups: bool,
) -> Result<UserView, Error> {
    let row = store::users::find(conn, org_id, id)?.ok_or_else(|| Error::not_found("User"))?;
    one_view(conn, org_id, row, with_groups)
}

fn one_view(
    conn: &mut DbConn,
    org_id: &str,
    row: UserRow,
    with_groups: bool,
) -> Result<UserView, Error> {
    let mut views = load_views(conn, org_id, vec![row], with_groups)?;
    views.pop().ok_or_else(|| Error::not_found("User"))
}

/// Views for a page of rows: groups and queue positions in two queries, not per row.
pub fn load_views(
    conn: &mut DbConn,
    org_id: &str,
    rows: Vec<UserRow>,
    with_groups: bool,
) -> Result<Vec<UserView>, Error> {
    let mut groups: HashMap<String, Vec<(String, String)>> = HashMap::new();
    if with_groups {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        for (user, gid, name) in store::users::groups_of(conn, org_id, &ids)? {
            groups.entry(user).or_default().push((gid, name));
        }
    }
    let seqs: Vec<i64> = rows.iter().filter_map(|r| r.queue_seq).collect();
    let positions: HashMap<i64, i64> = store::users::queue_positions(conn, org_id, &seqs)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| UserView {
            groups: groups.remove(&row.id).unwrap_or_default(),
            queue_position: row.queue_seq.and_then(|s| positions.get(&s).copied()),
            row,
        })
        .collect())
}

/// Replace the whole resource (PUT) with a normalized one.
#[tracing::instrument(skip_all, fields(org = %org_id, user_id = %id))]
pub fn replace(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    resource: Value,
    pre: &Preconditions,
    actor: &Actor,
) -> Result<UserView, Error> {
    modify(conn, org_id, id, pre, actor, move |_| Ok(resource))
}

/// Load, change with `f` (given the current canonical resource, returns the new normalized
/// one), then apply the seat consequences of an `active` change — all in this transaction.
pub fn modify(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    pre: &Preconditions,
    actor: &Actor,
    f: impl FnOnce(Value) -> Result<Value, Error>,
) -> Result<UserView, Error> {
    let seq = inventory::lock_org(conn, org_id)?;
    let mut row = store::users::find(conn, org_id, id)?.ok_or_else(|| Error::not_found("User"))?;
    check_write(conn, pre, &row)?;
    let current: Value = serde_json::from_str(&row.resource)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored user {id} is not JSON: {e}")))?;
    let resource = f(current.clone())?;
    if resource == current {
        // Nothing changed: no new version, no seat movement (idempotent IdP retries).
        return one_view(conn, org_id, row, true);
    }
    let ix = indexed(&resource)?;
    // A deactivation changes neither: no lookup of the userName (the row holds it) and no
    // rewrite of the emails.
    if ix.user_name_norm != row.user_name_norm {
        ensure_user_name_free(conn, org_id, &ix.user_name, Some(id))?;
    }
    let emails_changed = indexed(&current).map_or(true, |old| old.emails != ix.emails);
    let was_active = row.active;
    row.user_name_norm = ix.user_name_norm;
    row.user_name = ix.user_name;
    row.external_id = ix.external_id;
    row.display_name = ix.display_name;
    row.active = ix.active;
    row.resource = resource.to_string();
    row.version += 1;
    row.updated_at = store::now();

    let mut freed = false;
    match (was_active, row.active) {
        (false, true) => seats::claim_or_queue_by_policy(conn, &mut row, seq, actor)?,
        (true, false) => freed = seats::vacate(conn, &mut row, actor)?,
        _ => {}
    }
    store::users::update(conn, &row)?;
    if emails_changed {
        store::users::set_emails(conn, org_id, &row.id, &ix.emails)?;
    }
    audit::record(
        conn,
        org_id,
        actor,
        "user.updated",
        Some(&row.id),
        json!({"active": {"before": was_active, "after": row.active}, "status": row.seat_status}),
    )?;
    if freed {
        seats::drain(conn, org_id, actor)?;
    }
    one_view(conn, org_id, row, true)
}

/// Delete a user; an active user's seat goes to the head of the queue.
#[tracing::instrument(skip_all, fields(org = %org_id, user_id = %id))]
pub fn delete(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    pre: &Preconditions,
    actor: &Actor,
) -> Result<(), Error> {
    inventory::lock_org(conn, org_id)?;
    let mut row = store::users::find(conn, org_id, id)?.ok_or_else(|| Error::not_found("User"))?;
    check_write(conn, pre, &row)?;
    let freed = seats::vacate(conn, &mut row, actor)?;
    // The groups that held it lose a member: they get a new version. Membership rows go
    // first, then groups, then the user (the lock order of a group PATCH; see
    // `store::versions`), so the store's own removal of memberships finds none left.
    let groups = store::groups::leave_all_groups(conn, org_id, id)?;
    store::versions::touch_groups(conn, org_id, &groups, store::now())?;
    if actor.source == super::Source::Scim {
        // The IdP deleted the person: a later sign-in through the IdP is refused.
        store::sso::remember_deleted(conn, org_id, id, store::now())?;
    }
    store::users::delete(conn, org_id, id)?;
    audit::record(conn, org_id, actor, "user.deleted", Some(id), json!({}))?;
    if freed {
        seats::drain(conn, org_id, actor)?;
    }
    Ok(())
}

/// True when the row holds a seat.
pub fn is_seated(row: &UserRow) -> bool {
    row.seat_status == STATUS_ACTIVE
}

/// The filter of a list query, parsed and checked against the User schema: once per request,
/// before any database work.
pub fn parse_filter(q: &ListQuery) -> Result<Option<TypedFilter>, Error> {
    Ok(q.filter
        .as_deref()
        .map(|f| parse_for(f, &Registry::get().user))
        .transpose()?)
}

/// A list of users (`GET /Users`, `POST /Users/.search`) with its filter checked, to run
/// with `Db::query`: an IdP's `userName eq "…"` lookup is a point read.
pub struct Search {
    org_id: String,
    query: ListQuery,
    filter: Option<TypedFilter>,
}

impl Search {
    pub fn new(org_id: &str, query: ListQuery) -> Result<Search, Error> {
        let filter = parse_filter(&query)?;
        Ok(Search {
            org_id: org_id.to_string(),
            query,
            filter,
        })
    }

    /// Whether it finds its rows through an index (see `store::plan`).
    pub fn is_point(&self) -> bool {
        store::Read::access(self) == Access::Point
    }
}

impl store::Read for Search {
    type Output = (Vec<UserView>, i64);

    fn access(&self) -> Access {
        store::plan::user_list(self.filter.as_ref())
    }

    fn run(self, conn: &mut DbConn) -> Result<Self::Output, Error> {
        search(conn, &self.org_id, &self.query, self.filter.as_ref())
    }
}

/// List users matching a query and its `parse_filter`ed filter, filtered, sorted and paged in
/// the database; unknown sortBy attributes are refused rather than ignored.
pub fn search(
    conn: &mut DbConn,
    org_id: &str,
    q: &ListQuery,
    filter: Option<&TypedFilter>,
) -> Result<(Vec<UserView>, i64), Error> {
    let reg = Registry::get();
    let sort_by = super::sort_attribute(q.sort_by.as_deref(), &reg.user)?;
    let with_groups = crate::scim::projection::wants_attribute(
        &reg.user,
        &q.attributes,
        &q.excluded_attributes,
        "groups",
    );
    let (rows, total) = store::users::list(
        conn,
        org_id,
        &ListSpec {
            filter,
            sort_by: sort_by.as_ref(),
            descending: q.sort_order == crate::scim::list::SortOrder::Descending,
            offset: q.offset(),
            limit: q.count,
        },
    )?;
    Ok((load_views(conn, org_id, rows, with_groups)?, total))
}
