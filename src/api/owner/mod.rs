//! The owner API under `/api/v1` (owner JWT; each route checks the role it needs). Routes are registered through `Routes`, which records each one's
//! OpenAPI description as it registers it, so `/api/v1/openapi.json` cannot miss a route.

pub mod admin;
pub mod contract;
pub mod events;
pub mod group_tiers;
pub mod input;
pub mod invitations;
pub mod invoices;
pub mod members;
pub mod oauth_clients;
pub mod people;
pub mod provisioning_log;
pub mod render;
pub mod seats;
pub mod session;

use actix_web::{web, FromRequest, Handler, Responder};

use crate::api::route_doc::{
    doc, documented, schema_of, with_body, with_header, RouteDoc, ADMIN, OWNER,
};
use crate::domain::members::Role;

/// Registers routes and keeps their descriptions.
pub struct Routes {
    api: actix_web::Scope,
    pub docs: Vec<RouteDoc>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            api: web::scope("/api/v1"),
            docs: Vec::new(),
        }
    }

    /// Register `handler` for `doc.method doc.path`; `pattern` overrides the actix pattern
    /// when it differs from the documented path (regex segments).
    fn add<F, Args>(mut self, doc: RouteDoc, pattern: Option<&'static str>, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let (doc, route) = documented(doc, handler);
        if let Some(rest) = doc.path.strip_prefix("/api/v1") {
            self.api = self.api.route(pattern.unwrap_or(rest), route);
        } else {
            panic!("route {} is outside /api/v1", doc.path);
        }
        self.docs.push(doc);
        self
    }
}

