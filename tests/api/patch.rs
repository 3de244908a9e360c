//! PATCH through the real server, in the shapes Okta and Entra send.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

fn op(ops: serde_json::Value) -> serde_json::Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

#[tokio::test]
async fn user_patch_paths_filters_and_idp_habits() {
    let app = TestApp::builder().spawn().await;
    let r = app
        .post(
            "/Users",
            json!({"schemas": [CORE_USER], "userName": "p@x.com",
            "emails": [{"value": "p@x.com", "type": "work", "primary": true}]}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/Users/{id}");

    // Entra legacy: capitalised ops, value filter paths, Add creating an entry, manager as string.
    let r = app
        .patch(&path, op(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "p.new@x.com"},
            {"op": "Add", "path": "emails[type eq \"home\"].value", "value": "p@home.org"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Ops"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "boss-1"},
            {"op": "Replace", "path": "name.givenName", "value": "Pat"}
        ])))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let emails = r.body["emails"].as_array().unwrap();
    assert!(emails
        .iter()
        .any(|e| e["type"] == "work" && e["value"] == "p.new@x.com"));
    assert!(emails
        .iter()
        .any(|e| e["type"] == "home" && e["value"] == "p@home.org"));
    assert_eq!(r.body[ENTERPRISE]["department"], "Ops");
    assert_eq!(r.body[ENTERPRISE]["manager"], json!({"value": "boss-1"}));
    assert_eq!(r.body["name"]["givenName"], "Pat");
    assert!(r.body["schemas"]
        .as_array()
        .unwrap()
        .contains(&json!(ENTERPRISE)));
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");
    // The email rows moved with the resource: the new work address is searchable.
    let found = app
        .get("/Users?filter=emails.value%20eq%20%22p.new@x.com%22")
        .await;
    assert_eq!(found.body["totalResults"], 1);

    // aadOptscim062020: path-less replace with dotted and URN keys.
    let r = app
        .patch(
            &path,
            op(json!([{"op": "replace", "value": {
            "name.familyName": "Jones",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42",
            "displayName": "Pat Jones"}}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["name"],
        json!({"givenName": "Pat", "familyName": "Jones"})
    );
    assert_eq!(r.body[ENTERPRISE]["employeeNumber"], "42");

    // Remove by value filter, then remove a whole attribute.
    let r = app
        .patch(
            &path,
            op(json!([{"op": "remove", "path": "emails[type eq \"home\"]"},
                                 {"op": "remove", "path": "displayName"}])),
        )
        .await;
    assert_eq!(r.body["emails"].as_array().unwrap().len(), 1);
    assert!(r.body.get("displayName").is_none());

    // Errors: readOnly, required, no target, bad op, bad body — and nothing changes.
    let before = app.get(&path).await.body;
    let cases = [
        (
            op(json!([{"op": "replace", "path": "id", "value": "x"}])),
            "mutability",
        ),
        (
            op(json!([{"op": "remove", "path": "userName"}])),
            "invalidValue",
        ),
        (op(json!([{"op": "remove"}])), "noTarget"),
        (
            op(json!([{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}])),
            "noTarget",
        ),
        (
            op(json!([{"op": "frobnicate", "path": "title", "value": "x"}])),
            "invalidSyntax",
        ),
        (
            op(json!([{"op": "replace", "path": "title[", "value": "x"}])),
            "invalidPath",
        ),
        (
            json!({"Operations": [{"op": "replace", "path": "title", "value": "x"}]}),
            "invalidSyntax",
        ),
    ];
    for (body, kind) in cases {
        let r = app.patch(&path, body.clone()).await;
        assert_eq!(r.status.as_u16(), 400, "{body}: {}", r.body);
        assert_eq!(r.body["scimType"], kind, "{body}: {}", r.body);
    }
    // A failing op later in the request undoes the earlier ones.
    let r = app
        .patch(
            &path,
            op(
                json!([{"op": "replace", "path": "title", "value": "changed"},
                                 {"op": "replace", "path": "meta.created", "value": "x"}]),
            ),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400);
    assert_eq!(
        app.get(&path).await.body,
        before,
        "failed PATCH changed nothing"
    );
}

#[tokio::test]
async fn deactivation_shapes_release_the_seat() {
    let app = TestApp::builder().seats(1, 0).spawn().await;
    let a = app.create_user("a@x.com").await;
    let b = app.create_user("b@x.com").await;
    assert_eq!(seat(&b)["status"], "pending");
    let (aid, bid) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    // Okta: path-less replace with active false.
    let r = app
        .patch(
            &format!("/Users/{aid}"),
            op(json!([{"op": "replace", "value": {"active": false}}])),
        )
        .await;
    assert_eq!(r.body["active"], false);
    assert_eq!(seat(&r.body)["status"], "inactive");
    let b = app.get(&format!("/Users/{bid}")).await.body;
    assert_eq!(
        seat(&b)["status"],
        "active",
        "the freed seat went to the queue head"
    );
    assert_eq!(b["active"], true);
    // Entra: "True" as a string reactivates; no seat is free, so a queues.
    let r = app
        .patch(
            &format!("/Users/{aid}"),
            op(json!([{"op": "Replace", "path": "active", "value": "True"}])),
        )
        .await;
    assert_eq!(r.body["active"], true, "active is stored as sent");
    assert_eq!(seat(&r.body)["status"], "pending");
    assert_eq!(seat(&r.body)["queuePosition"], 1);
    app.assert_seat_invariants();
}

#[tokio::test]
async fn group_member_patches_are_row_operations() {
    let app = TestApp::builder().spawn().await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(
            app.create_user(&format!("m{i}@x.com")).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let g = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": "G"}),
        )
        .await;
    let gid = g.body["id"].as_str().unwrap().to_string();
    let path = format!("/Groups/{gid}");
    let sorted = |v: &[&String]| {
        let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    // Entra: Add with several values (and "$ref": null).
    let r = app
        .patch(&path, op(json!([{"op": "Add", "path": "members", "value": [
            {"$ref": null, "value": ids[0]}, {"$ref": null, "value": ids[1]}, {"value": ids[2]}]}])))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(r.header("etag").as_deref(), Some("W/\"2\""));
    assert_eq!(
        members(&app, &path).await,
        sorted(&[&ids[0], &ids[1], &ids[2]])
    );
    // Adding an existing member is a no-op.
    let r = app
        .patch(
            &path,
            op(json!([{"op": "add", "path": "members", "value": [{"value": ids[0]}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // Entra legacy removal: path members + value list removes only those.
    app.patch(
        &path,
        op(json!([{"op": "Remove", "path": "members", "value": [{"value": ids[1]}]}])),
    )
    .await;
    assert_eq!(members(&app, &path).await, sorted(&[&ids[0], &ids[2]]));
    // Filtered removal, including a member that is not there (not an error).
    let r = app
        .patch(&path, op(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[0])},
                                 {"op": "remove", "path": format!("members[value eq \"{}\"]", ids[3])}])))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(members(&app, &path).await, sorted(&[&ids[2]]));
    // Okta Group Push: replace the whole list, with a rename carrying the unchanged id.
    let r = app
        .patch(&path, op(json!([
            {"op": "replace", "value": {"id": gid, "displayName": "G2"}},
            {"op": "replace", "path": "members", "value": [{"value": ids[3]}, {"value": ids[1]}]}])))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(members(&app, &path).await, sorted(&[&ids[1], &ids[3]]));
    assert_eq!(app.get(&path).await.body["displayName"], "G2");
    // Asking for attributes gets a 200 with the projected group.
    let r = app
        .patch(
            &format!("{path}?attributes=displayName"),
            op(json!([{"op": "replace", "path": "displayName", "value": "G3"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["displayName"], "G3");
    assert!(r.body.get("members").is_none());
    // Remove all.
    app.patch(&path, op(json!([{"op": "remove", "path": "members"}])))
        .await;
    assert_eq!(members(&app, &path).await, Vec::<String>::new());
    // Unknown member ids are refused and change nothing.
    let r = app
        .patch(
            &path,
            op(json!([{"op": "add", "path": "members", "value": [{"value": "ghost"}]}])),
        )
        .await;
    assert_scim_error(&r, 400, Some("invalidValue"));
}

async fn members(app: &TestApp, path: &str) -> Vec<String> {
    let mut v: Vec<String> = app.get(path).await.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// Re-adding an address already listed, in another case, adds no second email (and the
/// email rows that filters search stay one per address); editing a member in place is a
/// mutability error that changes nothing.
#[tokio::test]
async fn re_adding_an_email_in_another_case_and_editing_a_member_in_place() {
    let app = TestApp::builder().spawn().await;
    let r = app
        .post(
            "/Users",
            json!({"schemas": [CORE_USER], "userName": "dup@x.com",
            "emails": [{"value": "dup@x.com", "type": "work"}]}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .patch(
            &format!("/Users/{id}"),
            op(json!([{"op": "add", "path": "emails",
                "value": [{"value": "DUP@X.com", "type": "Work", "primary": true}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["emails"],
        json!([{"value": "dup@x.com", "type": "work", "primary": true}])
    );
    let found = app
        .get("/Users?filter=emails.value%20eq%20%22dup@x.com%22")
        .await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);

    let group = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": "G", "members": [{"value": id}]}),
        )
        .await;
    let gid = group.body["id"].as_str().unwrap().to_string();
    let r = app
        .patch(
            &format!("/Groups/{gid}"),
            op(
                json!([{"op": "replace", "path": format!("members[value eq \"{id}\"].value"),
                "value": "someone-else"}]),
            ),
        )
        .await;
    assert_scim_error(&r, 400, Some("mutability"));
    let after = app.get(&format!("/Groups/{gid}")).await;
    assert_eq!(after.body["members"][0]["value"], json!(id));
    assert_eq!(after.body["meta"]["version"], group.body["meta"]["version"]);
}
