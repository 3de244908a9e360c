//! The OpenID Connect client (the `openidconnect` crate): discovery, the JWKS cache, the
//! Authorization Code flow with PKCE, state and nonce, and the ID-token checks (issuer,
//! audience, expiry, nonce, signature). Who the person is in which organization, and what
//! seat they get, is `domain::sso`'s.
//!
//! Discovery documents and their key sets are cached per issuer for an hour. A token signed
//! with a key id the cached set does not have makes us fetch the set again once, so an IdP
//! can rotate its keys without a restart. Only asymmetric algorithms are accepted, and the
//! key named by the token must be of that algorithm's type (and name it, if the key names
//! one): the algorithm is the key's, never the token's choice. Every call to an IdP goes
//! through `crate::outbound` (no redirects, timeouts, no internal addresses unless allowed).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AsyncHttpClient, AuthenticationFlow, AuthorizationCode,
    ClaimsVerificationError, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpClientError, HttpRequest, HttpResponse,
    IdTokenFields, IssuerUrl, JsonWebKeySet, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, SignatureVerificationError, StandardErrorResponse,
    StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};

use crate::domain::sso::{self, Identity};
use crate::error::Error;
use crate::outbound::Policy;
use crate::store::sso::SsoRow;

/// How long a discovery document (and its key set) is used before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// How long one call to an identity provider may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Claims beyond the standard ones: Entra ID says a mail domain is verified with `xms_edov`
/// (it sends no `email_verified`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExtraClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    xms_edov: Option<bool>,
}
impl AdditionalClaims for ExtraClaims {}

type Fields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<Fields, CoreTokenType>;
type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Asymmetric signature algorithms only: an HMAC "signature" made with the client secret
/// would let anyone who knows the secret mint tokens.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 10] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EcdsaP521Sha512,
    CoreJwsSigningAlgorithm::EdDsa,
];

struct Cached {
    metadata: CoreProviderMetadata,
    fetched: Instant,
}

/// A sign-in leaving for the IdP.
pub struct Started {
    /// Where to send the browser.
    pub authorize_url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The client shared by the server's workers: the HTTP client and the per-issuer cache.
pub struct Oidc {
    /// `crate::outbound`'s client: no redirects, no proxy, timeouts, and a resolver that
    /// refuses internal addresses.
    http: reqwest::Client,
    policy: Policy,
    cache: Mutex<HashMap<String, Cached>>,
}

type Sent = Pin<
    Box<dyn Future<Output = Result<HttpResponse, HttpClientError<reqwest::Error>>> + Send + Sync>,
>;

impl Oidc {
    pub fn new(policy: Policy) -> anyhow::Result<Oidc> {
        Ok(Oidc {
            http: crate::outbound::client(&policy, HTTP_TIMEOUT)?,
            policy,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Every request to an IdP (discovery, JWKS, token): its URL is checked against the
    /// outbound policy first, since the discovery document names the other endpoints (an IP
    /// literal never reaches the guarded resolver).
    fn http(&self) -> impl Fn(HttpRequest) -> Sent + '_ {
        move |request: HttpRequest| {
            let checked = crate::outbound::check_url(&self.policy, &request.uri().to_string());
            let http = self.http.clone();
            Box::pin(async move {
                checked.map_err(|e| HttpClientError::Other(e.to_string()))?;
                http.call(request).await
            }) as Sent
        }
    }
}

fn unreachable(issuer: &str, what: &str, e: impl std::fmt::Display) -> Error {
    tracing::warn!(issuer, error = %e, "identity provider {what} failed");
    Error::BadGateway(format!(
        "the identity provider ({issuer}) could not be reached ({what} failed); try again later, or ask an Owner to check the SSO settings"
    ))
}

fn refused(why: &str) -> Error {
    Error::Unauthorized(format!(
        "the identity provider's answer was refused: {why}. Nothing was changed; start again from the sign-in page"
    ))
}

impl Oidc {
    fn cached(&self, issuer: &str) -> Option<CoreProviderMetadata> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(issuer)
            .filter(|c| c.fetched.elapsed() < METADATA_TTL)
            .map(|c| c.metadata.clone())
    }

    fn remember(&self, issuer: &str, metadata: &CoreProviderMetadata) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(
                issuer.to_string(),
                Cached {
                    metadata: metadata.clone(),
                    fetched: Instant::now(),
                },
            );
        }
    }

