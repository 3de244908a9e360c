//! Settings (Owners): verified domains, SCIM tokens (the secret shown once) with the SCIM
//! base URL, the SSO settings as they stand, the usage alert, and the group → tier rules
//! (set and removed with the same domain calls as `PUT/DELETE /api/v1/group-tiers/{id}`).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::flash::{self, Incoming};
use super::{format, layout, show, tier_label};
use crate::domain::members::Role;
use crate::domain::oauth;
use crate::domain::seats::alerts::{self, AlertConfig};
use crate::domain::sso::{self, SsoInput};
use crate::domain::Actor;
use crate::domain::{members::domains, org_settings, seats::seat_policy, tokens, Tier};
use crate::error::Error;
use crate::state::AppState;
use crate::store::DbConn;
use crate::web::csrf::{NoFields, Submitted};
use crate::web::layout::Layout;
use crate::web::page::PageError;
use crate::web::session::SignedIn;

pub struct TokenLine {
    id: String,
    prefix: String,
    description: String,
    created: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "console/settings.html")]
struct SettingsPage {
    layout: Layout,
    csrf_token: String,
    scim_base_url: String,
    domains: Vec<String>,
    tokens: Vec<TokenLine>,
    clients: Vec<ClientLine>,
    token_url: String,
    sso: Vec<(&'static str, String)>,
    sso_login_url: String,
    /// The form's current values (the secret is never shown back).
    sso_issuer: String,
    sso_client_id: String,
    sso_extra_scopes: String,
    sso_redirect_uri: String,
    threshold: String,
    webhook_url: String,
    webhook_secret_set: bool,
    signature_header: &'static str,
    rules: Vec<RuleLine>,
    waits: Vec<WaitLine>,
    /// `(group id, displayName)` to choose from.
    groups: Vec<(String, String)>,
}

pub struct ClientLine {
    id: String,
    description: String,
    created: String,
    last_used: String,
    revoked: bool,
    /// `(secret id, created, revoked)`
    secrets: Vec<(String, String, bool)>,
}

pub struct RuleLine {
    group_id: String,
    group: String,
    tier: &'static str,
    members: i64,
}

pub struct WaitLine {
    user: String,
    holding: &'static str,
    waiting_for: &'static str,
    since: String,
}

/// `GET /console/settings`
pub async fn show_page(
    state: web::Data<AppState>,
    who: SignedIn,
    req: HttpRequest,
    flash: Incoming,
) -> Result<HttpResponse, PageError> {
    who.require(Role::Owner)?;
    let org = who.session.org_id.clone();
    let s = state.db.read(move |c| org_settings::load(c, &org)).await?;
    // Scheme and host as this browser reached the server: the SCIM resources' own
    // `meta.location` is built the same way.
    let scim_base_url = crate::auth::scim_client::base_url(&req);
    let site = scim_base_url.trim_end_matches("/scim/v2").to_string();
    let public_url = state.settings.mail.public_url.clone();
    let sso = match &s.sso {
        Some(r) => {
            let shown = sso::view(r, &public_url, &s.slug);
            vec![
                ("Issuer", shown.issuer),
                ("Client id", shown.client_id),
                ("Client secret", "set (never shown again)".to_string()),
                ("Scopes", shown.scopes.join(" ")),
                ("Updated", format::time(r.updated_at)),
            ]
        }
        None => Vec::new(),
    };
    let sso_redirect_uri = sso::redirect_uri(&public_url, &s.slug);
    let (sso_issuer, sso_client_id, sso_extra_scopes) = s.sso.as_ref().map_or_else(
        || (String::new(), String::new(), String::new()),
        |r| {
            (
                r.issuer.clone(),
                r.client_id.clone(),
                r.extra_scopes.clone(),
            )
        },
    );
    show(
        &SettingsPage {
            layout: layout("Settings", &who, "/console/settings", &flash),
            csrf_token: who.csrf_token.clone(),
            scim_base_url,
            domains: s.domains,
            tokens: s
                .tokens
                .iter()
                .map(|t| TokenLine {
                    id: t.id.clone(),
                    prefix: tokens::display_prefix(&t.id),
                    description: t.description.clone(),
                    created: format::time(t.created_at),
                    last_used: t.last_used_at.map_or("never".to_string(), format::time),
                    revoked: t.revoked_at.is_some(),
                })
                .collect(),
            clients: s
                .oauth_clients
                .iter()
                .map(|c| ClientLine {
                    id: c.client_id.clone(),
                    description: c.description.clone(),
                    created: format::time(c.created_at),
                    last_used: c.last_used_at.map_or("never".to_string(), format::time),
                    revoked: c.revoked_at.is_some(),
                    secrets: c
                        .secrets
                        .iter()
                        .map(|x| {
                            (
                                x.id.clone(),
                                format::time(x.created_at),
                                x.revoked_at.is_some(),
                            )
                        })
                        .collect(),
                })
                .collect(),
            token_url: format!("{site}/oauth/token"),
            sso,
            sso_login_url: format!("{site}/sso/{}", s.slug),
            sso_issuer,
            sso_client_id,
            sso_extra_scopes,
            sso_redirect_uri,
            threshold: s
                .alert
                .as_ref()
                .map_or(String::new(), |a| a.free_seat_threshold.to_string()),
            webhook_url: s
                .alert
                .as_ref()
                .and_then(|a| a.webhook_url.clone())
                .unwrap_or_default(),
            webhook_secret_set: s.alert.as_ref().is_some_and(|a| a.webhook_secret.is_some()),
            signature_header: crate::webhooks::SIGNATURE_HEADER,
            rules: s
                .policy
                .rules
                .into_iter()
                .map(|r| RuleLine {
                    tier: tier_label(&r.tier),
                    group_id: r.group_id,
                    group: r.group,
                    members: r.members,
                })
                .collect(),
            waits: s
                .policy
                .waits
                .into_iter()
                .map(|w| WaitLine {
                    holding: w.holding.as_deref().map_or("no seat", tier_label),
                    waiting_for: tier_label(&w.waiting_for),
                    since: format::time(w.since),
                    user: w.user_name,
                })
                .collect(),
            groups: s.groups,
        },
        &flash,
    )
}

#[derive(Debug, Deserialize)]
pub struct DomainForm {
    domain: String,
}

/// `POST /console/settings/domains`
pub async fn add_domain(
    state: web::Data<AppState>,
    post: Submitted<DomainForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    who.require(Role::Owner)?;
    let (org, actor) = (who.session.org_id.clone(), who.session.actor());
    let d = state
        .db
        .write(move |c| domains::add(c, &org, &form.domain, &actor))
        .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        &format!("{d} is now a verified domain: its addresses can be invited."),
    ))
}

