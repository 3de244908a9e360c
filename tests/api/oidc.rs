//! Sign-in through a real OpenID provider (oidc-provider, see idp.rs), over HTTP with a
//! cookie jar: the settings API, JIT for people the IdP pushed over SCIM, and every bad
//! answer the sign-in must refuse with a clear page while creating nothing. The journeys a
//! person takes in a browser are in browser_journeys.rs.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::idp::*;

fn jit_accounts(app: &TestApp) -> usize {
    accounts_with_source(app, "jit").len()
}

/// Members with role Member (the ones sign-in makes; the tests' owner is not one).
fn member_count(app: &TestApp) -> usize {
    let org = app.org_id.clone();
    app.db
        .read_sync(move |c| Ok(scim_seats::store::members::list(c, &org)?))
        .expect("members")
        .iter()
        .filter(|m| m.role == "member")
        .count()
}

/// A page that says `needle`, with `status`, and nothing created.
fn assert_refused(app: &TestApp, page: &Page, status: StatusCode, needle: &str) {
    assert_eq!(
        page.status, status,
        "{} at {}: {}",
        needle, page.url, page.text
    );
    assert!(
        page.text.contains(needle),
        "expected '{needle}' on the page at {}: {}",
        page.url,
        page.text
    );
    assert!(
        page.text.contains("<html")
            || page.text.contains("<!doctype")
            || page.text.contains("<!DOCTYPE"),
        "a page, not a JSON body: {}",
        page.text
    );
    assert_eq!(jit_accounts(app), 0, "no account was made");
    assert_eq!(member_count(app), 0, "no member was made");
    app.assert_seat_invariants();
}

