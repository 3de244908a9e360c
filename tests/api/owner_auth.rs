//! Owner tokens: what is accepted and what is refused, through the real server.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::json;

use scim_seats::auth::jwt::{self, JwtKeys, OwnerClaims};

use crate::helpers::*;

const SECRET: &str = "test-secret-0123456789abcdef0123456789";
const OLD_SECRET: &str = "old-secret-0123456789abcdef0123456789";

async fn app_with_known_secret() -> TestApp {
    TestApp::builder()
        .seats(1, 0)
        .settings(|s| {
            s.auth.jwt = JwtKeys::from_secrets(SECRET, &[OLD_SECRET.to_string()]).expect("keys");
        })
        .spawn()
        .await
}

fn claims(org: &str, member: &str, exp_in: i64) -> OwnerClaims {
    let now = chrono::Utc::now().timestamp();
    OwnerClaims {
        iss: jwt::ISSUER.into(),
        aud: jwt::OWNER_AUDIENCE.into(),
        sub: member.into(),
        org: org.into(),
        iat: now,
        exp: now + exp_in,
    }
}

fn kid(secret: &str) -> String {
    JwtKeys::from_secrets(secret, &[])
        .expect("keys")
        .current
        .kid()
        .to_string()
}

/// Sign with any algorithm, secret and kid.
fn forge(alg: Algorithm, secret: &str, kid: &str, c: &OwnerClaims) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, c, &EncodingKey::from_secret(secret.as_bytes())).expect("sign")
}

async fn contract_status(app: &TestApp, token: &str) -> (StatusCode, serde_json::Value) {
    let r = app.api(token, Method::GET, "/contract", None, &[]).await;
    (r.status, r.body)
}

