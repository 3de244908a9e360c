//! Manual invitations. An Admin or above invites an address of a verified domain with a role
//! (Admins invite Members and Admins, Owners also Owners; nobody invites a Primary Owner — the
//! operator's `org create --owner-email` is the one exception). An invitation is a random
//! secret, stored hashed, mailed through the outbox, valid for 21 days from sending.
//! Re-inviting voids the pending invitation of the address and sends a fresh one. Accepting
//! makes the member and its account (claiming a seat or queueing, source `invitation`).
//! Expired, voided and already accepted invitations are refused with 410 Gone.

use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::mail::{self, Mail};
use crate::domain::members::accounts::{self, Ensured};
use crate::domain::members::{self, validate_email, Member, Role};
use crate::domain::users::UserView;
use crate::domain::{audit, members::domains, Actor, Source};
use crate::error::Error;
use crate::store::{self, invitations::InvitationRow, DbConn};

/// Where invitations are accepted (relative to the server's public URL).
pub const ACCEPT_PATH: &str = "/invitations/accept";

/// The link an invitation mail carries, on the server's public URL.
pub fn accept_url(public_url: &str) -> String {
    format!("{}{ACCEPT_PATH}", public_url.trim_end_matches('/'))
}

/// How long an invitation can be accepted after it was sent.
pub const VALID_DAYS: i64 = 21;
const PREFIX: &str = "scimseats-inv";

pub const PENDING: &str = "pending";
pub const ACCEPTED: &str = "accepted";
pub const VOIDED: &str = "voided";

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The invitation id inside a token of our shape.
fn token_id(token: &str) -> Option<&str> {
    let rest = token.trim().strip_prefix(PREFIX)?.strip_prefix('_')?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 32 && !secret.is_empty()).then_some(id)
}

/// Who may invite whom: the caller's role against the invited role.
pub fn check_may_invite(caller: Role, role: Role) -> Result<(), Error> {
    match role {
        Role::PrimaryOwner => Err(Error::Forbidden(
            "nobody invites a Primary Owner: invite an Owner, then the Primary Owner transfers primary ownership".into(),
        )),
        Role::Owner if !caller.at_least(Role::Owner) => Err(Error::Forbidden(format!(
            "inviting an Owner requires {} (you are {caller})",
            Role::Owner.and_above()
        ))),
        _ if !caller.at_least(Role::Admin) => Err(Error::Forbidden(format!(
            "requires {} (you are {caller})",
            Role::Admin.and_above()
        ))),
        _ => Ok(()),
    }
}

/// An invitation as it was sent; `token` exists only here and in the outbox mail.
#[derive(Debug, Clone)]
pub struct Sent {
    pub invitation: InvitationRow,
    pub voided: usize,
    /// The secret, for the one caller allowed to show it (the operator's `org create`).
    pub token: String,
}

/// What an invitation is made of.
#[derive(Debug, Clone, Copy)]
pub struct NewInvitation<'a> {
    pub email: &'a str,
    pub role: Role,
    /// When it is sent (the clock's now); it expires `VALID_DAYS` later.
    pub now: NaiveDateTime,
    /// The link in the mail; the token is appended as `?token=…`.
    pub accept_url: &'a str,
}

