//! `POST /.search` on the SCIM root.

use actix_web::web;

use super::extract::ListRequest;
use super::{render, search_turn, Projection};
use crate::api::respond::ScimJson;
use crate::auth::ScimClient;
use crate::domain::provisioning;
use crate::domain::search::Found;
use crate::error::Error;
use crate::scim::list::list_response;
use crate::scim::schema::Registry;
use crate::state::AppState;

pub async fn root(
    client: ScimClient,
    state: web::Data<AppState>,
    list: ListRequest,
) -> Result<ScimJson, Error> {
    let query = list.query().await?;
    let _turn = search_turn(&state, &client, false).await?;
    let found = provisioning::search_all(&state.db, &client.org_id, query.clone()).await?;
    let p = Projection::from_query(&query);
    let reg = Registry::get();
    let resources: Vec<_> = found
        .resources
        .iter()
        .map(|r| match r {
            Found::User(v) => p.apply(render::user(v, &client.base_url), &reg.user),
            Found::Group(v) => p.apply(render::group(v, &client.base_url), &reg.group),
        })
        .collect();
    Ok(ScimJson::ok(list_response(
        resources,
        found.total,
        query.start_index,
    )))
}
