//! Sign-in through the organization's identity provider (OpenID Connect) and just-in-time
//! provisioning.
//!
//! An Owner configures, per organization, the IdP's issuer URL, the client id and secret the
//! IdP issued for us, and optional extra scopes. The protocol (discovery, JWKS, PKCE, nonce,
//! ID-token checks) is `crate::oidc`'s; this module keeps the settings, the sign-ins in flight
//! (one use, ten minutes) and decides who the person is and what seat they get:
//! - an account holding a seat: the member (made with role Member if it has no role yet) gets a
//!   session;
//! - no account: one is created (source `jit`) with the highest free tier, or its group's tier;
//!   with a free seat the sign-in succeeds, else the account stays **pending** (it shows in the
//!   pending report and is activated when seats are added) and the sign-in is refused;
//! - a pending account: refused again, not queued twice;
//! - an account an admin removed or the IdP deactivated: refused.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::members::accounts::{self, Ensured};
use super::members::{self, Member, Role};
use super::seats::inventory::{STATUS_ACTIVE, STATUS_PENDING};
use super::users::UserView;
use super::{audit, members::domains, Actor, Source};
use crate::error::Error;
use crate::store::{self, sso::FlowRow, sso::SsoRow, DbConn};

/// The scopes every sign-in asks for; an Owner may add more.
pub const BASE_SCOPES: [&str; 3] = ["openid", "email", "profile"];
/// How long a person has between leaving for the IdP and coming back.
pub const FLOW_MINUTES: i64 = 10;
const MAX_EXTRA_SCOPES: usize = 10;

/// SSO settings as an Owner sends them.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoInput {
    /// The IdP's issuer URL, e.g. `https://acme.okta.com` or
    /// `https://login.microsoftonline.com/{tenant-id}/v2.0` (https; http only on loopback).
    pub issuer: String,
    /// The client (application) id the IdP issued for scim-seats.
    pub client_id: String,
    /// The client secret. Required the first time; omitted, the stored one is kept. Never
    /// shown again.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Scopes to ask for besides `openid email profile`.
    #[serde(default)]
    pub extra_scopes: Vec<String>,
}

/// The settings as shown to an Owner: everything but the secret.
#[derive(Debug, Clone, Serialize)]
pub struct SsoView {
    pub issuer: String,
    pub client_id: String,
    pub client_secret_set: bool,
    pub scopes: Vec<String>,
    /// The URI to register at the IdP as the sign-in redirect (callback) URI.
    pub redirect_uri: String,
    /// Where people of this organization start signing in.
    pub sign_in_url: String,
    pub updated_at: NaiveDateTime,
}

/// `{public_url}/sso/{slug}/callback`: where the IdP sends the person back.
pub fn redirect_uri(public_url: &str, slug: &str) -> String {
    format!("{}/sso/{slug}/callback", public_url.trim_end_matches('/'))
}

pub fn view(row: &SsoRow, public_url: &str, slug: &str) -> SsoView {
    SsoView {
        issuer: row.issuer.clone(),
        client_id: row.client_id.clone(),
        client_secret_set: !row.client_secret.is_empty(),
        scopes: scopes(row),
        redirect_uri: redirect_uri(public_url, slug),
        sign_in_url: format!("{}/sso/{slug}", public_url.trim_end_matches('/')),
        updated_at: row.updated_at,
    }
}

/// Every scope a sign-in asks for.
pub fn scopes(row: &SsoRow) -> Vec<String> {
    BASE_SCOPES
        .iter()
        .map(|s| s.to_string())
        .chain(row.extra_scopes.split_whitespace().map(str::to_string))
        .collect()
}

/// An issuer URL we will talk to: https, or http on a loopback host (a local IdP).
fn check_issuer(issuer: &str) -> Result<String, Error> {
    let bad = |why: &str| Error::BadRequest(format!("issuer: {why}"));
    let issuer = issuer.trim().trim_end_matches('/');
    let rest = if let Some(rest) = issuer.strip_prefix("https://") {
        rest
    } else if let Some(rest) = issuer.strip_prefix("http://") {
        let host = rest.split(['/', ':']).next().unwrap_or("");
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err(bad(
                "must be an https:// URL (http:// only for an IdP on this host)",
            ));
        }
        rest
    } else {
        return Err(bad("must be an https:// URL, e.g. https://acme.okta.com"));
    };
    if rest.is_empty() || rest.starts_with('/') || issuer.contains(['?', '#', ' ']) {
        return Err(bad("must be a URL with a host and no query"));
    }
    Ok(issuer.to_string())
}

