//! `GET /api/v1/contract` (Owner and above).

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::render;
use crate::auth::OwnerSession;
use crate::domain::billing::contracts;
use crate::domain::members::Role;
use crate::error::Error;
use crate::state::AppState;

pub async fn get(session: OwnerSession, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let org_id = session.org_id.clone();
    let today = state.clock.today();
    let st = state
        .db
        .read(move |c| contracts::standing(c, &org_id, today))
        .await?;
    let mut body = render::contract(&st.contract);
    body["organization"] = json!({"id": st.org.id, "slug": st.org.slug, "name": st.org.name});
    body["seats"] = json!(st.pools);
    body["today"] = json!(today);
    body["months_left"] = json!(st.months_left.map(|m| m.to_string()));
    body["purchase_refused"] = json!(st.purchase_refused);
    Ok(HttpResponse::Ok().json(body))
}
