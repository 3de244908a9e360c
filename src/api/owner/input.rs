//! Typed request bodies of the owner API. They are read with `read_json` (so bad JSON gets
//! the same error body everywhere) and described in the OpenAPI document by `ToSchema`.

use actix_web::{web, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::body::read_json;
use crate::error::Error;

pub async fn body<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<T, Error> {
    let v = read_json(req, payload, limit).await?;
    serde_json::from_value(v).map_err(|e| Error::BadRequest(format!("invalid request body: {e}")))
}

/// `POST /api/v1/seats/preview` and `/seats/confirm`, as the OpenAPI document describes it;
/// the handlers read it with `OrderRequest::from_json`, which names each mistake.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Described, not deserialized.
pub struct OrderBody {
    /// Standard seats to add (0 or more).
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub add_standard: Option<i64>,
    /// Premium seats to add (0 or more).
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub add_premium: Option<i64>,
    /// Standard seats converted to premium (0 or more).
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub upgrade_standard_to_premium: Option<i64>,
    /// Standard members (user ids) to move up first when upgrading.
    pub upgrade_members: Option<Vec<String>>,
}

/// `POST /api/v1/invitations`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// An address in one of the organization's verified domains.
    pub email: String,
    /// `member`, `admin` or `owner` (Owners only); never `primary_owner`.
    #[serde(default = "default_role")]
    pub role: String,
}

fn default_role() -> String {
    "member".into()
}

/// `POST /api/v1/invitations/accept`
#[derive(Debug, Deserialize, ToSchema)]
pub struct AcceptRequest {
    /// The invitation token from the mail.
    pub token: String,
}

/// `PUT /api/v1/members/{id}/role`
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleRequest {
    /// `member`, `admin` or `owner`.
    pub role: String,
}

/// `PUT /api/v1/members/{id}/tier`
#[derive(Debug, Deserialize, ToSchema)]
pub struct TierRequest {
    /// `premium` or `standard`.
    pub tier: String,
}

/// `POST /api/v1/members/{id}/swap`
#[derive(Debug, Deserialize, ToSchema)]
pub struct SwapRequest {
    /// The other member (member id or account id), holding a seat of the other tier.
    pub with: String,
}

/// `POST /api/v1/members/{id}/give-seat`
#[derive(Debug, Deserialize, ToSchema)]
pub struct GiveSeatRequest {
    /// The pending user (member id or account id) who gets the seat.
    pub to: String,
}

/// `POST /api/v1/ownership/transfer`
#[derive(Debug, Deserialize, ToSchema)]
pub struct TransferRequest {
    /// The member who becomes Primary Owner.
    pub member_id: String,
}

/// `POST /api/v1/domains`
#[derive(Debug, Deserialize, ToSchema)]
pub struct DomainRequest {
    pub domain: String,
}

/// `POST /api/v1/scim-tokens`
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    #[serde(default)]
    pub description: String,
}

/// `GET /api/v1/members` query.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub role: Option<String>,
    /// `active`, `pending`, `inactive` or `none` (no account).
    pub status: Option<String>,
    pub tier: Option<String>,
}

/// `GET /api/v1/invitations` query.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InvitationQuery {
    /// `pending`, `accepted`, `voided` or `expired`.
    pub status: Option<String>,
}
