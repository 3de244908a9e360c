//! JIT provisioning at SSO login through the real server: ID tokens signed with HS256, RS256
//! (fixed test key pair in tests/fixtures) and ES256; issuer, audience, expiry, signature and
//! algorithm checked; verified domains; a free seat, no free seat (pending, 403, not queued
//! twice, succeeds after seats are added), known and SCIM-provisioned users.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const ISS: &str = "https://idp.example.com";
const AUD: &str = "scim-seats-acme";
const HS_SECRET: &str = "idp-shared-secret-0123456789abcdef0123";
const RS_PRIVATE: &str = include_str!("../fixtures/idp-rs256-private.pem");
const RS_PUBLIC: &str = include_str!("../fixtures/idp-rs256-public.pem");
const ES_PRIVATE: &str = include_str!("../fixtures/idp-es256-private.pem");
const ES_PUBLIC: &str = include_str!("../fixtures/idp-es256-public.pem");

fn claims(email: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": ISS, "aud": AUD, "sub": email, "email": email, "name": "Test User",
           "iat": now, "exp": now + 300})
}

fn sign(alg: Algorithm, claims: &Value) -> String {
    let key = match alg {
        Algorithm::HS256 => EncodingKey::from_secret(HS_SECRET.as_bytes()),
        Algorithm::RS256 => EncodingKey::from_rsa_pem(RS_PRIVATE.as_bytes()).expect("rsa key"),
        Algorithm::ES256 => EncodingKey::from_ec_pem(ES_PRIVATE.as_bytes()).expect("ec key"),
        other => panic!("{other:?}"),
    };
    jsonwebtoken::encode(&Header::new(alg), claims, &key).expect("sign")
}

async fn configure(app: &TestApp, alg: &str, key: &str) {
    let owner = owner_token(app, Role::Owner);
    let r = app
        .api(
            &owner,
            Method::PUT,
            "/sso",
            Some(json!({"issuer": ISS, "audience": AUD, "algorithm": alg, "key": key})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn login(app: &TestApp, id_token: &str) -> Resp {
    call(
        &app.client,
        &app.addr,
        None,
        Method::POST,
        "/sso/acme/login",
        Some(json!({"id_token": id_token})),
    )
    .await
}

#[tokio::test]
async fn a_new_user_with_a_free_seat_gets_an_account_with_the_highest_free_tier() {
    let app = spawn_owner_app(
        Seats {
            standard: 2,
            premium: 1,
        },
        None,
    )
    .await;
    configure(&app, "HS256", HS_SECRET).await;
    let r = login(
        &app,
        &sign(Algorithm::HS256, &claims("new@acme.example.com")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["created_account"], true);
    assert_eq!(r.body["member"]["role"], "member");
    assert_eq!(r.body["member"]["account"]["tier"], "premium");
    assert_eq!(r.body["member"]["account"]["source"], "jit");
    let session = r.body["token"].as_str().unwrap();
    let me = app.api(session, Method::GET, "/me", None, &[]).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "new@acme.example.com");
    // Logging in again: the same account, no second one.
    let r = login(
        &app,
        &sign(Algorithm::HS256, &claims("NEW@acme.example.com")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["created_account"], false);
    assert_eq!(accounts_with_source(&app, "jit").len(), 1);
    // Next new user: premium is gone, standard next.
    let r = login(
        &app,
        &sign(Algorithm::HS256, &claims("two@acme.example.com")),
    )
    .await;
    assert_eq!(r.body["member"]["account"]["tier"], "standard");
    app.assert_seat_invariants();
}

#[tokio::test]
async fn no_free_seat_refuses_the_login_queues_once_and_succeeds_after_seats_are_added() {
    let app = spawn_owner_app(
        Seats {
            standard: 0,
            premium: 0,
        },
        None,
    )
    .await;
    configure(&app, "HS256", HS_SECRET).await;
    let token = sign(Algorithm::HS256, &claims("wait@acme.example.com"));
    let r = login(&app, &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("no seat is free: an owner must add seats"),
        "{detail}"
    );
    // Recorded as pending (source jit) so the owner sees the demand.
    let pending = accounts_with_source(&app, "jit");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].seat_status, "pending");
    let seq = pending[0].queue_seq;
    // Again: the same 403, not queued twice, same place in the queue.
    let r = login(&app, &token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("no seat is free"));
    let pending = accounts_with_source(&app, "jit");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].queue_seq, seq);
    // No member (no session) yet.
    let admin = owner_token(&app, Role::Admin);
    let members = app
        .api(&admin, Method::GET, "/members?role=member", None, &[])
        .await;
    assert_eq!(members.body["total"], 0, "{}", members.body);
    app.assert_seat_invariants();

    // Seats added: the queue drains and the next login succeeds.
    add_seats(&app, "standard", 1);
    let r = login(&app, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["member"]["account"]["status"], "active");
    assert_eq!(accounts_with_source(&app, "jit").len(), 1);
    app.assert_seat_invariants();
}

