#![allow(dead_code)] // shared by the console journeys; not each uses every helper
//! Helpers of the console journeys: people signed in over plain HTTP (a cookie client), SCIM
//! users with names and emails, and reading hidden form fields.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::web_invitations::invite;

/// A client that keeps cookies and does not follow redirects.
pub fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The value of the first hidden field `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Sign `email` in with `role` by accepting an invitation over HTTP; returns the client
/// holding the session cookie and the session's CSRF token.
pub async fn http_sign_in(app: &TestApp, email: &str, role: &str) -> (reqwest::Client, String) {
    let token = invite(app, email, role).await;
    let client = cookie_client();
    let html = client
        .get(format!("{}/invitations/accept?token={token}", app.addr))
        .send()
        .await
        .expect("invitation page")
        .text()
        .await
        .expect("html");
    let csrf = hidden(&html, "csrf");
    let r = client
        .post(format!("{}/invitations/accept", app.addr))
        .form(&[("token", token.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .expect("accept");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let console = client
        .get(format!("{}/console", app.addr))
        .send()
        .await
        .expect("console")
        .text()
        .await
        .expect("html");
    let session_csrf = hidden(&console, "csrf");
    (client, session_csrf)
}

/// A SCIM user with a display name and a work email; returns its id.
pub async fn scim_user(app: &TestApp, user_name: &str, display: &str) -> String {
    let r = app
        .post(
            "/Users",
            json!({
                "schemas": [CORE_USER],
                "userName": user_name,
                "displayName": display,
                "emails": [{"value": user_name, "type": "work", "primary": true}],
                "active": true,
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().expect("id").to_string()
}

/// The seat status of a user, read over SCIM.
pub async fn seat_status(app: &TestApp, id: &str) -> String {
    let r = app.scim(Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    seat(&r.body)["status"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no seat status in {}", r.body))
}

/// Pending users, by SCIM (the seat extension's status).
pub fn pending_count(app: &TestApp) -> i64 {
    app.count_status("pending")
}

pub fn body_has(v: &Value, s: &str) -> bool {
    v.to_string().contains(s)
}