    /// The issuer's discovery document with its key set, from the cache or fetched.
    async fn metadata(&self, issuer: &str) -> Result<CoreProviderMetadata, Error> {
        if let Some(m) = self.cached(issuer) {
            return Ok(m);
        }
        let url = IssuerUrl::new(issuer.to_string())
            .map_err(|e| Error::BadRequest(format!("the SSO issuer URL is not valid: {e}")))?;
        let metadata = CoreProviderMetadata::discover_async(url, &self.http())
            .await
            .map_err(|e| unreachable(issuer, "discovery or key set", e))?;
        self.remember(issuer, &metadata);
        Ok(metadata)
    }

    /// Fetch the issuer's key set again (a token named a key id we did not have).
    async fn refresh_keys(&self, issuer: &str) -> Result<CoreProviderMetadata, Error> {
        let metadata = self.metadata(issuer).await?;
        let keys = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http())
            .await
            .map_err(|e| unreachable(issuer, "key set", e))?;
        let metadata = metadata.set_jwks(keys);
        self.remember(issuer, &metadata);
        Ok(metadata)
    }

    fn client(
        metadata: CoreProviderMetadata,
        cfg: &SsoRow,
        redirect: &str,
    ) -> Result<OidcClient, Error> {
        let redirect = RedirectUrl::new(redirect.to_string())
            .map_err(|e| Error::Internal(anyhow::anyhow!("redirect URI {redirect}: {e}")))?;
        Ok(OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(cfg.client_id.clone()),
            Some(ClientSecret::new(cfg.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// Begin a sign-in: the IdP's authorization URL with a fresh state, nonce and PKCE
    /// challenge (S256).
    pub async fn start(&self, cfg: &SsoRow, redirect: &str) -> Result<Started, Error> {
        let client = Self::client(self.metadata(&cfg.issuer).await?, cfg, redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        // "openid" is always asked for by the crate.
        for scope in sso::scopes(cfg).into_iter().filter(|s| s != "openid") {
            request = request.add_scope(Scope::new(scope));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Started {
            authorize_url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Finish a sign-in: exchange the code (with the PKCE verifier) and verify the ID token.
    pub async fn finish(
        &self,
        cfg: &SsoRow,
        redirect: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Identity, Error> {
        let client = Self::client(self.metadata(&cfg.issuer).await?, cfg, redirect)?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| unreachable(&cfg.issuer, "token endpoint", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&self.http())
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => refused(&format!(
                    "it would not exchange the sign-in code ({}{})",
                    r.error(),
                    r.error_description()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                )),
                other => unreachable(&cfg.issuer, "token endpoint", other),
            })?;
        let nonce = Nonce::new(nonce.to_string());
        match verify(&client, &tokens, &nonce) {
            Err(Verify::UnknownKey) => {
                // A key we have not seen: the IdP may have rotated. Fetch its keys once more.
                let metadata = self.refresh_keys(&cfg.issuer).await?;
                let client = Self::client(metadata, cfg, redirect)?;
                match verify(&client, &tokens, &nonce) {
                    Err(Verify::UnknownKey) => Err(refused(
                        "the ID token is signed with a key the identity provider does not publish",
                    )),
                    Err(Verify::Refused(e)) => Err(e),
                    Ok(who) => Ok(who),
                }
            }
            Err(Verify::Refused(e)) => Err(e),
            Ok(who) => Ok(who),
        }
    }
}

enum Verify {
    UnknownKey,
    Refused(Error),
}

fn verify(client: &OidcClient, tokens: &Tokens, nonce: &Nonce) -> Result<Identity, Verify> {
    let id_token = tokens
        .id_token()
        .ok_or_else(|| Verify::Refused(refused("it sent no ID token")))?;
    let verifier = client.id_token_verifier().set_allowed_algs(ALLOWED_ALGS);
    let claims = id_token.claims(&verifier, nonce).map_err(|e| {
        use ClaimsVerificationError as C;
        Verify::Refused(refused(match e {
            C::SignatureVerification(SignatureVerificationError::NoMatchingKey) => {
                return Verify::UnknownKey
            }
            C::Expired(_) => "the ID token has expired",
            C::InvalidAudience(_) => "the ID token was issued for another application (audience)",
            C::InvalidIssuer(_) => "the ID token comes from another issuer",
            C::InvalidNonce(_) => "the ID token does not belong to this sign-in (nonce)",
            C::SignatureVerification(_) => "the ID token's signature does not verify",
            _ => "the ID token could not be verified",
        }))
    })?;
    let email = claims
        .email()
        .map(|e| e.as_str().to_string())
        .ok_or_else(|| {
            Verify::Refused(refused(
                "the ID token has no email claim (ask for the email scope)",
            ))
        })?;
    let email_verified =
        claims.email_verified() == Some(true) || claims.additional_claims().xms_edov == Some(true);
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_string());
    Ok(Identity {
        email,
        email_verified,
        name,
    })
}
