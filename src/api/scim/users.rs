//! `/Users` handlers: thin — extract, normalize, one domain call, render.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::{preconditions, query_pairs, render, with_id, Projection};
use crate::api::body::read_json;
use crate::api::respond::ScimJson;
use crate::auth::ScimClient;
use crate::domain::users::{self as domain, CreateOptions, NewUser, UserView};
use crate::domain::Preconditions;
use crate::error::Error;
use crate::scim::list::{list_response, list_response_text_with, ListQuery};
use crate::scim::patch::{apply, parse_patch_request};
use crate::scim::resource::normalize;
use crate::scim::schema::Registry;
use crate::state::AppState;
use crate::store::DbConn;

fn respond(status: StatusCode, view: &UserView, client: &ScimClient, p: &Projection) -> ScimJson {
    let etag = view.version().etag();
    let location = || render::location(&client.base_url, "Users", &view.row.id);
    if !p.is_empty() {
        let body = p.apply(render::user(view, &client.base_url), &Registry::get().user);
        return ScimJson::resource(status, body, etag, location);
    }
    ScimJson::resource_text(
        status,
        render::user_text(view, &client.base_url),
        etag,
        location,
    )
}

pub async fn create(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let new = new_user(&body)?;
    let c = client.clone();
    let view = state.db.write(move |conn| create_in(conn, &c, new)).await?;
    Ok(respond(
        StatusCode::CREATED,
        &view,
        &client,
        &Projection::from_request(&req),
    ))
}

pub async fn get(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<ScimJson, Error> {
    let (pre, projection) = (preconditions(&req), Projection::from_request(&req));
    let with_groups = projection.wants(&Registry::get().user, "groups");
    let org = client.org_id.clone();
    let view = state
        .db
        .read_point(move |c| domain::get(c, &org, &id, with_groups))
        .await?;
    pre.check_read(view.version())?;
    Ok(respond(StatusCode::OK, &view, &client, &projection))
}

pub async fn list(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<ScimJson, Error> {
    let query = ListQuery::from_pairs(&query_pairs(&req), state.settings.scim.max_results)?;
    search_with(client, state, query).await
}

pub async fn search(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let query = ListQuery::from_search_request(&body, state.settings.scim.max_results)?;
    search_with(client, state, query).await
}

async fn search_with(
    client: ScimClient,
    state: web::Data<AppState>,
    query: ListQuery,
) -> Result<ScimJson, Error> {
    let filter = domain::parse_filter(&query)?;
    let point = domain::is_point_search(filter.as_ref());
    // Point lookups stay cheap; anything else takes one of the organization's turns.
    let _turn = match point {
        true => None,
        false => Some(state.searches.enter(&client.org_id).await?),
    };
    let (org, q, marks) = (client.org_id.clone(), query.clone(), state.db.page_marks());
    let (views, total) = state
        .db
        .read_point_if(point, move |c| {
            domain::search(c, &org, &q, filter.as_ref(), Some(&marks))
        })
        .await?;
    let projection = Projection::from_query(&query);
    if projection.is_empty() {
        // Each user's text is a little longer than its stored resource.
        let size_hint = views.iter().map(|v| v.row.resource.len() + 640).sum();
        return Ok(ScimJson::ok_text(list_response_text_with(
            &views,
            total,
            query.start_index,
            size_hint,
            |out, v| render::user_text_into(out, v, &client.base_url),
        )));
    }
    let resources = views
        .iter()
        .map(|v| projection.apply(render::user(v, &client.base_url), &Registry::get().user))
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
    let (c, id, pre) = (client.clone(), id.into_inner(), preconditions(&req));
    let view = state
        .db
        .write(move |conn| replace_in(conn, &c, &id, body, &pre))
        .await?;
    Ok(respond(
        StatusCode::OK,
        &view,
        &client,
        &Projection::from_request(&req),
    ))
}

pub async fn patch(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let body = read_json(&req, payload, state.settings.http.max_body_bytes).await?;
    let (c, id, pre) = (client.clone(), id.into_inner(), preconditions(&req));
    let view = state
        .db
        .write(move |conn| patch_in(conn, &c, &id, body, &pre))
        .await?;
    Ok(respond(
        StatusCode::OK,
        &view,
        &client,
        &Projection::from_request(&req),
    ))
}

pub async fn delete(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let (c, id, pre) = (client.clone(), id.into_inner(), preconditions(&req));
    state
        .db
        .write(move |conn| delete_in(conn, &c, &id, &pre))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A POST /Users body checked and shaped for `create_in`; needs no database, so the handler
/// runs it before the write.
pub fn new_user(body: &Value) -> Result<NewUser, Error> {
    NewUser::new(&normalize(body, &Registry::get().user)?)
}

/// POST /Users as a step of a transaction; the handler and `/Bulk` share it.
pub fn create_in(conn: &mut DbConn, client: &ScimClient, new: NewUser) -> Result<UserView, Error> {
    domain::create(
        conn,
        &client.org_id,
        new,
        CreateOptions::default(),
        &client.actor(),
    )
}

/// PUT /Users/{id} as a step of a transaction.
pub fn replace_in(
    conn: &mut DbConn,
    client: &ScimClient,
    id: &str,
    body: Value,
    pre: &Preconditions,
) -> Result<UserView, Error> {
    let resource = normalize(&body, &Registry::get().user)?;
    domain::replace(conn, &client.org_id, id, resource, pre, &client.actor())
}

/// PATCH /Users/{id} as a step of a transaction.
pub fn patch_in(
    conn: &mut DbConn,
    client: &ScimClient,
    id: &str,
    body: Value,
    pre: &Preconditions,
) -> Result<UserView, Error> {
    let ops = parse_patch_request(&body)?;
    let id_value = Value::String(id.to_string());
    domain::modify(
        conn,
        &client.org_id,
        id,
        pre,
        &client.actor(),
        move |mut current: Value| {
            let rs = &Registry::get().user;
            with_id(&mut current, id_value);
            apply(&mut current, &ops, rs)?;
            // Re-normalize: types, required attributes and write-only values checked once.
            Ok(normalize(&current, rs)?)
        },
    )
}

/// DELETE /Users/{id} as a step of a transaction.
pub fn delete_in(
    conn: &mut DbConn,
    client: &ScimClient,
    id: &str,
    pre: &Preconditions,
) -> Result<(), Error> {
    domain::delete(conn, &client.org_id, id, pre, &client.actor())
}
