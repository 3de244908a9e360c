//! `POST /.search` on the SCIM root.

use actix_web::{web, HttpRequest};

use super::{render, Projection};
use crate::api::body::read_json;
use crate::api::respond::ScimJson;
use crate::auth::ScimClient;
use crate::domain::search::{search_all, Found};
use crate::error::Error;
use crate::scim::list::{list_response, ListQuery};
use crate::scim::schema::Registry;
use crate::state::AppState;

pub async fn root(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let mut query = ListQuery::from_search_request(&body, state.settings.scim.max_results)?;
    query.max_page_members = state.settings.scim.max_page_members;
    let _turn = state.searches.enter(&client.org_id).await?;
    let org = client.org_id.clone();
    let q = query.clone();
    let found = state.db.read(move |c| search_all(c, &org, &q)).await?;
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