#[tokio::test]
async fn a_valid_owner_token_is_accepted() {
    let app = app_with_known_secret().await;
    let member = add_member(&app, &app.org_id, Role::Owner);
    let token = forge(
        Algorithm::HS256,
        SECRET,
        &kid(SECRET),
        &claims(&app.org_id, &member, 600),
    );
    let (status, body) = contract_status(&app, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["organization"]["slug"], "acme");
    // The helper's token (signed by the server's keys) works too.
    let (status, _) = contract_status(&app, &owner_token(&app, Role::PrimaryOwner)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn tokens_of_a_previous_secret_still_verify_after_rotation() {
    let app = app_with_known_secret().await;
    let member = add_member(&app, &app.org_id, Role::Owner);
    let c = claims(&app.org_id, &member, 600);
    let old = forge(Algorithm::HS256, OLD_SECRET, &kid(OLD_SECRET), &c);
    assert_eq!(contract_status(&app, &old).await.0, StatusCode::OK);
    // A secret the server never had: refused.
    let other = "never-configured-0123456789abcdef0123";
    let stranger = forge(Algorithm::HS256, other, &kid(other), &c);
    assert_eq!(
        contract_status(&app, &stranger).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn missing_garbage_expired_forged_and_misaddressed_tokens_are_refused() {
    let app = app_with_known_secret().await;
    let member = add_member(&app, &app.org_id, Role::PrimaryOwner);
    let good = claims(&app.org_id, &member, 600);
    let k = kid(SECRET);

    let r = app
        .client
        .get(format!("{}/api/v1/contract", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no token");

    let expired = forge(
        Algorithm::HS256,
        SECRET,
        &k,
        &claims(&app.org_id, &member, -3600),
    );
    // The right kid, another secret: a forged signature.
    let forged = forge(
        Algorithm::HS256,
        "attacker-secret-0123456789abcdef0123",
        &k,
        &good,
    );
    // Tampered payload: take a valid token and swap in another organization.
    let valid = forge(Algorithm::HS256, SECRET, &k, &good);
    let parts: Vec<&str> = valid.split('.').collect();
    let other_payload =
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims("someone-else", &member, 600)).unwrap());
    let tampered = format!("{}.{}.{}", parts[0], other_payload, parts[2]);
    // alg: none with no signature.
    let none_header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": k}).to_string());
    let alg_none = format!("{none_header}.{}.", parts[1]);
    // HS512 with the right secret: the algorithm is pinned to HS256.
    let hs512 = forge(Algorithm::HS512, SECRET, &k, &good);
    // No kid.
    let no_kid = {
        let header = Header::new(Algorithm::HS256);
        jsonwebtoken::encode(&header, &good, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
    };
    // Wrong audience and issuer.
    let mut wrong_aud = good.clone();
    wrong_aud.aud = "scim-seats-scim".into();
    let wrong_aud = forge(Algorithm::HS256, SECRET, &k, &wrong_aud);
    let mut wrong_iss = good.clone();
    wrong_iss.iss = "someone".into();
    let wrong_iss = forge(Algorithm::HS256, SECRET, &k, &wrong_iss);
    // A member of this org, but the token names another organization.
    let other_org = {
        let (id, _) = new_org(
            &app.db,
            "other",
            Seats {
                standard: 0,
                premium: 0,
            },
        );
        id
    };
    let wrong_org = forge(
        Algorithm::HS256,
        SECRET,
        &k,
        &claims(&other_org, &member, 600),
    );
    // A member that does not exist.
    let ghost = forge(
        Algorithm::HS256,
        SECRET,
        &k,
        &claims(&app.org_id, "no-such-member", 600),
    );
    // The SCIM token is not an owner token.
    let scim = app.token.clone();

    for (name, token) in [
        ("garbage", "not.a.jwt".to_string()),
        ("expired", expired),
        ("forged", forged),
        ("tampered", tampered),
        ("alg none", alg_none),
        ("HS512", hs512),
        ("no kid", no_kid),
        ("wrong audience", wrong_aud),
        ("wrong issuer", wrong_iss),
        ("wrong org", wrong_org),
        ("unknown member", ghost),
        ("scim token", scim),
    ] {
        let (status, body) = contract_status(&app, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
        assert!(
            body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}"
        );
    }
    // The untouched token still works: the refusals were about the tokens.
    assert_eq!(contract_status(&app, &valid).await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_expired_token_says_so() {
    let app = app_with_known_secret().await;
    let member = add_member(&app, &app.org_id, Role::Owner);
    let expired = forge(
        Algorithm::HS256,
        SECRET,
        &kid(SECRET),
        &claims(&app.org_id, &member, -3600),
    );
    let (status, body) = contract_status(&app, &expired).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["detail"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn each_org_sees_only_its_own_contract() {
    let app = TestApp::builder().spawn().await;
    let (other, _) = new_org(
        &app.db,
        "globex",
        Seats {
            standard: 7,
            premium: 0,
        },
    );
    let m = add_member(&app, &other, Role::Owner);
    let token = owner_token_for(&app, &other, &m);
    let (status, body) = contract_status(&app, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["organization"]["slug"], "globex");
    assert_eq!(body["seats"][1]["purchased"], 7);
}

#[tokio::test]
async fn exactly_one_primary_owner_per_organization() {
    let app = TestApp::builder().spawn().await;
    add_member(&app, &app.org_id, Role::PrimaryOwner);
    let org = app.org_id.clone();
    let second = app.db.write_sync(move |c| {
        scim_seats::domain::members::add(
            c,
            &org,
            "second@acme.example.com",
            Role::PrimaryOwner,
            &scim_seats::domain::Actor::system(),
        )
    });
    assert!(matches!(second, Err(scim_seats::error::Error::Conflict(_))));
    // The database refuses it too, whatever the code path.
    let org = app.org_id.clone();
    let raw = app.db.write_sync(move |c| {
        scim_seats::store::members::insert(
            c,
            &scim_seats::store::members::MemberRow {
                id: uuid::Uuid::new_v4().to_string(),
                org_id: org,
                email: "third@acme.example.com".into(),
                email_norm: "third@acme.example.com".into(),
                role: "primary_owner".into(),
                created_at: scim_seats::store::now(),
            },
        )?;
        Ok(())
    });
    assert!(raw.is_err(), "partial unique index on the primary owner");
}
