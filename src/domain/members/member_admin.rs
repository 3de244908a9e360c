//! Managing organization members: list with their seats, role changes, transfer of primary
//! ownership, removal. Role checks of the caller's own role happen in the handlers
//! (`OwnerSession::require`); the rules that depend on the target member live here.

use serde_json::json;

use crate::domain::members::accounts;
use crate::domain::members::{self, Member, Role};
use crate::domain::seat_admin;
use crate::domain::users::{self, UserView};
use crate::domain::{audit, Actor, Tier};
use crate::error::Error;
use crate::store::{self, users::UserRow, DbConn};

/// A member with the account (seat) it uses, if any.
#[derive(Debug, Clone)]
pub struct MemberView {
    pub member: Member,
    pub account: Option<UserView>,
}

/// Filters of the member list.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    pub role: Option<Role>,
    /// `active` | `pending` | `inactive` | `none` (no account).
    pub status: Option<String>,
    pub tier: Option<Tier>,
}

impl MemberFilter {
    /// The filter as given in a query (blank fields are absent); unknown values are named.
    pub fn parse(
        role: Option<&str>,
        status: Option<&str>,
        tier: Option<&str>,
    ) -> Result<MemberFilter, Error> {
        fn given(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|v| !v.is_empty())
        }
        Ok(MemberFilter {
            role: given(role).map(parse_role).transpose()?,
            status: match given(status) {
                None => None,
                Some(s @ ("active" | "pending" | "inactive" | "none")) => Some(s.to_string()),
                Some(s) => {
                    return Err(Error::BadRequest(format!(
                        "unknown status '{s}': use active, pending, inactive or none"
                    )))
                }
            },
            tier: given(tier).map(parse_tier).transpose()?,
        })
    }

    fn matches(&self, m: &Member, account: Option<&UserRow>) -> bool {
        if self.role.is_some_and(|r| r != m.role) {
            return false;
        }
        let status = account.map_or("none", |a| a.seat_status.as_str());
        if self.status.as_deref().is_some_and(|s| s != status) {
            return false;
        }
        let tier = account.and_then(|a| a.seat_tier.as_deref());
        if self.tier.is_some_and(|t| Some(t.as_str()) != tier) {
            return false;
        }
        true
    }
}

/// One page of members matching `filter`, and the number matching. Organizations have few
/// people with roles, so the filter runs over the organization's members in memory; the
/// accounts are looked up in one query.
pub fn list(
    conn: &mut DbConn,
    org_id: &str,
    filter: &MemberFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<MemberView>, i64), Error> {
    let all: Vec<Member> = store::members::list(conn, org_id)?
        .into_iter()
        .map(Member::try_from)
        .collect::<Result<_, _>>()?;
    let emails: Vec<String> = all.iter().map(|m| m.email.clone()).collect();
    let mut accounts = accounts::for_emails(conn, org_id, &emails)?;
    let matching: Vec<(Member, Option<UserRow>)> = all
        .into_iter()
        .map(|m| {
            let a = accounts.get(&m.email.to_lowercase()).cloned();
            (m, a)
        })
        .filter(|(m, a)| filter.matches(m, a.as_ref()))
        .collect();
    accounts.clear();
    let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
    let page: Vec<(Member, Option<UserRow>)> = matching
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    let rows: Vec<UserRow> = page.iter().filter_map(|(_, a)| a.clone()).collect();
    let mut views = users::load_views(conn, org_id, rows, true)?;
    let out = page
        .into_iter()
        .map(|(member, a)| {
            let account = a.and_then(|a| {
                views
                    .iter()
                    .position(|v| v.row.id == a.id)
                    .map(|i| views.swap_remove(i))
            });
            MemberView { member, account }
        })
        .collect();
    Ok((out, total))
}

pub fn parse_role(s: &str) -> Result<Role, Error> {
    Role::parse(s).ok_or_else(|| {
        Error::BadRequest(format!(
            "unknown role '{s}': use member, admin, owner or primary_owner"
        ))
    })
}

pub fn parse_tier(s: &str) -> Result<Tier, Error> {
    Tier::parse(s)
        .ok_or_else(|| Error::BadRequest(format!("unknown tier '{s}': use premium or standard")))
}

/// Move the account of `id` (a member or an account) to a free seat of `tier`.
pub fn move_tier(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    tier: Tier,
    actor: &Actor,
) -> Result<UserView, Error> {
    let user = account_id(conn, org_id, id)?;
    crate::domain::reassign::move_tier(conn, org_id, &user, tier, actor)
}

