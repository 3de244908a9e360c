//! `POST /oauth/token`: the OAuth 2.0 client credentials grant (RFC 6749 §4.4) for SCIM
//! clients such as Entra's. Form-encoded; the client authenticates with HTTP Basic
//! (`client_secret_basic`) or with `client_id` and `client_secret` in the body
//! (`client_secret_post`), never both. Errors are RFC 6749 §5.2 JSON bodies.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::json;

use crate::domain::oauth::{self, Refusal};
use crate::error::Error;
use crate::state::AppState;

/// Token requests are a few short fields.
const MAX_BODY: usize = 8 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/oauth/token")
            .route(web::post().to(token))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(refuse(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "invalid_request",
                    "use POST with an application/x-www-form-urlencoded body",
                ))
            })),
    );
}

/// An RFC 6749 §5.2 error: this endpoint's one error type, rendered as its JSON body.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl actix_web::ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    /// `invalid_client` carries the Basic challenge (§5.2: 401 with `WWW-Authenticate` when
    /// the client tried HTTP authentication; always sent here).
    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        r.insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if self.error == "invalid_client" {
            r.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"scim-seats\""));
        }
        r.json(json!({"error": self.error, "error_description": self.description}))
    }
}

fn refuse(status: StatusCode, error: &'static str, description: &str) -> OAuthError {
    OAuthError {
        status,
        error,
        description: description.to_string(),
    }
}

fn invalid_request(description: &str) -> OAuthError {
    refuse(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn invalid_client() -> OAuthError {
    refuse(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client authentication failed",
    )
}

/// `client_id:client_secret` from HTTP Basic, each form-urlencoded first (§2.3.1).
/// `Ok(None)` when there is no Basic header; `Err` when it is malformed.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| invalid_request("malformed Authorization header"))?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(invalid_request("malformed Authorization header"));
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid_client());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| invalid_request("the Basic credentials are not base64 of UTF-8"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| invalid_request("the Basic credentials need client_id:client_secret"))?;
    let unescape = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| invalid_request("the Basic credentials are not form-urlencoded UTF-8"))
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

/// The form's parameters; a parameter sent twice is refused (§3.2).
fn form(body: &[u8]) -> Result<std::collections::HashMap<String, String>, OAuthError> {
    let mut out = std::collections::HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if out.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(invalid_request(&format!("parameter '{k}' is repeated")));
        }
    }
    Ok(out)
}

pub async fn token(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let bytes = match body.to_bytes_limited(MAX_BODY).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => return Err(invalid_request("the request body could not be read")),
        Err(_) => {
            return Err(refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "the request body is too large",
            ))
        }
    };
    let params = form(&bytes)?;
    let basic = basic_credentials(&req)?;
    match params.get("grant_type").map(String::as_str) {
        None => return Err(invalid_request("grant_type is required")),
        Some("client_credentials") => {}
        Some(_) => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only the client_credentials grant is supported",
            ))
        }
    }
    let (client_id, secret) = match (basic, params.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(invalid_request(
                "use one client authentication method, not Basic and the body",
            ))
        }
        (Some((id, secret)), None) => {
            if params.get("client_id").is_some_and(|b| *b != id) {
                return Err(invalid_request(
                    "client_id in the body differs from the Basic one",
                ));
            }
            (id, secret)
        }
        (None, Some(secret)) => match params.get("client_id") {
            Some(id) => (id.clone(), secret.clone()),
            None => return Err(invalid_request("client_id is required with client_secret")),
        },
        (None, None) => return Err(invalid_client()),
    };
    let ttl = state.settings.scim.oauth_token_ttl;
    let issued = state
        .db
        .write(move |c| oauth::issue_token(c, &client_id, &secret, ttl))
        .await;
    match issued {
        Ok(Ok(t)) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(json!({
                "access_token": t.access_token,
                "token_type": "Bearer",
                "expires_in": t.expires_in,
            }))),
        Ok(Err(Refusal::InvalidClient)) => Err(invalid_client()),
        Err(Error::Unavailable) => Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "try again later",
        )),
        Err(e) => {
            tracing::error!(error = %e, "token request failed");
            Err(refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            ))
        }
    }
}
