//! Mail through a real SMTP server (aiosmtpd, see smtp.rs): the outbox delivers after commit,
//! once, with a Message-ID made from its row; a server that is down gets the mail later
//! (retries with backoff); the token in a body does not outlive delivery in the outbox.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use scim_seats::domain::members::invitations::ACCEPT_PATH;
use scim_seats::smtp::SmtpSender;

use crate::helpers::*;
use crate::smtp::{link_in, SmtpSink};

const FROM: &str = "Acme Seats <seats@mail.example.net>";

async fn mail_app(smtp_url: &str, retry_base: Duration) -> TestApp {
    let sender = SmtpSender::new(smtp_url, FROM).expect("SMTP sender");
    TestApp::builder()
        .seats(1, 0)
        .settings(move |s| {
            s.mail.delivery_interval = Some(Duration::from_millis(100));
            s.mail.retry_base = retry_base;
            s.mail.sender = Arc::new(sender);
            s.mail.public_url = "https://seats.example.com".into();
        })
        .spawn()
        .await
}

async fn invite(app: &TestApp, email: &str) {
    let admin = owner_token(app, Role::Admin);
    let r = app
        .api(
            &admin,
            Method::POST,
            "/invitations",
            Some(json!({"email": email, "role": "member"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

async fn wait_until_sent(app: &TestApp, to: &str) -> scim_seats::store::mail::MailRow {
    for _ in 0..200 {
        if let Some(row) = outbox_to(app, to).into_iter().find(|r| r.sent_at.is_some()) {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox never marked the mail to {to} sent");
}

#[tokio::test]
async fn an_invitation_arrives_at_the_smtp_server_once_with_a_stable_message_id() {
    let sink = SmtpSink::start();
    let app = mail_app(&sink.url(), Duration::from_secs(30)).await;
    invite(&app, "mo@acme.example.com").await;

    let got = sink.wait_for("mo@acme.example.com").await;
    assert_eq!(got.from, FROM);
    assert_eq!(got.mail_from, "seats@mail.example.net");
    assert_eq!(got.subject, "You are invited to acme Inc. on scim-seats");
    let link = link_in(
        &got.body,
        &format!("https://seats.example.com{ACCEPT_PATH}?token="),
    );
    assert!(link.contains("token=scimseats-inv_"), "{link}");

    let row = wait_until_sent(&app, "mo@acme.example.com").await;
    assert_eq!(got.message_id, format!("<{}@mail.example.net>", row.id));
    assert!(
        !row.body.contains("scimseats-inv_"),
        "no plaintext token is kept after delivery"
    );
    // Later runs of the delivery task do not send it again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn mail_waits_in_the_outbox_while_the_smtp_server_is_down_and_goes_out_when_it_is_up() {
    // A port nothing listens on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = mail_app(
        &format!("smtp://127.0.0.1:{port}"),
        Duration::from_millis(300),
    )
    .await;
    invite(&app, "late@acme.example.com").await;
    let mut failed = None;
    for _ in 0..200 {
        let row = outbox_to(&app, "late@acme.example.com").remove(0);
        if row.attempts >= 2 {
            failed = Some(row);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = failed.expect("the delivery task retried the failed send");
    assert!(failed.sent_at.is_none());
    assert!(failed.last_error.is_some());
    assert!(
        failed.body.contains("scimseats-inv_"),
        "kept until the server accepts it"
    );

    let sink = SmtpSink::start_on(Some(port));
    let got = sink.wait_for("late@acme.example.com").await;
    let row = wait_until_sent(&app, "late@acme.example.com").await;
    assert_eq!(got.message_id, format!("<{}@mail.example.net>", row.id));
    assert!(row.attempts >= 3);
    assert!(row.last_error.is_none());
}
