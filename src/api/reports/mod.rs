//! Reports, monitoring and operations: the pending-user report (JSON, streamed CSV, the owner's
//! HTML page), seat usage, alert settings, the audit log, and `/healthz`, `/readyz`, `/metrics`.
//!
//! Routes are registered with full paths, before the owner API's `/api/v1` scope: a scope
//! that matches a prefix owns every path under it, so ours must be looked at first.

pub mod alerts;
pub mod audit;
pub mod ops;
pub mod pending;
pub mod usage;

use actix_web::{web, Route};

use crate::api::route_doc::{doc, documented, schema_of, with_body, RouteDoc, ADMIN, OWNER};

/// Every route of this module with its description: the one table that registers them and
/// describes them in the OpenAPI document.
#[rustfmt::skip]
fn routes() -> Vec<(RouteDoc, Route)> {
    vec![
        documented(doc("GET", "/healthz", None, "ops", "Liveness: the process answers", 200), ops::healthz),
        documented(doc("GET", "/readyz", None, "ops", "Readiness: the database answers within 2 seconds (503 otherwise)", 200), ops::readyz),
        documented(doc("GET", "/metrics", None, "ops", "Prometheus metrics (text exposition format)", 200), ops::metrics),
        documented(doc("GET", "/api/v1/reports/pending", ADMIN, "reports", "Pending users in queue order, with a summary (page, per_page)", 200), pending::json),
        documented(doc("GET", "/api/v1/reports/pending.csv", ADMIN, "reports", "Every pending user as CSV, streamed", 200), pending::csv),
        documented(doc("GET", "/api/v1/reports/usage", ADMIN, "reports", "Seats per tier, utilization, the queue, the alert state and the projected renewal (its price for Owners)", 200), usage::get),
        documented(doc("GET", "/api/v1/settings/alerts", OWNER, "settings", "The free-seat alert threshold and webhook (the secret is never shown)", 200), alerts::get),
        documented(with_body(doc("PUT", "/api/v1/settings/alerts", OWNER, "settings", "Set the free-seat alert threshold and the webhook", 200), schema_of::<alerts::AlertSettingsRequest>), alerts::put),
        documented(doc("GET", "/api/v1/audit", OWNER, "audit", "The audit log, newest first (user, kind, since, until, page, per_page)", 200), audit::list),
    ]
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    for (d, route) in routes() {
        cfg.route(d.path, route);
    }
}

/// The descriptions of this module's routes, for the OpenAPI document.
pub fn docs() -> Vec<RouteDoc> {
    routes().into_iter().map(|(d, _)| d).collect()
}