/// Record an invitation and queue its mail, in the caller's transaction. Voids the pending
/// invitation of the same address first.
pub fn create(
    conn: &mut DbConn,
    org_id: &str,
    new: &NewInvitation<'_>,
    actor: &Actor,
) -> Result<Sent, Error> {
    let (role, now, accept_url) = (new.role, new.now, new.accept_url);
    let email = validate_email(new.email)?;
    let email_norm = email.to_lowercase();
    let voided = store::invitations::void_pending(conn, org_id, &email_norm, now)?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let token = format!("{PREFIX}_{id}_{}", hex::encode(secret));
    let row = InvitationRow {
        id: id.clone(),
        org_id: org_id.to_string(),
        email: email.clone(),
        email_norm,
        role: role.as_str().into(),
        token_hash: hash(&token),
        invited_by: actor.id.clone(),
        status: PENDING.into(),
        sent_at: now,
        expires_at: now + Duration::days(VALID_DAYS),
        accepted_at: None,
        voided_at: None,
    };
    store::invitations::insert(conn, &row)?;
    let org = store::orgs::find(conn, org_id)?.ok_or_else(|| Error::not_found("organization"))?;
    mail::enqueue(
        conn,
        org_id,
        "invitation",
        Mail {
            to: email,
            subject: format!("You are invited to {} on scim-seats", org.name),
            body: format!(
                "You have been invited to join {org} as {role}.\n\n\
                 Open this link to accept within {VALID_DAYS} days (until {expires} UTC):\n\
                 {accept_url}?token={token}\n",
                org = org.name,
                role = role.label(),
                expires = row.expires_at.format("%Y-%m-%d %H:%M"),
            ),
        },
    )?;
    audit::record(
        conn,
        org_id,
        actor,
        "invitation.sent",
        Some(&id),
        json!({"role": role.as_str(), "expires_at": row.expires_at, "voided_previous": voided}),
    )?;
    Ok(Sent {
        invitation: row,
        voided,
        token,
    })
}

/// Invite through the owner API: role rules, verified domain, not already a member.
pub fn invite(
    conn: &mut DbConn,
    org_id: &str,
    caller: Role,
    new: &NewInvitation<'_>,
    actor: &Actor,
) -> Result<Sent, Error> {
    check_may_invite(caller, new.role)?;
    let email = validate_email(new.email)?;
    domains::check_email(conn, org_id, &email)?;
    if store::members::find_by_email(conn, org_id, &email.to_lowercase())?.is_some() {
        return Err(Error::Conflict(
            "this address is already a member of the organization; change its role instead".into(),
        ));
    }
    create(
        conn,
        org_id,
        &NewInvitation {
            email: &email,
            ..*new
        },
        actor,
    )
}

/// Void a pending invitation by id.
pub fn void(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    caller: Role,
    now: NaiveDateTime,
    actor: &Actor,
) -> Result<(), Error> {
    let row = store::invitations::find_in_org(conn, org_id, id)?
        .ok_or_else(|| Error::not_found("invitation"))?;
    if let Some(role) = Role::parse(&row.role) {
        // Whoever could not send it cannot void it either.
        if role != Role::PrimaryOwner {
            check_may_invite(caller, role)?;
        } else if caller != Role::PrimaryOwner {
            return Err(Error::Forbidden(format!(
                "requires {} (you are {caller})",
                Role::PrimaryOwner.and_above()
            )));
        }
    }
    if !store::invitations::void(conn, org_id, id, now)? {
        return Err(Error::Conflict(format!(
            "the invitation is already {}",
            row.status
        )));
    }
    audit::record(
        conn,
        org_id,
        actor,
        "invitation.voided",
        Some(id),
        json!({}),
    )?;
    Ok(())
}

/// The status an invitation shows at `now` (`expired` is derived, never stored).
pub fn effective_status(row: &InvitationRow, now: NaiveDateTime) -> &'static str {
    match row.status.as_str() {
        ACCEPTED => ACCEPTED,
        VOIDED => VOIDED,
        _ if now >= row.expires_at => "expired",
        _ => PENDING,
    }
}

/// What accepting an invitation produced.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub member: Member,
    pub account: UserView,
    pub created_account: bool,
}

