//! ETags: meta.version changes on every write; If-Match / If-None-Match are honoured.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn versions_and_preconditions() {
    let app = spawn_app().await;
    let u = app.create_user("e@x.com").await;
    let id = u["id"].as_str().unwrap();
    let path = format!("/Users/{id}");
    let v1 = u["meta"]["version"].as_str().unwrap().to_string();

    let r = app
        .scim_as(
            &app.token,
            Method::GET,
            &path,
            None,
            &[("If-None-Match", &v1)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let r = app
        .scim_as(
            &app.token,
            Method::GET,
            &path,
            None,
            &[("If-None-Match", "W/\"999\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("etag").as_deref(), Some(v1.as_str()));

    let body = json!({"schemas": [CORE_USER], "userName": "e@x.com", "title": "t"});
    let r = app
        .scim_as(
            &app.token,
            Method::PUT,
            &path,
            Some(body.clone()),
            &[("If-Match", "W/\"999\"")],
        )
        .await;
    assert_scim_error(&r, 412, Some("invalidVers"));
    let r = app
        .scim_as(
            &app.token,
            Method::PUT,
            &path,
            Some(body.clone()),
            &[("If-Match", &v1)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let v2 = r.body["meta"]["version"].as_str().unwrap().to_string();
    assert_ne!(v1, v2);
    // The same PUT again changes nothing, so the version stays.
    let r = app.put(&path, body).await;
    assert_eq!(r.body["meta"]["version"], v2.as_str());

    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "u"}]});
    let r = app
        .scim_as(
            &app.token,
            Method::PATCH,
            &path,
            Some(patch.clone()),
            &[("If-Match", &v1)],
        )
        .await;
    assert_scim_error(&r, 412, Some("invalidVers"));
    let r = app
        .scim_as(
            &app.token,
            Method::PATCH,
            &path,
            Some(patch),
            &[("If-Match", &v2)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let v3 = r.body["meta"]["version"].as_str().unwrap().to_string();
    let r = app
        .scim_as(
            &app.token,
            Method::DELETE,
            &path,
            None,
            &[("If-Match", &v2)],
        )
        .await;
    assert_scim_error(&r, 412, Some("invalidVers"));
    assert_eq!(
        app.get(&path).await.status,
        StatusCode::OK,
        "a refused delete deletes nothing"
    );
    let r = app
        .scim_as(
            &app.token,
            Method::DELETE,
            &path,
            None,
            &[("If-Match", &v3)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // Groups too, and "*" matches any version.
    let g = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": "G"}),
        )
        .await;
    let gpath = format!("/Groups/{}", g.body["id"].as_str().unwrap());
    let r = app
        .scim_as(
            &app.token,
            Method::PUT,
            &gpath,
            Some(json!({"schemas": [CORE_GROUP], "displayName": "H"})),
            &[("If-Match", "*")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
}
