//! SCIM bearer tokens. The token is shown once; only its SHA-256 is stored, and the
//! comparison is constant-time.

use chrono::NaiveDateTime;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::store::{self, tokens::TokenRow, DbConn};

const PREFIX: &str = "scimseats";

/// A freshly issued token: `secret` is the only copy of the bearer value.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub id: String,
    pub secret: String,
}

/// What a valid token grants.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub token_id: String,
    pub org_id: String,
    pub last_used_at: Option<NaiveDateTime>,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn issue(conn: &mut DbConn, org_id: &str, description: &str) -> Result<IssuedToken, Error> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut secret_bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret_bytes);
    let secret = format!("{PREFIX}_{id}_{}", hex::encode(secret_bytes));
    store::tokens::insert(
        conn,
        &TokenRow {
            id: id.clone(),
            org_id: org_id.to_string(),
            token_hash: hash(&secret),
            description: description.to_string(),
            created_at: store::now(),
            last_used_at: None,
            revoked_at: None,
        },
    )?;
    Ok(IssuedToken { id, secret })
}

/// The token id embedded in a bearer value, if it has our shape.
fn token_id(bearer: &str) -> Option<&str> {
    let rest = bearer.strip_prefix(PREFIX)?.strip_prefix('_')?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 32 && !secret.is_empty()).then_some(id)
}

/// Check a bearer value; `None` for anything unknown, revoked or malformed.
pub fn verify(conn: &mut DbConn, bearer: &str) -> Result<Option<TokenGrant>, Error> {
    let Some(id) = token_id(bearer) else {
        return Ok(None);
    };
    let Some(row) = store::tokens::find(conn, id)? else {
        return Ok(None);
    };
    let matches: bool = hash(bearer)
        .as_bytes()
        .ct_eq(row.token_hash.as_bytes())
        .into();
    if !matches || row.revoked_at.is_some() {
        return Ok(None);
    }
    Ok(Some(TokenGrant {
        token_id: row.id,
        org_id: row.org_id,
        last_used_at: row.last_used_at,
    }))
}

pub fn revoke(conn: &mut DbConn, org_id: &str, id: &str) -> Result<(), Error> {
    if store::tokens::revoke(conn, org_id, id, store::now())? {
        Ok(())
    } else {
        Err(Error::not_found(format!("active token '{id}'")))
    }
}

/// An owner creates a token: issued and audited in one transaction (the caller's). Returns
/// the secret (shown once) and the row as lists show it.
pub fn create(
    conn: &mut DbConn,
    org_id: &str,
    description: &str,
    actor: &super::Actor,
) -> Result<(IssuedToken, TokenRow), Error> {
    let issued = issue(conn, org_id, description.trim())?;
    super::audit::record(
        conn,
        org_id,
        actor,
        "scim_token.created",
        Some(&issued.id),
        serde_json::json!({}),
    )?;
    let row = store::tokens::find(conn, &issued.id)?.ok_or_else(|| Error::not_found("token"))?;
    Ok((issued, row))
}

/// An owner revokes a token, audited.
pub fn revoke_audited(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    actor: &super::Actor,
) -> Result<(), Error> {
    revoke(conn, org_id, id)?;
    super::audit::record(
        conn,
        org_id,
        actor,
        "scim_token.revoked",
        Some(id),
        serde_json::json!({}),
    )?;
    Ok(())
}

/// The prefix shown for a token in lists: enough to recognise it, useless as a credential.
pub fn display_prefix(id: &str) -> String {
    format!("{PREFIX}_{id}_…")
}

pub fn list(conn: &mut DbConn, org_id: &str) -> Result<Vec<TokenRow>, Error> {
    Ok(store::tokens::list(conn, org_id)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_id_is_parsed_only_from_our_shape() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(token_id(&format!("scimseats_{id}_abc")), Some(id));
        assert_eq!(token_id("scimseats_short_abc"), None);
        assert_eq!(token_id("Bearer x"), None);
        assert_eq!(token_id(&format!("scimseats_{id}_")), None);
    }
}
