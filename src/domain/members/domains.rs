//! Verified email domains of an organization, managed by Owners. Only addresses in them can
//! be invited or provisioned at SSO login. "Verified" means an Owner (or the operator at
//! creation) declared the domain; no DNS challenge is run.

use serde_json::json;

use crate::domain::{audit, Actor};
use crate::error::Error;
use crate::store::{self, DbConn};

pub fn list(conn: &mut DbConn, org_id: &str) -> Result<Vec<String>, Error> {
    Ok(store::orgs::domains(conn, org_id)?)
}

pub fn add(conn: &mut DbConn, org_id: &str, domain: &str, actor: &Actor) -> Result<String, Error> {
    let d = validate_domain(domain)?;
    if store::orgs::has_domain(conn, org_id, &d)? {
        return Err(Error::Conflict(format!(
            "the domain '{d}' is already verified"
        )));
    }
    store::orgs::add_domain(conn, org_id, &d, store::now())?;
    audit::record(
        conn,
        org_id,
        actor,
        "domain.added",
        None,
        json!({"domain": d}),
    )?;
    Ok(d)
}

/// Removing a domain stops new invitations and JIT logins from it; existing members stay.
pub fn remove(conn: &mut DbConn, org_id: &str, domain: &str, actor: &Actor) -> Result<(), Error> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if !store::orgs::remove_domain(conn, org_id, &d)? {
        return Err(Error::not_found(format!("verified domain '{d}'")));
    }
    audit::record(
        conn,
        org_id,
        actor,
        "domain.removed",
        None,
        json!({"domain": d}),
    )?;
    Ok(())
}

/// 403 unless the email's domain is one of the organization's verified domains (exact match;
/// subdomains must be verified on their own).
pub fn check_email(conn: &mut DbConn, org_id: &str, email: &str) -> Result<(), Error> {
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    if !domain.is_empty() && store::orgs::has_domain(conn, org_id, &domain)? {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "the email domain '{domain}' is not a verified domain of this organization; an Owner can add it"
        )))
    }
}

/// A domain as stored: lowercase, without a trailing dot, dot-separated labels of letters,
/// digits and dashes.
pub fn validate_domain(domain: &str) -> Result<String, Error> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = d.contains('.')
        && d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(d)
    } else {
        Err(Error::BadRequest(format!("invalid domain '{domain}'")))
    }
}
