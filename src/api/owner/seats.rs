//! `POST /api/v1/seats/preview` and `POST /api/v1/seats/confirm` (Owner and above).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::render;
use crate::api::body::read_json;
use crate::auth::OwnerSession;
use crate::domain::billing::seat_orders::{self, OrderRequest};
use crate::domain::members::Role;
use crate::domain::seats::inventory;
use crate::error::Error;
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

pub async fn preview(
    session: OwnerSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let order = OrderRequest::from_json(&body)?;
    let today = state.clock.today();
    let org_id = session.org_id.clone();
    let (plan, pools) = state
        .db
        .read(move |c| {
            let plan = seat_orders::preview(c, &org_id, &order, today)?;
            Ok((plan, inventory::pools(c, &org_id)?))
        })
        .await?;
    let mut out = render::quote(&plan.quote);
    out["date"] = json!(plan.day);
    out["term"] = render::term(&plan.contract.term);
    out["seats_before"] = json!(pools);
    Ok(HttpResponse::Ok().json(out))
}

pub async fn confirm(
    session: OwnerSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let key = req
        .headers()
        .get(IDEMPOTENCY_KEY)
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| Error::BadRequest("the Idempotency-Key header must be ASCII".into()))
        })
        .transpose()?
        .ok_or_else(|| {
            Error::BadRequest(
                "an Idempotency-Key header is required to confirm an order (any unique value, \
                 reused when retrying the same order)"
                    .into(),
            )
        })?;
    seat_orders::check_key(&key)?;
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let order = OrderRequest::from_json(&body)?;
    let today = state.clock.today();
    let done = seat_orders::confirm_once(
        &state.db,
        &session.org_id,
        &key,
        &order,
        today,
        &session.actor(),
    )
    .await?;
    let mut out = render::invoice(&done.invoice);
    out["replayed"] = json!(done.replayed);
    if !done.replayed {
        out["activated_users"] = json!(done.activated);
        out["upgraded_users"] = json!(done.upgraded);
    }
    let mut resp = if done.replayed {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    resp.insert_header((
        actix_web::http::header::LOCATION,
        format!("/api/v1/invoices/{}", done.invoice.row.number),
    ));
    if done.replayed {
        resp.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(resp.json(out))
}
