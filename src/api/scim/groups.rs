//! `/Groups` handlers: thin — extract, one domain call, render.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::extract::{ListRequest, ScimBody};
use super::{render, search_turn, Projection};
use crate::api::respond::{no_content, with_decisions, ScimJson};
use crate::auth::ScimClient;
use crate::domain::groups::{self as domain, GroupView};
use crate::domain::provisioning::groups::{self as provisioning, GroupInput};
use crate::domain::Preconditions;
use crate::error::Error;
use crate::scim::list::list_response;
use crate::scim::patch::parse_patch_request;
use crate::scim::schema::Registry;
use crate::state::AppState;

fn respond(status: StatusCode, view: &GroupView, client: &ScimClient, p: &Projection) -> ScimJson {
    let body = p.apply(
        render::group(view, &client.base_url),
        &Registry::get().group,
    );
    ScimJson::resource(status, body, view.version().etag(), || {
        render::location(&client.base_url, "Groups", &view.row.id)
    })
}

pub async fn create(
    client: ScimClient,
    state: web::Data<AppState>,
    projection: Projection,
    body: ScimBody,
) -> Result<ScimJson, Error> {
    let input = GroupInput::from_body(&body.json().await?)?;
    let out = provisioning::create(&state.db, &client.caller(), input).await?;
    Ok(respond(StatusCode::CREATED, &out.value, &client, &projection).decisions(out.decisions))
}

pub async fn get(
    client: ScimClient,
    state: web::Data<AppState>,
    pre: Preconditions,
    projection: Projection,
    id: web::Path<String>,
) -> Result<ScimJson, Error> {
    let with_members = projection.wants(&Registry::get().group, "members");
    let view = provisioning::get(&state.db, &client.org_id, id.into_inner(), with_members).await?;
    pre.check_read(view.version())?;
    Ok(respond(StatusCode::OK, &view, &client, &projection))
}

/// `GET /Groups` and `POST /Groups/.search`.
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
    let resources = views
        .iter()
        .map(|v| projection.apply(render::group(v, &client.base_url), &Registry::get().group))
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
    let input = GroupInput::from_body(&body.json().await?)?;
    let with_members = projection.wants(&Registry::get().group, "members");
    let caller = client.caller();
    let out = provisioning::replace(
        &state.db,
        &caller,
        id.into_inner(),
        input,
        pre,
        with_members,
    )
    .await?;
    Ok(respond(StatusCode::OK, &out.value, &client, &projection).decisions(out.decisions))
}

/// PATCH answers 204 (RFC 7644 §3.5.2 allows it) unless the client asks for attributes:
/// returning a 100,000-member group after adding one member would defeat row-level membership.
pub async fn patch(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    pre: Preconditions,
    projection: Projection,
    id: web::Path<String>,
    body: ScimBody,
) -> Result<HttpResponse, Error> {
    let ops = parse_patch_request(&body.json().await?)?;
    let wants_body = !projection.is_empty();
    let with_members = wants_body && projection.wants(&Registry::get().group, "members");
    let caller = client.caller();
    let out =
        provisioning::patch(&state.db, &caller, id.into_inner(), ops, pre, with_members).await?;
    if wants_body {
        return Ok(respond(StatusCode::OK, &out.value, &client, &projection)
            .decisions(out.decisions)
            .respond_to_response(&req));
    }
    let mut resp = HttpResponse::NoContent()
        .insert_header((actix_web::http::header::ETAG, out.value.version().etag()))
        .finish();
    with_decisions(&mut resp, out.decisions);
    Ok(resp)
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
