//! Organizations: creation with their initial seat allocation, verified domains, contract and
//! (optionally) Primary Owner.

use serde_json::json;

use super::billing::contracts::{self, NewContract};
use super::members::domains::validate_domain;
use super::members::invitations;
use super::members::{self, Role};
use super::{audit, Actor, Tier};
use crate::error::Error;
use crate::store::{self, orgs::OrgRow, seats::PoolRow, DbConn};

#[derive(Debug, Clone)]
pub struct NewOrg {
    pub slug: String,
    pub name: String,
    pub domains: Vec<String>,
    pub standard_seats: i64,
    pub premium_seats: i64,
}

/// Slugs name organizations in URLs and CLI calls: lowercase letters, digits and dashes.
pub fn validate_slug(slug: &str) -> Result<(), Error> {
    let ok = !slug.is_empty()
        && slug.len() <= 63
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "invalid slug '{slug}': use 1-63 lowercase letters, digits and dashes"
        )))
    }
}

/// What an organization is created with besides its seats and domains.
#[derive(Debug, Clone, Default)]
pub struct OrgOptions {
    pub contract: NewContract,
    /// Becomes the Primary Owner member when given.
    pub owner_email: Option<String>,
}

/// Create an organization with a default contract (term from today, USD 600/1,200, auto-renew).
pub fn create(conn: &mut DbConn, new: &NewOrg) -> Result<OrgRow, Error> {
    create_with(conn, new, &OrgOptions::default())
}

pub fn create_with(conn: &mut DbConn, new: &NewOrg, opts: &OrgOptions) -> Result<OrgRow, Error> {
    create_full(conn, new, opts, invitations::ACCEPT_PATH).map(|(org, _)| org)
}

/// Create an organization. With an owner email, the Primary Owner member is created and its
/// first invitation (21 days, like any other) is recorded and queued for mail with a link under
/// `accept_url`; accepting it gives the Primary Owner its account and a session token. The
/// operator's invitation is not limited to the verified domains.
pub fn create_full(
    conn: &mut DbConn,
    new: &NewOrg,
    opts: &OrgOptions,
    accept_url: &str,
) -> Result<(OrgRow, Option<String>), Error> {
    validate_slug(&new.slug)?;
    if new.name.trim().is_empty() {
        return Err(Error::BadRequest("the organization needs a name".into()));
    }
    if new.standard_seats < 0 || new.premium_seats < 0 {
        return Err(Error::BadRequest("seat counts cannot be negative".into()));
    }
    let domains = new
        .domains
        .iter()
        .map(|d| validate_domain(d))
        .collect::<Result<Vec<_>, _>>()?;
    if store::orgs::find_by_slug(conn, &new.slug)?.is_some() {
        return Err(Error::Conflict(format!(
            "an organization with slug '{}' already exists",
            new.slug
        )));
    }
    let now = store::now();
    let org = OrgRow {
        id: uuid::Uuid::new_v4().to_string(),
        slug: new.slug.clone(),
        name: new.name.trim().to_string(),
        created_at: now,
    };
    store::orgs::insert(conn, &org)?;
    for d in &domains {
        store::orgs::add_domain(conn, &org.id, d, now)?;
    }
    for (tier, n) in [
        (Tier::Premium, new.premium_seats),
        (Tier::Standard, new.standard_seats),
    ] {
        store::seats::insert(
            conn,
            &PoolRow {
                org_id: org.id.clone(),
                tier: tier.as_str().into(),
                purchased: n,
                claimed: 0,
                updated_at: now,
            },
        )?;
    }
    audit::record(
        conn,
        &org.id,
        &Actor::system(),
        "org.created",
        Some(&org.id),
        json!({"standard": new.standard_seats, "premium": new.premium_seats, "domains": domains}),
    )?;
    contracts::create(conn, &org.id, &opts.contract, &Actor::system())?;
    let mut token = None;
    if let Some(email) = &opts.owner_email {
        members::add(conn, &org.id, email, Role::PrimaryOwner, &Actor::system())?;
        let sent = invitations::create(
            conn,
            &org.id,
            &invitations::NewInvitation {
                email,
                role: Role::PrimaryOwner,
                now: store::now(),
                accept_url,
            },
            &Actor::system(),
        )?;
        token = Some(sent.token);
    }
    Ok((org, token))
}

pub fn by_id(conn: &mut DbConn, id: &str) -> Result<OrgRow, Error> {
    store::orgs::find(conn, id)?.ok_or_else(|| Error::not_found("organization"))
}

pub fn by_slug(conn: &mut DbConn, slug: &str) -> Result<OrgRow, Error> {
    store::orgs::find_by_slug(conn, slug)?
        .ok_or_else(|| Error::not_found(format!("organization '{slug}'")))
}
