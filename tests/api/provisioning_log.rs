//! The provisioning log through the real server: SCIM requests recorded off the request path,
//! filtered in the owner API, a "why is this user pending" view, the IdP health figure in seat
//! usage, and retention.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn log_app(tweak: impl FnOnce(&mut scim_seats::config::Settings)) -> TestApp {
    TestApp::builder()
        .seats(1, 0)
        .settings(|s| {
            s.provisioning_log.flush_interval = Duration::from_millis(20);
            // Webhook receivers listen on loopback, which the outbound guard allows only by name.
            s.outbound = scim_seats::outbound::Policy::parse("127.0.0.1").unwrap();
            tweak(s);
        })
        .spawn()
        .await
}

/// POST a user as Okta does (with its User-Agent).
async fn okta_create(app: &TestApp, name: &str) -> Resp {
    let r = app
        .client
        .post(format!("{}/Users", app.base))
        .bearer_auth(&app.token)
        .header("content-type", "application/scim+json")
        .header("user-agent", "Okta SCIM Client 1.0.0")
        .body(user(name).to_string())
        .send()
        .await
        .expect("request");
    into_resp(r).await
}

async fn log(app: &TestApp, token: &str, query: &str) -> Resp {
    app.api(
        token,
        Method::GET,
        &format!("/provisioning-log{query}"),
        None,
        &[],
    )
    .await
}