#[tokio::test]
async fn owners_set_the_idp_see_the_redirect_uri_and_never_get_the_secret_back() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let put = |body| app.api(&owner, Method::PUT, "/sso", Some(body), &[]);
    for (body, why) in [
        (
            json!({"issuer": "http://idp.example.com", "client_id": "c", "client_secret": "s"}),
            "https://",
        ),
        (
            json!({"issuer": "ftp://idp.example.com", "client_id": "c", "client_secret": "s"}),
            "https://",
        ),
        (
            json!({"issuer": "https://idp.example.com", "client_id": " ", "client_secret": "s"}),
            "client_id",
        ),
        (
            json!({"issuer": "https://idp.example.com", "client_id": "c"}),
            "client_secret is required",
        ),
        (
            json!({"issuer": "https://idp.example.com", "client_id": "c", "client_secret": "s",
                "extra_scopes": ["groups", "bad scope"]}),
            "not a scope",
        ),
        (
            json!({"issuer": "https://idp.example.com", "client_id": "c", "client_secret": "s",
                "algorithm": "HS256"}),
            "unknown field",
        ),
    ] {
        let r = put(body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(
            r.body["detail"].as_str().unwrap().contains(why),
            "{why}: {}",
            r.body
        );
    }
    assert_eq!(
        app.api(&owner, Method::GET, "/sso", None, &[]).await.status,
        StatusCode::NOT_FOUND
    );

    let r = put(
        json!({"issuer": "https://acme.okta.com/", "client_id": "0oa1",
                       "client_secret": "very-secret", "extra_scopes": ["groups", "openid"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let shown = r.body.to_string();
    assert!(!shown.contains("very-secret"), "{shown}");
    assert_eq!(r.body["issuer"], "https://acme.okta.com");
    assert_eq!(r.body["client_secret_set"], true);
    assert_eq!(
        r.body["scopes"],
        json!(["openid", "email", "profile", "groups"])
    );
    assert_eq!(
        r.body["redirect_uri"],
        format!("{}/sso/acme/callback", app.settings.mail.public_url)
    );
    // Changing the scopes keeps the secret (it is not sent again).
    let r = put(json!({"issuer": "https://acme.okta.com", "client_id": "0oa1"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let get = app.api(&owner, Method::GET, "/sso", None, &[]).await;
    assert_eq!(get.status, StatusCode::OK);
    assert!(!get.body.to_string().contains("very-secret"));
    assert_eq!(get.body["scopes"], json!(["openid", "email", "profile"]));
    let secret = {
        let org = app.org_id.clone();
        app.db
            .read_sync(move |c| {
                Ok(scim_seats::store::sso::find(c, &org)?
                    .unwrap()
                    .client_secret)
            })
            .unwrap()
    };
    assert_eq!(secret, "very-secret");
    // The audit log names the change, never the secret.
    let audit = app
        .api(&owner, Method::GET, "/audit?kind=sso.updated", None, &[])
        .await;
    assert!(
        !audit.body.to_string().contains("very-secret"),
        "{}",
        audit.body
    );

    assert_eq!(
        app.api(&owner, Method::DELETE, "/sso", None, &[])
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    // With SSO off, its sign-in start says so.
    let client = browser_client(false);
    let page = page_of(
        client
            .get(format!("{}/sso/acme", app.addr))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.text);
    assert!(
        page.text
            .contains("does not sign in through an identity provider"),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn people_the_idp_deactivated_or_deleted_over_scim_are_refused() {
    let (app, _idp) = spawn_sso_app(Seats {
        standard: 2,
        premium: 0,
    })
    .await;
    for (user, gone) in [("dee", "deactivated"), ("del", "deleted")] {
        let u = app
            .post(
                "/Users",
                json!({"schemas": [CORE_USER], "userName": user, "active": true,
                  "emails": [{"value": format!("{user}@acme.example.com"), "primary": true}]}),
            )
            .await;
        assert_eq!(u.status, StatusCode::CREATED);
        let id = u.body["id"].as_str().unwrap().to_string();
        // Signed in once while active: the IdP-pushed account is used, no second one.
        let client = browser_client(false);
        let page = sign_in_via_idp(
            &client,
            &app.addr,
            "acme",
            &format!("{user}@acme.example.com"),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.url.ends_with("/console"), "{}", page.url);
        assert_eq!(jit_accounts(&app), 0);
        if gone == "deactivated" {
            let r = app
                .patch(
                    &format!("/Users/{id}"),
                    json!({"schemas": [PATCH_OP],
                       "Operations": [{"op": "replace", "path": "active", "value": false}]}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        } else {
            assert_eq!(
                app.delete(&format!("/Users/{id}")).await.status,
                StatusCode::NO_CONTENT
            );
        }
        let client = browser_client(false);
        let page = sign_in_via_idp(
            &client,
            &app.addr,
            "acme",
            &format!("{user}@acme.example.com"),
        )
        .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{gone}: {}", page.text);
        assert!(
            page.text.contains(&format!("{gone} in your organization")),
            "{gone}: {}",
            page.text
        );
        assert!(!page.url.ends_with("/console"));
    }
    assert_eq!(
        jit_accounts(&app),
        0,
        "never re-provisioned behind the IdP's back"
    );

    // Removed by an admin: refused too, not re-provisioned behind the admin's back.
    let client = browser_client(false);
    let page = sign_in_via_idp(&client, &app.addr, "acme", "rem@acme.example.com").await;
    assert!(page.url.ends_with("/console"), "{}", page.text);
    let (org, email) = (app.org_id.clone(), "rem@acme.example.com".to_string());
    let member_id = app
        .db
        .read_sync(move |c| Ok(scim_seats::store::members::find_by_email(c, &org, &email)?))
        .unwrap()
        .expect("a member made at sign-in")
        .id;
    let admin = owner_token(&app, Role::Admin);
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
    let client = browser_client(false);
    let page = sign_in_via_idp(&client, &app.addr, "acme", "rem@acme.example.com").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.text);
    assert!(page.text.contains("removed by an admin"), "{}", page.text);
    app.assert_seat_invariants();
}

#[tokio::test]
async fn tampered_id_tokens_are_refused_with_a_page_and_create_nothing() {
    let (app, idp) = spawn_sso_app(Seats {
        standard: 1,
        premium: 1,
    })
    .await;
    for (claim, why) in [
        ("aud", "issued for another application"),
        ("iss", "comes from another issuer"),
        ("exp", "has expired"),
        ("nonce", "does not belong to this sign-in"),
        (
            "foreign-kid",
            "a key the identity provider does not publish",
        ),
    ] {
        idp.tamper_next(claim).await;
        let client = browser_client(false);
        let page = sign_in_via_idp(&client, &app.addr, "acme", "ada@acme.example.com").await;
        assert_refused(&app, &page, StatusCode::UNAUTHORIZED, why);
    }
    // The same person with an untampered token gets in (the refusals were about the tokens).
    let client = browser_client(false);
    let page = sign_in_via_idp(&client, &app.addr, "acme", "ada@acme.example.com").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.url.ends_with("/console"), "{}", page.url);
    assert_eq!(jit_accounts(&app), 1);
}

#[tokio::test]
async fn the_idp_rotating_its_keys_needs_no_restart() {
    let (app, idp) = spawn_sso_app(Seats {
        standard: 2,
        premium: 0,
    })
    .await;
    let client = browser_client(false);
    let page = sign_in_via_idp(&client, &app.addr, "acme", "one@acme.example.com").await;
    assert!(
        page.url.ends_with("/console"),
        "{}: {}",
        page.url,
        page.text
    );
    // New key: the server has only the old one cached and must fetch the key set again.
    idp.rotate_keys().await;
    let client = browser_client(false);
    let page = sign_in_via_idp(&client, &app.addr, "acme", "two@acme.example.com").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.url.ends_with("/console"),
        "{}: {}",
        page.url,
        page.text
    );
    assert_eq!(jit_accounts(&app), 2);
}

#[tokio::test]
async fn state_mismatch_and_a_replayed_callback_are_refused() {
    let (app, _idp) = spawn_sso_app(Seats {
        standard: 2,
        premium: 0,
    })
    .await;
    // The IdP sends the browser back; we stop right before our callback.
    let client = browser_client(true);
    let stopped = sign_in_via_idp(&client, &app.addr, "acme", "ada@acme.example.com").await;
    let callback = stopped
        .location
        .clone()
        .expect("a redirect to our callback");
    assert!(callback.contains("/sso/acme/callback?"), "{callback}");

    // Another state than the one this browser started with.
    let forged = callback.replace("state=", "state=x");
    let page = page_of(client.get(&forged).send().await.unwrap()).await;
    assert_refused(
        &app,
        &page,
        StatusCode::BAD_REQUEST,
        "not started in this browser",
    );
    // The right callback, but from another browser (no state cookie).
    let other = browser_client(false);
    let page = page_of(other.get(&callback).send().await.unwrap()).await;
    assert_refused(
        &app,
        &page,
        StatusCode::BAD_REQUEST,
        "not started in this browser",
    );

    // The real one signs in; replaying it is refused and changes nothing.
    let page = page_of(client.get(&callback).send().await.unwrap()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.url.ends_with("/console"), "{}", page.url);
    assert_eq!(jit_accounts(&app), 1);
    // Replayed from this browser: its state cookie went with the sign-in.
    let page = page_of(client.get(&callback).send().await.unwrap()).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text);
    // Replayed with the state cookie too: the server-side flow was used once.
    let state = callback
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("state="))
        .expect("state")
        .to_string();
    let page = page_of(
        other
            .get(&callback)
            .header("cookie", format!("scim_seats_sso_state={state}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::GONE, "{}", page.text);
    assert!(page.text.contains("already completed"), "{}", page.text);
    assert_eq!(jit_accounts(&app), 1);
    assert_eq!(member_count(&app), 1);

    // An error from the IdP (the person cancelled) is a page, not a crash.
    let page = page_of(
        client
            .get(format!(
                "{}/sso/acme/callback?error=access_denied&error_description=cancelled",
                app.addr
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.text);
    assert!(page.text.contains("access_denied"), "{}", page.text);
    // No code, no state.
    let page = page_of(
        client
            .get(format!("{}/sso/acme/callback", app.addr))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text);
}

#[tokio::test]
async fn an_unreachable_idp_gets_a_clear_page() {
    let (app, idp) = spawn_sso_app(Seats {
        standard: 1,
        premium: 0,
    })
    .await;
    // The key set is down before the first sign-in: discovery cannot complete.
    idp.jwks_down(true).await;
    let client = browser_client(false);
    let page = page_of(
        client
            .get(format!("{}/sso/acme", app.addr))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_refused(&app, &page, StatusCode::BAD_GATEWAY, "could not be reached");
    idp.jwks_down(false).await;

    // An issuer nothing answers at.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let owner = owner_token(&app, Role::Owner);
    let r = app
        .api(
            &owner,
            Method::PUT,
            "/sso",
            Some(json!({"issuer": format!("http://127.0.0.1:{dead}"),
             "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let page = page_of(
        client
            .get(format!("{}/sso/acme", app.addr))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_refused(&app, &page, StatusCode::BAD_GATEWAY, "could not be reached");
}

#[tokio::test]
async fn an_unverified_email_or_a_domain_the_org_has_not_verified_is_refused() {
    let (app, _idp) = spawn_sso_app(Seats {
        standard: 1,
        premium: 0,
    })
    .await;
    let client = browser_client(false);
    let page = sign_in_via_idp(
        &client,
        &app.addr,
        "acme",
        "unverified.eve@acme.example.com",
    )
    .await;
    assert_refused(
        &app,
        &page,
        StatusCode::FORBIDDEN,
        "has not verified your email address",
    );
    let client = browser_client(false);
    let page = sign_in_via_idp(&client, &app.addr, "acme", "mallory@other.example.org").await;
    assert_refused(&app, &page, StatusCode::FORBIDDEN, "not a verified domain");
}

#[tokio::test]
async fn an_idp_inside_the_network_is_not_reached_unless_an_operator_allows_it() {
    let (app, idp) = spawn_sso_app(Seats {
        standard: 1,
        premium: 0,
    })
    .await;
    // The same database, served by a server with the default (strict) outbound policy.
    let strict = app
        .second_server(|s| {
            s.outbound = scim_seats::outbound::Policy::strict();
        })
        .await;
    let client = browser_client(false);
    let page = page_of(
        client
            .get(format!("{strict}/sso/acme"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_refused(&app, &page, StatusCode::BAD_GATEWAY, "could not be reached");
    assert!(!page.url.starts_with(&idp.issuer), "{}", page.url);
}
