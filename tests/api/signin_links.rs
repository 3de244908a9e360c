//! Sign-in link requests over HTTP: the mail throttle per address.

use reqwest::StatusCode;
use scim_seats::domain::members::signin_links::MAX_MAILS_PER_WINDOW;
use scim_seats::domain::members::Role;

use crate::helpers::*;
use crate::idp::browser_client;

async fn request_link(client: &reqwest::Client, addr: &str, email: &str) -> reqwest::Response {
    let html = client
        .get(format!("{addr}/signin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf field")
        .to_string();
    client
        .post(format!("{addr}/signin"))
        .form(&[("email", email), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn repeated_link_requests_mail_an_address_only_a_few_times_and_answer_the_same() {
    let app = TestApp::builder().spawn().await;
    let email = "flood@acme.example.com";
    add_member_email(&app, email, Role::Admin);
    let client = browser_client(false);

    for _ in 0..MAX_MAILS_PER_WINDOW + 3 {
        let r = request_link(&client, &app.addr, email).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.url().path().ends_with("/signin/sent"), "{}", r.url());
    }
    let mails: Vec<_> = outbox_to(&app, email)
        .into_iter()
        .filter(|m| m.kind == "signin_link")
        .collect();
    assert_eq!(mails.len() as i64, MAX_MAILS_PER_WINDOW);

    // Another address of the same organization is not held back by the first one's limit.
    let other = "other@acme.example.com";
    add_member_email(&app, other, Role::Admin);
    request_link(&client, &app.addr, other).await;
    assert_eq!(outbox_to(&app, other).len(), 1);
}