/// Swap the tiers of the accounts of `a` and `b` (members or accounts).
pub fn swap(
    conn: &mut DbConn,
    org_id: &str,
    a: &str,
    b: &str,
    actor: &Actor,
) -> Result<(UserView, UserView), Error> {
    let a = account_id(conn, org_id, a)?;
    let b = account_id(conn, org_id, b)?;
    crate::domain::reassign::swap_tiers(conn, org_id, &a, &b, actor)
}

/// Give the seat of `from`'s account to the pending account `to`; `from` is queued.
pub fn give_seat(
    conn: &mut DbConn,
    org_id: &str,
    from: &str,
    to: &str,
    actor: &Actor,
) -> Result<(UserView, UserView), Error> {
    let from = account_id(conn, org_id, from)?;
    let to = account_id(conn, org_id, to)?;
    crate::domain::reassign::give_seat(conn, org_id, &from, &to, actor)
}

fn load_member(conn: &mut DbConn, org_id: &str, id: &str) -> Result<Member, Error> {
    members::find(conn, org_id, id)?.ok_or_else(|| Error::not_found("member"))
}

pub fn get(conn: &mut DbConn, org_id: &str, id: &str) -> Result<MemberView, Error> {
    let member = load_member(conn, org_id, id)?;
    let account = match accounts::of_member(conn, &member)? {
        Some(row) => Some(users::get(conn, org_id, &row.id, true)?),
        None => None,
    };
    Ok(MemberView { member, account })
}

/// The account (SCIM user id) a seat operation acts on. `id` names a member (its account is
/// used) or directly an account: pending users from SCIM or JIT need not be members.
pub fn account_id(conn: &mut DbConn, org_id: &str, id: &str) -> Result<String, Error> {
    if let Some(m) = members::find(conn, org_id, id)? {
        return accounts::of_member(conn, &m)?.map(|a| a.id).ok_or_else(|| {
            Error::Conflict(format!(
                "member {} has no account, so no seat: it gets one when it accepts an invitation, logs in by SSO or is provisioned by the IdP",
                m.id
            ))
        });
    }
    store::users::find(conn, org_id, id)?
        .map(|u| u.id)
        .ok_or_else(|| Error::not_found("member or account"))
}

/// Change a member's role. Never to or from Primary Owner (that is a transfer).
pub fn change_role(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    to: Role,
    actor: &Actor,
) -> Result<MemberView, Error> {
    if to == Role::PrimaryOwner {
        return Err(Error::BadRequest(
            "nobody is made Primary Owner by a role change: the Primary Owner transfers primary ownership (POST /api/v1/ownership/transfer)".into(),
        ));
    }
    let member = load_member(conn, org_id, id)?;
    if member.role == Role::PrimaryOwner {
        return Err(Error::Conflict(
            "the Primary Owner's role cannot be changed: transfer primary ownership first".into(),
        ));
    }
    if member.role != to {
        store::members::set_role(conn, org_id, id, to.as_str())?;
        audit::record(
            conn,
            org_id,
            actor,
            "member.role_changed",
            Some(id),
            json!({"from": member.role.as_str(), "to": to.as_str()}),
        )?;
    }
    get(conn, org_id, id)
}

/// The Primary Owner hands primary ownership to another member, and becomes an Owner, in one
/// transaction (the old one is demoted first: the unique index allows one Primary Owner).
pub fn transfer_primary(
    conn: &mut DbConn,
    org_id: &str,
    from_id: &str,
    to_id: &str,
    actor: &Actor,
) -> Result<(MemberView, MemberView), Error> {
    let from = load_member(conn, org_id, from_id)?;
    if from.role != Role::PrimaryOwner {
        return Err(Error::Forbidden(format!(
            "requires {} (you are {})",
            Role::PrimaryOwner.and_above(),
            from.role
        )));
    }
    if from_id == to_id {
        return Err(Error::BadRequest(
            "you are already the Primary Owner: name another member".into(),
        ));
    }
    let to = load_member(conn, org_id, to_id)?;
    store::members::set_role(conn, org_id, from_id, Role::Owner.as_str())?;
    store::members::set_role(conn, org_id, to_id, Role::PrimaryOwner.as_str())?;
    audit::record(
        conn,
        org_id,
        actor,
        "member.primary_ownership_transferred",
        Some(to_id),
        json!({"from": from_id, "to": to_id, "previous_role_of_new": to.role.as_str()}),
    )?;
    Ok((get(conn, org_id, from_id)?, get(conn, org_id, to_id)?))
}

/// The member whose account is `user_id`, if any.
fn holder_of(conn: &mut DbConn, org_id: &str, user_id: &str) -> Result<Option<Member>, Error> {
    let all: Vec<Member> = store::members::list(conn, org_id)?
        .into_iter()
        .map(Member::try_from)
        .collect::<Result<_, _>>()?;
    let emails: Vec<String> = all.iter().map(|m| m.email.clone()).collect();
    let accounts = accounts::for_emails(conn, org_id, &emails)?;
    Ok(all.into_iter().find(|m| {
        accounts
            .get(&m.email.to_lowercase())
            .is_some_and(|a| a.id == user_id)
    }))
}