#[tokio::test]
async fn rs256_and_es256_id_tokens_verify_with_the_configured_public_key() {
    let app = spawn_owner_app(
        Seats {
            standard: 5,
            premium: 0,
        },
        None,
    )
    .await;
    configure(&app, "RS256", RS_PUBLIC).await;
    let r = login(
        &app,
        &sign(Algorithm::RS256, &claims("rsa@acme.example.com")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // An HS256 token (even signed with the PEM text as a secret) is refused: algorithm pinned.
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("rsa@acme.example.com"),
        &EncodingKey::from_secret(RS_PUBLIC.as_bytes()),
    )
    .unwrap();
    let r = login(&app, &hs).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    // An ES256 token while RS256 is configured: refused.
    assert_eq!(
        login(
            &app,
            &sign(Algorithm::ES256, &claims("rsa@acme.example.com"))
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );

    configure(&app, "ES256", ES_PUBLIC).await;
    let r = login(
        &app,
        &sign(Algorithm::ES256, &claims("ec@acme.example.com")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        login(
            &app,
            &sign(Algorithm::RS256, &claims("ec@acme.example.com"))
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    // The public key is shown; an HS256 secret never is.
    let owner = owner_token(&app, Role::Owner);
    let s = app.api(&owner, Method::GET, "/sso", None, &[]).await;
    assert_eq!(s.body["algorithm"], "ES256");
    assert_eq!(s.body["key"], ES_PUBLIC);
    configure(&app, "HS256", HS_SECRET).await;
    let s = app.api(&owner, Method::GET, "/sso", None, &[]).await;
    assert!(!s.body.to_string().contains(HS_SECRET));
}

#[tokio::test]
async fn bad_id_tokens_are_refused_and_create_nothing() {
    let app = spawn_owner_app(
        Seats {
            standard: 5,
            premium: 0,
        },
        None,
    )
    .await;
    configure(&app, "RS256", RS_PUBLIC).await;
    let email = "mallory@acme.example.com";
    let mut wrong_iss = claims(email);
    wrong_iss["iss"] = json!("https://other-idp.example.com");
    let mut wrong_aud = claims(email);
    wrong_aud["aud"] = json!("someone-else");
    let mut expired = claims(email);
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let mut no_email = claims(email);
    no_email.as_object_mut().unwrap().remove("email");
    let mut unverified = claims(email);
    unverified["email_verified"] = json!(false);
    let good = sign(Algorithm::RS256, &claims(email));
    let parts: Vec<&str> = good.split('.').collect();
    let other_payload = sign(Algorithm::RS256, &claims("admin@acme.example.com"));
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        other_payload.split('.').nth(1).unwrap(),
        parts[2]
    );
    for (name, token, why) in [
        ("wrong issuer", sign(Algorithm::RS256, &wrong_iss), "issuer"),
        (
            "wrong audience",
            sign(Algorithm::RS256, &wrong_aud),
            "audience",
        ),
        ("expired", sign(Algorithm::RS256, &expired), "expired"),
        ("no email", sign(Algorithm::RS256, &no_email), "email"),
        (
            "unverified email",
            sign(Algorithm::RS256, &unverified),
            "not verified",
        ),
        ("tampered", tampered, "signature"),
        ("garbage", "not.a.jwt".to_string(), "malformed"),
    ] {
        let r = login(&app, &token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}: {}", r.body);
        assert!(
            r.body["detail"].as_str().unwrap().contains(why),
            "{name}: {}",
            r.body
        );
    }
    assert!(accounts_with_source(&app, "jit").is_empty());
    // Outside the verified domains: 403, nothing created.
    let r = login(
        &app,
        &sign(Algorithm::RS256, &claims("x@elsewhere.example.org")),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("not a verified domain"));
    assert!(accounts_with_source(&app, "jit").is_empty());
    // Unknown organization, and an organization without SSO settings.
    let r = call(
        &app.client,
        &app.addr,
        None,
        Method::POST,
        "/sso/nope/login",
        Some(json!({"id_token": good})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    new_org(
        &app.db,
        "nosso",
        Seats {
            standard: 1,
            premium: 0,
        },
    );
    let r = call(
        &app.client,
        &app.addr,
        None,
        Method::POST,
        "/sso/nosso/login",
        Some(json!({"id_token": good})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("not configured"));
    // The untouched token still works: the refusals were about the tokens.
    let r = login(&app, &good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn scim_provisioned_and_removed_users_at_login() {
    let app = spawn_owner_app(
        Seats {
            standard: 1,
            premium: 0,
        },
        None,
    )
    .await;
    configure(&app, "HS256", HS_SECRET).await;
    // The IdP pushed the user first: the login uses that account, no new one.
    let u = app
        .post(
            "/Users",
            json!({"schemas": [CORE_USER], "userName": "sam", "active": true,
                                "emails": [{"value": "Sam@acme.example.com", "primary": true}]}),
        )
        .await;
    assert_eq!(u.status, StatusCode::CREATED);
    let r = login(
        &app,
        &sign(Algorithm::HS256, &claims("sam@acme.example.com")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["created_account"], false);
    assert_eq!(r.body["member"]["account"]["id"], u.body["id"]);
    assert!(accounts_with_source(&app, "jit").is_empty());
    // Removed by an admin: refused, not re-provisioned behind the admin's back.
    let admin = owner_token(&app, Role::Admin);
    let member_id = r.body["member"]["id"].as_str().unwrap().to_string();
    let d = app
        .api(
            &admin,
            Method::DELETE,
            &format!("/members/{member_id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let r = login(
        &app,
        &sign(Algorithm::HS256, &claims("sam@acme.example.com")),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("removed"));
    app.assert_seat_invariants();
}

#[tokio::test]
async fn sso_settings_are_checked_before_they_are_stored() {
    let app = spawn_owner_app(
        Seats {
            standard: 1,
            premium: 0,
        },
        None,
    )
    .await;
    let owner = owner_token(&app, Role::Owner);
    for (body, why) in [
        (
            json!({"issuer": ISS, "audience": AUD, "algorithm": "HS256", "key": "short"}),
            "32 bytes",
        ),
        (
            json!({"issuer": ISS, "audience": AUD, "algorithm": "RS256", "key": "not a pem"}),
            "PEM",
        ),
        (
            json!({"issuer": ISS, "audience": AUD, "algorithm": "none", "key": HS_SECRET}),
            "unsupported",
        ),
        (
            json!({"issuer": "", "audience": AUD, "algorithm": "HS256", "key": HS_SECRET}),
            "required",
        ),
    ] {
        let r = app.api(&owner, Method::PUT, "/sso", Some(body), &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(
            r.body["detail"].as_str().unwrap().contains(why),
            "{}",
            r.body
        );
    }
    assert_eq!(
        app.api(&owner, Method::GET, "/sso", None, &[]).await.status,
        StatusCode::NOT_FOUND
    );
    configure(&app, "HS256", HS_SECRET).await;
    assert_eq!(
        app.api(&owner, Method::DELETE, "/sso", None, &[])
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = login(&app, &sign(Algorithm::HS256, &claims("a@acme.example.com"))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "SSO off once deleted");
}
