//! `GET /api/v1/reports/usage` (Admin and above): seats per tier, utilization, the queue, the
//! alert state and the projected renewal (its price only for Owners, who see the contract).

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::api::owner::render;
use crate::auth::OwnerSession;
use crate::domain::members::Role;
use crate::domain::reports::{self, Usage};
use crate::error::Error;
use crate::state::AppState;

pub fn usage_json(u: &Usage, with_prices: bool) -> Value {
    let alert_state = match u.threshold {
        None => "not_configured",
        Some(_) if u.warning => "warning",
        Some(_) => "ok",
    };
    json!({
        "tiers": u.tiers,
        "totals": {
            "purchased": u.purchased,
            "claimed": u.claimed,
            "free": u.free,
            "utilization": u.utilization,
        },
        "pending": u.pending,
        "alert": {
            "free_seat_threshold": u.threshold,
            "state": alert_state,
        },
        "warning": u.warning,
        "projected_renewal": u.renewal.as_ref().map(|r| json!({
            "on": r.on,
            "auto_renew": r.auto_renew,
            "seats": r.seats_in_use,
            "quote": if with_prices { r.quote.as_ref().map(render::quote) } else { None },
        })),
    })
}

pub async fn get(session: OwnerSession, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let org_id = session.org_id.clone();
    let (u, health) = state
        .db
        .read(move |c| {
            Ok((
                reports::usage(c, &org_id)?,
                crate::domain::provisioning_log::health(c, &org_id)?,
            ))
        })
        .await?;
    let mut body = usage_json(&u, session.role.at_least(Role::Owner));
    // The IdP's health: share of failed SCIM requests over the last hour.
    body["idp_health"] = json!(health);
    Ok(HttpResponse::Ok().json(body))
}
