//! The invitation page in a real browser, and its refusals over plain HTTP.

use reqwest::{Method, StatusCode};
use scim_seats::domain::members::Role;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::*;

/// Invite `email` with `role` over the owner API; returns the token from the mail.
pub async fn invite(app: &TestApp, email: &str, role: &str) -> String {
    let owner = owner_token(app, Role::Owner);
    let r = app
        .api(
            &owner,
            Method::POST,
            "/invitations",
            Some(json!({"email": email, "role": role})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    latest_invitation_token(app, email)
}

#[allow(dead_code)] // the console journeys sign people in with it
/// Sign `email` in through the browser by accepting a fresh invitation with `role`; the
/// browser ends on the console. Console tests use this to sign in Owners, Admins and Members.
pub async fn sign_in_by_invitation(app: &TestApp, browser: &mut Browser, email: &str, role: &str) {
    let token = invite(app, email, role).await;
    browser
        .goto(&format!("{}/invitations/accept?token={token}", app.addr))
        .await;
    browser.click_button("Accept invitation").await;
    assert_eq!(
        browser.wait_for_path("/console").await,
        "/console",
        "{}",
        browser.text().await
    );
}

#[tokio::test]
async fn an_invited_person_opens_the_link_accepts_and_lands_signed_in() {
    let app = TestApp::builder().seats(1, 1).manual_jobs().spawn().await;
    let token = invite(&app, "olga@acme.example.com", "owner").await;
    let Some(mut browser) = Browser::start("invitation_accept").await else {
        return;
    };
    let link = format!("{}/invitations/accept?token={token}", app.addr);
    browser.goto(&link).await;
    let text = browser.text().await;
    browser.screenshot("invitation").await;
    assert!(text.contains("Join acme Inc."), "{text}");
    assert!(text.contains("olga@acme.example.com"), "{text}");
    assert!(text.contains("Owner"), "{text}");
    assert!(text.contains("Expires"), "{text}");

    browser.click_button("Accept invitation").await;
    assert_eq!(browser.wait_for_path("/console").await, "/console");
    let text = browser.text().await;
    browser.screenshot("signed-in").await;
    assert!(text.contains("acme Inc."), "{text}");
    assert!(text.contains("olga@acme.example.com · Owner"), "{text}");
    // The account took the highest free tier.
    let accounts = accounts_with_source(&app, "invitation");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].seat_tier.as_deref(), Some("premium"));

    // The link works once: opened again, it says so.
    browser.goto(&link).await;
    let text = browser.text().await;
    browser.screenshot("link-used").await;
    assert!(text.contains("This link can no longer be used"), "{text}");
    assert!(
        text.contains("This invitation was already accepted."),
        "{text}"
    );

    // Signing out ends the session on the server: the console asks to sign in again.
    browser.goto(&format!("{}/console", app.addr)).await;
    browser.click_button("Sign out").await;
    assert_eq!(browser.wait_for_path("/signin").await, "/signin");
    assert!(browser.text().await.contains("You are signed out"));
    browser.goto(&format!("{}/console", app.addr)).await;
    assert_eq!(browser.path().await, "/signin");
    browser.screenshot("signed-out").await;
    browser.close().await;
    app.assert_seat_invariants();
}

/// A client that keeps cookies and does not follow redirects, like a browser we can inspect.
fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("hidden field") + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn accepting_without_the_form_token_is_refused_and_changes_nothing() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let token = invite(&app, "mia@acme.example.com", "member").await;
    let client = cookie_client();
    let page = client
        .get(format!("{}/invitations/accept?token={token}", app.addr))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    let csrf = hidden(&html, "csrf");

    // No field, a wrong one, or the right one from another browser (no cookie): refused.
    for (client, form) in [
        (&client, vec![("token", token.as_str())]),
        (&client, vec![("token", token.as_str()), ("csrf", "0000")]),
        (
            &cookie_client(),
            vec![("token", token.as_str()), ("csrf", csrf.as_str())],
        ),
    ] {
        let r = client
            .post(format!("{}/invitations/accept", app.addr))
            .form(&form)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("nothing was changed"));
    }
    assert!(accounts_with_source(&app, "invitation").is_empty());

    // The real form works, and sets an HttpOnly, SameSite=Lax session cookie.
    let r = client
        .post(format!("{}/invitations/accept", app.addr))
        .form(&[("token", token.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/console");
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("scim_seats_session="))
        .expect("session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let console = client
        .get(format!("{}/console", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(console.status(), StatusCode::OK);
    assert!(console
        .text()
        .await
        .unwrap()
        .contains("mia@acme.example.com"));
}

#[tokio::test]
async fn a_voided_or_unknown_invitation_gets_a_clear_page() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let old = invite(&app, "ned@acme.example.com", "member").await;
    let _new = invite(&app, "ned@acme.example.com", "member").await;
    let client = cookie_client();
    let r = client
        .get(format!("{}/invitations/accept?token={old}", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    let html = r.text().await.unwrap();
    assert!(html.contains("This link can no longer be used"), "{html}");
    assert!(html.contains("voided"), "{html}");
    for bad in [
        "",
        "?token=",
        "?token=scimseats-inv_nope",
        "?token=%3Cscript%3E",
    ] {
        let r = client
            .get(format!("{}/invitations/accept{bad}", app.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{bad}");
        let html = r.text().await.unwrap();
        assert!(html.contains("This link is not valid"), "{html}");
        assert!(!html.contains("<script>"));
    }
    // Without a session the console sends the person to sign in, and back afterwards.
    let r = client
        .get(format!("{}/console", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/signin?next=/console");
    assert!(accounts_with_source(&app, "invitation").is_empty());
}
