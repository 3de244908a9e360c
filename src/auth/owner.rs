//! `OwnerSession`: the organization member an owner-API request acts for, from its owner JWT.
//! The member must still exist in the token's organization; its role is read fresh.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use super::jwt;
use crate::domain::members::{self, Role};
use crate::domain::{Actor, Source};
use crate::error::Error;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct OwnerSession {
    pub org_id: String,
    pub member_id: String,
    pub role: Role,
}

impl OwnerSession {
    /// 403 unless the member's role is `min` or above; the detail names the roles allowed.
    pub fn require(&self, min: Role) -> Result<(), Error> {
        if self.role.at_least(min) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "requires {} (you are {})",
                min.and_above(),
                self.role
            )))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::new(format!("member:{}", self.member_id), Source::Admin)
    }
}

impl FromRequest for OwnerSession {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = super::bearer(req).map(str::to_string);
        Box::pin(async move {
            let state = state.ok_or_else(|| Error::Internal(anyhow::anyhow!("no app state")))?;
            let bearer = bearer.ok_or_else(|| {
                Error::Unauthorized("an owner token is required (Authorization: Bearer …)".into())
            })?;
            let claims = jwt::verify_owner(&state.settings.auth.jwt, &bearer)?;
            let (org, sub) = (claims.org.clone(), claims.sub.clone());
            let member = state
                .db
                .read(move |conn| members::find(conn, &org, &sub))
                .await?
                .ok_or_else(|| {
                    Error::Unauthorized(
                        "the owner token names no current member of its organization".into(),
                    )
                })?;
            Ok(OwnerSession {
                org_id: member.org_id,
                member_id: member.id,
                role: member.role,
            })
        })
    }
}
