//! `/Bulk`: bulkId references, failOnErrors, advertised limits enforced.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

#[tokio::test]
async fn bulk_creates_users_and_a_group_referring_to_them() {
    let app = spawn_app_with(
        Seats {
            standard: 1,
            premium: 0,
        },
        |_| {},
    )
    .await;
    let r = app
        .post("/Bulk", json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "u1", "data": user("b1@x.com")},
            {"method": "POST", "path": "/Users", "bulkId": "u2", "data": user("b2@x.com")},
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": [CORE_GROUP],
                "displayName": "Bulk", "members": [{"value": "bulkId:u1"}, {"value": "bulkId:u2"}]}},
            {"method": "PATCH", "path": "/Users/bulkId:u1", "data": {"schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "title", "value": "lead"}]}},
            {"method": "DELETE", "path": "/Users/bulkId:u2"}
        ]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"])
    );
    let ops = r.body["Operations"].as_array().unwrap();
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "201", "201", "200", "204"]);
    assert_eq!(ops[0]["bulkId"], "u1");
    assert!(ops[0]["location"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/Users/", app.base)));
    assert_eq!(ops[0]["version"], "W/\"1\"");
    let group = app
        .get(&ops[2]["location"].as_str().unwrap().replace(&app.base, ""))
        .await;
    let members = group.body["members"].as_array().unwrap();
    assert_eq!(
        members.len(),
        1,
        "u2 was deleted afterwards: {}",
        group.body
    );
    let u1 = app
        .get(&ops[0]["location"].as_str().unwrap().replace(&app.base, ""))
        .await;
    assert_eq!(u1.body["title"], "lead");
    assert_eq!(seat(&u1.body)["status"], "active");
    app.assert_seat_invariants();
}

#[tokio::test]
async fn fail_on_errors_stops_and_errors_are_reported_per_operation() {
    let app = spawn_app().await;
    app.create_user("dup@x.com").await;
    let r = app
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "failOnErrors": 1, "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": user("DUP@x.com")},
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": user("fresh@x.com")}
            ]}),
        )
        .await;
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "stopped after the first error");
    assert_eq!(ops[0]["status"], "409");
    assert_eq!(ops[0]["response"]["scimType"], "uniqueness");
    let r = app
        .post("/Bulk", json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": [CORE_GROUP],
                "displayName": "X", "members": [{"value": "bulkId:later"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "later", "data": user("later@x.com")}
        ]}))
        .await;
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(ops[0]["status"], "400");
    assert_eq!(ops[0]["response"]["scimType"], "invalidValue");
    assert_eq!(ops[1]["status"], "201");
    // Each operation is all-or-nothing on its own: the failed one undid only itself.
    let later = app
        .get("/Users?filter=userName%20eq%20%22later@x.com%22")
        .await;
    assert_eq!(later.body["totalResults"], 1);
    assert_eq!(app.get("/Groups").await.body["totalResults"], 0);
    assert_eq!(
        app.get("/Users?filter=userName%20eq%20%22fresh@x.com%22")
            .await
            .body["totalResults"],
        0
    );
}

#[tokio::test]
async fn bulk_limits_are_advertised_and_enforced() {
    let app = spawn_app_with(
        Seats {
            standard: 10,
            premium: 0,
        },
        |s| {
            s.scim.bulk_max_operations = 3;
            s.scim.bulk_max_payload_bytes = 4096;
        },
    )
    .await;
    let spc = app.get("/ServiceProviderConfig").await.body;
    assert_eq!(
        spc["bulk"],
        json!({"supported": true, "maxOperations": 3, "maxPayloadSize": 4096})
    );
    let four: Vec<_> = (0..4)
        .map(|i| json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"), "data": user(&format!("l{i}@x.com"))}))
        .collect();
    let r = app
        .post("/Bulk", json!({"schemas": [BULK], "Operations": four}))
        .await;
    assert_scim_error(&r, 413, None);
    let big = json!({"schemas": [BULK], "Operations": [{"method": "POST", "path": "/Users", "bulkId": "x",
        "data": {"schemas": [CORE_USER], "userName": "big@x.com", "title": "y".repeat(5000)}}]});
    assert_scim_error(&app.post("/Bulk", big).await, 413, None);
    let r = app.post("/Bulk", json!({"Operations": []})).await;
    assert_scim_error(&r, 400, Some("invalidSyntax"));
    assert_eq!(
        app.get("/Users").await.body["totalResults"],
        0,
        "nothing ran"
    );
}

/// How a long load becomes visible. On PostgreSQL each operation commits on its own, so other
/// clients see the users arrive one by one and the organization's lock (which every seat
/// change takes) is free between operations. On SQLite the writer runs the whole request as
/// one transaction (one commit for the load): its users appear all at once.
#[tokio::test]
async fn a_bulk_load_commits_per_operation_on_postgresql_and_at_once_on_sqlite() {
    const USERS: usize = 300;
    let app = spawn_app_with(
        Seats {
            standard: USERS as i64 - 20,
            premium: 0,
        },
        |_| {},
    )
    .await;
    let ops: Vec<_> = (0..USERS)
        .map(|i| json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"), "data": user(&format!("load{i}@x.com"))}))
        .collect();
    let request = app
        .client
        .post(format!("{}/Bulk", app.base))
        .bearer_auth(&app.token)
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": [BULK], "Operations": ops}).to_string());
    let load = tokio::spawn(async move { into_resp(request.send().await.expect("bulk")).await });

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let first_seen = loop {
        let seen = app
            .get("/Users?filter=userName%20sw%20%22load%22&count=0")
            .await
            .body["totalResults"]
            .as_u64()
            .unwrap();
        if seen > 0 {
            break seen as usize;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no user of the load appeared"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    };
    let r = load.await.expect("bulk task");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ops = r.body["Operations"].as_array().unwrap();
    assert!(ops.iter().all(|o| o["status"] == "201"), "{}", r.body);
    if app.test_db.is_pg() {
        assert!(
            first_seen < USERS,
            "the load's users appeared all at once ({first_seen}): one transaction"
        );
    } else {
        assert_eq!(first_seen, USERS, "the load is one transaction on SQLite");
    }
    // Committed one by one or all at once, the seats add up: the first 280 took the seats,
    // the last 20 wait in order.
    assert_eq!(app.count_status("active"), USERS as i64 - 20);
    assert_eq!(app.count_status("pending"), 20);
    app.assert_seat_invariants();
}
