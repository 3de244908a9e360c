//! SSO (IdP) settings and just-in-time provisioning at SSO login.
//!
//! An Owner configures, per organization, the issuer, audience, algorithm and key of the IdP's
//! ID tokens: HS256 with a shared secret, or RS256 / ES256 with the IdP's public key (PEM).
//! At `POST /sso/{org}/login` the ID token is checked (algorithm pinned to the configured
//! one, signature, issuer, audience, expiry) and its `email` must be in a verified domain.
//! Then:
//! - an account holding a seat: the member (made with role Member if it has no role yet) gets a
//!   session token;
//! - no account: one is created (source `jit`) with the highest free tier, or its group's tier;
//!   with a free seat the login succeeds, else the account stays **pending** (it shows in the
//!   pending report and is activated when seats are added) and the login is refused with 403;
//! - a pending account: refused again with the same 403, not queued twice;
//! - an account an admin removed or the IdP deactivated: refused with 403.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::accounts::{self, Ensured};
use super::members::{self, Member, Role};
use super::seats::{STATUS_ACTIVE, STATUS_PENDING};
use super::users::UserView;
use super::{audit, domains, Actor, Source};
use crate::error::Error;
use crate::store::{self, sso::SsoRow, DbConn};

/// Shortest HS256 secret accepted: 256 bits.
pub const MIN_HS256_SECRET: usize = 32;
/// Clock skew tolerated between the IdP and us, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// SSO settings as an Owner sends them.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SsoInput {
    /// The `iss` the IdP puts in its ID tokens.
    pub issuer: String,
    /// The `aud` expected (the client id the IdP issues tokens for).
    pub audience: String,
    /// `HS256`, `RS256` or `ES256`.
    pub algorithm: String,
    /// HS256: the shared secret (32 bytes or more). RS256 / ES256: the public key as PEM.
    pub key: String,
}

fn parse_alg(s: &str) -> Result<Algorithm, Error> {
    match s {
        "HS256" => Ok(Algorithm::HS256),
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        other => Err(Error::BadRequest(format!(
            "unsupported algorithm '{other}': use HS256, RS256 or ES256"
        ))),
    }
}

fn decoding_key(alg: Algorithm, key: &str) -> Result<DecodingKey, Error> {
    match alg {
        Algorithm::HS256 => {
            if key.len() < MIN_HS256_SECRET {
                return Err(Error::BadRequest(format!(
                    "an HS256 secret needs at least {MIN_HS256_SECRET} bytes"
                )));
            }
            Ok(DecodingKey::from_secret(key.as_bytes()))
        }
        Algorithm::RS256 => DecodingKey::from_rsa_pem(key.as_bytes()).map_err(|e| {
            Error::BadRequest(format!("the key is not an RSA public key in PEM: {e}"))
        }),
        Algorithm::ES256 => DecodingKey::from_ec_pem(key.as_bytes()).map_err(|e| {
            Error::BadRequest(format!(
                "the key is not an EC (P-256) public key in PEM: {e}"
            ))
        }),
        other => Err(Error::BadRequest(format!(
            "unsupported algorithm {other:?}"
        ))),
    }
}

/// Store the settings after checking them (the key must parse for the algorithm).
pub fn put(
    conn: &mut DbConn,
    org_id: &str,
    input: &SsoInput,
    actor: &Actor,
) -> Result<SsoRow, Error> {
    let (issuer, audience) = (input.issuer.trim(), input.audience.trim());
    if issuer.is_empty() || audience.is_empty() {
        return Err(Error::BadRequest("issuer and audience are required".into()));
    }
    let alg = parse_alg(input.algorithm.trim())?;
    decoding_key(alg, &input.key)?;
    let row = SsoRow {
        org_id: org_id.to_string(),
        issuer: issuer.to_string(),
        audience: audience.to_string(),
        algorithm: input.algorithm.trim().to_string(),
        key: input.key.clone(),
        updated_at: store::now(),
    };
    store::sso::put(conn, &row)?;
    // The key stays out of the audit log: for HS256 it is a secret.
    audit::record(
        conn,
        org_id,
        actor,
        "sso.updated",
        None,
        json!({"issuer": row.issuer, "audience": row.audience, "algorithm": row.algorithm}),
    )?;
    Ok(row)
}

