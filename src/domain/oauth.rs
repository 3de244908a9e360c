//! OAuth 2.0 client credentials for SCIM (RFC 6749 §4.4). Owners create clients; a client has
//! one or more secrets at once (rotation: add a new one, move the IdP over, revoke the old) and
//! trades a secret for a short-lived access token at `POST /oauth/token`. Secrets and access
//! tokens are shown once and stored as SHA-256 hashes (they are 256-bit random values, so a
//! slow hash buys nothing), compared in constant time.

use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{audit, Actor};
use crate::error::Error;
use crate::store::{
    self,
    oauth::{AccessTokenRow, ClientRow, SecretRow},
    DbConn,
};
use serde_json::json;

const CLIENT_PREFIX: &str = "scimseats-client";
const SECRET_PREFIX: &str = "scimseats-secret";
const TOKEN_PREFIX: &str = "scimseats-at";

fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `<prefix>_<32 hex id>_<secret>` → the id, if the value has that shape.
fn embedded_id<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = value.strip_prefix(prefix)?.strip_prefix('_')?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 32 && !secret.is_empty()).then_some(id)
}

/// Whether a bearer value is one of our access tokens (else it may be a SCIM token).
pub fn is_access_token(bearer: &str) -> bool {
    bearer.starts_with(TOKEN_PREFIX)
}

/// A new secret: `secret` is the only copy.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedSecret {
    pub client_id: String,
    pub secret_id: String,
    pub client_secret: String,
}

pub fn create_client(
    conn: &mut DbConn,
    org_id: &str,
    description: &str,
    actor: &Actor,
) -> Result<IssuedSecret, Error> {
    if description.chars().count() > 200 {
        return Err(Error::BadRequest(
            "description is longer than 200 characters".into(),
        ));
    }
    let id = format!("{CLIENT_PREFIX}_{}", new_id());
    store::oauth::insert_client(
        conn,
        &ClientRow {
            id: id.clone(),
            org_id: org_id.to_string(),
            description: description.to_string(),
            created_at: store::now(),
            last_used_at: None,
            revoked_at: None,
        },
    )?;
    audit::record(
        conn,
        org_id,
        actor,
        "oauth_client.created",
        Some(&id),
        json!({}),
    )?;
    add_secret_to(conn, org_id, &id, actor)
}

fn live_client(conn: &mut DbConn, org_id: &str, client_id: &str) -> Result<ClientRow, Error> {
    store::oauth::find_client(conn, client_id)?
        .filter(|c| c.org_id == org_id && c.revoked_at.is_none())
        .ok_or_else(|| Error::not_found(format!("active OAuth client '{client_id}'")))
}

/// Add a secret to a live client (rotation); the others stay valid until revoked.
pub fn add_secret(
    conn: &mut DbConn,
    org_id: &str,
    client_id: &str,
    actor: &Actor,
) -> Result<IssuedSecret, Error> {
    live_client(conn, org_id, client_id)?;
    add_secret_to(conn, org_id, client_id, actor)
}

fn add_secret_to(
    conn: &mut DbConn,
    org_id: &str,
    client_id: &str,
    actor: &Actor,
) -> Result<IssuedSecret, Error> {
    let secret_id = new_id();
    let client_secret = format!("{SECRET_PREFIX}_{secret_id}_{}", random_hex());
    store::oauth::insert_secret(
        conn,
        &SecretRow {
            id: secret_id.clone(),
            client_id: client_id.to_string(),
            secret_hash: hash(&client_secret),
            created_at: store::now(),
            revoked_at: None,
        },
    )?;
    audit::record(
        conn,
        org_id,
        actor,
        "oauth_client.secret_added",
        Some(client_id),
        json!({"secretId": secret_id}),
    )?;
    Ok(IssuedSecret {
        client_id: client_id.to_string(),
        secret_id,
        client_secret,
    })
}

/// Revoke one secret: no new token can be had with it (tokens already issued run out).
pub fn revoke_secret(
    conn: &mut DbConn,
    org_id: &str,
    client_id: &str,
    secret_id: &str,
    actor: &Actor,
) -> Result<(), Error> {
    live_client(conn, org_id, client_id)?;
    if !store::oauth::revoke_secret(conn, client_id, secret_id, store::now())? {
        return Err(Error::not_found(format!("active secret '{secret_id}'")));
    }
    audit::record(
        conn,
        org_id,
        actor,
        "oauth_client.secret_revoked",
        Some(client_id),
        json!({"secretId": secret_id}),
    )?;
    Ok(())
}

