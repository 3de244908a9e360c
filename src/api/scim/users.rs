//! `/Users` handlers: thin — extract, normalize, one domain call, render.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{preconditions, query_pairs, render};
use crate::api::body::read_json;
use crate::api::respond::ScimJson;
use crate::auth::ScimClient;
use crate::domain::users::{self as domain, CreateOptions};
use crate::error::Error;
use crate::scim::list::{list_response, ListQuery};
use crate::scim::resource::normalize;
use crate::scim::schema::Registry;
use crate::startup::AppState;

pub async fn create(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let resource = normalize(&body, &Registry::get().user)?;
    let (org, actor) = (client.org_id.clone(), client.actor());
    let view = state
        .db
        .write(move |c| domain::create(c, &org, resource, CreateOptions::default(), &actor))
        .await?;
    Ok(ScimJson::resource(
        StatusCode::CREATED,
        render::user(&view, &client.base_url),
    ))
}

pub async fn get(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<ScimJson, Error> {
    let pre = preconditions(&req);
    let org = client.org_id.clone();
    let view = state
        .db
        .read(move |c| domain::get(c, &org, &id, true))
        .await?;
    pre.check_read(view.row.version)?;
    Ok(ScimJson::resource(
        StatusCode::OK,
        render::user(&view, &client.base_url),
    ))
}

pub async fn list(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<ScimJson, Error> {
    let query = ListQuery::from_pairs(&query_pairs(&req), state.settings.scim.max_results)?;
    let org = client.org_id.clone();
    let q = query.clone();
    let (views, total) = state.db.read(move |c| domain::search(c, &org, &q)).await?;
    let resources = views
        .iter()
        .map(|v| render::user(v, &client.base_url))
        .collect();
    Ok(ScimJson::ok(list_response(
        resources,
        total,
        query.start_index,
    )))
}

pub async fn replace(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let resource = normalize(&body, &Registry::get().user)?;
    let (org, actor, pre) = (client.org_id.clone(), client.actor(), preconditions(&req));
    let view = state
        .db
        .write(move |c| domain::replace(c, &org, &id, resource, &pre, &actor))
        .await?;
    Ok(ScimJson::resource(
        StatusCode::OK,
        render::user(&view, &client.base_url),
    ))
}

pub async fn delete(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let (org, actor, pre) = (client.org_id.clone(), client.actor(), preconditions(&req));
    state
        .db
        .write(move |c| domain::delete(c, &org, &id, &pre, &actor))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
