use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn service_provider_config_describes_the_server() {
    let app = spawn_app().await;
    let r = app.get("/ServiceProviderConfig").await;
    assert_eq!(r.status, StatusCode::OK);
    let b = &r.body;
    assert_eq!(
        b["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    );
    for key in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
        assert!(b[key]["supported"].is_boolean(), "{key}.supported");
    }
    assert_eq!(b["filter"]["maxResults"], app.settings.scim.max_results);
    assert_eq!(b["etag"]["supported"], true);
    assert_eq!(b["authenticationSchemes"][0]["type"], "oauthbearertoken");
}

#[tokio::test]
async fn advertised_max_results_is_enforced() {
    let app = spawn_app_with(
        Seats {
            standard: 5,
            premium: 0,
        },
        |s| s.scim.max_results = 2,
    )
    .await;
    assert_eq!(
        app.get("/ServiceProviderConfig").await.body["filter"]["maxResults"],
        2
    );
    for n in ["a", "b", "c"] {
        app.create_user(&format!("{n}@x.com")).await;
    }
    let r = app.get("/Users?count=100000").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["totalResults"], 3);
    assert_eq!(r.body["itemsPerPage"], 2, "a page never exceeds maxResults");
    assert_eq!(r.body["Resources"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn resource_types_list_users_and_groups_with_extensions() {
    let app = spawn_app().await;
    let r = app.get("/ResourceTypes").await;
    assert_eq!(r.body["totalResults"], 2);
    let user = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "User")
        .expect("User type")
        .clone();
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], CORE_USER);
    let exts: Vec<&str> = user["schemaExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["schema"].as_str().unwrap())
        .collect();
    assert!(exts.contains(&ENTERPRISE) && exts.contains(&SEAT));
    let g = app.get("/ResourceTypes/Group").await;
    assert_eq!(g.body["schema"], CORE_GROUP);
    assert_scim_error(&app.get("/ResourceTypes/Nope").await, 404, None);
}

fn attr<'a>(schema: &'a Value, name: &str) -> &'a Value {
    schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("attribute {name}"))
}

#[tokio::test]
async fn schemas_are_valid_rfc7643_documents() {
    let app = spawn_app().await;
    let r = app.get("/Schemas").await;
    let all = r.body["Resources"].as_array().unwrap();
    let ids: Vec<&str> = all.iter().map(|s| s["id"].as_str().unwrap()).collect();
    for want in [CORE_USER, ENTERPRISE, SEAT, CORE_GROUP] {
        assert!(ids.contains(&want), "{want} listed");
    }
    // Every attribute carries the RFC 7643 §7 characteristics.
    fn check(a: &Value) {
        for key in [
            "name",
            "type",
            "multiValued",
            "required",
            "mutability",
            "returned",
        ] {
            assert!(a.get(key).is_some(), "{key} on {}", a["name"]);
        }
        if let Some(subs) = a.get("subAttributes") {
            subs.as_array().unwrap().iter().for_each(check);
        }
    }
    for s in all {
        assert_eq!(
            s["schemas"][0],
            "urn:ietf:params:scim:schemas:core:2.0:Schema"
        );
        s["attributes"].as_array().unwrap().iter().for_each(check);
    }
    let user = app.get(&format!("/Schemas/{CORE_USER}")).await.body;
    assert_eq!(attr(&user, "userName")["uniqueness"], "server");
    assert_eq!(attr(&user, "userName")["caseExact"], false);
    assert_eq!(attr(&user, "password")["returned"], "never");
    assert_eq!(attr(&user, "groups")["mutability"], "readOnly");
    let seat = app.get(&format!("/Schemas/{SEAT}")).await.body;
    assert_eq!(attr(&seat, "status")["mutability"], "readOnly");
    assert_scim_error(&app.get("/Schemas/urn:nope").await, 404, None);
}

#[tokio::test]
async fn unsupported_methods_are_405_scim_errors() {
    let app = spawn_app().await;
    for (m, path) in [
        (reqwest::Method::POST, "/ServiceProviderConfig"),
        (reqwest::Method::DELETE, "/Schemas"),
        (reqwest::Method::PUT, "/ResourceTypes"),
        (reqwest::Method::DELETE, "/Users"),
        (reqwest::Method::POST, "/Users/abc"),
        (reqwest::Method::GET, "/Bulk"),
    ] {
        let r = app.scim(m.clone(), path, None).await;
        assert_scim_error(&r, 405, None);
    }
}
