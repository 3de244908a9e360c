//! `/Users` handlers: thin — extract, one domain call, render.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::extract::{ListRequest, ScimBody};
use super::{render, search_turn, Projection};
use crate::api::respond::{no_content, ScimJson};
use crate::auth::ScimClient;
use crate::domain::provisioning::users as provisioning;
use crate::domain::users::{self as domain, UserView};
use crate::domain::Preconditions;
use crate::error::Error;
use crate::scim::list::{list_response, list_response_text_with};
use crate::scim::patch::parse_patch_request;
use crate::scim::schema::Registry;
use crate::state::AppState;

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
    projection: Projection,
    body: ScimBody,
) -> Result<ScimJson, Error> {
    let new = provisioning::new_user(&body.json().await?)?;
    let out = provisioning::create(&state.db, &client.caller(), new).await?;
    Ok(respond(StatusCode::CREATED, &out.value, &client, &projection).decisions(out.decisions))
}

pub async fn get(
    client: ScimClient,
    state: web::Data<AppState>,
    pre: Preconditions,
    projection: Projection,
    id: web::Path<String>,
) -> Result<ScimJson, Error> {
    let with_groups = projection.wants(&Registry::get().user, "groups");
    let view = provisioning::get(&state.db, &client.org_id, id.into_inner(), with_groups).await?;
    pre.check_read(view.version())?;
    Ok(respond(StatusCode::OK, &view, &client, &projection))
}

/// `GET /Users` and `POST /Users/.search`.
pub async fn list(
    client: ScimClient,
    state: web::Data<AppState>,
    list: ListRequest,
) -> Result<ScimJson, Error> {
    let query = list.query().await?;
    let search = domain::Search::new(&client.org_id, query.clone())?;
    let _turn = search_turn(&state, &client, search.is_point()).await?;
    let (views, total) = provisioning::search(&state.db, search).await?;
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
    pre: Preconditions,
    projection: Projection,
    id: web::Path<String>,
    body: ScimBody,
) -> Result<ScimJson, Error> {
    let resource = provisioning::user_resource(&body.json().await?)?;
    let out =
        provisioning::replace(&state.db, &client.caller(), id.into_inner(), resource, pre).await?;
    Ok(respond(StatusCode::OK, &out.value, &client, &projection).decisions(out.decisions))
}

pub async fn patch(
    client: ScimClient,
    state: web::Data<AppState>,
    pre: Preconditions,
    projection: Projection,
    id: web::Path<String>,
    body: ScimBody,
) -> Result<ScimJson, Error> {
    let ops = parse_patch_request(&body.json().await?)?;
    let out = provisioning::patch(&state.db, &client.caller(), id.into_inner(), ops, pre).await?;
    Ok(respond(StatusCode::OK, &out.value, &client, &projection).decisions(out.decisions))
}

pub async fn delete(
    client: ScimClient,
    state: web::Data<AppState>,
    pre: Preconditions,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let out = provisioning::delete(&state.db, &client.caller(), id.into_inner(), pre).await?;
    Ok(no_content(out.decisions))
}