/// Remove a member or an account: its seat is released (the queue drains) or it leaves the
/// queue, and a member loses its role. The Primary Owner cannot be removed, and only Owners
/// and above remove Owners. Returns the account after removal, if there is one.
pub fn remove(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    caller: Role,
    actor: &Actor,
) -> Result<Option<UserView>, Error> {
    let account = if let Some(m) = members::find(conn, org_id, id)? {
        if m.role == Role::PrimaryOwner {
            return Err(Error::Conflict(
                "the Primary Owner cannot be removed: transfer primary ownership first".into(),
            ));
        }
        if m.role > caller {
            return Err(Error::Forbidden(format!(
                "removing an {} requires {} (you are {caller})",
                m.role,
                m.role.and_above()
            )));
        }
        let account = accounts::of_member(conn, &m)?;
        store::members::delete(conn, org_id, &m.id)?;
        audit::record(
            conn,
            org_id,
            actor,
            "member.deleted",
            Some(&m.id),
            json!({"role": m.role.as_str()}),
        )?;
        account.map(|a| a.id)
    } else {
        let user = store::users::find(conn, org_id, id)?
            .ok_or_else(|| Error::not_found("member or account"))?;
        // Addressed by its account, a member keeps the protection of its role.
        if let Some(holder) = holder_of(conn, org_id, &user.id)? {
            if holder.role == Role::PrimaryOwner || holder.role > caller {
                return Err(Error::Forbidden(format!(
                    "this account belongs to an {}; removing it requires {} (you are {caller})",
                    holder.role,
                    holder.role.and_above()
                )));
            }
        }
        Some(user.id)
    };
    match account {
        Some(user_id) => Ok(Some(seat_admin::remove_from_seats(
            conn, org_id, &user_id, actor,
        )?)),
        None => Ok(None),
    }
}

/// The members page: a page of members, how many match, and the invitations still open.
#[derive(Debug, Clone)]
pub struct Directory {
    pub members: Vec<MemberView>,
    pub total: i64,
    pub open_invitations: Vec<store::invitations::InvitationRow>,
}

pub fn directory(
    conn: &mut DbConn,
    org_id: &str,
    filter: &MemberFilter,
    offset: i64,
    limit: i64,
    now: chrono::NaiveDateTime,
) -> Result<Directory, Error> {
    let (members, total) = list(conn, org_id, filter, offset, limit)?;
    let open_invitations = crate::domain::members::invitations::list(
        conn,
        org_id,
        Some(crate::domain::members::invitations::PENDING),
    )?
    .into_iter()
    .filter(|r| {
        crate::domain::members::invitations::effective_status(r, now)
            == crate::domain::members::invitations::PENDING
    })
    .collect();
    Ok(Directory {
        members,
        total,
        open_invitations,
    })
}

/// Choices offered when managing one member: the other members holding a seat (to swap
/// with) and the head of the queue (to give the seat to), as `(id, label)`.
#[derive(Debug, Clone)]
pub struct Manage {
    pub view: MemberView,
    pub seated_others: Vec<(String, String)>,
    pub pending: Vec<(String, String)>,
}

/// Pending users offered in the "give the seat to" list (the queue's head first).
pub const OFFERED_PENDING: i64 = 100;

pub fn manage(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    now: chrono::NaiveDateTime,
) -> Result<Manage, Error> {
    let view = get(conn, org_id, id)?;
    let (all, _) = list(conn, org_id, &MemberFilter::default(), 0, i64::MAX)?;
    let seated_others = all
        .into_iter()
        .filter(|m| m.member.id != view.member.id)
        .filter_map(|m| {
            let a = m.account?;
            let tier = a.row.seat_tier.clone()?;
            (a.row.seat_status == crate::domain::seats::inventory::STATUS_ACTIVE)
                .then(|| (m.member.id, format!("{} ({tier})", m.member.email)))
        })
        .collect();
    let pending = crate::domain::reports::pending_entries(
        conn,
        org_id,
        store::reports::From::Offset(0),
        OFFERED_PENDING,
        1,
        now,
    )?
    .into_iter()
    .map(|e| {
        let label = match &e.email {
            Some(m) => format!("#{} {} <{m}>", e.queue_position, e.display_name),
            None => format!("#{} {}", e.queue_position, e.display_name),
        };
        (e.id, label)
    })
    .collect();
    Ok(Manage {
        view,
        seated_others,
        pending,
    })
}
