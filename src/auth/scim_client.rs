//! `ScimClient`: the organization a SCIM request acts for, from its bearer token.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};

use crate::domain::provisioning::ScimCaller;
use crate::domain::{oauth, tokens};
use crate::error::Error;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct ScimClient {
    pub org_id: String,
    pub token_id: String,
    /// The SCIM base URL as the client reached it, for `meta.location` and `$ref`.
    pub base_url: String,
}

impl ScimClient {
    /// Who the SCIM write use cases act for.
    pub fn caller(&self) -> ScimCaller {
        ScimCaller {
            org_id: self.org_id.clone(),
            token_id: self.token_id.clone(),
        }
    }
}

/// The SCIM base URL of a request: scheme and host as the client used them.
pub fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}/scim/v2", info.scheme(), info.host())
}

impl FromRequest for ScimClient {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = super::bearer(req).map(str::to_string);
        let base_url = base_url(req);
        // The provisioning log reads who the request acted for from the request's extensions.
        let caller = CallerSlot(req.clone());
        Box::pin(async move {
            let state = state.ok_or_else(|| Error::Internal(anyhow::anyhow!("no app state")))?;
            let bearer = bearer.ok_or_else(|| {
                Error::Unauthorized("a bearer token is required (Authorization: Bearer …)".into())
            })?;
            if oauth::is_access_token(&bearer) {
                // Short-lived OAuth access tokens are checked on every request (expiry, and a
                // revoked client ends them at once); there is no last use to record.
                let grant = state
                    .db
                    .read_point(move |conn| oauth::verify(conn, &bearer))
                    .await?
                    .ok_or_else(|| {
                        Error::Unauthorized(
                            "the access token is not valid (expired, revoked or unknown)".into(),
                        )
                    })?;
                caller.insert(crate::provisioning_log::Caller {
                    org_id: grant.org_id.clone(),
                    token_id: grant.client_id.clone(),
                });
                return Ok(ScimClient {
                    org_id: grant.org_id,
                    token_id: grant.client_id,
                    base_url,
                });
            }
            let grant = state
                .db
                .read_point(move |conn| tokens::verify(conn, &bearer))
                .await?
                .ok_or_else(|| Error::Unauthorized("the bearer token is not valid".into()))?;
            let stale = grant.last_used_at.is_none_or(|t| {
                let age = crate::store::now() - t;
                age.to_std().unwrap_or_default() >= state.settings.scim.token_touch_interval
            });
            if stale {
                // Recording last use is best-effort and must not slow the request down.
                let db = state.db.clone();
                let id = grant.token_id.clone();
                actix_web::rt::spawn(async move {
                    let _ = db
                        .write(move |conn| {
                            crate::store::tokens::touch(conn, &id, crate::store::now())
                                .map_err(Error::from)
                        })
                        .await;
                });
            }
            caller.insert(crate::provisioning_log::Caller {
                org_id: grant.org_id.clone(),
                token_id: grant.token_id.clone(),
            });
            Ok(ScimClient {
                org_id: grant.org_id,
                token_id: grant.token_id,
                base_url,
            })
        })
    }
}

/// Where the extractor leaves the caller for the provisioning log.
struct CallerSlot(HttpRequest);

impl CallerSlot {
    fn insert(&self, caller: crate::provisioning_log::Caller) {
        self.0.extensions_mut().insert(caller);
    }
}
