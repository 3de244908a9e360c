//! `GET /api/v1/contract` (Owner and above).

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::render;
use crate::auth::OwnerSession;
use crate::domain::members::Role;
use crate::domain::{billing, contracts, seats};
use crate::error::Error;
use crate::startup::AppState;

pub async fn get(session: OwnerSession, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let org_id = session.org_id.clone();
    let (org, contract, pools) = state
        .db
        .read(move |c| {
            let org = crate::store::orgs::find(c, &org_id)?
                .ok_or_else(|| Error::not_found("organization"))?;
            Ok((
                org,
                contracts::get(c, &org_id)?,
                seats::inventory(c, &org_id)?,
            ))
        })
        .await?;
    let today = state.clock.today();
    let months_left = billing::months_left(&contract.term, today)
        .ok()
        .map(|m| m.to_string());
    let mut body = render::contract(&contract);
    body["organization"] = json!({"id": org.id, "slug": org.slug, "name": org.name});
    body["seats"] = json!(pools);
    body["today"] = json!(today);
    body["months_left"] = json!(months_left);
    body["purchase_refused"] = json!(contract.refuse_purchase(today));
    Ok(HttpResponse::Ok().json(body))
}
