//! `POST /Bulk` (RFC 7644 §3.7): each operation runs through the same functions as the
//! single-resource endpoints, in order, each all-or-nothing on its own (`Db::write_steps`: a
//! savepoint of one transaction on SQLite, a transaction each on PostgreSQL).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde_json::{json, Map, Value};

use super::{groups, render, users};
use crate::api::body::read_json;
use crate::api::respond::ScimJson;
use crate::auth::ScimClient;
use crate::domain::{Preconditions, Version};
use crate::error::Error;
use crate::scim::bulk::{
    parse_bulk_request, resolve_refs, BulkMethod, BulkOperation, BulkRequest, BulkResource,
};
use crate::scim::error::{ScimError, ScimErrorKind};
use crate::scim::schema::BULK_RESPONSE;
use crate::startup::AppState;
use crate::store::{DbConn, Steps};

pub async fn bulk(
    client: ScimClient,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<ScimJson, Error> {
    let limits = &state.settings.scim;
    let body = read_json(&req, payload, limits.bulk_max_payload_bytes).await?;
    let request =
        parse_bulk_request(&body, limits.bulk_max_operations).map_err(|e| match e.kind {
            ScimErrorKind::TooMany => Error::PayloadTooLarge(e.detail),
            _ => e.into(),
        })?;
    // Each operation is all-or-nothing and independent of the others (RFC 7644 §3.7), and
    // bulkIds resolve in order.
    let c = client.clone();
    let results = state
        .db
        .write_steps(move |conn, steps| Ok(run_all(conn, steps, &c, request)))
        .await?;
    Ok(ScimJson::ok(
        json!({"schemas": [BULK_RESPONSE], "Operations": results}),
    ))
}

fn run_all(
    conn: &mut DbConn,
    steps: Steps,
    client: &ScimClient,
    request: BulkRequest,
) -> Vec<Value> {
    let mut created: HashMap<String, String> = HashMap::new();
    let mut results = Vec::with_capacity(request.operations.len());
    let mut errors = 0usize;
    for op in request.operations {
        if request.fail_on_errors.is_some_and(|max| errors >= max) {
            break;
        }
        let (method, bulk_id) = (op.method, op.bulk_id.clone());
        let mut out = Map::new();
        out.insert("method".into(), json!(method.as_str()));
        if let Some(b) = &bulk_id {
            out.insert("bulkId".into(), json!(b));
        }
        match steps.run(conn, |conn| run(conn, client, op, &created)) {
            Ok(done) => {
                if let (Some(b), Some(id)) = (&bulk_id, &done.id) {
                    created.insert(b.clone(), id.clone());
                }
                if let Some(loc) = done.location {
                    out.insert("location".into(), json!(loc));
                }
                if let Some(v) = done.version {
                    out.insert("version".into(), json!(v));
                }
                out.insert("status".into(), json!(done.status.as_u16().to_string()));
            }
            Err(e) => {
                errors += 1;
                out.insert(
                    "status".into(),
                    json!(actix_web::ResponseError::status_code(&e)
                        .as_u16()
                        .to_string()),
                );
                out.insert("response".into(), e.body());
            }
        }
        results.push(Value::Object(out));
    }
    results
}

struct Done {
    status: StatusCode,
    id: Option<String>,
    location: Option<String>,
    version: Option<String>,
}

fn resolved_id(op: &BulkOperation, created: &HashMap<String, String>) -> Result<String, Error> {
    let raw = op
        .id
        .clone()
        .ok_or_else(|| Error::from(ScimError::invalid_path("the operation needs a resource id")))?;
    let mut v = Value::String(raw);
    resolve_refs(&mut v, created)?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

fn run(
    conn: &mut DbConn,
    client: &ScimClient,
    op: BulkOperation,
    created: &HashMap<String, String>,
) -> Result<Done, Error> {
    let pre = Preconditions {
        if_match: op.version.clone(),
        if_none_match: None,
    };
    let mut data = op.data.clone().unwrap_or(Value::Null);
    resolve_refs(&mut data, created)?;
    let base = &client.base_url;
    // What the Bulk answer says of a written resource; no need to render the resource (on
    // SQLite this runs on the writer thread).
    let written = |status: StatusCode, endpoint: &str, id: &str, version: Version| Done {
        status,
        id: Some(id.to_string()),
        location: Some(render::location(base, endpoint, id)),
        version: Some(version.etag()),
    };
    Ok(match (op.resource, op.method) {
        (BulkResource::Users, BulkMethod::Post) => {
            let v = users::create_in(conn, client, users::new_user(&data)?)?;
            written(StatusCode::CREATED, "Users", &v.row.id, v.version())
        }
        (BulkResource::Users, BulkMethod::Put) => {
            let v = users::replace_in(conn, client, &resolved_id(&op, created)?, data, &pre)?;
            written(StatusCode::OK, "Users", &v.row.id, v.version())
        }
        (BulkResource::Users, BulkMethod::Patch) => {
            let v = users::patch_in(conn, client, &resolved_id(&op, created)?, data, &pre)?;
            written(StatusCode::OK, "Users", &v.row.id, v.version())
        }
        (BulkResource::Users, BulkMethod::Delete) => {
            users::delete_in(conn, client, &resolved_id(&op, created)?, &pre)?;
            Done {
                status: StatusCode::NO_CONTENT,
                id: None,
                location: None,
                version: None,
            }
        }
        (BulkResource::Groups, BulkMethod::Post) => {
            let v = groups::create_in(conn, client, data)?;
            written(StatusCode::CREATED, "Groups", &v.row.id, v.version())
        }
        (BulkResource::Groups, BulkMethod::Put) => {
            let v =
                groups::replace_in(conn, client, &resolved_id(&op, created)?, data, &pre, false)?;
            written(StatusCode::OK, "Groups", &v.row.id, v.version())
        }
        (BulkResource::Groups, BulkMethod::Patch) => {
            let v = groups::patch_in(conn, client, &resolved_id(&op, created)?, data, &pre, false)?;
            written(StatusCode::OK, "Groups", &v.row.id, v.version())
        }
        (BulkResource::Groups, BulkMethod::Delete) => {
            groups::delete_in(conn, client, &resolved_id(&op, created)?, &pre)?;
            Done {
                status: StatusCode::NO_CONTENT,
                id: None,
                location: None,
                version: None,
            }
        }
    })
}
