use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn create_get_replace_delete_user() {
    let app = TestApp::builder().spawn().await;
    let r = app
        .post(
            "/Users",
            json!({
                "schemas": [CORE_USER, ENTERPRISE],
                "userName": "alice@acme.example.com",
                "externalId": "okta-00u1",
                "name": {"givenName": "Alice", "familyName": "Liddell"},
                "emails": [{"value": "alice@acme.example.com", "type": "work", "primary": true}],
                "active": true,
                ENTERPRISE: {"department": "R&D", "manager": {"value": "boss"}}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().expect("id").to_string();
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("{}/Users/{id}", app.base).as_str())
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/scim+json")
    );
    assert_eq!(r.header("etag").as_deref(), Some("W/\"1\""));
    assert_eq!(r.body["meta"]["resourceType"], "User");
    assert_eq!(r.body["meta"]["version"], "W/\"1\"");
    assert_eq!(
        r.body["meta"]["location"],
        format!("{}/Users/{id}", app.base)
    );
    assert!(r.body["meta"]["created"].as_str().is_some());
    assert_eq!(r.body["name"]["familyName"], "Liddell");
    assert_eq!(r.body[ENTERPRISE]["department"], "R&D");
    assert_eq!(r.body[SEAT]["status"], "active");
    assert_eq!(r.body[SEAT]["tier"], "standard");

    let g = app.get(&format!("/Users/{id}")).await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.body, r.body, "GET returns what POST returned");

    let p = app
        .put(
            &format!("/Users/{id}"),
            json!({"schemas": [CORE_USER], "userName": "alice@acme.example.com",
                   "displayName": "Alice L.", "active": true}),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!(p.body["displayName"], "Alice L.");
    assert!(
        p.body.get("name").is_none(),
        "PUT replaces the whole resource"
    );
    assert!(p.body.get(ENTERPRISE).is_none());
    assert_eq!(p.body["meta"]["version"], "W/\"2\"");
    assert_eq!(p.body["meta"]["created"], r.body["meta"]["created"]);

    let d = app.delete(&format!("/Users/{id}")).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    assert_eq!(d.body, serde_json::Value::Null);
    let g = app.get(&format!("/Users/{id}")).await;
    assert_scim_error(&g, 404, None);
    let d = app.delete(&format!("/Users/{id}")).await;
    assert_scim_error(&d, 404, None);
    app.assert_seat_invariants();
}

#[tokio::test]
async fn attribute_names_are_case_insensitive_and_booleans_coerced() {
    let app = TestApp::builder().spawn().await;
    let r = app
        .post(
            "/Users",
            json!({"SCHEMAS": [CORE_USER], "USERNAME": "bob@x.com", "Active": "True",
                   "NAME": {"givenname": "Bob"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["userName"], "bob@x.com");
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["name"]["givenName"], "Bob");
}

#[tokio::test]
async fn read_only_and_unknown_attributes_are_ignored_on_write() {
    let app = TestApp::builder().spawn().await;
    let r = app
        .post(
            "/Users",
            json!({"schemas": [CORE_USER], "userName": "ro@x.com", "id": "mine",
                   "meta": {"version": "W/\"99\""}, "groups": [{"value": "g"}],
                   "password": "hunter2", "favouriteColour": "blue",
                   SEAT: {"status": "active", "tier": "premium"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_ne!(r.body["id"], "mine");
    assert_eq!(r.body["meta"]["version"], "W/\"1\"");
    assert!(r.body.get("groups").is_none());
    assert!(
        r.body.get("password").is_none(),
        "password is never returned"
    );
    assert!(r.body.get("favouriteColour").is_none());
    assert_eq!(
        r.body[SEAT]["tier"], "standard",
        "seat state is the server's"
    );
}

#[tokio::test]
async fn duplicate_user_name_in_any_case_is_409() {
    let app = TestApp::builder().spawn().await;
    app.create_user("Carol@X.com").await;
    let pools_before = app.pools();
    let r = app.post("/Users", user("carol@x.COM")).await;
    assert_scim_error(&r, 409, Some("uniqueness"));
    // The unique index rejects the row after the seat was claimed: the claim must roll back.
    assert_eq!(app.pools(), pools_before, "the failed create took no seat");
    assert_eq!(app.count_status("active"), 1);
    app.assert_seat_invariants();
    let other = app.create_user("dave@x.com").await;
    let id = other["id"].as_str().unwrap();
    let r = app.put(&format!("/Users/{id}"), user("CAROL@x.com")).await;
    assert_scim_error(&r, 409, Some("uniqueness"));
    let list = app.get("/Users").await;
    assert_eq!(
        list.body["totalResults"], 2,
        "nothing was created or changed"
    );
}

#[tokio::test]
async fn malformed_bodies_get_scim_errors_and_change_nothing() {
    let app = TestApp::builder().spawn().await;
    let send_raw = |body: &'static str| {
        app.client
            .post(format!("{}/Users", app.base))
            .bearer_auth(&app.token)
            .header("content-type", "application/scim+json")
            .body(body)
            .send()
    };
    let r = send_raw("{not json").await.unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["scimType"], "invalidSyntax");
    assert_eq!(body["status"], "400");

    let r = app.post("/Users", json!({"userName": "noschemas"})).await;
    assert_scim_error(&r, 400, Some("invalidSyntax"));
    let r = app.post("/Users", json!({"schemas": [CORE_USER]})).await;
    assert_scim_error(&r, 400, Some("invalidValue"));
    let r = app
        .post("/Users", json!({"schemas": [CORE_USER], "userName": ["a"]}))
        .await;
    assert_scim_error(&r, 400, Some("invalidValue"));
    let r = app
        .post(
            "/Users",
            json!({"schemas": [CORE_USER], "userName": "x", "active": 3}),
        )
        .await;
    assert_scim_error(&r, 400, Some("invalidValue"));
    let r = app.post("/Users", json!([1, 2])).await;
    assert_scim_error(&r, 400, Some("invalidSyntax"));
    let r = app.get("/Users").await;
    assert_eq!(r.body["totalResults"], 0);
}

#[tokio::test]
async fn plain_application_json_is_accepted() {
    let app = TestApp::builder().spawn().await;
    let r = app
        .client
        .post(format!("{}/Users", app.base))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(user("json@x.com").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn list_pages_and_filters_by_eq() {
    let app = TestApp::builder().spawn().await;
    for i in 0..7 {
        let r = app
            .post(
                "/Users",
                json!({"schemas": [CORE_USER], "userName": format!("u{i}@x.com"),
                       "externalId": format!("ext-{i}"), "displayName": format!("User {i}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let r = app.get("/Users?startIndex=3&count=2").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(r.body["totalResults"], 7);
    assert_eq!(r.body["startIndex"], 3);
    assert_eq!(r.body["itemsPerPage"], 2);
    assert_eq!(r.body["Resources"][0]["userName"], "u2@x.com");
    assert_eq!(r.body["Resources"][1]["userName"], "u3@x.com");

    let r = app.get("/Users?startIndex=0&count=0").await;
    assert_eq!(r.body["totalResults"], 7);
    assert_eq!(r.body["Resources"], json!([]));
    assert_eq!(r.body["startIndex"], 1);

    let r = app.get("/Users?startIndex=50").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["totalResults"], 7);
    assert_eq!(r.body["Resources"], json!([]));

    let r = app
        .get("/Users?filter=userName%20eq%20%22U4@X.COM%22")
        .await;
    assert_eq!(r.body["totalResults"], 1, "userName is case-insensitive");
    assert_eq!(r.body["Resources"][0]["externalId"], "ext-4");
    let id = r.body["Resources"][0]["id"].as_str().unwrap().to_string();

    let r = app.get("/Users?filter=externalId%20eq%20%22ext-5%22").await;
    assert_eq!(r.body["Resources"][0]["userName"], "u5@x.com");
    let r = app.get("/Users?filter=externalId%20eq%20%22EXT-5%22").await;
    assert_eq!(r.body["totalResults"], 0, "externalId is caseExact");
    let r = app
        .get("/Users?filter=displayName%20eq%20%22User%206%22")
        .await;
    assert_eq!(r.body["Resources"][0]["userName"], "u6@x.com");
    let r = app
        .get(&format!("/Users?filter=id%20eq%20%22{id}%22"))
        .await;
    assert_eq!(r.body["totalResults"], 1);

    let r = app.get("/Users?filter=userName%20eq%20%22nobody%22").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "no match is an empty list, never 404"
    );
    assert_eq!(r.body["totalResults"], 0);
    assert_eq!(r.body["Resources"], json!([]));

    let r = app.get("/Users?filter=userName%20eq").await;
    assert_scim_error(&r, 400, Some("invalidFilter"));
}

/// Concurrent writes share transactions (group commit on SQLite); a write that fails must roll
/// back alone. 40 concurrent creates of 20 names, each sent twice: exactly one of each pair wins.
#[tokio::test]
async fn concurrent_duplicates_fail_alone() {
    let app = TestApp::builder().seats(10, 0).spawn().await;
    let sends = (0..40).map(|i| {
        let app = &app;
        async move {
            app.post("/Users", user(&format!("dup{}@x.com", i % 20)))
                .await
                .status
                .as_u16()
        }
    });
    let mut statuses = futures_util::future::join_all(sends).await;
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(app.get("/Users").await.body["totalResults"], 20);
    assert_eq!(app.count_status("active"), 10);
    assert_eq!(app.count_status("pending"), 10);
    app.assert_seat_invariants();
}