/// Revoke a client: its secrets and every access token it holds stop working at once.
pub fn revoke_client(
    conn: &mut DbConn,
    org_id: &str,
    client_id: &str,
    actor: &Actor,
) -> Result<(), Error> {
    let now = store::now();
    if !store::oauth::revoke_client(conn, org_id, client_id, now)? {
        return Err(Error::not_found(format!(
            "active OAuth client '{client_id}'"
        )));
    }
    store::oauth::delete_all_tokens(conn, client_id)?;
    audit::record(
        conn,
        org_id,
        actor,
        "oauth_client.revoked",
        Some(client_id),
        json!({}),
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretView {
    pub id: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    pub client_id: String,
    pub description: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub secrets: Vec<SecretView>,
}

/// The organization's clients with their secrets' ids (never a secret).
pub fn list(conn: &mut DbConn, org_id: &str) -> Result<Vec<ClientView>, Error> {
    let clients = store::oauth::clients(conn, org_id)?;
    let ids: Vec<String> = clients.iter().map(|c| c.id.clone()).collect();
    let mut secrets = store::oauth::secrets_of(conn, &ids)?;
    Ok(clients
        .into_iter()
        .map(|c| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                secrets.drain(..).partition(|s| s.client_id == c.id);
            secrets = rest;
            ClientView {
                secrets: mine
                    .into_iter()
                    .map(|s| SecretView {
                        id: s.id,
                        created_at: s.created_at,
                        revoked_at: s.revoked_at,
                    })
                    .collect(),
                client_id: c.id,
                description: c.description,
                created_at: c.created_at,
                last_used_at: c.last_used_at,
                revoked_at: c.revoked_at,
            }
        })
        .collect())
}

/// Why a token request is refused (RFC 6749 §5.2); the API renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown client, wrong or revoked secret, revoked client.
    InvalidClient,
}

/// An access token just issued: `access_token` is its only copy.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
}

/// Authenticate a client by id and secret and issue an access token valid `ttl`.
pub fn issue_token(
    conn: &mut DbConn,
    client_id: &str,
    client_secret: &str,
    ttl: std::time::Duration,
) -> Result<Result<IssuedToken, Refusal>, Error> {
    let Some(client) = store::oauth::find_client(conn, client_id)? else {
        return Ok(Err(Refusal::InvalidClient));
    };
    let secret = match embedded_id(client_secret, SECRET_PREFIX) {
        Some(id) => store::oauth::find_secret(conn, id)?,
        None => None,
    };
    let valid = secret.is_some_and(|s| {
        let same: bool = hash(client_secret)
            .as_bytes()
            .ct_eq(s.secret_hash.as_bytes())
            .into();
        same && s.client_id == client.id && s.revoked_at.is_none()
    });
    if !valid || client.revoked_at.is_some() {
        return Ok(Err(Refusal::InvalidClient));
    }
    let now = store::now();
    let secs = i64::try_from(ttl.as_secs()).unwrap_or(3600).max(1);
    // Expired tokens of this client go as new ones come: the table stays small.
    store::oauth::delete_tokens(conn, &client.id, now)?;
    let id = new_id();
    let access_token = format!("{TOKEN_PREFIX}_{id}_{}", random_hex());
    store::oauth::insert_token(
        conn,
        &AccessTokenRow {
            id,
            client_id: client.id.clone(),
            org_id: client.org_id.clone(),
            token_hash: hash(&access_token),
            created_at: now,
            expires_at: now + Duration::seconds(secs),
        },
    )?;
    store::oauth::touch_client(conn, &client.id, now)?;
    Ok(Ok(IssuedToken {
        access_token,
        expires_in: secs,
    }))
}

/// What a valid access token grants: the organization and the client.
#[derive(Debug, Clone)]
pub struct AccessGrant {
    pub org_id: String,
    pub client_id: String,
}

/// Check an access token; `None` for anything unknown, expired, malformed or of a revoked client.
pub fn verify(conn: &mut DbConn, bearer: &str) -> Result<Option<AccessGrant>, Error> {
    let Some(id) = embedded_id(bearer, TOKEN_PREFIX) else {
        return Ok(None);
    };
    let Some((row, client_revoked)) = store::oauth::find_token(conn, id)? else {
        return Ok(None);
    };
    let same: bool = hash(bearer)
        .as_bytes()
        .ct_eq(row.token_hash.as_bytes())
        .into();
    if !same || client_revoked.is_some() || row.expires_at <= store::now() {
        return Ok(None);
    }
    Ok(Some(AccessGrant {
        org_id: row.org_id,
        client_id: row.client_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_only_from_our_shapes() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            embedded_id(&format!("scimseats-at_{id}_x"), TOKEN_PREFIX),
            Some(id)
        );
        assert_eq!(
            embedded_id(&format!("scimseats-at_{id}_"), TOKEN_PREFIX),
            None
        );
        assert_eq!(
            embedded_id(&format!("scimseats_{id}_x"), TOKEN_PREFIX),
            None
        );
        assert_eq!(
            embedded_id(&format!("scimseats-secret_{id}_x"), TOKEN_PREFIX),
            None
        );
        assert!(is_access_token("scimseats-at_x"));
        assert!(!is_access_token("scimseats_x"));
    }
}
