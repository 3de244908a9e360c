//! `POST /Bulk` (RFC 7644 §3.7): each operation runs through the same functions as the
//! single-resource endpoints, each all-or-nothing on its own (`Db::write_steps`: a savepoint
//! of one transaction on SQLite, a transaction each on PostgreSQL), in the order
//! `scim::bulk::run_bulk` picks (request order, an operation waiting for the POSTs whose
//! bulkIds it references).

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
    parse_bulk_request, run_bulk, BulkMethod, BulkOperation, BulkResource, Failure, Report,
};
use crate::scim::error::{ScimError, ScimErrorKind};
use crate::scim::schema::BULK_RESPONSE;
use crate::state::AppState;
use crate::store::DbConn;

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
    // The operations hold what they need: the request's JSON tree (several times its 1 MiB
    // of text) need not stay in memory while they run.
    drop(body);
    // Each operation is all-or-nothing and independent of the others (RFC 7644 §3.7); an
    // operation waits for the POSTs whose bulkIds it references (`run_bulk`).
    let c = client.clone();
    let results = state
        .db
        .write_steps(move |conn, steps| {
            let reports = run_bulk(
                request,
                |op| steps.run(conn, |conn| run(conn, &c, op)),
                &|done: &Done| done.id.clone(),
            );
            Ok(reports
                .into_iter()
                .map(|r| report(r, &c.base_url))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(ScimJson::ok(
        json!({"schemas": [BULK_RESPONSE], "Operations": results}),
    ))
}

/// One operation's entry in the BulkResponse (RFC 7644 §3.7.3): `location` for every
/// operation but a failed POST (and one whose path named no resource).
fn report(r: Report<Done, Error>, base: &str) -> Value {
    let mut out = Map::new();
    if let Some(m) = r.method {
        out.insert("method".into(), json!(m));
    }
    if let Some(b) = r.bulk_id {
        out.insert("bulkId".into(), json!(b));
    }
    if let Some(t) = r.target {
        out.insert(
            "location".into(),
            json!(render::location(base, t.resource.endpoint(), &t.id)),
        );
    }
    match r.result {
        Ok(done) => {
            if let Some(v) = done.version {
                out.insert("version".into(), json!(v));
            }
            out.insert("status".into(), json!(done.status.as_u16().to_string()));
        }
        Err(failure) => {
            let e = match failure {
                Failure::Invalid(e) => Error::from(e),
                Failure::Unresolved(detail) => Error::Conflict(detail),
                Failure::Failed(e) => e,
            };
            out.insert(
                "status".into(),
                json!(actix_web::ResponseError::status_code(&e)
                    .as_u16()
                    .to_string()),
            );
            out.insert("response".into(), e.body());
        }
    }
    Value::Object(out)
}

/// What the Bulk answer says of an operation that ran; no need to render the resource (on
/// SQLite this runs on the writer thread).
struct Done {
    status: StatusCode,
    /// The resource's id (a POST's new id: what its bulkId stands for).
    id: Option<String>,
    version: Option<String>,
}

/// Runs one operation whose `bulkId` references are resolved.
fn run(conn: &mut DbConn, client: &ScimClient, mut op: BulkOperation) -> Result<Done, Error> {
    let pre = Preconditions {
        if_match: op.version.take(),
        if_none_match: None,
    };
    let id = || {
        op.id.clone().ok_or_else(|| {
            Error::from(ScimError::invalid_path("the operation needs a resource id"))
        })
    };
    let data = op.data.take().unwrap_or(Value::Null);
    let written = |status: StatusCode, id: &str, version: Version| Done {
        status,
        id: Some(id.to_string()),
        version: Some(version.etag()),
    };
    Ok(match (op.resource, op.method) {
        (BulkResource::Users, BulkMethod::Post) => {
            let v = users::create_in(conn, client, users::new_user(&data)?)?;
            written(StatusCode::CREATED, &v.row.id, v.version())
        }
        (BulkResource::Users, BulkMethod::Put) => {
            let v = users::replace_in(conn, client, &id()?, data, &pre)?;
            written(StatusCode::OK, &v.row.id, v.version())
        }
        (BulkResource::Users, BulkMethod::Patch) => {
            let v = users::patch_in(conn, client, &id()?, data, &pre)?;
            written(StatusCode::OK, &v.row.id, v.version())
        }
        (BulkResource::Users, BulkMethod::Delete) => {
            let id = id()?;
            users::delete_in(conn, client, &id, &pre)?;
            deleted(id)
        }
        (BulkResource::Groups, BulkMethod::Post) => {
            let v = groups::create_in(conn, client, data)?;
            written(StatusCode::CREATED, &v.row.id, v.version())
        }
        (BulkResource::Groups, BulkMethod::Put) => {
            let v = groups::replace_in(conn, client, &id()?, data, &pre, false)?;
            written(StatusCode::OK, &v.row.id, v.version())
        }
        (BulkResource::Groups, BulkMethod::Patch) => {
            let v = groups::patch_in(conn, client, &id()?, data, &pre, false)?;
            written(StatusCode::OK, &v.row.id, v.version())
        }
        (BulkResource::Groups, BulkMethod::Delete) => {
            let id = id()?;
            groups::delete_in(conn, client, &id, &pre)?;
            deleted(id)
        }
    })
}

fn deleted(id: String) -> Done {
    Done {
        status: StatusCode::NO_CONTENT,
        id: Some(id),
        version: None,
    }
}
