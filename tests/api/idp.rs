// Shared by the sign-in tests; not every test uses every helper.
#![allow(dead_code)]

//! A real OpenID provider for the tests: the certified `oidc-provider` package (npm) run by
//! node from `tests/oidc/idp.mjs` on a loopback port (see that file for its accounts and test
//! knobs). `npm ci` runs once when `tests/oidc/node_modules` is missing; without node or npm
//! the test fails (never skips). Also: an HTTP client that walks the IdP's sign-in form the
//! way a browser would (cookies kept, redirects followed).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Once;

use reqwest::StatusCode;
use serde_json::{json, Value};

pub const CLIENT_ID: &str = "scim-seats-test";
pub const CLIENT_SECRET: &str = "test-client-secret-0123456789";

pub struct TestIdp {
    pub issuer: String,
    child: Child,
    _stdin: ChildStdin,
    http: reqwest::Client,
}

static NPM_CI: Once = Once::new();

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

fn ensure_node_modules() {
    NPM_CI.call_once(|| {
        if dir().join("node_modules/oidc-provider").is_dir() {
            return;
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(dir())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "the sign-in tests need node and npm: `npm ci` in tests/oidc failed"
        );
    });
}

impl TestIdp {
    /// An IdP with one client registration: ours, redirecting to `redirect_uris`.
    pub fn start(redirect_uris: &[String]) -> TestIdp {
        ensure_node_modules();
        let clients = json!([{
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": redirect_uris,
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        }]);
        let mut child = Command::new("node")
            .arg("idp.mjs")
            .current_dir(dir())
            .env("IDP_CLIENTS", clients.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Its start-up warnings (in-memory adapter) would fill every test's output.
            .stderr(Stdio::null())
            .spawn()
            .expect("start node tests/oidc/idp.mjs");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the IdP's issuer");
        let v: Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("the test IdP did not start ({e}): {line:?}"));
        TestIdp {
            issuer: v["issuer"].as_str().expect("issuer").to_string(),
            child,
            _stdin: stdin,
            http: reqwest::Client::new(),
        }
    }

    async fn knob(&self, path: &str) {
        let r = self
            .http
            .post(format!("{}{path}", self.issuer))
            .send()
            .await
            .expect("test IdP knob");
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{path}");
    }

    /// The next ID token the IdP issues has `claim` wrong (aud, iss, exp, nonce, foreign-kid).
    pub async fn tamper_next(&self, claim: &str) {
        self.knob(&format!("/test/tamper?claim={claim}")).await
    }

    /// A new signing key; the JWKS keeps the old one too.
    pub async fn rotate_keys(&self) {
        self.knob("/test/rotate").await
    }

    pub async fn jwks_down(&self, down: bool) {
        self.knob(&format!("/test/jwks?down={}", u8::from(down)))
            .await
    }
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser-like HTTP client: a cookie jar, redirects followed (but not into our own
/// callback when `stop_at_callback`, so a test can tamper with it).
pub fn browser_client(stop_at_callback: bool) -> reqwest::Client {
    let policy = if stop_at_callback {
        reqwest::redirect::Policy::custom(|a| {
            if a.url().path().ends_with("/callback") {
                a.stop()
            } else if a.previous().len() > 20 {
                a.error("too many redirects")
            } else {
                a.follow()
            }
        })
    } else {
        reqwest::redirect::Policy::limited(20)
    };
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(policy)
        .build()
        .expect("client")
}

/// The final answer of a sign-in as a browser sees it.
pub struct Page {
    pub status: StatusCode,
    pub url: String,
    pub location: Option<String>,
    pub text: String,
}

pub async fn page_of(r: reqwest::Response) -> Page {
    Page {
        status: r.status(),
        url: r.url().to_string(),
        location: r
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_string),
        text: r.text().await.unwrap_or_default(),
    }
}

/// Start at `{base}/sso/{slug}`, sign in at the IdP's form as `email`, and follow what
/// happens; the page where it ends.
pub async fn sign_in_via_idp(
    client: &reqwest::Client,
    base: &str,
    slug: &str,
    email: &str,
) -> Page {
    let form = client
        .get(format!("{base}/sso/{slug}"))
        .send()
        .await
        .expect("GET /sso/{slug}");
    let at = form.url().clone();
    let html = form.text().await.unwrap_or_default();
    let Some(start) = html.find("action=\"/interaction/") else {
        panic!("expected the IdP's sign-in form at {at}, got: {html}");
    };
    let action = html[start + "action=\"".len()..]
        .split('"')
        .next()
        .expect("form action")
        .to_string();
    let r = client
        .post(format!("{}://{}{action}", at.scheme(), at.authority()))
        .form(&[("login", email)])
        .send()
        .await
        .expect("POST the IdP's sign-in form");
    page_of(r).await
}

/// A server (organization "acme", domain acme.example.com) whose public URL is its real
/// address, an IdP that knows its redirect URI, and the organization's SSO settings pointing
/// there. Mail is not delivered (tests read the outbox).
pub async fn spawn_sso_app(seats: crate::helpers::Seats) -> (crate::helpers::TestApp, TestIdp) {
    use crate::helpers::*;
    // The redirect URI is built from the public URL, so the port must be known first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let app = TestApp::builder()
        .seats(seats.standard, seats.premium)
        .settings(|s| {
            s.http.bind = format!("127.0.0.1:{port}");
            s.mail.public_url = format!("http://127.0.0.1:{port}");
            s.mail.delivery_interval = None;
            s.billing.renewal_interval = None;
            // The test IdP is on loopback, which the outbound guard refuses unless allowed.
            s.outbound = scim_seats::outbound::Policy::parse("127.0.0.1").expect("policy");
        })
        .spawn()
        .await;
    let idp = TestIdp::start(&[format!("{}/sso/acme/callback", app.addr)]);
    let owner = owner_token(&app, Role::Owner);
    let r = app
        .api(
            &owner,
            reqwest::Method::PUT,
            "/sso",
            Some(json!({"issuer": idp.issuer, "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    (app, idp)
}