/// An Owner's change on this page, as the owner API makes it: the role check, then one write
/// with the organization and the acting member.
async fn owner_write<T: Send + 'static>(
    state: &AppState,
    who: &SignedIn,
    f: impl FnOnce(&mut DbConn, &str, &Actor) -> Result<T, Error> + Send + 'static,
) -> Result<T, PageError> {
    who.require(Role::Owner)?;
    let (org, actor) = (who.session.org_id.clone(), who.session.actor());
    Ok(state.db.write(move |c| f(c, &org, &actor)).await?)
}

/// `POST /console/settings/domains/remove`
pub async fn remove_domain(
    state: web::Data<AppState>,
    post: Submitted<DomainForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    let d = form.domain.clone();
    owner_write(&state, &who, move |c, org, actor| {
        domains::remove(c, org, &form.domain, actor)
    })
    .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        &format!("{d} was removed from the verified domains."),
    ))
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    description: String,
}

/// `POST /console/settings/tokens`: the new secret travels once, in the flash message (an
/// HttpOnly cookie scoped to /console, cleared by the page that shows it).
pub async fn create_token(
    state: web::Data<AppState>,
    post: Submitted<TokenForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    who.require(Role::Owner)?;
    let (org, actor) = (who.session.org_id.clone(), who.session.actor());
    let (issued, _) = state
        .db
        .write(move |c| tokens::create(c, &org, &form.description, &actor))
        .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        &format!(
            "New SCIM token (copy it now, it is shown only once): {}",
            issued.secret
        ),
    ))
}

/// `POST /console/settings/tokens/{id}/revoke`
pub async fn revoke_token(
    state: web::Data<AppState>,
    id: web::Path<String>,
    post: Submitted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    owner_write(&state, &post.who, move |c, org, actor| {
        tokens::revoke_audited(c, org, &id, actor)
    })
    .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        "The token was revoked: the IdP using it can no longer sync.",
    ))
}

#[derive(Debug, Deserialize)]
pub struct AlertForm {
    threshold: String,
    #[serde(default)]
    webhook_url: String,
    #[serde(default)]
    webhook_secret: String,
}

/// `POST /console/settings/alerts`: the same checks as `PUT /api/v1/settings/alerts`.
pub async fn save_alerts(
    state: web::Data<AppState>,
    post: Submitted<AlertForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    who.require(Role::Owner)?;
    let t = form.threshold.trim();
    let threshold = match t.parse::<i64>() {
        Ok(n) => json!(n),
        // The domain names the mistake.
        Err(_) => json!(t),
    };
    let blank = |s: &str| {
        let s = s.trim();
        if s.is_empty() {
            json!(null)
        } else {
            json!(s)
        }
    };
    let mut body = json!({
        "free_seat_threshold": threshold,
        "webhook_url": blank(&form.webhook_url),
    });
    // The secret is never shown back, so a webhook URL needs it typed with it (as the API).
    if !form.webhook_secret.trim().is_empty() {
        body["webhook_secret"] = json!(form.webhook_secret.trim());
    }
    let cfg = AlertConfig::from_json(&body, &state.settings.outbound)?;
    let (org, actor) = (who.session.org_id.clone(), who.session.actor());
    state
        .db
        .write(move |c| alerts::configure(c, &org, &cfg, &actor))
        .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        "Usage alert saved.",
    ))
}

#[derive(Debug, Deserialize)]
pub struct GroupTierForm {
    group_id: String,
    tier: String,
}

