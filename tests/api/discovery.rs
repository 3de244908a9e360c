use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn service_provider_config_describes_the_server() {
    let app = TestApp::builder().spawn().await;
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
    let app = TestApp::builder()
        .seats(5, 0)
        .settings(|s| s.scim.max_results = 2)
        .spawn()
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
    let app = TestApp::builder().spawn().await;
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
    let app = TestApp::builder().spawn().await;
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
    let app = TestApp::builder().spawn().await;
    for (m, path, allow) in [
        (reqwest::Method::POST, "/ServiceProviderConfig", "GET, HEAD"),
        (reqwest::Method::PUT, "/ServiceProviderConfig", "GET, HEAD"),
        (reqwest::Method::DELETE, "/Schemas", "GET, HEAD"),
        (reqwest::Method::PUT, "/ResourceTypes", "GET, HEAD"),
        (reqwest::Method::DELETE, "/Users", "GET, HEAD, POST"),
        (
            reqwest::Method::POST,
            "/Users/abc",
            "GET, HEAD, PUT, PATCH, DELETE",
        ),
        (reqwest::Method::GET, "/Bulk", "POST"),
        (reqwest::Method::GET, "/.search", "POST"),
    ] {
        let r = app.scim(m.clone(), path, None).await;
        assert_scim_error(&r, 405, None);
        // RFC 9110 §15.5.6: a 405 names the methods the resource supports.
        assert_eq!(r.header("allow").as_deref(), Some(allow), "{m} {path}");
    }
}

#[tokio::test]
async fn a_filter_on_a_discovery_endpoint_is_403() {
    let app = TestApp::builder().spawn().await;
    for path in [
        "/ServiceProviderConfig",
        "/ResourceTypes",
        "/ResourceTypes/User",
        "/Schemas",
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
    ] {
        // RFC 7644 §4: a filter here SHOULD be refused with 403, so a client never takes the
        // whole answer for a filtered one.
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = app
            .get(&format!("{path}{sep}filter=id%20eq%20%22User%22"))
            .await;
        assert_scim_error(&r, 403, None);
        let r = app.get(&format!("{path}{sep}FILTER=x")).await;
        assert_scim_error(&r, 403, None);
        assert_eq!(app.get(path).await.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn head_answers_as_get_does_without_a_body() {
    let app = TestApp::builder().spawn().await;
    let u = app.create_user("h@x.com").await;
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let get = app.get(&path).await;
    let r = app.scim(reqwest::Method::HEAD, &path, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("etag").is_some());
    assert_eq!(r.header("etag"), get.header("etag"));
    assert_eq!(r.body, Value::Null, "HEAD has no body");
    for p in [
        "/Users",
        "/Groups",
        "/ServiceProviderConfig",
        "/Schemas",
        "/ResourceTypes",
        "/ResourceTypes/User",
    ] {
        let r = app.scim(reqwest::Method::HEAD, p, None).await;
        assert_eq!(r.status, StatusCode::OK, "HEAD {p}");
        assert_eq!(r.body, Value::Null, "HEAD {p}");
    }
    let r = app.scim(reqwest::Method::HEAD, "/Users/nope", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