/// Wait until the log holds `n` entries (it is written in the background).
async fn wait_for_log(app: &TestApp, token: &str, n: i64) -> Value {
    for _ in 0..200 {
        let r = log(app, token, "").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if r.body["total"].as_i64().unwrap() >= n {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the log never reached {n} entries");
}

#[tokio::test]
async fn the_log_explains_a_pending_user() {
    let app = log_app(|_| {}).await;
    let admin = owner_token(&app, Role::Admin);
    let ada = okta_create(&app, "ada@acme.example.com").await;
    assert_eq!(ada.status, StatusCode::CREATED);
    let bob = okta_create(&app, "bob@acme.example.com").await;
    assert_eq!(seat(&bob.body)["status"], "pending");
    let bob_id = bob.body["id"].as_str().unwrap().to_string();
    // A refused request is logged with its scimType.
    let dup = okta_create(&app, "BOB@acme.example.com").await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    app.get(&format!("/Users/{bob_id}")).await;
    let all = wait_for_log(&app, &admin, 4).await;
    assert_eq!(all["total"], 4);

    // Filter by user (userName or id): newest first.
    let r = log(&app, &admin, "?user=bob@acme.example.com").await;
    let entries = r.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", r.body);
    let create = &entries[1];
    assert_eq!(create["method"], "POST");
    assert_eq!(create["path"], "/scim/v2/Users");
    assert_eq!(create["status"], 201);
    assert_eq!(create["resource_type"], "User");
    assert_eq!(create["resource_id"], bob_id.as_str());
    assert_eq!(create["resource_name"], "bob@acme.example.com");
    assert_eq!(create["user_agent"], "Okta SCIM Client 1.0.0");
    assert!(create["token_id"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(create["duration_ms"].as_i64().unwrap() >= 0);
    assert_eq!(create["decision"], "queued at position 1: no seat free");
    assert!(create["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(entries[0]["method"], "GET");
    assert!(entries[0]["decision"].is_null());
    let r = log(&app, &admin, "?user=ada@acme.example.com").await;
    assert_eq!(r.body["entries"][0]["decision"], "claimed standard");

    // Filter by status and time.
    let r = log(&app, &admin, "?status=4xx").await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["entries"][0]["status"], 409);
    assert_eq!(r.body["entries"][0]["scim_type"], "uniqueness");
    assert_eq!(log(&app, &admin, "?status=failed").await.body["total"], 1);
    assert_eq!(
        log(&app, &admin, "?status=201&per_page=1").await.body["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        log(&app, &admin, "?since=2999-01-01T00:00:00Z").await.body["total"],
        0
    );
    let r = log(&app, &admin, "?status=teapot").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = log(&app, &admin, "?since=yesterday").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let member = owner_token(&app, Role::Member);
    assert_eq!(log(&app, &member, "").await.status, StatusCode::FORBIDDEN);

    // Why is Bob pending?
    let r = app
        .api(
            &admin,
            Method::GET,
            &format!("/provisioning-log/users/{bob_id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["queue_position"], 1);
    let why = r.body["explanation"].as_str().unwrap();
    assert!(
        why.contains("pending at queue position 1") && why.contains("1 purchased, 0 free"),
        "{why}"
    );
    let events: Vec<&str> = r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["user.queued"]);
    assert_eq!(
        r.body["requests"][1]["decision"],
        "queued at position 1: no seat free"
    );
    let r = app
        .api(
            &admin,
            Method::GET,
            "/provisioning-log/users/ada@acme.example.com",
            None,
            &[],
        )
        .await;
    assert!(
        r.body["explanation"]
            .as_str()
            .unwrap()
            .starts_with("holds a standard seat"),
        "{}",
        r.body
    );
    let r = app
        .api(
            &admin,
            Method::GET,
            "/provisioning-log/users/nobody",
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // IdP health: 1 failed of 4 in the last hour, over the 10 % warning.
    let r = app
        .api(&admin, Method::GET, "/reports/usage", None, &[])
        .await;
    let h = &r.body["idp_health"];
    assert_eq!(h["requests"], 4, "{}", r.body);
    assert_eq!(h["failed"], 1);
    assert_eq!(h["failed_share"], 0.25);
    assert_eq!(h["warning"], true);

    // Another organization sees none of it.
    let (other, _) = new_org(
        &app.db,
        "globex",
        Seats {
            standard: 1,
            premium: 0,
        },
    );
    let theirs = owner_token_for(&app, &other, &add_member(&app, &other, Role::Admin));
    assert_eq!(log(&app, &theirs, "").await.body["total"], 0);
    let r = app
        .api(
            &theirs,
            Method::GET,
            &format!("/provisioning-log/users/{bob_id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_log_turned_off_records_nothing() {
    let app = log_app(|s| s.provisioning_log.enabled = false).await;
    let admin = owner_token(&app, Role::Admin);
    let r = okta_create(&app, "off@acme.example.com").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app.post("/Users", json!({"userName": 7})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // Fifteen flush intervals: rows handed to the writer would be written by now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = log(&app, &admin, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["total"], 0, "{}", r.body);
}

#[tokio::test]
async fn rows_past_the_retention_are_pruned_in_the_background() {
    let app = log_app(|s| {
        s.provisioning_log.retention_days = 2;
        s.provisioning_log.prune_interval = Duration::from_millis(50);
    })
    .await;
    let admin = owner_token(&app, Role::Admin);
    okta_create(&app, "ada@acme.example.com").await;
    wait_for_log(&app, &admin, 1).await;
    // A row three days old, as an older server would have left it.
    let org = app.org_id.clone();
    let inserted = app
        .db
        .write_sync(move |c| {
            let row = scim_seats::store::provisioning_log::LogRow {
                id: "old-row".into(),
                org_id: org,
                at: scim_seats::store::now() - chrono::Duration::days(3),
                method: "POST".into(),
                path: "/scim/v2/Users".into(),
                status: 201,
                scim_type: None,
                resource_type: Some("User".into()),
                resource_id: None,
                resource_name: Some("old@acme.example.com".into()),
                user_agent: None,
                token_id: None,
                duration_ms: 1,
                decision: None,
            };
            Ok(scim_seats::store::provisioning_log::insert_many(c, &[row])?)
        })
        .expect("old row");
    // Counted by the insert, not by a read: the pruner runs every 50 ms and may already have
    // removed the row before a read could see it.
    assert_eq!(inserted, 1);
    for _ in 0..100 {
        // The writer prunes between its rounds, once a prune_interval.
        if log(&app, &admin, "").await.body["total"] == 1 {
            let r = log(&app, &admin, "").await;
            assert_eq!(
                r.body["entries"][0]["resource_name"],
                "ada@acme.example.com"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the old row was never pruned: {}",
        json!(log(&app, &admin, "").await.body)
    );
}

#[tokio::test]
async fn failing_idp_traffic_fires_the_usage_webhook_once() {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let shared = got.clone();
    let server = HttpServer::new(move || {
        let got = shared.clone();
        App::new().default_service(web::to(move |req: HttpRequest| {
            let got = got.clone();
            async move {
                let event = req
                    .headers()
                    .get("x-scim-seats-event")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                got.lock().unwrap().push(event);
                HttpResponse::NoContent().finish()
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind");
    let url = format!("http://127.0.0.1:{}/hook", server.addrs()[0].port());
    tokio::spawn(server.run());
    let app = log_app(|s| {
        s.webhooks.delivery_interval = Some(Duration::from_millis(30));
    })
    .await;
    let owner = owner_token(&app, Role::Owner);
    let r = app
        .api(&owner, Method::PUT, "/settings/alerts", Some(json!({"free_seat_threshold": 0, "webhook_url": url, "webhook_secret": "a-secret-of-some-length"})), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // 8 good requests, then refused ones: from the 10th request (2 of 10 failed) the share is
    // over 10 %; one warning goes out however many more fail.
    for i in 0..8 {
        okta_create(&app, &format!("u{i}@acme.example.com")).await;
    }
    for _ in 0..4 {
        assert_eq!(
            okta_create(&app, "u0@acme.example.com").await.status,
            StatusCode::CONFLICT
        );
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let health = |got: &Arc<Mutex<Vec<String>>>| {
        got.lock()
            .unwrap()
            .iter()
            .filter(|e| *e == "idp.health_warning")
            .count()
    };
    for _ in 0..200 {
        if health(&got) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(health(&got), 1, "{:?}", got.lock().unwrap());
    let r = app
        .api(&owner, Method::GET, "/reports/usage", None, &[])
        .await;
    assert_eq!(r.body["idp_health"]["warning"], true, "{}", r.body);
}

/// The log entry of the `nth` (0 = oldest) request with `method` on `path`, once written.
async fn entry(app: &TestApp, admin: &str, total: i64, method: &str, path: &str) -> Value {
    let all = wait_for_log(app, admin, total).await;
    let mut found: Vec<Value> = all["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["method"] == method && e["path"] == path)
        .cloned()
        .collect();
    // Newest first: the last is the oldest.
    found
        .pop()
        .unwrap_or_else(|| panic!("no {method} {path} in {all}"))
}

#[tokio::test]
async fn group_pushes_and_their_consequences_show_their_seat_decisions() {
    let app = TestApp::builder()
        .seats(1, 1)
        .settings(|s| s.provisioning_log.flush_interval = Duration::from_millis(20))
        .spawn()
        .await;
    let admin = owner_token(&app, Role::Admin);
    let id = |r: &Resp| r.body["id"].as_str().expect("id").to_string();
    let ada = okta_create(&app, "ada@acme.example.com").await;
    let bob = okta_create(&app, "bob@acme.example.com").await;
    let carol = okta_create(&app, "carol@acme.example.com").await;
    assert_eq!(seat(&ada.body)["tier"], "premium");
    assert_eq!(seat(&bob.body)["tier"], "standard");
    assert_eq!(seat(&carol.body)["status"], "pending");
    let eng = create_group_with(&app, "Engineering", &[]).await;
    set_group_tier(&app, &eng, scim_seats::domain::Tier::Premium);

    // Okta's group push adds Bob to a group mapped to premium: no premium seat is free.
    let path = format!("/scim/v2/Groups/{eng}");
    let r = app
        .patch(
            &format!("/Groups/{eng}"),
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "add", "path": "members", "value": [{"value": id(&bob)}]}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let e = entry(&app, &admin, 5, "PATCH", &path).await;
    assert_eq!(e["resource_type"], "Group");
    assert_eq!(
        e["decision"],
        "bob@acme.example.com: tier change waits for a premium seat"
    );

    // Ada leaves: her premium seat serves Bob's wait, and his standard seat goes to Carol.
    let r = app.delete(&format!("/Users/{}", id(&ada))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let e = entry(
        &app,
        &admin,
        6,
        "DELETE",
        &format!("/scim/v2/Users/{}", id(&ada)),
    )
    .await;
    assert_eq!(
        e["decision"],
        "deleted: its seat (if any) went to the queue; \
         bob@acme.example.com: tier changed standard → premium; \
         carol@acme.example.com: got a standard seat from the queue"
    );

    // The why-view of Bob shows the group push among his requests.
    let r = app
        .api(
            &admin,
            Method::GET,
            &format!("/provisioning-log/users/{}", id(&bob)),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["tier"], "premium", "{}", r.body);
}

#[tokio::test]
async fn a_group_push_that_moves_a_member_to_premium_says_so() {
    let app = TestApp::builder()
        .seats(1, 1)
        .settings(|s| s.provisioning_log.flush_interval = Duration::from_millis(20))
        .spawn()
        .await;
    let admin = owner_token(&app, Role::Admin);
    let ada = okta_create(&app, "ada@acme.example.com").await;
    let bob = okta_create(&app, "bob@acme.example.com").await;
    assert_eq!(seat(&bob.body)["tier"], "standard");
    // Ada leaves: a premium seat is free and no one waits.
    let ada_id = ada.body["id"].as_str().expect("id");
    assert_eq!(
        app.delete(&format!("/Users/{ada_id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let eng = create_group_with(&app, "Engineering", &[]).await;
    set_group_tier(&app, &eng, scim_seats::domain::Tier::Premium);
    let r = app
        .patch(
            &format!("/Groups/{eng}"),
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "add", "path": "members", "value": [{"value": bob.body["id"]}]}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let e = entry(&app, &admin, 5, "PATCH", &format!("/scim/v2/Groups/{eng}")).await;
    assert_eq!(
        e["decision"],
        "bob@acme.example.com: tier changed standard → premium"
    );
}

#[tokio::test]
async fn a_bulk_of_creates_shows_its_seat_decisions() {
    let app = TestApp::builder()
        .seats(1, 1)
        .settings(|s| s.provisioning_log.flush_interval = Duration::from_millis(20))
        .spawn()
        .await;
    let admin = owner_token(&app, Role::Admin);
    let ops: Vec<Value> = (0..8)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                   "data": user(&format!("u{i}@acme.example.com"))})
        })
        .collect();
    let r = app
        .post(
            "/Bulk",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                   "Operations": ops}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let e = entry(&app, &admin, 1, "POST", "/scim/v2/Bulk").await;
    assert_eq!(
        e["decision"],
        "u0@acme.example.com: claimed premium; u1@acme.example.com: claimed standard; \
         u2@acme.example.com: queued at position 1; u3@acme.example.com: queued at position 2; \
         u4@acme.example.com: queued at position 3; and 3 more"
    );
}
