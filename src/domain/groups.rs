//! Group use cases. Membership lives in rows, so a member change is a row insert or delete
//! and a version bump, never a rewrite of the group.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::{audit, seats, seats::inventory, seats::tier_moves, Actor, Preconditions, Version};
use crate::error::Error;
use crate::scim::error::ScimError;
use crate::scim::filter::{parse_for, TypedFilter};
use crate::scim::list::ListQuery;
use crate::scim::resource::str_attr;
use crate::scim::schema::Registry;
use crate::store::plan::Access;
use crate::store::query::ListSpec;
use crate::store::{self, groups::GroupMemberRow, groups::GroupRow, DbConn};

/// A member as a client names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    pub value: String,
}

/// Pull `members` out of a group body: `[{"value": id, ...}]`.
pub fn member_refs(list: &Value) -> Result<Vec<MemberRef>, Error> {
    let items = match list {
        Value::Null => return Ok(Vec::new()),
        Value::Array(a) => a.as_slice(),
        _ => return Err(ScimError::invalid_value("'members' must be an array").into()),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let value = item
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("value")))
            .and_then(|(_, v)| v.as_str())
            .ok_or_else(|| ScimError::invalid_value("each member needs a string 'value'"))?;
        out.push(MemberRef {
            value: value.to_string(),
        });
    }
    Ok(out)
}

/// A change to the member list, in request order.
#[derive(Debug, Clone)]
pub enum MemberChange {
    Add(Vec<MemberRef>),
    Remove(Vec<String>),
    RemoveAll,
    ReplaceAll(Vec<MemberRef>),
}

