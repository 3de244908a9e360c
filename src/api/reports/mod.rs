//! Reports, monitoring and operations: the pending-user report (JSON, streamed CSV, the owner's
//! HTML page), seat usage, alert settings, the audit log, and `/healthz`, `/readyz`, `/metrics`.
//!
//! Routes are registered with full paths, before the owner API's `/api/v1` scope: a scope
//! that matches a prefix owns every path under it, so ours must be looked at first.

pub mod alerts;
pub mod audit;
pub mod ops;
pub mod page;
pub mod pending;
pub mod session;
pub mod usage;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/reports", web::get().to(page::show))
        .route("/api/v1/reports/pending", web::get().to(pending::json))
        .route("/api/v1/reports/pending.csv", web::get().to(pending::csv))
        .route("/api/v1/reports/usage", web::get().to(usage::get))
        .route("/api/v1/settings/alerts", web::get().to(alerts::get))
        .route("/api/v1/settings/alerts", web::put().to(alerts::put))
        .route("/api/v1/audit", web::get().to(audit::list));
}
