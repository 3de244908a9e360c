//! Operations: liveness (`/healthz`, no database), readiness (`/readyz`, `SELECT 1` on the read
//! pool) and Prometheus metrics (`/metrics`).

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store;

/// Readiness gives up after this long (a stuck pool must not hang the load balancer's probe).
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ping = state.db.read(|c| Ok(store::reports::ping(c)?));
    let problem = match tokio::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!(
            "no answer within {} seconds",
            READY_TIMEOUT.as_secs()
        )),
    };
    match problem {
        None => HttpResponse::Ok().json(json!({"status": "ready", "database": "ok"})),
        Some(why) => {
            tracing::warn!(reason = %why, "not ready: database unreachable");
            HttpResponse::ServiceUnavailable()
                .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
                .json(json!({"status": "unavailable", "database": "unreachable", "detail": why}))
        }
    }
}

pub async fn metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>) -> HttpResponse {
    let read = state.db.read(|c| {
        Ok((
            store::reports::global_tier_sums(c)?,
            store::reports::global_pending(c)?,
        ))
    });
    let inv = match tokio::time::timeout(READY_TIMEOUT, read).await {
        Ok(Ok(v)) => Some(v),
        _ => None,
    };
    metrics.set_inventory(inv);
    match metrics.render() {
        Ok(text) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(text),
        Err(e) => {
            tracing::error!(error = %e, "encoding metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}
