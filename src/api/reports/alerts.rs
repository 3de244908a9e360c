//! `GET` / `PUT /api/v1/settings/alerts` (Owner and above): the free-seat threshold and the
//! webhook. The secret is write-only: reads say whether one is set.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::api::body::read_json;
use crate::auth::OwnerSession;
use crate::domain::members::Role;
use crate::domain::seats::alerts::{self, AlertConfig};
use crate::error::Error;
use crate::state::AppState;
use crate::store::alerts::AlertRow;

/// `PUT /api/v1/settings/alerts`, as the OpenAPI document describes it; the handler reads
/// it with `AlertConfig::from_json`, which names each mistake.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Described, not deserialized.
pub struct AlertSettingsRequest {
    /// Alert when free seats (all tiers) fall to this number or below; 0 or more.
    pub free_seat_threshold: i64,
    /// An absolute http:// or https:// URL that receives signed alert events.
    pub webhook_url: Option<String>,
    /// The HMAC secret the webhook's signature header is made with; write-only.
    pub webhook_secret: Option<String>,
}

fn render(row: Option<&AlertRow>) -> serde_json::Value {
    match row {
        Some(r) => json!({
            "free_seat_threshold": r.free_seat_threshold,
            "webhook_url": r.webhook_url,
            "webhook_secret_set": r.webhook_secret.is_some(),
            "signature_header": crate::webhooks::SIGNATURE_HEADER,
        }),
        None => json!({
            "free_seat_threshold": null,
            "webhook_url": null,
            "webhook_secret_set": false,
            "signature_header": crate::webhooks::SIGNATURE_HEADER,
        }),
    }
}

pub async fn get(session: OwnerSession, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let org_id = session.org_id.clone();
    let row = state.db.read(move |c| alerts::get(c, &org_id)).await?;
    Ok(HttpResponse::Ok().json(render(row.as_ref())))
}

pub async fn put(
    session: OwnerSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let cfg = AlertConfig::from_json(&body, &state.settings.outbound)?;
    let (org_id, actor) = (session.org_id.clone(), session.actor());
    let row = state
        .db
        .write(move |c| alerts::configure(c, &org_id, &cfg, &actor))
        .await?;
    Ok(HttpResponse::Ok().json(render(Some(&row))))
}
