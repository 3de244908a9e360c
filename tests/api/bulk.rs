//! `/Bulk`: bulkId references, failOnErrors, advertised limits enforced.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

#[tokio::test]
async fn bulk_creates_users_and_a_group_referring_to_them() {
    let app = TestApp::builder().seats(1, 0).spawn().await;
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
    let app = TestApp::builder().spawn().await;
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
                "displayName": "X", "members": [{"value": "bulkId:nowhere"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "later", "data": user("later@x.com")}
        ]}))
        .await;
    let ops = r.body["Operations"].as_array().unwrap();
    assert_op_error(&ops[0], 409, None);
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
    let app = TestApp::builder()
        .seats(10, 0)
        .settings(|s| {
            s.scim.bulk_max_operations = 3;
            s.scim.bulk_max_payload_bytes = 4096;
        })
        .spawn()
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

/// How a long load becomes visible: on both backends the whole request is one transaction
/// (one commit for the load, each operation in a savepoint of its own), so other clients see
/// its users appear all at once, never a part of it. (PostgreSQL committed per operation
/// until group commit; the organization's counters row, which every step updates, is no
/// longer one that foreign keys reference, so a savepoint per step stays cheap there.)
#[tokio::test]
async fn a_bulk_load_commits_at_once() {
    const USERS: usize = 300;
    let app = TestApp::builder().seats(USERS as i64 - 20, 0).spawn().await;
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
    assert_eq!(first_seen, USERS, "the load is one transaction");
    // The seats add up: the first 280 took the seats, the last 20 wait in order.
    assert_eq!(app.count_status("active"), USERS as i64 - 20);
    assert_eq!(app.count_status("pending"), 20);
    app.assert_seat_invariants();
}