pub fn get(conn: &mut DbConn, org_id: &str) -> Result<SsoRow, Error> {
    store::sso::find(conn, org_id)?.ok_or_else(|| Error::not_found("SSO settings"))
}

pub fn delete(conn: &mut DbConn, org_id: &str, actor: &Actor) -> Result<(), Error> {
    if !store::sso::delete(conn, org_id)? {
        return Err(Error::not_found("SSO settings"));
    }
    audit::record(conn, org_id, actor, "sso.deleted", None, json!({}))?;
    Ok(())
}

/// The claims of an ID token we use.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub name: Option<String>,
}

/// Check an ID token against the organization's settings; returns the verified email and name.
pub fn verify_id_token(settings: &SsoRow, token: &str) -> Result<(String, Option<String>), Error> {
    let alg = parse_alg(&settings.algorithm)?;
    let key = decoding_key(alg, &settings.key)?;
    let invalid = |why: &str| Error::Unauthorized(format!("the ID token is not valid: {why}"));
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed"))?;
    if header.alg != alg {
        return Err(invalid(&format!(
            "signed with {:?}, but this organization's IdP signs with {}",
            header.alg, settings.algorithm
        )));
    }
    let mut v = Validation::new(alg);
    v.set_issuer(&[&settings.issuer]);
    v.set_audience(&[&settings.audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    v.leeway = LEEWAY_SECS;
    let data = jsonwebtoken::decode::<IdClaims>(token, &key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        match e.kind() {
            K::ExpiredSignature => invalid("it has expired"),
            K::InvalidIssuer => invalid("wrong issuer"),
            K::InvalidAudience => invalid("wrong audience"),
            K::InvalidSignature => invalid("bad signature"),
            K::MissingRequiredClaim(c) => invalid(&format!("the '{c}' claim is missing")),
            _ => invalid("it could not be verified"),
        }
    })?;
    let email = data
        .claims
        .email
        .ok_or_else(|| invalid("it has no 'email' claim"))?;
    if data.claims.email_verified == Some(false) {
        return Err(invalid("the IdP says the email is not verified"));
    }
    Ok((members::validate_email(&email)?, data.claims.name))
}

/// What a JIT login came to.
#[derive(Debug, Clone)]
pub enum Login {
    /// The member may have a session.
    Session {
        member: Member,
        account: UserView,
        created_account: bool,
    },
    /// No seat for the account (queued now or earlier): refuse, after committing the queueing.
    NoSeat { account: UserView },
}

/// The login use case, in one write transaction.
pub fn jit_login(
    conn: &mut DbConn,
    org_id: &str,
    email: &str,
    name: Option<&str>,
) -> Result<Login, Error> {
    domains::check_email(conn, org_id, email)?;
    let actor = Actor {
        id: format!("jit:{}", email.to_lowercase()),
        source: Source::Jit,
    };
    let (account, how) = accounts::ensure(conn, org_id, email, name, false, &actor)?;
    match account.row.seat_status.as_str() {
        STATUS_ACTIVE => {}
        STATUS_PENDING => return Ok(Login::NoSeat { account }),
        _ if !account.row.active => {
            return Err(Error::Forbidden(
                "your account is deactivated in the identity provider".into(),
            ))
        }
        _ => {
            return Err(Error::Forbidden(
                "your account was removed by an admin of this organization; ask an admin to give you a seat or invite you again".into(),
            ))
        }
    }
    let member = match store::members::find_by_email(conn, org_id, &email.to_lowercase())? {
        Some(m) => Member::try_from(m)?,
        None => members::add(conn, org_id, email, Role::Member, &actor)?,
    };
    audit::record(
        conn,
        org_id,
        &actor,
        "sso.login",
        Some(&member.id),
        json!({"account": account.row.id, "tier": account.row.seat_tier}),
    )?;
    Ok(Login::Session {
        member,
        account,
        created_account: how == Ensured::Created,
    })
}
