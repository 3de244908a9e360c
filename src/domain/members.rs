//! Organization members and their roles: who may act on the owner API. Exactly one Primary
//! Owner per organization (a partial unique index backs this up on both backends).

pub mod accounts;
pub mod domains;
pub mod invitations;
pub mod member_admin;
pub mod signin_links;
pub mod web_sessions;

use std::fmt;

use serde_json::json;

use super::{audit, Actor};
use crate::error::Error;
use crate::store::{self, members::MemberRow, DbConn};

/// Roles, lowest to highest rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Member,
    Admin,
    Owner,
    PrimaryOwner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Member, Role::Admin, Role::Owner, Role::PrimaryOwner];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::PrimaryOwner => "primary_owner",
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The name people read ("Primary Owner").
    pub fn label(self) -> &'static str {
        match self {
            Role::PrimaryOwner => "Primary Owner",
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
        }
    }

    /// True when this role may do what `min` may.
    pub fn at_least(self, min: Role) -> bool {
        self >= min
    }

    /// "Owner or Primary Owner": every role at or above `self`, for error messages.
    pub fn and_above(self) -> String {
        let names: Vec<&str> = Role::ALL
            .into_iter()
            .filter(|r| *r >= self)
            .map(Role::label)
            .collect();
        match names.as_slice() {
            [] => String::new(),
            [one] => (*one).to_string(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A member as the rest of the code sees it.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub role: Role,
}

impl TryFrom<MemberRow> for Member {
    type Error = Error;
    fn try_from(row: MemberRow) -> Result<Self, Error> {
        let role = Role::parse(&row.role).ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "member {} has unknown role {}",
                row.id,
                row.role
            ))
        })?;
        Ok(Member {
            id: row.id,
            org_id: row.org_id,
            email: row.email,
            role,
        })
    }
}

/// Minimal email shape check: one `@`, a non-empty local part, a dotted domain.
pub fn validate_email(email: &str) -> Result<String, Error> {
    let e = email.trim();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.chars().any(char::is_whitespace)
        });
    if ok {
        Ok(e.to_string())
    } else {
        Err(Error::BadRequest(format!(
            "'{email}' is not an email address"
        )))
    }
}

/// Add a member with a role. A second Primary Owner or a duplicate email is a conflict.
pub fn add(
    conn: &mut DbConn,
    org_id: &str,
    email: &str,
    role: Role,
    actor: &Actor,
) -> Result<Member, Error> {
    let email = validate_email(email)?;
    let email_norm = email.to_lowercase();
    if store::members::find_by_email(conn, org_id, &email_norm)?.is_some() {
        return Err(Error::Conflict(
            "a member with this email already exists in the organization".into(),
        ));
    }
    if role == Role::PrimaryOwner && store::members::primary_owner(conn, org_id)?.is_some() {
        return Err(Error::Conflict(
            "the organization already has a Primary Owner; there is exactly one".into(),
        ));
    }
    let row = MemberRow {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: org_id.to_string(),
        email,
        email_norm,
        role: role.as_str().into(),
        created_at: store::now(),
    };
    store::members::insert(conn, &row)?;
    audit::record(
        conn,
        org_id,
        actor,
        "member.added",
        Some(&row.id),
        json!({"role": role.as_str()}),
    )?;
    Member::try_from(row)
}

pub fn find(conn: &mut DbConn, org_id: &str, id: &str) -> Result<Option<Member>, Error> {
    store::members::find(conn, org_id, id)?
        .map(Member::try_from)
        .transpose()
}

pub fn by_email(conn: &mut DbConn, org_id: &str, email: &str) -> Result<Member, Error> {
    store::members::find_by_email(conn, org_id, &email.trim().to_lowercase())?
        .map(Member::try_from)
        .transpose()?
        .ok_or_else(|| Error::not_found("member with that email"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_rank_and_read_well() {
        assert!(Role::PrimaryOwner.at_least(Role::Owner));
        assert!(Role::Owner.at_least(Role::Owner));
        assert!(!Role::Admin.at_least(Role::Owner));
        assert_eq!(Role::Owner.and_above(), "Owner or Primary Owner");
        assert_eq!(Role::Admin.and_above(), "Admin, Owner or Primary Owner");
        assert_eq!(Role::PrimaryOwner.and_above(), "Primary Owner");
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn emails_are_checked() {
        assert!(validate_email("a@b.co").is_ok());
        for bad in ["", "a", "@b.co", "a@b", "a@@b.co", "a b@c.co", "a@.co"] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }
}
