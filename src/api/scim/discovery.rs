//! `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas` (RFC 7643 §5–7), rendered from the
//! same registry and settings the server runs on, so they describe exactly what it does.
//! They are public: they say nothing about any organization.

use actix_web::{web, HttpRequest};
use serde_json::{json, Value};

use super::query_pairs;
use crate::api::respond::ScimJson;
use crate::auth::scim_client::base_url;
use crate::error::Error;
use crate::scim::list::list_response;
use crate::scim::schema::{Registry, SERVICE_PROVIDER_CONFIG};
use crate::state::AppState;

/// A `filter` on a discovery endpoint is refused with 403 (RFC 7644 §4: the service provider
/// SHOULD, so that a client never takes the unfiltered answer for a filtered one).
fn refuse_filter(req: &HttpRequest) -> Result<(), Error> {
    if query_pairs(req)
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("filter"))
    {
        return Err(Error::Forbidden(format!(
            "{} does not support filtering (RFC 7644 §4)",
            req.path()
        )));
    }
    Ok(())
}

pub async fn service_provider_config(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<ScimJson, Error> {
    refuse_filter(&req)?;
    let s = &state.settings.scim;
    let base = base_url(&req);
    Ok(ScimJson::ok(json!({
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "documentationUri": "https://github.com/scim-seats/scim-seats#readme",
        "patch": {"supported": crate::api::scim::FEATURES.patch},
        "bulk": {
            "supported": crate::api::scim::FEATURES.bulk,
            "maxOperations": s.bulk_max_operations,
            "maxPayloadSize": s.bulk_max_payload_bytes,
        },
        "filter": {"supported": true, "maxResults": s.max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": crate::api::scim::FEATURES.sort},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with an organization's SCIM bearer token",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }, {
            "type": "oauth2",
            "name": "OAuth 2.0 client credentials",
            "description": format!("Access tokens from the client credentials grant (RFC 6749 section 4.4): POST client_id and client_secret (HTTP Basic or form body) to {}/oauth/token, then send the access token as a bearer token", base.trim_end_matches("/scim/v2")),
            "specUri": "https://www.rfc-editor.org/info/rfc6749",
            "primary": false,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        }
    })))
}

fn resource_type_docs(base: &str) -> Vec<Value> {
    let reg = Registry::get();
    vec![
        reg.user.resource_type_json(base),
        reg.group.resource_type_json(base),
    ]
}

pub async fn resource_types(req: HttpRequest) -> Result<ScimJson, Error> {
    refuse_filter(&req)?;
    let docs = resource_type_docs(&base_url(&req));
    let n = docs.len() as i64;
    Ok(ScimJson::ok(list_response(docs, n, 1)))
}

pub async fn resource_type(req: HttpRequest, id: web::Path<String>) -> Result<ScimJson, Error> {
    refuse_filter(&req)?;
    resource_type_docs(&base_url(&req))
        .into_iter()
        .find(|d| {
            d["id"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(&id))
        })
        .map(ScimJson::ok)
        .ok_or_else(|| Error::not_found(format!("ResourceType '{id}'")))
}

fn schema_docs(base: &str) -> Vec<Value> {
    Registry::get()
        .all_schemas()
        .into_iter()
        .map(|s| s.to_json(base))
        .collect()
}

pub async fn schemas(req: HttpRequest) -> Result<ScimJson, Error> {
    refuse_filter(&req)?;
    let docs = schema_docs(&base_url(&req));
    let n = docs.len() as i64;
    Ok(ScimJson::ok(list_response(docs, n, 1)))
}

pub async fn schema(req: HttpRequest, id: web::Path<String>) -> Result<ScimJson, Error> {
    refuse_filter(&req)?;
    schema_docs(&base_url(&req))
        .into_iter()
        .find(|d| {
            d["id"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(&id))
        })
        .map(ScimJson::ok)
        .ok_or_else(|| Error::not_found(format!("Schema '{id}'")))
}
