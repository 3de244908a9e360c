use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn missing_or_wrong_token_is_401_with_bearer_challenge() {
    let app = TestApp::builder().spawn().await;
    let r = app
        .client
        .get(format!("{}/Users", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer")));
    for bad in [
        "nope",
        "scimseats_0123456789abcdef0123456789abcdef_00",
        &format!("{}x", app.token),
    ] {
        let r = app.scim_as(bad, Method::GET, "/Users", None, &[]).await;
        assert_scim_error(&r, 401, None);
    }
    let r = app
        .client
        .get(format!("{}/Users", app.base))
        .header("authorization", format!("Basic {}", app.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "only the Bearer scheme is accepted");
}

#[tokio::test]
async fn revoked_token_stops_working_at_once() {
    let app = TestApp::builder().spawn().await;
    assert_eq!(app.get("/Users").await.status, StatusCode::OK);
    let org = app.org_id.clone();
    let token_id = app.token.split('_').nth(1).unwrap().to_string();
    app.db
        .write_sync(move |c| scim_seats::domain::tokens::revoke(c, &org, &token_id))
        .unwrap();
    assert_scim_error(&app.get("/Users").await, 401, None);
}

#[tokio::test]
async fn one_organization_never_sees_another() {
    let app = TestApp::builder().spawn().await;
    let (_, other_token) = new_org(
        &app.db,
        "globex",
        Seats {
            standard: 5,
            premium: 0,
        },
    );
    let mine = app.create_user("shared@x.com").await;
    let id = mine["id"].as_str().unwrap();
    let g = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": "G", "members": [{"value": id}]}),
        )
        .await;
    let gid = g.body["id"].as_str().unwrap();
    // What org A sees before org B tries anything; compared again at the end.
    let user_before = app.get(&format!("/Users/{id}")).await.body;
    let group_before = app.get(&format!("/Groups/{gid}")).await.body;

    let as_other = |m: Method, path: String, body: Option<serde_json::Value>| {
        let t = other_token.clone();
        let app = &app;
        async move { app.scim_as(&t, m, &path, body, &[]).await }
    };
    // Reads: 404 exactly like an id that never existed; lists are empty.
    let r = as_other(Method::GET, format!("/Users/{id}"), None).await;
    assert_scim_error(&r, 404, None);
    let never = as_other(
        Method::GET,
        "/Users/00000000-0000-0000-0000-000000000000".into(),
        None,
    )
    .await;
    assert_eq!(
        r.body["detail"], never.body["detail"],
        "no difference that reveals existence"
    );
    let r = as_other(Method::GET, "/Users".into(), None).await;
    assert_eq!(r.body["totalResults"], 0);
    let r = as_other(
        Method::GET,
        "/Users?filter=userName%20eq%20%22shared@x.com%22".into(),
        None,
    )
    .await;
    assert_eq!(r.body["totalResults"], 0);
    let r = as_other(Method::GET, format!("/Groups/{gid}"), None).await;
    assert_scim_error(&r, 404, None);
    // Writes: refused and nothing changes.
    let r = as_other(
        Method::PUT,
        format!("/Users/{id}"),
        Some(user("hijack@x.com")),
    )
    .await;
    assert_scim_error(&r, 404, None);
    let r = as_other(Method::DELETE, format!("/Users/{id}"), None).await;
    assert_scim_error(&r, 404, None);
    let r = as_other(Method::DELETE, format!("/Groups/{gid}"), None).await;
    assert_scim_error(&r, 404, None);
    // The same userName is free in the other organization (uniqueness is per org).
    let r = as_other(Method::POST, "/Users".into(), Some(user("shared@x.com"))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    // And its group cannot take our user as a member.
    let r = as_other(
        Method::POST,
        "/Groups".into(),
        Some(json!({"schemas": [CORE_GROUP], "displayName": "G", "members": [{"value": id}]})),
    )
    .await;
    assert_scim_error(&r, 400, Some("invalidValue"));

    let still = app.get(&format!("/Users/{id}")).await;
    assert_eq!(
        still.body, user_before,
        "org B changed nothing of org A's user"
    );
    assert_eq!(still.body["userName"], "shared@x.com");
    // Version 2: joining org A's group G changed its `groups`; org B changed nothing.
    assert_eq!(still.body["meta"]["version"], "W/\"2\"");
    let group = app.get(&format!("/Groups/{gid}")).await;
    assert_eq!(group.status, StatusCode::OK);
    assert_eq!(group.body, group_before, "nor of its group");
}

#[tokio::test]
async fn oversized_bodies_are_413_with_a_scim_error() {
    let app = TestApp::builder()
        .seats(1, 0)
        .settings(|s| s.http.max_body_bytes = 2048)
        .spawn()
        .await;
    let big = "x".repeat(4096);
    let r = app
        .post(
            "/Users",
            json!({"schemas": [CORE_USER], "userName": "big@x.com", "title": big}),
        )
        .await;
    assert_scim_error(&r, 413, None);
    assert_eq!(app.get("/Users").await.body["totalResults"], 0);
}

#[tokio::test]
async fn unknown_endpoints_are_scim_404s() {
    let app = TestApp::builder().spawn().await;
    assert_scim_error(&app.get("/Nope").await, 404, None);
}