/// `POST /console/settings/group-tiers`: the same call as `PUT /api/v1/group-tiers/{id}`.
pub async fn map_group(
    state: web::Data<AppState>,
    post: Submitted<GroupTierForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    who.require(Role::Owner)?;
    let tier = Tier::parse(&form.tier).ok_or_else(|| {
        Error::BadRequest(format!(
            "unknown tier '{}': use premium or standard",
            form.tier
        ))
    })?;
    let (org, actor) = (who.session.org_id.clone(), who.session.actor());
    let rule = state
        .db
        .write(move |c| seat_policy::put_rule(c, &org, &form.group_id, tier, &actor))
        .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        &format!(
            "{} is mapped to {}: its members move to that tier when a seat is free.",
            rule.group,
            tier_label(&rule.tier)
        ),
    ))
}

/// `POST /console/settings/group-tiers/{group_id}/remove`: as `DELETE /api/v1/group-tiers/{id}`.
pub async fn unmap_group(
    state: web::Data<AppState>,
    group_id: web::Path<String>,
    post: Submitted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let group = group_id.into_inner();
    owner_write(&state, &post.who, move |c, org, actor| {
        seat_policy::remove_rule(c, org, &group, actor)
    })
    .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        "The group's tier rule was removed: its members keep their seats.",
    ))
}

#[derive(Debug, Deserialize)]
pub struct SsoForm {
    issuer: String,
    client_id: String,
    #[serde(default)]
    client_secret: String,
    /// Space-separated.
    #[serde(default)]
    extra_scopes: String,
}

/// `POST /console/settings/sso`: the same call as `PUT /api/v1/sso`; a blank secret keeps the
/// stored one (the field is never filled back).
pub async fn save_sso(
    state: web::Data<AppState>,
    post: Submitted<SsoForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    who.require(Role::Owner)?;
    let secret = form.client_secret.trim();
    let input = SsoInput {
        issuer: form.issuer,
        client_id: form.client_id,
        client_secret: (!secret.is_empty()).then(|| secret.to_string()),
        extra_scopes: form
            .extra_scopes
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    };
    let (org, actor) = (who.session.org_id.clone(), who.session.actor());
    let public_url = state.settings.mail.public_url.clone();
    let view = state
        .db
        .write(move |c| sso::put(c, &org, &input, &actor, &public_url))
        .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        &format!(
            "SSO saved. Register this redirect URI at the identity provider: {}",
            view.redirect_uri
        ),
    ))
}

/// `POST /console/settings/sso/delete`: as `DELETE /api/v1/sso`.
pub async fn delete_sso(
    state: web::Data<AppState>,
    post: Submitted<NoFields>,
) -> Result<HttpResponse, PageError> {
    owner_write(&state, &post.who, |c, org, actor| {
        sso::delete(c, org, actor)
    })
    .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        "SSO is off: people get in by invitation.",
    ))
}

/// `POST /console/settings/oauth-clients`: as `POST /api/v1/oauth-clients`; the client id and
/// secret travel once, in the flash message, as a new SCIM token does.
pub async fn create_client(
    state: web::Data<AppState>,
    post: Submitted<TokenForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { who, form } = post;
    who.require(Role::Owner)?;
    let (org, actor) = (who.session.org_id.clone(), who.session.actor());
    let issued = state
        .db
        .write(move |c| oauth::create_client(c, &org, &form.description, &actor))
        .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        &format!(
            "New OAuth client {} (copy the secret now, it is shown only once): {}",
            issued.client_id, issued.client_secret
        ),
    ))
}

/// `POST /console/settings/oauth-clients/{id}/secrets`: as `POST …/{id}/secrets` (rotation).
pub async fn add_client_secret(
    state: web::Data<AppState>,
    id: web::Path<String>,
    post: Submitted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let who = post.who;
    who.require(Role::Owner)?;
    let (org, id, actor) = (
        who.session.org_id.clone(),
        id.into_inner(),
        who.session.actor(),
    );
    let issued = state
        .db
        .write(move |c| oauth::add_secret(c, &org, &id, &actor))
        .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        &format!(
            "New secret for OAuth client {} (copy it now, it is shown only once): {}",
            issued.client_id, issued.client_secret
        ),
    ))
}

/// `POST /console/settings/oauth-clients/{id}/secrets/{secret}/revoke`
pub async fn revoke_client_secret(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    post: Submitted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let (client, secret) = path.into_inner();
    owner_write(&state, &post.who, move |c, org, actor| {
        oauth::revoke_secret(c, org, &client, &secret, actor)
    })
    .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        "The secret was revoked: it can no longer get access tokens.",
    ))
}

/// `POST /console/settings/oauth-clients/{id}/revoke`
pub async fn revoke_client(
    state: web::Data<AppState>,
    id: web::Path<String>,
    post: Submitted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    owner_write(&state, &post.who, move |c, org, actor| {
        oauth::revoke_client(c, org, &id, actor)
    })
    .await?;
    Ok(flash::redirect(
        "/console/settings",
        true,
        "The OAuth client was revoked: it can no longer sync.",
    ))
}
