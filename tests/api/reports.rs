//! The pending-user report: JSON pages, the streamed CSV, roles and tenant isolation.

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use scim_seats::domain::Tier;

/// Billing app on 2026-03-01 (10 months left of a 2026-01-01 term), `standard` seats.
async fn app_with_seats(standard: i64) -> TestApp {
    TestApp::builder()
        .seats(standard, 0)
        .contract(contract_from(date(2026, 1, 1), true))
        .today(date(2026, 3, 1))
        .spawn()
        .await
}

async fn create(app: &TestApp, body: Value) -> String {
    let r = app.post("/Users", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().expect("id").to_string()
}

fn person(user_name: &str, display: &str, email: &str, external: &str) -> Value {
    json!({
        "schemas": [CORE_USER], "userName": user_name, "displayName": display,
        "externalId": external, "active": true,
        "emails": [{"value": format!("other-{email}"), "type": "home"},
                   {"value": email, "type": "work", "primary": true}],
    })
}

async fn report(app: &TestApp, token: &str, query: &str) -> Resp {
    app.api(
        token,
        Method::GET,
        &format!("/reports/pending{query}"),
        None,
        &[],
    )
    .await
}

#[tokio::test]
async fn json_report_lists_the_queue_in_order_with_groups_tiers_totals_and_quote() {
    let app = app_with_seats(2).await;
    let admin = owner_token(&app, Role::Admin);
    create(&app, user("seated-1")).await;
    create(&app, user("seated-2")).await;
    let carol = create(
        &app,
        person(
            "carol",
            "Carol Jones",
            "carol@bill.example.com",
            "okta-carol",
        ),
    )
    .await;
    let dave = create(
        &app,
        person("dave", "Dave", "dave@bill.example.com", "okta-dave"),
    )
    .await;
    let erin = create(&app, user("erin")).await;
    let design = create_group_with(&app, "Designers", std::slice::from_ref(&dave)).await;
    set_group_tier(&app, &design, Tier::Premium);
    // Dave is also in a standard group (premium wins); Carol only in the standard one.
    let staff = create_group_with(&app, "Staff", &[carol.clone(), dave.clone()]).await;
    set_group_tier(&app, &staff, Tier::Standard);

    let r = report(&app, &admin, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = &r.body;
    assert_eq!(b["total"], 3);
    assert_eq!(b["by_source"], json!({"scim": 3}));
    assert_eq!(
        b["requested_tiers"],
        json!({"premium": 1, "standard": 1, "none": 1})
    );
    assert_eq!(b["seats_needed"], json!({"standard": 2, "premium": 1}));
    let users = b["users"].as_array().expect("users");
    let ids: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [carol.as_str(), dave.as_str(), erin.as_str()]);
    assert_eq!(users[0]["queue_position"], 1);
    assert_eq!(users[0]["display_name"], "Carol Jones");
    assert_eq!(users[0]["email"], "carol@bill.example.com", "primary email");
    assert_eq!(users[0]["external_id"], "okta-carol");
    assert_eq!(users[0]["source"], "scim");
    assert_eq!(users[0]["days_waiting"], 0);
    assert!(users[0]["pending_since"].as_str().unwrap().ends_with('Z'));
    assert_eq!(users[0]["requested_tier"], "standard");
    assert_eq!(users[1]["groups"], json!(["Designers", "Staff"]));
    assert_eq!(users[1]["requested_tier"], "premium");
    assert_eq!(users[2]["requested_tier"], Value::Null);
    assert_eq!(users[2]["display_name"], "erin", "falls back to userName");
    // 2 standard × 600 × 10/12 + 1 premium × 1200 × 10/12, as the billing preview prices it.
    let quote = &b["quote"];
    assert_eq!(quote["total"], "2000.00", "{quote}");
    assert_eq!(quote["lines"][0]["amount"], "1000.00");
    assert_eq!(quote["lines"][1]["tier"], "premium");
    assert_eq!(quote["date"], "2026-03-01");
    let preview = app
        .api(
            &owner_token(&app, Role::Owner),
            Method::POST,
            "/seats/preview",
            Some(json!({"add_standard": 2, "add_premium": 1})),
            &[],
        )
        .await;
    assert_eq!(preview.body["lines"], quote["lines"]);

    // Pages keep queue positions.
    let p2 = report(&app, &admin, "?page=2&per_page=2").await;
    assert_eq!(p2.body["pages"], 2);
    assert_eq!(p2.body["users"].as_array().unwrap().len(), 1);
    assert_eq!(p2.body["users"][0]["id"], erin.as_str());
    assert_eq!(p2.body["users"][0]["queue_position"], 3);

    // Buying what the report says lets everyone in.
    let order = json!({"add_standard": 2, "add_premium": 1});
    let owner = owner_token(&app, Role::Owner);
    let r = app.confirm(&owner, "clear-queue", order).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let after = report(&app, &admin, "").await;
    assert_eq!(after.body["total"], 0);
    assert_eq!(after.body["quote"], Value::Null);
    assert!(after.body["quote_unavailable"]
        .as_str()
        .unwrap()
        .contains("nobody is waiting"));
    app.assert_seat_invariants();
}

#[tokio::test]
async fn roles_members_are_refused_with_the_role_needed() {
    let app = app_with_seats(0).await;
    create(&app, user("waiting")).await;
    let member = owner_token(&app, Role::Member);
    let admin = owner_token(&app, Role::Admin);
    let owner = owner_token(&app, Role::Owner);

    for path in ["/reports/pending", "/reports/pending.csv", "/reports/usage"] {
        let r = app.api(&member, Method::GET, path, None, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("Admin, Owner or Primary Owner") && detail.contains("Member"),
            "{detail}"
        );
        let r = app.api(&admin, Method::GET, path, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    for path in ["/audit", "/settings/alerts"] {
        let r = app.api(&admin, Method::GET, path, None, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert!(r.body["detail"]
            .as_str()
            .unwrap()
            .contains("Owner or Primary Owner"));
        let r = app.api(&owner, Method::GET, path, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    let r = app
        .api(
            &admin,
            Method::PUT,
            "/settings/alerts",
            Some(json!({"free_seat_threshold": 1})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // No token at all.
    let r = raw_get(&app, "/api/v1/reports/pending", None, &[]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reports_show_only_the_callers_organization() {
    let app = app_with_seats(0).await;
    create(&app, user("ours")).await;
    let (other_org, _) = new_org(
        &app.db,
        "other",
        Seats {
            standard: 0,
            premium: 0,
        },
    );
    seed_pending(&app, &other_org, 5);
    let admin = owner_token(&app, Role::Admin);
    let r = report(&app, &admin, "").await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["users"][0]["user_name"], "ours");
    let csv = raw_get(&app, "/api/v1/reports/pending.csv", Some(&admin), &[])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(!csv.contains("bulk-"));
}

#[tokio::test]
async fn csv_is_quoted_properly() {
    let app = app_with_seats(0).await;
    let tricky = "Doe, \"Jane\"\nJr.";
    let unicode = "Zoë Ünïcödé 山田 太郎";
    create(
        &app,
        person("jane", tricky, "jane@bill.example.com", "ext,1"),
    )
    .await;
    create(
        &app,
        person("zoe", unicode, "zoë@bill.example.com", "ext\"2"),
    )
    .await;
    let admin = owner_token(&app, Role::Admin);
    let resp = raw_get(&app, "/api/v1/reports/pending.csv", Some(&admin), &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("pending-users.csv"));
    let text = resp.text().await.unwrap();
    // The csv crate quotes fields with commas, quotes and newlines, doubling inner quotes.
    assert!(text.contains("\"Doe, \"\"Jane\"\"\nJr.\""), "{text}");
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header[0], "queue_position");
    assert_eq!(header[1], "display_name");
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.expect("record")).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "1");
    assert_eq!(&rows[0][1], tricky);
    assert_eq!(&rows[0][5], "ext,1");
    assert_eq!(&rows[1][0], "2");
    assert_eq!(&rows[1][1], unicode);
    assert_eq!(&rows[1][3], "zoë@bill.example.com");
    assert_eq!(&rows[1][5], "ext\"2");
}

#[tokio::test]
async fn csv_of_100k_pending_users_is_streamed_in_queue_order() {
    const N: i64 = 100_000;
    let app = app_with_seats(0).await;
    let first = create(&app, user("first-in-line")).await;
    seed_pending(&app, &app.org_id, N - 1);
    let admin = owner_token(&app, Role::Admin);

    let resp = raw_get(&app, "/api/v1/reports/pending.csv", Some(&admin), &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // Streamed: no length known up front, sent chunked.
    assert!(resp.headers().get("content-length").is_none());
    assert_eq!(
        resp.headers()
            .get("transfer-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("chunked")
    );
    let mut chunks = 0usize;
    let mut largest = 0usize;
    let mut buf = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        chunks += 1;
        largest = largest.max(chunk.len());
        buf.extend_from_slice(&chunk);
    }
    // Each database page (1,000 rows) is its own chunk: the body never exists whole on the
    // server.
    assert!(chunks >= 100, "only {chunks} chunks");
    assert!(
        largest < buf.len() / 20,
        "a chunk of {largest} of {} bytes",
        buf.len()
    );
    let mut rd = csv::Reader::from_reader(buf.as_slice());
    let mut count = 0i64;
    let mut last = None;
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.expect("record");
        let pos: i64 = rec[0].parse().expect("position");
        assert_eq!(pos, i as i64 + 1, "positions are consecutive");
        if i == 0 {
            assert_eq!(&rec[10], first.as_str(), "the first in line comes first");
        }
        count += 1;
        last = Some(rec[2].to_string());
    }
    assert_eq!(count, N);
    assert_eq!(
        last.as_deref(),
        Some(format!("bulk-{}@bulk.example.com", N - 1).as_str())
    );

    // The JSON report pages through the same queue with the same totals.
    let r = report(&app, &admin, "?page=200&per_page=500").await;
    assert_eq!(r.body["total"], N);
    assert_eq!(r.body["users"][499]["queue_position"], N);
    assert_eq!(r.body["seats_needed"]["standard"], N);
}