fn check_scopes(extra: &[String]) -> Result<String, Error> {
    let mut out: Vec<&str> = Vec::new();
    for s in extra {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.len() <= 100
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c));
        if !ok {
            return Err(Error::BadRequest(format!(
                "extra_scopes: '{s}' is not a scope name"
            )));
        }
        if !BASE_SCOPES.contains(&s) && !out.contains(&s) {
            out.push(s);
        }
    }
    if out.len() > MAX_EXTRA_SCOPES {
        return Err(Error::BadRequest(format!(
            "extra_scopes: at most {MAX_EXTRA_SCOPES}"
        )));
    }
    Ok(out.join(" "))
}

/// Store the settings after checking them; returns them as shown to an Owner.
pub fn put(
    conn: &mut DbConn,
    org_id: &str,
    input: &SsoInput,
    actor: &Actor,
    public_url: &str,
) -> Result<SsoView, Error> {
    let issuer = check_issuer(&input.issuer)?;
    let client_id = input.client_id.trim();
    if client_id.is_empty() || client_id.len() > 255 {
        return Err(Error::BadRequest(
            "client_id is required (the application's client id at the IdP)".into(),
        ));
    }
    let extra_scopes = check_scopes(&input.extra_scopes)?;
    let client_secret = match input.client_secret.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => s.to_string(),
        Some(_) => return Err(Error::BadRequest("client_secret is empty".into())),
        None => store::sso::find(conn, org_id)?
            .map(|r| r.client_secret)
            .ok_or_else(|| {
                Error::BadRequest(
                    "client_secret is required (the client secret the IdP issued for this application)".into(),
                )
            })?,
    };
    let row = SsoRow {
        org_id: org_id.to_string(),
        issuer,
        client_id: client_id.to_string(),
        client_secret,
        extra_scopes,
        updated_at: store::now(),
    };
    store::sso::put(conn, &row)?;
    // The secret stays out of the audit log.
    audit::record(
        conn,
        org_id,
        actor,
        "sso.updated",
        None,
        json!({"issuer": row.issuer, "client_id": row.client_id, "extra_scopes": row.extra_scopes,
               "client_secret_changed": input.client_secret.is_some()}),
    )?;
    shown(conn, &row, public_url)
}

fn shown(conn: &mut DbConn, row: &SsoRow, public_url: &str) -> Result<SsoView, Error> {
    let org =
        store::orgs::find(conn, &row.org_id)?.ok_or_else(|| Error::not_found("organization"))?;
    Ok(view(row, public_url, &org.slug))
}

/// The settings as shown to an Owner (never the secret).
pub fn get(conn: &mut DbConn, org_id: &str, public_url: &str) -> Result<SsoView, Error> {
    let row = store::sso::find(conn, org_id)?.ok_or_else(|| Error::not_found("SSO settings"))?;
    shown(conn, &row, public_url)
}

pub fn delete(conn: &mut DbConn, org_id: &str, actor: &Actor) -> Result<(), Error> {
    if !store::sso::delete(conn, org_id)? {
        return Err(Error::not_found("SSO settings"));
    }
    audit::record(conn, org_id, actor, "sso.deleted", None, json!({}))?;
    Ok(())
}

/// An organization's SSO settings by its slug, for a sign-in (404 names what is missing).
pub fn for_sign_in(conn: &mut DbConn, slug: &str) -> Result<(String, SsoRow), Error> {
    let org = super::orgs::by_slug(conn, slug)?;
    let row = store::sso::find(conn, &org.id)?.ok_or_else(|| {
        Error::Conflict(format!(
            "{} does not sign in through an identity provider: ask for a sign-in link by mail instead",
            org.name
        ))
    })?;
    Ok((org.id, row))
}

/// The organization's name when `slug` names one that signs in through an identity provider
/// (the sign-in page then offers only that way); `None` otherwise, also for unknown slugs.
pub fn offered(conn: &mut DbConn, slug: &str) -> Result<Option<String>, Error> {
    let Some(org) = store::orgs::find_by_slug(conn, slug)? else {
        return Ok(None);
    };
    Ok(store::sso::find(conn, &org.id)?.map(|_| org.name))
}

fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// A sign-in leaving for the IdP: what the callback needs to finish it.
pub struct NewFlow<'a> {
    pub state: &'a str,
    pub nonce: &'a str,
    pub pkce_verifier: &'a str,
}

