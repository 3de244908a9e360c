//! Owner tokens: HS256 JWTs (`jsonwebtoken`) signed with the server secret. Each key has a
//! `kid` derived from the secret, so a rotated-out secret still verifies the tokens it signed
//! while new tokens use the current one. The algorithm is pinned: `alg: none`, HS384/HS512 or
//! any asymmetric algorithm is refused, whatever the header says.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub use crate::config::{JwtKey, JwtKeys};
use crate::error::Error;

pub const ISSUER: &str = "scim-seats";
pub const OWNER_AUDIENCE: &str = "scim-seats-owner";
pub use crate::config::MIN_SECRET_BYTES;

impl JwtKeys {
    fn by_kid(&self, kid: &str) -> Option<&JwtKey> {
        std::iter::once(&self.current)
            .chain(self.previous.iter())
            .find(|k| k.kid == kid)
    }
}

/// Claims of an owner token. The role is not in the token: it is read from the member row
/// on every request, so a demotion takes effect at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnerClaims {
    pub iss: String,
    pub aud: String,
    /// The member id.
    pub sub: String,
    /// The organization id.
    pub org: String,
    pub iat: i64,
    pub exp: i64,
}

/// Sign an owner token for `member_id` of `org_id`, valid for `ttl` from `now` (unix seconds).
pub fn issue_owner(
    keys: &JwtKeys,
    org_id: &str,
    member_id: &str,
    ttl: std::time::Duration,
    now: i64,
) -> Result<String, Error> {
    let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
    let claims = OwnerClaims {
        iss: ISSUER.into(),
        aud: OWNER_AUDIENCE.into(),
        sub: member_id.into(),
        org: org_id.into(),
        iat: now,
        exp: now.saturating_add(ttl),
    };
    sign(keys, &claims)
}

/// Sign arbitrary owner claims with the current key (tests forge expired tokens with it).
pub fn sign(keys: &JwtKeys, claims: &OwnerClaims) -> Result<String, Error> {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(keys.current.kid.clone());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(&keys.current.secret),
    )
    .map_err(|e| Error::Internal(anyhow::anyhow!("signing an owner token: {e}")))
}

/// Check signature (HS256 only, key chosen by `kid`), expiry, issuer and audience.
pub fn verify_owner(keys: &JwtKeys, token: &str) -> Result<OwnerClaims, Error> {
    let invalid = || Error::Unauthorized("the owner token is not valid".into());
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
    if header.alg != Algorithm::HS256 {
        return Err(invalid());
    }
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| keys.by_kid(kid))
        .ok_or_else(invalid)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[OWNER_AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 30;
    let data = jsonwebtoken::decode::<OwnerClaims>(
        token,
        &DecodingKey::from_secret(&key.secret),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
            Error::Unauthorized("the owner token has expired".into())
        }
        _ => invalid(),
    })?;
    Ok(data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::from_secrets(secret, &[]).expect("keys")
    }

    const A: &str = "0123456789abcdef0123456789abcdef-a";
    const B: &str = "0123456789abcdef0123456789abcdef-b";

    #[test]
    fn round_trip_and_rotation() {
        let now = chrono::Utc::now().timestamp();
        let old = keys(A);
        let token =
            issue_owner(&old, "org", "m1", std::time::Duration::from_secs(60), now).expect("sign");
        let claims = verify_owner(&old, &token).expect("verify");
        assert_eq!((claims.sub.as_str(), claims.org.as_str()), ("m1", "org"));
        // After rotation the old token still verifies through the previous key...
        let rotated = JwtKeys::from_secrets(B, &[A.to_string()]).expect("keys");
        assert!(verify_owner(&rotated, &token).is_ok());
        // ...and once the old secret is dropped it does not.
        assert!(verify_owner(&keys(B), &token).is_err());
    }

    #[test]
    fn short_secrets_are_refused_and_debug_hides_them() {
        assert!(JwtKeys::from_secrets("short", &[]).is_err());
        let k = keys(A);
        assert!(!format!("{k:?}").contains(A));
    }
}
