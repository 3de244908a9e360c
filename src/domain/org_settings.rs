//! What an Owner sees on the settings page, read in one go: verified domains, SCIM tokens,
//! the SSO settings, the usage alert and the group → tier rules. Each part is the same read
//! the owner API's settings routes make.

use super::oauth::{self, ClientView};
use super::{members::domains, seats::alerts, seats::seat_policy, tokens};
use crate::error::Error;
use crate::store::{self, alerts::AlertRow, sso::SsoRow, tokens::TokenRow, DbConn};

#[derive(Debug, Clone)]
pub struct OrgSettings {
    pub slug: String,
    pub domains: Vec<String>,
    pub tokens: Vec<TokenRow>,
    /// OAuth 2.0 clients with their secrets' ids, as `GET /api/v1/oauth-clients` lists them.
    pub oauth_clients: Vec<ClientView>,
    pub sso: Option<SsoRow>,
    pub alert: Option<AlertRow>,
    /// The group → tier rules and tier waits, as `GET /api/v1/group-tiers` shows them.
    pub policy: seat_policy::Policy,
    /// `(group id, displayName)` of every group, to choose one to map.
    pub groups: Vec<(String, String)>,
}

pub fn load(conn: &mut DbConn, org_id: &str) -> Result<OrgSettings, Error> {
    let org = store::orgs::find(conn, org_id)?.ok_or_else(|| Error::not_found("organization"))?;
    let sso = store::sso::find(conn, org_id)?;
    Ok(OrgSettings {
        slug: org.slug,
        domains: domains::list(conn, org_id)?,
        tokens: tokens::list(conn, org_id)?,
        oauth_clients: oauth::list(conn, org_id)?,
        sso,
        alert: alerts::get(conn, org_id)?,
        policy: seat_policy::policy(conn, org_id)?,
        groups: store::groups::names(conn, org_id)?,
    })
}