/// An operation's entry is a failure with a SCIM error as its `response`.
fn assert_op_error(op: &serde_json::Value, status: u16, scim_type: Option<&str>) {
    let status = status.to_string();
    assert_eq!(op["status"], json!(status), "{op}");
    let response = &op["response"];
    assert_eq!(
        response["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
        "{op}"
    );
    assert_eq!(response["status"], json!(status), "{op}");
    assert_eq!(
        response.get("scimType").and_then(|t| t.as_str()),
        scim_type,
        "{op}"
    );
    assert!(
        response["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{op}"
    );
}

fn statuses(r: &Resp) -> Vec<String> {
    r.body["Operations"]
        .as_array()
        .unwrap_or_else(|| panic!("no Operations: {}", r.body))
        .iter()
        .map(|o| o["status"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn path_of(app: &TestApp, op: &serde_json::Value) -> String {
    op["location"]
        .as_str()
        .unwrap_or_else(|| panic!("no location: {op}"))
        .replace(&app.base, "")
}

/// RFC 7644 §3.7.2: references resolve whatever the order of the operations. The group, the
/// PATCH and the manager reference come before the POSTs they name.
#[tokio::test]
async fn bulk_ids_resolve_whatever_the_order_of_the_operations() {
    let app = TestApp::builder().spawn().await;
    let mut worker = user("worker@x.com");
    worker[ENTERPRISE] = json!({"manager": {"value": "bulkId:boss"}});
    let r = app
        .post("/Bulk", json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": [CORE_GROUP],
                "displayName": "Early", "members": [{"value": "bulkId:w"}, {"value": "bulkId:boss"}]}},
            {"method": "PATCH", "path": "/Users/bulkId:w", "data": {"schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "title", "value": "patched"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "w", "data": worker},
            {"method": "POST", "path": "/Users", "bulkId": "boss", "data": user("boss@x.com")}
        ]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(statuses(&r), ["201", "200", "201", "201"], "{}", r.body);
    let bulk_ids: Vec<&str> = ops
        .iter()
        .map(|o| o["bulkId"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(bulk_ids, ["g", "", "w", "boss"], "the request's order");
    assert_eq!(ops[1]["location"], ops[2]["location"]);
    let id = |op: &serde_json::Value| path_of(&app, op).rsplit('/').next().unwrap().to_string();
    let (worker_id, boss_id) = (id(&ops[2]), id(&ops[3]));

    let group = app.get(&path_of(&app, &ops[0])).await.body;
    let mut members: Vec<&str> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    members.sort();
    let mut want = vec![worker_id.as_str(), boss_id.as_str()];
    want.sort();
    assert_eq!(members, want, "{group}");
    let worker = app.get(&path_of(&app, &ops[2])).await.body;
    assert_eq!(worker["title"], "patched");
    assert_eq!(worker[ENTERPRISE]["manager"]["value"], json!(boss_id));
}

/// References that can never resolve (a cycle, an unknown bulkId, a failed POST) fail their
/// operations with 409; the other operations still run.
#[tokio::test]
async fn unresolvable_references_fail_with_409_and_the_rest_runs() {
    let app = TestApp::builder().spawn().await;
    app.create_user("taken@x.com").await;
    let group = |name: &str, member: &str| json!({"schemas": [CORE_GROUP], "displayName": name, "members": [{"value": format!("bulkId:{member}")}]});
    let r = app
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "Operations": [
                {"method": "POST", "path": "/Groups", "bulkId": "a", "data": group("A", "b")},
                {"method": "POST", "path": "/Groups", "bulkId": "b", "data": group("B", "a")},
                {"method": "POST", "path": "/Groups", "bulkId": "c", "data": group("C", "nowhere")},
                {"method": "POST", "path": "/Users", "bulkId": "dup", "data": user("TAKEN@x.com")},
                {"method": "POST", "path": "/Groups", "bulkId": "d", "data": group("D", "dup")},
                {"method": "DELETE", "path": "/Users/bulkId:nowhere"},
                {"method": "POST", "path": "/Users", "bulkId": "ok", "data": user("ok@x.com")}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(
        statuses(&r),
        ["409", "409", "409", "409", "409", "409", "201"],
        "{}",
        r.body
    );
    for i in [0, 1, 2, 4, 5] {
        assert_op_error(&ops[i], 409, None);
        assert!(ops[i].get("location").is_none(), "no resource: {}", ops[i]);
    }
    assert_op_error(&ops[3], 409, Some("uniqueness"));
    assert_eq!(app.get("/Groups").await.body["totalResults"], 0);
    let ok = app
        .get("/Users?filter=userName%20eq%20%22ok@x.com%22")
        .await;
    assert_eq!(ok.body["totalResults"], 1);
}

/// `bulkId:` is a reference only where a resource id belongs: the same body through /Bulk and
/// through /Users stores the same text.
#[tokio::test]
async fn bulk_id_text_outside_references_stays_literal() {
    let app = TestApp::builder().spawn().await;
    let mut lit = user("lit@x.com");
    lit["displayName"] = json!("bulkId:lt");
    lit["title"] = json!("bulkId:literal text");
    let r = app
        .post("/Bulk", json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "lt", "data": user("lt@x.com")},
            {"method": "POST", "path": "/Users", "bulkId": "lit", "data": lit},
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": [CORE_GROUP],
                "displayName": "bulkId:lt", "members": [{"value": "bulkId:lt"}]}},
            {"method": "PATCH", "path": "/Users/bulkId:lit", "data": {"schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "nickName", "value": "bulkId:lt"}]}}
        ]}))
        .await;
    assert_eq!(statuses(&r), ["201", "201", "201", "200"], "{}", r.body);
    let ops = r.body["Operations"].as_array().unwrap();
    let lit = app.get(&path_of(&app, &ops[1])).await.body;
    assert_eq!(lit["displayName"], "bulkId:lt");
    assert_eq!(lit["title"], "bulkId:literal text");
    assert_eq!(lit["nickName"], "bulkId:lt");
    let group = app.get(&path_of(&app, &ops[2])).await.body;
    assert_eq!(group["displayName"], "bulkId:lt");
    let lt_id = path_of(&app, &ops[0])
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        group["members"][0]["value"],
        json!(lt_id),
        "a member is a reference"
    );
}

/// bulkIds are unique within a request (RFC 7644 §3.7): a repeated or empty one fails that
/// operation with 400; references resolve to the first.
#[tokio::test]
async fn duplicate_and_empty_bulk_ids_fail_that_operation() {
    let app = TestApp::builder().spawn().await;
    let r = app
        .post("/Bulk", json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": user("first@x.com")},
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": user("second@x.com")},
            {"method": "POST", "path": "/Users", "bulkId": "", "data": user("empty@x.com")},
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": [CORE_GROUP],
                "displayName": "G", "members": [{"value": "bulkId:a"}]}}
        ]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(statuses(&r), ["201", "400", "400", "201"], "{}", r.body);
    assert_op_error(&ops[1], 400, Some("invalidValue"));
    assert_eq!(ops[1]["bulkId"], "a");
    assert!(
        ops[1].get("location").is_none(),
        "a failed POST has no location"
    );
    assert_op_error(&ops[2], 400, Some("invalidValue"));
    let first = path_of(&app, &ops[0])
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let group = app.get(&path_of(&app, &ops[3])).await.body;
    assert_eq!(group["members"][0]["value"], json!(first));
    assert_eq!(app.get("/Users").await.body["totalResults"], 1);
}

/// RFC 7644 §3.7: one malformed operation fails alone; the valid ones run, and
/// failOnErrors counts it.
#[tokio::test]
async fn a_malformed_operation_fails_alone() {
    let app = TestApp::builder().spawn().await;
    let ops = json!([
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": user("a@x.com")},
        {"method": "GET", "path": "/Users"},
        {"method": "POST", "path": "/Widgets", "bulkId": "w", "data": {}},
        {"method": "POST", "path": "/Users", "data": user("nobulkid@x.com")},
        {"method": "POST", "path": "/Users/abc", "bulkId": "p", "data": user("path@x.com")},
        {"method": "POST", "path": "/Users", "bulkId": "b", "data": user("b@x.com")}
    ]);
    let r = app
        .post("/Bulk", json!({"schemas": [BULK], "Operations": ops}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        statuses(&r),
        ["201", "400", "400", "400", "400", "201"],
        "{}",
        r.body
    );
    let out = r.body["Operations"].as_array().unwrap();
    assert_op_error(&out[1], 400, Some("invalidValue"));
    assert_eq!(out[1]["method"], "GET");
    assert_op_error(&out[2], 400, Some("invalidPath"));
    assert_op_error(&out[3], 400, Some("invalidValue"));
    assert_op_error(&out[4], 400, Some("invalidPath"));
    for op in &out[1..5] {
        assert!(op.get("location").is_none(), "{op}");
    }
    assert_eq!(app.get("/Users").await.body["totalResults"], 2);

    let app = TestApp::builder().spawn().await;
    let r = app
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "failOnErrors": 1, "Operations": ops}),
        )
        .await;
    assert_eq!(
        statuses(&r),
        ["201", "400"],
        "stopped at the first error: {}",
        r.body
    );
    assert_eq!(app.get("/Users").await.body["totalResults"], 1);
}

