//! What an Owner sees on the settings page, read in one go: verified domains, SCIM tokens,
//! the SSO settings, the usage alert and the group → tier rules. Each part is the same read
//! the owner API's settings routes make.

use super::{alerts, domains, seat_policy, tokens, Tier};
use crate::error::Error;
use crate::store::{self, alerts::AlertRow, sso::SsoRow, tokens::TokenRow, DbConn};

#[derive(Debug, Clone)]
pub struct OrgSettings {
    pub slug: String,
    pub domains: Vec<String>,
    pub tokens: Vec<TokenRow>,
    pub sso: Option<SsoRow>,
    pub alert: Option<AlertRow>,
    /// `(group display name, tier)`
    pub group_tiers: Vec<(String, Tier)>,
}

pub fn load(conn: &mut DbConn, org_id: &str) -> Result<OrgSettings, Error> {
    let org = store::orgs::find(conn, org_id)?.ok_or_else(|| Error::not_found("organization"))?;
    let sso = store::sso::find(conn, org_id)?;
    let mut group_tiers = Vec::new();
    for (group_id, tier) in seat_policy::group_tiers(conn, org_id)? {
        let name =
            store::groups::find(conn, org_id, &group_id)?.map_or(group_id, |g| g.display_name);
        group_tiers.push((name, tier));
    }
    Ok(OrgSettings {
        slug: org.slug,
        domains: domains::list(conn, org_id)?,
        tokens: tokens::list(conn, org_id)?,
        sso,
        alert: alerts::get(conn, org_id)?,
        group_tiers,
    })
}