/// Record a sign-in in flight (and drop the ones nobody finished).
pub fn start_flow(
    conn: &mut DbConn,
    org_id: &str,
    flow: &NewFlow<'_>,
    now: NaiveDateTime,
) -> Result<(), Error> {
    store::sso::purge_flows(conn, now)?;
    store::sso::insert_flow(
        conn,
        &FlowRow {
            state_hash: state_hash(flow.state),
            org_id: org_id.to_string(),
            nonce: flow.nonce.to_string(),
            pkce_verifier: flow.pkce_verifier.to_string(),
            created_at: now,
            expires_at: now + Duration::minutes(FLOW_MINUTES),
        },
    )?;
    Ok(())
}

/// Take the sign-in in flight named by `state`, once. `browser_state` is the state the
/// browser's cookie holds: a callback from another browser (or a forged one) does not match.
pub fn take_flow(
    conn: &mut DbConn,
    org_id: &str,
    state: &str,
    browser_state: Option<&str>,
    now: NaiveDateTime,
) -> Result<FlowRow, Error> {
    use subtle::ConstantTimeEq;
    let same = browser_state.is_some_and(|b| bool::from(b.as_bytes().ct_eq(state.as_bytes())));
    if !same {
        return Err(Error::BadRequest(
            "this sign-in was not started in this browser (its state does not match): start again from the sign-in page".into(),
        ));
    }
    let flow = store::sso::take_flow(conn, &state_hash(state))?.ok_or_else(|| {
        Error::Gone(
            "this sign-in was already completed or is unknown: start again from the sign-in page"
                .into(),
        )
    })?;
    if flow.org_id != org_id {
        return Err(Error::BadRequest(
            "this sign-in was started for another organization: start again from the sign-in page"
                .into(),
        ));
    }
    if now >= flow.expires_at {
        return Err(Error::Gone(format!(
            "this sign-in took longer than {FLOW_MINUTES} minutes: start again from the sign-in page"
        )));
    }
    Ok(flow)
}

/// Who the IdP says signed in (after `crate::oidc` verified the ID token).
#[derive(Debug, Clone)]
pub struct Identity {
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// The sign-in use case: the IdP's word on the person, then `jit_login`.
pub fn sign_in(conn: &mut DbConn, org_id: &str, who: &Identity) -> Result<Login, Error> {
    if !who.email_verified {
        return Err(Error::Forbidden(
            "your identity provider has not verified your email address, so it cannot be used to sign in; ask your IdP administrator".into(),
        ));
    }
    let email = members::validate_email(&who.email)?;
    jit_login(conn, org_id, &email, who.name.as_deref())
}

/// What a JIT login came to.
#[derive(Debug, Clone)]
pub enum Login {
    /// The member may have a session.
    Session {
        member: Member,
        account: UserView,
        created_account: bool,
    },
    /// No seat for the account (queued now or earlier): refuse, after committing the queueing.
    NoSeat { account: UserView },
}

/// The login use case, in one write transaction.
pub fn jit_login(
    conn: &mut DbConn,
    org_id: &str,
    email: &str,
    name: Option<&str>,
) -> Result<Login, Error> {
    domains::check_email(conn, org_id, email)?;
    if accounts::for_email(conn, org_id, email)?.is_none()
        && store::sso::was_deleted(conn, org_id, &email.to_lowercase())?
    {
        return Err(Error::Forbidden(
            "your account was deleted in your organization's identity provider".into(),
        ));
    }
    let actor = Actor::new(format!("jit:{}", email.to_lowercase()), Source::Jit);
    let (account, how) = accounts::ensure(conn, org_id, email, name, false, &actor)?;
    match account.row.seat_status.as_str() {
        STATUS_ACTIVE => {}
        STATUS_PENDING => return Ok(Login::NoSeat { account }),
        _ if !account.row.active => {
            return Err(Error::Forbidden(
                "your account is deactivated in your organization's identity provider".into(),
            ))
        }
        _ => {
            return Err(Error::Forbidden(
                "your account was removed by an admin of this organization; ask an admin to give you a seat or invite you again".into(),
            ))
        }
    }
    let member = match store::members::find_by_email(conn, org_id, &email.to_lowercase())? {
        Some(m) => Member::try_from(m)?,
        None => members::add(conn, org_id, email, Role::Member, &actor)?,
    };
    audit::record(
        conn,
        org_id,
        &actor,
        "sso.login",
        Some(&member.id),
        json!({"account": account.row.id, "tier": account.row.seat_tier}),
    )?;
    Ok(Login::Session {
        member,
        account,
        created_account: how == Ensured::Created,
    })
}