/// Every owner-API route, with its description.
pub fn routes() -> Routes {
    use input::*;
    Routes::new()
        // Billing (Owner and above).
        .add(doc("GET", "/api/v1/contract", OWNER, "billing", "The contract, seat inventory and months left", 200), None, contract::get)
        .add(with_body(doc("POST", "/api/v1/seats/preview", OWNER, "billing", "Quote a seat order (no side effects)", 200), schema_of::<OrderBody>), None, seats::preview)
        .add(with_header(with_body(doc("POST", "/api/v1/seats/confirm", OWNER, "billing", "Confirm a seat order (Idempotency-Key header required); issues the prorated invoice", 201), schema_of::<OrderBody>), "Idempotency-Key", "Names this order: a retry with the same key and body returns the same invoice, never a second one (1-255 printable ASCII characters)"), None, seats::confirm)
        .add(doc("GET", "/api/v1/invoices", OWNER, "billing", "List invoices (paged)", 200), None, invoices::list)
        // Invoice numbers never contain a dot, so the suffix routes cannot be shadowed.
        .add(doc("GET", "/api/v1/invoices/{number}.html", OWNER, "billing", "An invoice as a readable HTML page", 200), Some("/invoices/{number:[^/.]+}.html"), invoices::html)
        .add(doc("GET", "/api/v1/invoices/{number}.csv", OWNER, "billing", "An invoice as CSV", 200), Some("/invoices/{number:[^/.]+}.csv"), invoices::csv)
        .add(doc("GET", "/api/v1/invoices/{number}", OWNER, "billing", "An invoice as JSON", 200), Some("/invoices/{number:[^/.]+}"), invoices::get)
        // Members and seats.
        .add(doc("GET", "/api/v1/me", Some(Role::Member), "members", "The caller: member, role and seat", 200), None, members::me)
        .add(doc("GET", "/api/v1/members", ADMIN, "members", "List members with their seats (page, per_page, role, status, tier)", 200), None, members::list)
        .add(doc("GET", "/api/v1/members/{id}", ADMIN, "members", "One member with its seat", 200), None, members::get)
        .add(with_body(doc("PUT", "/api/v1/members/{id}/role", OWNER, "members", "Change a member's role (never to or from Primary Owner)", 200), schema_of::<RoleRequest>), None, members::change_role)
        .add(with_body(doc("PUT", "/api/v1/members/{id}/tier", ADMIN, "seats", "Move a member (or account) to a free seat of another tier", 200), schema_of::<TierRequest>), None, members::move_tier)
        .add(with_body(doc("POST", "/api/v1/members/{id}/swap", ADMIN, "seats", "Swap the tiers of two members", 200), schema_of::<SwapRequest>), None, members::swap)
        .add(with_body(doc("POST", "/api/v1/members/{id}/give-seat", ADMIN, "seats", "Give this member's seat to a pending user; this member is queued", 200), schema_of::<GiveSeatRequest>), None, members::give_seat)
        .add(doc("DELETE", "/api/v1/members/{id}", ADMIN, "seats", "Remove a member: its seat is released to the queue and its role is removed", 200), None, members::remove)
        .add(with_body(doc("POST", "/api/v1/ownership/transfer", Some(Role::PrimaryOwner), "members", "Transfer primary ownership; the previous Primary Owner becomes an Owner", 200), schema_of::<TransferRequest>), None, members::transfer)
        // Invitations. `accept` first: it must not be taken for an invitation id.
        .add(with_body(doc("POST", "/api/v1/invitations/accept", None, "invitations", "Accept an invitation with its token; returns a session token", 200), schema_of::<AcceptRequest>), None, invitations::accept)
        .add(with_body(doc("POST", "/api/v1/invitations", ADMIN, "invitations", "Invite an address of a verified domain with a role (21 days; voids the previous one)", 201), schema_of::<InviteRequest>), None, invitations::create)
        .add(doc("GET", "/api/v1/invitations", ADMIN, "invitations", "List invitations (status: pending, accepted, voided, expired)", 200), None, invitations::list)
        .add(doc("DELETE", "/api/v1/invitations/{id}", ADMIN, "invitations", "Void a pending invitation", 204), None, invitations::void)
        // Organization settings (Owner and above).
        .add(doc("GET", "/api/v1/domains", OWNER, "settings", "List verified domains", 200), None, admin::list_domains)
        .add(with_body(doc("POST", "/api/v1/domains", OWNER, "settings", "Add a verified domain", 201), schema_of::<DomainRequest>), None, admin::add_domain)
        .add(doc("DELETE", "/api/v1/domains/{domain}", OWNER, "settings", "Remove a verified domain", 204), None, admin::remove_domain)
        .add(doc("GET", "/api/v1/scim-tokens", OWNER, "settings", "List SCIM tokens (ids and prefixes, never secrets)", 200), None, admin::list_tokens)
        .add(with_body(doc("POST", "/api/v1/scim-tokens", OWNER, "settings", "Create a SCIM token; the response shows it once", 201), schema_of::<TokenRequest>), None, admin::create_token)
        .add(doc("DELETE", "/api/v1/scim-tokens/{id}", OWNER, "settings", "Revoke a SCIM token", 204), None, admin::revoke_token)
        .add(doc("GET", "/api/v1/sso", OWNER, "settings", "The OpenID Connect settings (never the client secret) and the redirect URI to register at the IdP", 200), None, admin::get_sso)
        .add(with_body(doc("PUT", "/api/v1/sso", OWNER, "settings", "Set the OpenID Connect settings: issuer URL, client id, client secret (never shown again), extra scopes; answers the redirect URI to register at the IdP", 200), schema_of::<crate::domain::sso::SsoInput>), None, admin::put_sso)
        .add(doc("DELETE", "/api/v1/sso", OWNER, "settings", "Remove the SSO settings (turns sign-in through the IdP off)", 204), None, admin::delete_sso)
        .add(doc("GET", "/api/v1/provisioning-log", ADMIN, "reports", "The provisioning log: every SCIM request with its seat decision, newest first (user, status, since, until, page, per_page)", 200), None, provisioning_log::list)
        .add(doc("GET", "/api/v1/provisioning-log/users/{user}", ADMIN, "reports", "Why a user is pending or on its tier: its state, the explanation, its seat events and SCIM requests", 200), None, provisioning_log::why)
        .add(doc("GET", "/api/v1/events", OWNER, "events", "The seat event feed, oldest first, after a cursor (after=<event id or seq>, limit ≤ 500); the same events go to the organization's webhook", 200), None, events::list)
        .add(doc("GET", "/api/v1/oauth-clients", OWNER, "settings", "List OAuth 2.0 clients for SCIM and their secrets' ids (never a secret)", 200), None, oauth_clients::list)
        .add(with_body(doc("POST", "/api/v1/oauth-clients", OWNER, "settings", "Create an OAuth 2.0 client (client credentials grant at POST /oauth/token); the response shows its secret once", 201), schema_of::<TokenRequest>), None, oauth_clients::create)
        .add(doc("POST", "/api/v1/oauth-clients/{client_id}/secrets", OWNER, "settings", "Add a secret to a client (rotation: the others stay valid until revoked); shown once", 201), None, oauth_clients::add_secret)
        .add(doc("DELETE", "/api/v1/oauth-clients/{client_id}/secrets/{secret_id}", OWNER, "settings", "Revoke one secret of a client", 204), None, oauth_clients::revoke_secret)
        .add(doc("DELETE", "/api/v1/oauth-clients/{client_id}", OWNER, "settings", "Revoke a client: its secrets and access tokens stop working at once", 204), None, oauth_clients::revoke)
        .add(doc("GET", "/api/v1/group-tiers", OWNER, "settings", "Group → tier rules (precedence: premium over standard) and the users waiting for a tier", 200), None, group_tiers::list)
        .add(with_body(doc("PUT", "/api/v1/group-tiers/{group_id}", OWNER, "settings", "Map a SCIM group (by id) to a tier; its members move to it when a seat is free, else wait for one", 200), schema_of::<TierRequest>), None, group_tiers::put)
        .add(doc("DELETE", "/api/v1/group-tiers/{group_id}", OWNER, "settings", "Remove a group's tier rule; members keep their seats, waits for it end", 204), None, group_tiers::remove)
    // `GET /api/v1/openapi.json` (public) is `api::openapi`'s: the document reads this table.
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let r = routes();
    cfg.service(r.api);
}
