//! ETags: meta.version changes on every write; If-Match / If-None-Match are honoured.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn versions_and_preconditions() {
    let app = TestApp::builder().spawn().await;
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
    assert_eq!(
        r.header("etag").as_deref(),
        Some(v1.as_str()),
        "a 304 carries the ETag (RFC 7232 §4.1)"
    );
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
    assert_scim_error(&r, 412, None);
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
    assert_scim_error(&r, 412, None);
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
    assert_scim_error(&r, 412, None);
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

/// A request with the given extra headers, on the app's token.
async fn with_headers(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
    headers: &[(&str, &str)],
) -> Resp {
    app.scim_as(&app.token, method, path, body, headers).await
}

fn etag(r: &Resp) -> String {
    r.header("etag")
        .unwrap_or_else(|| panic!("no ETag: {} {}", r.status, r.body))
}

#[tokio::test]
async fn projected_responses_keep_their_etag_and_location() {
    let app = TestApp::builder().spawn().await;
    let r = app
        .post("/Users?attributes=userName", user("p@x.com"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.body.get("meta").is_none(), "projected: {}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/Users/{id}");
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("{}{path}", app.base).as_str()),
        "a 201 names the new resource (RFC 7644 §3.3)"
    );
    assert_eq!(etag(&r), "W/\"1\"");

    let r = app.get(&format!("{path}?attributes=userName")).await;
    assert_eq!(etag(&r), "W/\"1\"");
    let r = app
        .get(&format!("{path}?excludedAttributes=meta,emails"))
        .await;
    assert_eq!(etag(&r), "W/\"1\"");
    let body = json!({"schemas": [CORE_USER], "userName": "p@x.com", "title": "t"});
    let r = app.put(&format!("{path}?attributes=userName"), body).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(etag(&r), "W/\"2\"");
    assert!(r.header("location").is_none(), "Location is for 201 only");
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "u"}]});
    let r = app
        .patch(&format!("{path}?attributes=userName"), patch)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(etag(&r), "W/\"3\"");

    let r = app
        .post(
            "/Groups?attributes=displayName",
            json!({"schemas": [CORE_GROUP], "displayName": "G", "members": [{"value": id}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let gid = r.body["id"].as_str().unwrap().to_string();
    let gpath = format!("/Groups/{gid}");
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("{}{gpath}", app.base).as_str())
    );
    assert_eq!(etag(&r), "W/\"1\"");
    let r = app
        .get(&format!("{gpath}?excludedAttributes=members,meta"))
        .await;
    assert_eq!(etag(&r), "W/\"1\"");
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]});
    let r = app
        .patch(&format!("{gpath}?attributes=members"), patch)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(etag(&r), "W/\"2\"");
    let r = app
        .put(
            &format!("{gpath}?attributes=displayName"),
            json!({"schemas": [CORE_GROUP], "displayName": "H"}),
        )
        .await;
    assert_eq!(etag(&r), "W/\"3\"");
}

#[tokio::test]
async fn if_none_match_on_a_write_is_412() {
    let app = TestApp::builder().spawn().await;
    let u = app.create_user("n@x.com").await;
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let v1 = u["meta"]["version"].as_str().unwrap().to_string();
    let body = json!({"schemas": [CORE_USER], "userName": "n@x.com", "title": "t"});
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "u"}]});
    for tag in ["*", v1.as_str(), "W/\"9\", W/\"1\""] {
        let h = [("If-None-Match", tag)];
        let r = with_headers(&app, Method::PUT, &path, Some(body.clone()), &h).await;
        assert_scim_error(&r, 412, None);
        let r = with_headers(&app, Method::PATCH, &path, Some(patch.clone()), &h).await;
        assert_scim_error(&r, 412, None);
        let r = with_headers(&app, Method::DELETE, &path, None, &h).await;
        assert_scim_error(&r, 412, None);
    }
    let r = app.get(&path).await;
    assert_eq!(
        r.body["meta"]["version"],
        v1.as_str(),
        "nothing was written"
    );
    // A version that is not the current one lets the write through.
    let h = [("If-None-Match", "W/\"9\"")];
    let r = with_headers(&app, Method::PUT, &path, Some(body), &h).await;
    assert_eq!(r.status, StatusCode::OK);

    // Groups too.
    let gid = create_group_with(&app, "G", &[]).await;
    let gpath = format!("/Groups/{gid}");
    let h = [("If-None-Match", "*")];
    let r = with_headers(
        &app,
        Method::PUT,
        &gpath,
        Some(json!({"schemas": [CORE_GROUP], "displayName": "H"})),
        &h,
    )
    .await;
    assert_scim_error(&r, 412, None);
    let r = with_headers(&app, Method::DELETE, &gpath, None, &h).await;
    assert_scim_error(&r, 412, None);
    assert_eq!(app.get(&gpath).await.body["displayName"], "G");
}