/// The invitation a token opens, if it can still be accepted: 401 for a token that is not
/// one; 410 Gone, saying why, for an expired, voided or accepted invitation.
fn open(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<InvitationRow, Error> {
    let invalid = || Error::Unauthorized("the invitation token is not valid".into());
    let id = token_id(token).ok_or_else(invalid)?;
    let row = store::invitations::find(conn, id)?.ok_or_else(invalid)?;
    let matches: bool = hash(token.trim())
        .as_bytes()
        .ct_eq(row.token_hash.as_bytes())
        .into();
    if !matches {
        return Err(invalid());
    }
    match effective_status(&row, now) {
        ACCEPTED => Err(Error::Gone("this invitation was already accepted".into())),
        VOIDED => Err(Error::Gone(
            "this invitation was voided: a newer invitation was sent or it was withdrawn; use the latest one or ask an admin to invite you again".into(),
        )),
        "expired" => Err(Error::Gone(format!(
            "this invitation expired on {} UTC ({VALID_DAYS} days after it was sent); ask an admin to invite you again",
            row.expires_at.format("%Y-%m-%d %H:%M")
        ))),
        _ => Ok(row),
    }
}

/// What the invitation page shows before the person accepts.
#[derive(Debug, Clone)]
pub struct Preview {
    pub org_name: String,
    pub email: String,
    pub role: Role,
    pub expires_at: NaiveDateTime,
}

/// Look at an invitation without accepting it (the same checks as `accept`).
pub fn preview(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<Preview, Error> {
    let row = open(conn, token, now)?;
    let org = store::orgs::find(conn, &row.org_id)?
        .ok_or_else(|| Error::Gone("this invitation's organization no longer exists".into()))?;
    let role = Role::parse(&row.role).ok_or_else(|| {
        Error::Internal(anyhow::anyhow!(
            "invitation {} has role {}",
            row.id,
            row.role
        ))
    })?;
    Ok(Preview {
        org_name: org.name,
        email: row.email,
        role,
        expires_at: row.expires_at,
    })
}

/// Accept with the invitation token: creates the member (the Primary Owner's member exists
/// since the organization was created) and its account. 410 Gone for an expired, voided or
/// used invitation; 401 for a token that is not one.
pub fn accept(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<Accepted, Error> {
    let row = open(conn, token, now)?;
    let id = row.id.as_str();
    let role = Role::parse(&row.role)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("invitation {id} has role {}", row.role)))?;
    if !store::invitations::accept(conn, id, now)? {
        return Err(Error::Gone("this invitation was already used".into()));
    }
    let actor = Actor::new(format!("invitation:{id}"), Source::Invitation);
    let member = match store::members::find_by_email(conn, &row.org_id, &row.email_norm)? {
        Some(m) => Member::try_from(m)?,
        None => members::add(conn, &row.org_id, &row.email, role, &actor)?,
    };
    let (account, how) = accounts::ensure(conn, &row.org_id, &row.email, None, true, &actor)?;
    audit::record(
        conn,
        &row.org_id,
        &actor,
        "invitation.accepted",
        Some(id),
        json!({"member": member.id, "account": account.row.id, "status": account.row.seat_status}),
    )?;
    Ok(Accepted {
        member,
        account,
        created_account: how == Ensured::Created,
    })
}

pub fn list(
    conn: &mut DbConn,
    org_id: &str,
    status: Option<&str>,
) -> Result<Vec<InvitationRow>, Error> {
    // `expired` is derived: fetch pending ones and let the caller filter by effective status.
    let stored = match status {
        Some("expired") => Some(PENDING),
        other => other,
    };
    Ok(store::invitations::list(conn, org_id, stored)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_may_invite_whom() {
        use Role::*;
        for (caller, role, ok) in [
            (Member, Member, false),
            (Admin, Member, true),
            (Admin, Admin, true),
            (Admin, Owner, false),
            (Owner, Owner, true),
            (PrimaryOwner, Owner, true),
            (PrimaryOwner, PrimaryOwner, false),
            (Owner, PrimaryOwner, false),
        ] {
            assert_eq!(
                check_may_invite(caller, role).is_ok(),
                ok,
                "{caller} {role}"
            );
        }
    }

    #[test]
    fn token_ids_parse_only_from_our_shape() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(token_id(&format!("scimseats-inv_{id}_ab")), Some(id));
        assert_eq!(token_id(&format!("scimseats_{id}_ab")), None);
        assert_eq!(token_id("x"), None);
    }
}
