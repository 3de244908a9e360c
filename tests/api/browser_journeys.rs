//! The ways in, as a person takes them in a real browser (chromium, see browser.rs), against
//! the real test IdP (idp.rs) and a real SMTP server (smtp.rs). Screenshots of every step go
//! to target/test-artifacts/<test>/.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use scim_seats::smtp::SmtpSender;

use crate::browser::Browser;
use crate::helpers::*;
use crate::idp::*;
use crate::smtp::{link_in, SmtpSink};

/// The IdP's sign-in, from our sign-in page: organization, button, the IdP's form.
async fn sign_in_through_idp(browser: &mut Browser, app: &TestApp, email: &str, shot: &str) {
    // A new person: no cookies of the previous one (ours or the IdP's; both on 127.0.0.1).
    browser
        .client
        .delete_all_cookies()
        .await
        .expect("clear cookies");
    browser.goto(&format!("{}/signin?org=acme", app.addr)).await;
    assert!(browser
        .text()
        .await
        .contains("acme Inc. signs in through its identity provider"));
    browser
        .click_button("Sign in with your identity provider")
        .await;
    wait_for_path(browser, "/interaction/").await;
    browser.fill("Email", email).await;
    browser.screenshot(&format!("{shot}-idp-form")).await;
    browser.click_button("Sign in").await;
    // The IdP's redirects, then our callback's page.
    for _ in 0..100 {
        let path = browser.path().await;
        if !path.starts_with("/interaction/") && !path.starts_with("/auth") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.screenshot(shot).await;
}

/// Wait (up to 10 s) until the browser is on a page whose path starts with `prefix`.
async fn wait_for_path(browser: &Browser, prefix: &str) {
    for _ in 0..100 {
        if browser.path().await.starts_with(prefix) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "never reached {prefix}: at {} with {}",
        browser.path().await,
        browser.text().await
    );
}

fn account_of(app: &TestApp, email: &str) -> scim_seats::store::users::UserRow {
    accounts_with_source(app, "jit")
        .into_iter()
        .find(|u| u.user_name_norm == email)
        .unwrap_or_else(|| panic!("an account for {email}"))
}

#[tokio::test]
async fn idp_sign_in_with_a_free_seat_with_none_and_after_a_purchase() {
    let Some(mut browser) = Browser::start("idp-sign-in").await else {
        return;
    };
    let (app, _idp) = spawn_sso_app(Seats {
        standard: 1,
        premium: 1,
    })
    .await;

    // First person: the premium seat.
    sign_in_through_idp(&mut browser, &app, "ada@acme.example.com", "ada-signed-in").await;
    assert_eq!(
        browser.wait_for_path("/console").await,
        "/console",
        "{}",
        browser.text().await
    );
    assert!(browser.text().await.contains("ada@acme.example.com"));
    assert_eq!(
        account_of(&app, "ada@acme.example.com")
            .seat_tier
            .as_deref(),
        Some("premium")
    );
    // Second: the standard seat.
    sign_in_through_idp(
        &mut browser,
        &app,
        "grace@acme.example.com",
        "grace-signed-in",
    )
    .await;
    assert_eq!(
        browser.wait_for_path("/console").await,
        "/console",
        "{}",
        browser.text().await
    );
    assert_eq!(
        account_of(&app, "grace@acme.example.com")
            .seat_tier
            .as_deref(),
        Some("standard")
    );

    // Third: no seat left. The page says why and what changes it.
    for attempt in ["alan-no-seat", "alan-no-seat-again"] {
        sign_in_through_idp(&mut browser, &app, "alan@acme.example.com", attempt).await;
        let text = browser.text().await;
        assert!(text.contains("You could not be signed in"), "{text}");
        assert!(
            text.contains("No seat is free: an owner of your organization must add seats"),
            "{text}"
        );
        assert!(text.contains("position 1"), "{text}");
        assert_ne!(browser.path().await, "/console");
    }
    // The pending report lists the person once.
    let admin = owner_token(&app, Role::Admin);
    let report = app
        .api(&admin, Method::GET, "/reports/pending", None, &[])
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let listed = report
        .body
        .to_string()
        .matches("alan@acme.example.com")
        .count();
    assert!(listed >= 1, "{}", report.body);
    assert_eq!(report.body["total"], 1, "{}", report.body);

    // An owner buys a standard seat; the next sign-in succeeds.
    let owner = owner_token(&app, Role::Owner);
    let r = app
        .confirm(&owner, "buy-1", json!({"add_standard": 1}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    sign_in_through_idp(
        &mut browser,
        &app,
        "alan@acme.example.com",
        "alan-after-purchase",
    )
    .await;
    assert_eq!(
        browser.wait_for_path("/console").await,
        "/console",
        "{}",
        browser.text().await
    );
    assert_eq!(
        account_of(&app, "alan@acme.example.com").seat_status,
        "active"
    );
    assert_eq!(accounts_with_source(&app, "jit").len(), 3);
    browser.close().await;
    app.assert_seat_invariants();
}

/// A server whose public URL is its real address (links in mail open it), mail going to
/// `sink` every 100 ms.
async fn mail_app(sink: &SmtpSink) -> TestApp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let sender =
        SmtpSender::new(&sink.url(), "scim-seats <seats@mail.example.net>").expect("sender");
    TestApp::builder()
        .seats(1, 1)
        .settings(move |s| {
            s.http.bind = format!("127.0.0.1:{port}");
            s.mail.public_url = format!("http://127.0.0.1:{port}");
            s.mail.delivery_interval = Some(Duration::from_millis(100));
            s.mail.sender = Arc::new(sender);
            s.billing.renewal_interval = None;
        })
        .spawn()
        .await
}

#[tokio::test]
async fn an_invitation_mail_arrives_and_its_link_signs_the_person_in() {
    let Some(mut browser) = Browser::start("invitation-by-mail").await else {
        return;
    };
    let sink = SmtpSink::start();
    let app = mail_app(&sink).await;
    let admin = owner_token(&app, Role::Admin);
    let r = app
        .api(
            &admin,
            Method::POST,
            "/invitations",
            Some(json!({"email": "mo@acme.example.com", "role": "member"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let mail = sink.wait_for("mo@acme.example.com").await;
    let link = link_in(
        &mail.body,
        &format!("{}/invitations/accept?token=", app.addr),
    );
    browser.goto(&link).await;
    let text = browser.text().await;
    browser.screenshot("invitation-page").await;
    assert!(text.contains("Join acme Inc."), "{text}");
    browser.click_button("Accept invitation").await;
    assert_eq!(
        browser.wait_for_path("/console").await,
        "/console",
        "{}",
        browser.text().await
    );
    assert!(browser.text().await.contains("mo@acme.example.com"));
    browser.screenshot("signed-in").await;
    browser.close().await;
    app.assert_seat_invariants();
}

#[tokio::test]
async fn a_sign_in_link_mail_works_once() {
    let Some(mut browser) = Browser::start("sign-in-link").await else {
        return;
    };
    let sink = SmtpSink::start();
    let app = mail_app(&sink).await;
    add_member_email(&app, "lin@acme.example.com", Role::Admin);

    browser.goto(&format!("{}/signin", app.addr)).await;
    browser.fill("Email", "lin@acme.example.com").await;
    browser.screenshot("signin-page").await;
    browser.click_button("Email me a sign-in link").await;
    assert_eq!(browser.wait_for_path("/signin/sent").await, "/signin/sent");
    assert!(browser.text().await.contains("Check your mail"));
    browser.screenshot("check-your-mail").await;

    let mail = sink.wait_for("lin@acme.example.com").await;
    assert_eq!(mail.subject, "Sign in to acme Inc. on scim-seats");
    let link = link_in(&mail.body, &format!("{}/signin/link?token=", app.addr));
    browser.goto(&link).await;
    let text = browser.text().await;
    browser.screenshot("link-page").await;
    assert!(text.contains("Sign in to acme Inc."), "{text}");
    assert!(text.contains("lin@acme.example.com"), "{text}");
    browser.click_button("Sign in").await;
    assert_eq!(
        browser.wait_for_path("/console").await,
        "/console",
        "{}",
        browser.text().await
    );
    assert!(browser
        .text()
        .await
        .contains("lin@acme.example.com · Admin"));
    browser.screenshot("signed-in").await;

    // Opened again: it says it was used, and signs nobody in.
    browser
        .client
        .delete_all_cookies()
        .await
        .expect("clear cookies");
    browser.goto(&link).await;
    let text = browser.text().await;
    browser.screenshot("link-used").await;
    assert!(text.contains("already used"), "{text}");
    browser.goto(&format!("{}/console", app.addr)).await;
    assert_eq!(browser.wait_for_path("/signin").await, "/signin");
    browser.close().await;

    // An address nobody has gets the same answer and no mail.
    let client = browser_client(false);
    let form = client
        .get(format!("{}/signin", app.addr))
        .send()
        .await
        .unwrap();
    let html = form.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf field")
        .to_string();
    let r = client
        .post(format!("{}/signin", app.addr))
        .form(&[
            ("email", "nobody@acme.example.com"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.url().path().ends_with("/signin/sent"));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(sink
        .received()
        .iter()
        .all(|m| !m.rcpt_tos.iter().any(|t| t.starts_with("nobody@"))));
}

#[tokio::test]
async fn an_expired_invitation_gets_a_clear_page_and_creates_nothing() {
    let sent_on = date(2026, 3, 1);
    let app = TestApp::builder()
        .seats(1, 0)
        .manual_jobs()
        .today(sent_on)
        .spawn()
        .await;
    let admin = owner_token(&app, Role::Admin);
    let r = app
        .api(
            &admin,
            Method::POST,
            "/invitations",
            Some(json!({"email": "late@acme.example.com", "role": "member"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let token = latest_invitation_token(&app, "late@acme.example.com");
    // The same database 22 days later.
    let later = app
        .second_server(|s| s.clock_override = Some(sent_on + chrono::Duration::days(22)))
        .await;
    let client = browser_client(false);
    let page = page_of(
        client
            .get(format!("{later}/invitations/accept?token={token}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::GONE, "{}", page.text);
    assert!(
        page.text.contains("This link can no longer be used"),
        "{}",
        page.text
    );
    assert!(page.text.contains("expired"), "{}", page.text);
    assert!(accounts_with_source(&app, "invitation").is_empty());
}