#[tokio::test]
async fn not_modified_carries_the_etag_and_if_match_comes_first() {
    let app = TestApp::builder().spawn().await;
    let gid = create_group_with(&app, "G", &[]).await;
    let gpath = format!("/Groups/{gid}");
    let r = with_headers(&app, Method::GET, &gpath, None, &[("If-None-Match", "*")]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(etag(&r), "W/\"1\"");
    let r = with_headers(
        &app,
        Method::HEAD,
        &gpath,
        None,
        &[("If-None-Match", "W/\"1\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED, "HEAD too");
    assert_eq!(etag(&r), "W/\"1\"");
    // RFC 7232 §6: a false If-Match is 412 before If-None-Match is looked at.
    let h = [("If-Match", "W/\"7\""), ("If-None-Match", "W/\"1\"")];
    let r = with_headers(&app, Method::GET, &gpath, None, &h).await;
    assert_scim_error(&r, 412, None);
}

/// A user's version and body, by id.
async fn user_version(app: &TestApp, id: &str) -> (String, serde_json::Value) {
    let r = app.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.header("etag").as_deref(),
        r.body["meta"]["version"].as_str(),
        "the ETag header and meta.version agree"
    );
    (etag(&r), r.body)
}

async fn group_version(app: &TestApp, id: &str) -> String {
    let r = app.get(&format!("/Groups/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    etag(&r)
}

#[tokio::test]
async fn deleting_a_member_changes_the_groups_version() {
    let app = TestApp::builder().spawn().await;
    let a = app.create_user("a@x.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.create_user("b@x.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let child = create_group_with(&app, "Child", std::slice::from_ref(&b)).await;
    let parent = create_group_with(&app, "Parent", &[a.clone(), child.clone()]).await;
    let other = create_group_with(&app, "Other", &[]).await;
    let (p1, o1) = (
        group_version(&app, &parent).await,
        group_version(&app, &other).await,
    );

    assert_eq!(
        app.delete(&format!("/Users/{a}")).await.status,
        StatusCode::NO_CONTENT
    );
    let r = with_headers(
        &app,
        Method::GET,
        &format!("/Groups/{parent}"),
        None,
        &[("If-None-Match", &p1)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "the member list changed: no 304");
    assert_eq!(r.body["members"].as_array().map(Vec::len), Some(1));
    let p2 = etag(&r);
    assert_ne!(p1, p2);
    assert_eq!(
        group_version(&app, &other).await,
        o1,
        "groups without the user keep theirs"
    );

    // A deleted group leaves its parents' member lists too.
    assert_eq!(
        app.delete(&format!("/Groups/{child}")).await.status,
        StatusCode::NO_CONTENT
    );
    let r = with_headers(
        &app,
        Method::GET,
        &format!("/Groups/{parent}"),
        None,
        &[("If-None-Match", &p2)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["members"], json!([]));
}

#[tokio::test]
async fn a_users_version_changes_with_its_groups() {
    let app = TestApp::builder().spawn().await;
    let a = app.create_user("a@x.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.create_user("b@x.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (a0, _) = user_version(&app, &a).await;

    // Created with a as a member.
    let g = create_group_with(&app, "Eng", std::slice::from_ref(&a)).await;
    let gpath = format!("/Groups/{g}");
    let (a1, body) = user_version(&app, &a).await;
    assert_ne!(a0, a1);
    assert_eq!(body["groups"][0]["display"], "Eng");
    let r = with_headers(
        &app,
        Method::GET,
        &format!("/Users/{a}"),
        None,
        &[("If-None-Match", &a0)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);

    // b added: b changes, a does not.
    let (b0, _) = user_version(&app, &b).await;
    let add = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": b}]}]});
    assert_eq!(
        app.patch(&gpath, add.clone()).await.status,
        StatusCode::NO_CONTENT
    );
    let (b1, _) = user_version(&app, &b).await;
    assert_ne!(b0, b1);
    assert_eq!(user_version(&app, &a).await.0, a1);
    // Adding a member again changes nobody.
    assert_eq!(app.patch(&gpath, add).await.status, StatusCode::NO_CONTENT);
    assert_eq!(user_version(&app, &b).await.0, b1);

    // Replacing the members with the same list changes no user (Okta's group push).
    let same = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "members", "value": [{"value": a}, {"value": b}]}]});
    assert_eq!(app.patch(&gpath, same).await.status, StatusCode::NO_CONTENT);
    assert_eq!(user_version(&app, &a).await.0, a1);
    assert_eq!(user_version(&app, &b).await.0, b1);

    // Renamed: every member's groups attribute shows the new name.
    let rename = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "Engineering"}]});
    assert_eq!(
        app.patch(&gpath, rename).await.status,
        StatusCode::NO_CONTENT
    );
    let (a2, body) = user_version(&app, &a).await;
    assert_ne!(a1, a2);
    assert_eq!(body["groups"][0]["display"], "Engineering");
    let (b2, _) = user_version(&app, &b).await;
    assert_ne!(b1, b2);

    // b removed: b changes, a does not.
    let remove = json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": format!("members[value eq \"{b}\"]")}]});
    assert_eq!(
        app.patch(&gpath, remove).await.status,
        StatusCode::NO_CONTENT
    );
    let (b3, body) = user_version(&app, &b).await;
    assert_ne!(b2, b3);
    assert!(body.get("groups").is_none(), "{body}");
    assert_eq!(user_version(&app, &a).await.0, a2);

    // A PUT that drops a.
    let r = app
        .put(&gpath, json!({"schemas": [CORE_GROUP], "displayName": "Engineering", "members": [{"value": b}]}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let (a3, _) = user_version(&app, &a).await;
    let (b4, _) = user_version(&app, &b).await;
    assert_ne!(a2, a3);
    assert_ne!(b3, b4);

    // Deleted: its members lose it.
    assert_eq!(app.delete(&gpath).await.status, StatusCode::NO_CONTENT);
    let (b5, body) = user_version(&app, &b).await;
    assert_ne!(b4, b5);
    assert!(body.get("groups").is_none(), "{body}");
    assert_eq!(user_version(&app, &a).await.0, a3);

    // Many members at once: created with both, then deleted with both.
    let both = create_group_with(&app, "Both", &[a.clone(), b.clone()]).await;
    let (a4, _) = user_version(&app, &a).await;
    let (b6, _) = user_version(&app, &b).await;
    assert_ne!(a3, a4);
    assert_ne!(b5, b6);
    assert_eq!(
        app.delete(&format!("/Groups/{both}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_ne!(user_version(&app, &a).await.0, a4);
    assert_ne!(user_version(&app, &b).await.0, b6);
}

#[tokio::test]
async fn a_pending_users_version_follows_its_queue_position() {
    let app = TestApp::builder().seats(1, 0).spawn().await;
    let first = app.create_user("first@x.com").await;
    assert_eq!(
        first["meta"]["version"], "W/\"1\"",
        "an active user's version is its counter"
    );
    let b = app.create_user("b@x.com").await;
    assert_eq!(
        b["meta"]["version"], "W/\"1.1\"",
        "version 1 at queue position 1"
    );
    let r = app.post("/Users", user("c@x.com")).await;
    assert_eq!(etag(&r), "W/\"1.2\"");
    assert_eq!(r.body["meta"]["version"], "W/\"1.2\"");
    let c = r.body["id"].as_str().unwrap().to_string();
    let cpath = format!("/Users/{c}");
    let r = with_headers(
        &app,
        Method::GET,
        &cpath,
        None,
        &[("If-None-Match", "W/\"1.2\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(etag(&r), "W/\"1.2\"");
    let listed = app.get("/Users?filter=userName%20eq%20%22c@x.com%22").await;
    assert_eq!(listed.body["Resources"][0]["meta"]["version"], "W/\"1.2\"");

    // b leaves the queue: c moves up, and its version with it.
    let bpath = format!("/Users/{}", b["id"].as_str().unwrap());
    let r = with_headers(
        &app,
        Method::DELETE,
        &bpath,
        None,
        &[("If-Match", "W/\"1\"")],
    )
    .await;
    assert_scim_error(&r, 412, None);
    let r = with_headers(
        &app,
        Method::DELETE,
        &bpath,
        None,
        &[("If-Match", "W/\"1.1\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = with_headers(
        &app,
        Method::GET,
        &cpath,
        None,
        &[("If-None-Match", "W/\"1.2\"")],
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the queue position changed: no 304"
    );
    assert_eq!(seat(&r.body)["queuePosition"], 1);
    assert_eq!(etag(&r), "W/\"1.1\"");
    assert_eq!(r.body["meta"]["version"], "W/\"1.1\"");

    // Writes compare with the same composite version.
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "t"}]});
    let r = with_headers(
        &app,
        Method::PATCH,
        &cpath,
        Some(patch.clone()),
        &[("If-Match", "W/\"1.2\"")],
    )
    .await;
    assert_scim_error(&r, 412, None);
    let r = with_headers(
        &app,
        Method::PATCH,
        &cpath,
        Some(patch),
        &[("If-Match", "W/\"1.1\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(etag(&r), "W/\"2.1\"");

    // Activated when the seat frees up: the counter moves and the position goes.
    let fpath = format!("/Users/{}", first["id"].as_str().unwrap());
    assert_eq!(app.delete(&fpath).await.status, StatusCode::NO_CONTENT);
    let (v, body) = user_version(&app, &c).await;
    assert_eq!(seat(&body)["status"], "active");
    assert_eq!(v, "W/\"3\"");
    app.assert_seat_invariants();
}

#[tokio::test]
async fn bulk_results_give_a_pending_users_version_as_get_does() {
    let app = TestApp::builder().seats(1, 0).spawn().await;
    let r = app
        .post(
            "/Bulk",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": user("a@x.com")},
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": user("b@x.com")}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(ops[0]["version"], "W/\"1\"");
    assert_eq!(
        ops[1]["version"], "W/\"1.1\"",
        "pending, first in the queue"
    );
    let location = ops[1]["location"].as_str().unwrap();
    let id = location.rsplit('/').next().unwrap();
    assert_eq!(user_version(&app, id).await.0, "W/\"1.1\"");
}
