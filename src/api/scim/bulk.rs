//! `POST /Bulk` (RFC 7644 §3.7): the request parsed, its operations run by
//! `domain::provisioning::bulk`, and each one's entry in the BulkResponse rendered here.

use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::{json, Map, Value};

use super::extract::ScimBody;
use super::render;
use crate::api::respond::ScimJson;
use crate::auth::ScimClient;
use crate::domain::provisioning::bulk::{self as provisioning, Applied, Done};
use crate::error::Error;
use crate::scim::bulk::{parse_bulk_request, Failure, Report};
use crate::scim::error::ScimErrorKind;
use crate::scim::schema::BULK_RESPONSE;
use crate::state::AppState;

pub async fn bulk(
    client: ScimClient,
    state: web::Data<AppState>,
    body: ScimBody,
) -> Result<ScimJson, Error> {
    let limits = &state.settings.scim;
    let body = body.json_within(limits.bulk_max_payload_bytes).await?;
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
    let out = provisioning::run(&state.db, &client.caller(), request).await?;
    let results: Vec<Value> = out
        .value
        .into_iter()
        .map(|r| report(r, &client.base_url))
        .collect();
    Ok(
        ScimJson::ok(json!({"schemas": [BULK_RESPONSE], "Operations": results}))
            .decisions(out.decisions),
    )
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
            let status = match done.applied {
                Applied::Created => StatusCode::CREATED,
                Applied::Updated => StatusCode::OK,
                Applied::Deleted => StatusCode::NO_CONTENT,
            };
            out.insert("status".into(), json!(status.as_u16().to_string()));
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