/// What is wrong with the request itself still refuses all of it.
#[tokio::test]
async fn a_request_that_is_no_bulk_request_is_refused_whole() {
    let app = TestApp::builder().spawn().await;
    let op = json!({"method": "POST", "path": "/Users", "bulkId": "a", "data": user("a@x.com")});
    for body in [
        json!([op]),
        json!({"schemas": ["urn:x"], "Operations": [op]}),
        json!({"schemas": [BULK]}),
        json!({"schemas": [BULK], "Operations": op}),
    ] {
        let r = app.post("/Bulk", body).await;
        assert_scim_error(&r, 400, Some("invalidSyntax"));
    }
    let r = app
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "failOnErrors": "x", "Operations": [op]}),
        )
        .await;
    assert_scim_error(&r, 400, Some("invalidValue"));
    assert_eq!(app.get("/Users").await.body["totalResults"], 0);
}

/// RFC 7644 §3.7.3: `location` is in every operation's response except a failed POST's.
#[tokio::test]
async fn every_operation_but_a_failed_post_has_a_location() {
    let app = TestApp::builder().spawn().await;
    let kept = app.create_user("kept@x.com").await;
    let kept_id = kept["id"].as_str().unwrap();
    let gone = app.create_user("gone@x.com").await;
    let gone_id = gone["id"].as_str().unwrap();
    let r = app
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "Operations": [
                {"method": "DELETE", "path": format!("/Users/{gone_id}")},
                {"method": "DELETE", "path": "/Users/missing"},
                {"method": "PATCH", "path": "/Groups/missing", "data": {"schemas": [PATCH_OP],
                    "Operations": [{"op": "replace", "path": "displayName", "value": "x"}]}},
                {"method": "PUT", "path": format!("/Users/{kept_id}"), "version": "W/\"99\"",
                    "data": user("kept@x.com")},
                {"method": "POST", "path": "/Users", "bulkId": "dup", "data": user("kept@x.com")},
                {"method": "POST", "path": "/Users", "bulkId": "d", "data": user("del@x.com")},
                {"method": "DELETE", "path": "/Users/bulkId:d"}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        statuses(&r),
        ["204", "404", "404", "412", "409", "201", "204"],
        "{}",
        r.body
    );
    let ops = r.body["Operations"].as_array().unwrap();
    let loc = |i: usize| ops[i]["location"].as_str().map(str::to_string);
    let base = &app.base;
    assert_eq!(loc(0), Some(format!("{base}/Users/{gone_id}")));
    assert_eq!(loc(1), Some(format!("{base}/Users/missing")));
    assert_eq!(loc(2), Some(format!("{base}/Groups/missing")));
    assert_eq!(loc(3), Some(format!("{base}/Users/{kept_id}")));
    assert_eq!(loc(4), None, "a failed POST has no location");
    assert_eq!(loc(6), loc(5), "the deleted user's URL");
    assert!(loc(5).is_some_and(|l| l.starts_with(&format!("{base}/Users/"))));
    assert_eq!(
        app.get(&format!("/Users/{gone_id}")).await.status,
        StatusCode::NOT_FOUND
    );
}