#[derive(Debug, Clone)]
pub struct GroupMember {
    pub id: String,
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct GroupView {
    pub row: GroupRow,
    /// `None` when the caller asked not to load members.
    pub members: Option<Vec<GroupMember>>,
}

impl GroupView {
    /// The version its `meta.version` and ETag show.
    pub fn version(&self) -> Version {
        self.row.version.into()
    }
}

/// Resolve member ids to rows of this organization; an id that is no user or group of the
/// organization is refused (and never reveals whether it exists elsewhere).
fn resolve_members(
    conn: &mut DbConn,
    org_id: &str,
    refs: &[MemberRef],
) -> Result<Vec<GroupMemberRow>, Error> {
    let mut seen = HashSet::new();
    let ids: Vec<String> = refs
        .iter()
        .filter(|r| seen.insert(r.value.clone()))
        .map(|r| r.value.clone())
        .collect();
    let users: HashSet<String> = store::users::existing_ids(conn, org_id, &ids)?
        .into_iter()
        .collect();
    // Members are nearly always users: the groups are looked up only for the ids left over.
    let rest: Vec<String> = ids
        .iter()
        .filter(|id| !users.contains(*id))
        .cloned()
        .collect();
    let groups: HashSet<String> = if rest.is_empty() {
        HashSet::new()
    } else {
        store::groups::existing_ids(conn, org_id, &rest)?
            .into_iter()
            .collect()
    };
    ids.into_iter()
        .map(|id| {
            let kind = if users.contains(&id) {
                USER
            } else if groups.contains(&id) {
                "Group"
            } else {
                return Err(
                    ScimError::invalid_value(format!("member '{id}' does not exist")).into(),
                );
            };
            Ok(GroupMemberRow {
                member_id: id,
                member_type: kind.into(),
            })
        })
        .collect()
}

fn indexed(resource: &Value) -> Result<(String, Option<String>), Error> {
    let name = str_attr(resource, "displayName")
        .ok_or_else(|| ScimError::invalid_value("'displayName' is required"))?;
    Ok((
        name.to_string(),
        str_attr(resource, "externalId").map(str::to_string),
    ))
}

#[tracing::instrument(skip_all, fields(org = %org_id))]
pub fn create(
    conn: &mut DbConn,
    org_id: &str,
    resource: Value,
    members: Vec<MemberRef>,
    actor: &Actor,
) -> Result<GroupView, Error> {
    let (display_name, external_id) = indexed(&resource)?;
    let now = store::now();
    let row = GroupRow {
        // Time-ordered (v7): new rows append to the id indexes instead of dirtying a random
        // page of each per insert.
        id: uuid::Uuid::now_v7().to_string(),
        org_id: org_id.to_string(),
        display_name_norm: display_name.to_lowercase(),
        display_name,
        external_id,
        resource: resource.to_string(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::groups::insert(conn, &row)?;
    let rows = resolve_members(conn, org_id, &members)?;
    for m in &rows {
        store::groups::add_member(conn, org_id, &row.id, m, now)?;
    }
    // Each member user's `groups` now holds this group.
    let users: Vec<String> = rows
        .iter()
        .filter(|m| m.member_type == USER)
        .map(|m| m.member_id.clone())
        .collect();
    store::versions::touch_users(conn, org_id, &users, now)?;
    audit::record(
        conn,
        org_id,
        actor,
        "group.created",
        Some(&row.id),
        json!({"members": rows.len()}),
    )?;
    get(conn, org_id, &row.id, true)
}

pub fn get(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    with_members: bool,
) -> Result<GroupView, Error> {
    let row = store::groups::find(conn, org_id, id)?.ok_or_else(|| Error::not_found("Group"))?;
    one_view(conn, org_id, row, with_members)
}

fn one_view(
    conn: &mut DbConn,
    org_id: &str,
    row: GroupRow,
    with_members: bool,
) -> Result<GroupView, Error> {
    let mut views = load_views(conn, org_id, vec![row], with_members)?;
    views.pop().ok_or_else(|| Error::not_found("Group"))
}

/// Views for a page of groups; members in one query for the whole page.
/// The views of one page of a list: when members are shown, the page stops before the group
/// whose members would take it past `MAX_PAGE_MEMBERS` (the first group always stays), so a
/// list's memory is bounded whatever the groups hold. The client reads on from
/// `startIndex + itemsPerPage`, as RFC 7644 §3.4.2.4 has it.
pub fn load_page_views(
    conn: &mut DbConn,
    org_id: &str,
    mut rows: Vec<GroupRow>,
    with_members: bool,
    max_members: i64,
) -> Result<Vec<GroupView>, Error> {
    if with_members && rows.len() > 1 {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let counts: HashMap<String, i64> = store::groups::member_counts(conn, org_id, &ids)?
            .into_iter()
            .collect();
        let mut total = 0i64;
        let keep = rows
            .iter()
            .take_while(|r| {
                total += counts.get(&r.id).copied().unwrap_or(0);
                total <= max_members
            })
            .count()
            .max(1);
        rows.truncate(keep);
    }
    load_views(conn, org_id, rows, with_members)
}

pub fn load_views(
    conn: &mut DbConn,
    org_id: &str,
    rows: Vec<GroupRow>,
    with_members: bool,
) -> Result<Vec<GroupView>, Error> {
    if !with_members {
        return Ok(rows
            .into_iter()
            .map(|row| GroupView { row, members: None })
            .collect());
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut by_group: HashMap<String, Vec<GroupMember>> = HashMap::new();
    for (gid, m) in store::groups::members_of(conn, org_id, &ids)? {
        by_group.entry(gid).or_default().push(GroupMember {
            id: m.member_id,
            kind: m.member_type,
        });
    }
    Ok(rows
        .into_iter()
        .map(|row| GroupView {
            members: Some(by_group.remove(&row.id).unwrap_or_default()),
            row,
        })
        .collect())
}

/// The `member_type` of a user member.
const USER: &str = "User";

/// Net membership changes of users in one request: a user's `groups` attribute changed only
/// where the sum is not zero (a member replace that keeps a user removes and re-adds it).
#[derive(Default)]
struct UserMoves(HashMap<String, i32>);

impl UserMoves {
    fn joined(&mut self, m: &GroupMemberRow) {
        if m.member_type == USER {
            *self.0.entry(m.member_id.clone()).or_default() += 1;
        }
    }

    fn left(&mut self, gone: Vec<GroupMemberRow>) {
        for m in gone.into_iter().filter(|m| m.member_type == USER) {
            *self.0.entry(m.member_id).or_default() -= 1;
        }
    }

    /// The users whose net change passes `keep`, sorted (one lock order on PostgreSQL).
    fn changed(&self, keep: impl Fn(i32) -> bool) -> Vec<String> {
        let mut ids: Vec<String> = self
            .0
            .iter()
            .filter(|(_, &net)| keep(net))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort_unstable();
        ids
    }
}

/// Change a group: `f` maps the current canonical resource (without members) to the new one;
/// member changes are applied as row operations, in order.
#[tracing::instrument(skip_all, fields(org = %org_id, group_id = %id))]
pub fn modify(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    pre: &Preconditions,
    actor: &Actor,
    f: impl FnOnce(Value) -> Result<(Value, Vec<MemberChange>), Error>,
    return_members: bool,
) -> Result<GroupView, Error> {
    let mut row =
        store::groups::find(conn, org_id, id)?.ok_or_else(|| Error::not_found("Group"))?;
    pre.check_write(row.version.into())?;
    let current: Value = serde_json::from_str(&row.resource)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored group {id} is not JSON: {e}")))?;
    let (resource, changes) = f(current.clone())?;
    // A membership change can move users between tiers (group tier policy): take the
    // organization lock first, the order every seat use case locks in.
    let seq = if changes.is_empty() {
        None
    } else {
        Some(inventory::lock_org(conn, org_id)?)
    };
    let now = store::now();
    let changed = resource != current;
    let (mut added, mut removed) = (0usize, 0usize);
    let mut users = UserMoves::default();
    for change in changes {
        match change {
            MemberChange::Add(refs) => {
                for m in resolve_members(conn, org_id, &refs)? {
                    if store::groups::add_member(conn, org_id, id, &m, now)? {
                        added += 1;
                        users.joined(&m);
                    }
                }
            }
            MemberChange::Remove(ids) => {
                let gone = store::groups::remove_members(conn, org_id, id, &ids)?;
                removed += gone.len();
                users.left(gone);
            }
            MemberChange::RemoveAll => {
                let gone = store::groups::remove_all_members(conn, org_id, id)?;
                removed += gone.len();
                users.left(gone);
            }
            MemberChange::ReplaceAll(refs) => {
                let rows = resolve_members(conn, org_id, &refs)?;
                let gone = store::groups::remove_all_members(conn, org_id, id)?;
                removed += gone.len();
                users.left(gone);
                for m in &rows {
                    if store::groups::add_member(conn, org_id, id, m, now)? {
                        added += 1;
                        users.joined(m);
                    }
                }
            }
        }
    }
    let members_changed = added > 0 || removed > 0;
    if changed || members_changed {
        row.version += 1;
        row.updated_at = now;
        let mut renamed = false;
        if changed {
            let (display_name, external_id) = indexed(&resource)?;
            renamed = display_name != row.display_name;
            row.display_name_norm = display_name.to_lowercase();
            row.display_name = display_name;
            row.external_id = external_id;
            row.resource = resource.to_string();
            store::groups::update(conn, &row)?;
        } else {
            // Members live in their own rows: a membership-only change bumps the version alone.
            store::groups::touch(conn, org_id, id, now)?;
        }
        // The users whose `groups` attribute changed get a new version too.
        if renamed {
            // Every member shows the new name: one statement over the members (those that
            // joined included), and the users that left.
            store::versions::touch_members_of(conn, org_id, id, now)?;
            store::versions::touch_users(conn, org_id, &users.changed(|net| net < 0), now)?;
        } else {
            store::versions::touch_users(conn, org_id, &users.changed(|net| net != 0), now)?;
        }
        audit::record(
            conn,
            org_id,
            actor,
            "group.updated",
            Some(id),
            json!({"membersAdded": added, "membersRemoved": removed}),
        )?;
    }
    if let (Some(seq), true) = (seq, members_changed) {
        apply_policy(conn, org_id, seq, &users.changed(|net| net != 0), actor)?;
    }
    one_view(conn, org_id, row, return_members)
}

#[tracing::instrument(skip_all, fields(org = %org_id, group_id = %id))]
pub fn delete(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    pre: &Preconditions,
    actor: &Actor,
) -> Result<(), Error> {
    let row = store::groups::find(conn, org_id, id)?.ok_or_else(|| Error::not_found("Group"))?;
    pre.check_write(row.version.into())?;
    // Its rule, if any, goes with it: its members' tiers are looked at again.
    let seq = inventory::lock_org(conn, org_id)?;
    let had_rules = store::seat_policy::any_for_org(conn, org_id)?;
    // Its member users lose it from `groups`, and the groups that held it lose a member:
    // both get a new version. Membership rows go first, then groups, then users (the lock
    // order of a group PATCH; see `store::versions`).
    let now = store::now();
    let members = store::groups::remove_all_members(conn, org_id, id)?;
    let parents = store::groups::leave_all_groups(conn, org_id, id)?;
    store::versions::touch_groups(conn, org_id, &parents, now)?;
    store::groups::delete(conn, org_id, id)?;
    let users: Vec<String> = members
        .into_iter()
        .filter(|m| m.member_type == USER)
        .map(|m| m.member_id)
        .collect();
    store::versions::touch_users(conn, org_id, &users, now)?;
    audit::record(conn, org_id, actor, "group.deleted", Some(id), json!({}))?;
    let mut users = users;
    users.sort_unstable();
    if had_rules {
        // Rules were there (maybe only this group's): waits for its tier end.
        apply_rules(conn, org_id, seq, &users, actor)?;
    }
    Ok(())
}

/// Users' group memberships changed: the group tier policy moves them, or records what they
/// wait for, and a freed seat drains the queue. Nothing to do without rules.
fn apply_policy(
    conn: &mut DbConn,
    org_id: &str,
    seq: i64,
    users: &[String],
    actor: &Actor,
) -> Result<(), Error> {
    if users.is_empty() || !store::seat_policy::any_for_org(conn, org_id)? {
        return Ok(());
    }
    apply_rules(conn, org_id, seq, users, actor)
}

fn apply_rules(
    conn: &mut DbConn,
    org_id: &str,
    seq: i64,
    users: &[String],
    actor: &Actor,
) -> Result<(), Error> {
    if tier_moves::apply(conn, org_id, seq, users, actor)? {
        seats::drain(conn, org_id, actor)?;
    }
    Ok(())
}

/// The filter of a list query, parsed and checked against the Group schema: once per
/// request, before any database work.
pub fn parse_filter(q: &ListQuery) -> Result<Option<TypedFilter>, Error> {
    Ok(q.filter
        .as_deref()
        .map(|f| parse_for(f, &Registry::get().group))
        .transpose()?)
}

fn wants_members(q: &ListQuery) -> bool {
    crate::scim::projection::wants_attribute(
        &crate::scim::schema::Registry::get().group,
        &q.attributes,
        &q.excluded_attributes,
        "members",
    )
}

/// A list of groups (`GET /Groups`, `POST /Groups/.search`) with its filter checked, to run
/// with `Db::query`: Entra's `displayName eq "…"&excludedAttributes=members` is a point read.
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
    type Output = (Vec<GroupView>, i64);

    fn access(&self) -> Access {
        store::plan::group_list(self.filter.as_ref(), wants_members(&self.query))
    }

    fn run(self, conn: &mut DbConn) -> Result<Self::Output, Error> {
        search(conn, &self.org_id, &self.query, self.filter.as_ref())
    }
}

/// One group by id (`GET /Groups/{id}`), to run with `Db::query`: a point read unless its
/// members, which can number 100,000, come with it.
pub struct Get {
    pub org_id: String,
    pub id: String,
    pub with_members: bool,
}

impl store::Read for Get {
    type Output = GroupView;

    fn access(&self) -> Access {
        store::plan::group_get(self.with_members)
    }

    fn run(self, conn: &mut DbConn) -> Result<GroupView, Error> {
        get(conn, &self.org_id, &self.id, self.with_members)
    }
}

/// List groups matching a query and its `parse_filter`ed filter; members are loaded only when
/// they will be returned; unknown sortBy attributes are refused rather than ignored.
pub fn search(
    conn: &mut DbConn,
    org_id: &str,
    q: &ListQuery,
    filter: Option<&TypedFilter>,
) -> Result<(Vec<GroupView>, i64), Error> {
    let sort_by = super::sort_attribute(q.sort_by.as_deref(), &Registry::get().group)?;
    let (rows, total) = store::groups::list(
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
    Ok((
        load_page_views(conn, org_id, rows, wants_members(q), q.max_page_members)?,
        total,
    ))
}
