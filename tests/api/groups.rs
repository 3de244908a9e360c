use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn group_crud_with_members() {
    let app = TestApp::builder().spawn().await;
    let a = app.create_user("a@x.com").await;
    let b = app.create_user("b@x.com").await;
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let r = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": "Engineering", "externalId": "g-1",
                   "members": [{"value": a_id, "display": "ignored"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let gid = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["displayName"], "Engineering");
    assert_eq!(r.body["meta"]["resourceType"], "Group");
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["members"][0]["value"], a_id);
    assert_eq!(r.body["members"][0]["type"], "User");
    assert_eq!(
        r.body["members"][0]["$ref"],
        format!("{}/Users/{a_id}", app.base)
    );

    // The user shows the group it belongs to.
    let u = app.get(&format!("/Users/{a_id}")).await;
    assert_eq!(u.body["groups"][0]["value"], gid.as_str());
    assert_eq!(u.body["groups"][0]["display"], "Engineering");
    // A page of several users looks up all their groups at once.
    let page = app.get("/Users?sortBy=userName").await;
    let listed = page.body["Resources"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["id"], a_id);
    assert_eq!(listed[0]["groups"][0]["value"], gid.as_str());
    assert_eq!(listed[0]["groups"][0]["display"], "Engineering");
    assert!(listed[1].get("groups").is_none(), "{}", listed[1]);

    let r = app
        .put(
            &format!("/Groups/{gid}"),
            json!({"schemas": [CORE_GROUP], "displayName": "Eng", "members": [{"value": b_id}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["displayName"], "Eng");
    assert_eq!(
        r.body["members"],
        json!([{"value": b_id, "type": "User",
        "$ref": format!("{}/Users/{b_id}", app.base)}])
    );
    assert!(r.body.get("externalId").is_none());
    assert_eq!(r.body["meta"]["version"], "W/\"2\"");

    let l = app.get("/Groups?filter=displayName%20eq%20%22eng%22").await;
    assert_eq!(l.body["totalResults"], 1);
    let l = app.get("/Groups?excludedAttributes=members").await;
    assert_eq!(l.body["totalResults"], 1);
    assert!(l.body["Resources"][0].get("members").is_none());

    // Deleting a member user removes its membership.
    app.delete(&format!("/Users/{b_id}")).await;
    let g = app.get(&format!("/Groups/{gid}")).await;
    assert_eq!(g.body["members"], json!([]));

    assert_eq!(
        app.delete(&format!("/Groups/{gid}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_scim_error(&app.get(&format!("/Groups/{gid}")).await, 404, None);
}

#[tokio::test]
async fn unknown_members_and_missing_display_name_are_refused() {
    let app = TestApp::builder().spawn().await;
    let r = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": "X", "members": [{"value": "nope"}]}),
        )
        .await;
    assert_scim_error(&r, 400, Some("invalidValue"));
    let r = app.post("/Groups", json!({"schemas": [CORE_GROUP]})).await;
    assert_scim_error(&r, 400, Some("invalidValue"));
    assert_eq!(app.get("/Groups").await.body["totalResults"], 0);
}
