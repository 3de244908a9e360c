//! Operations endpoints: liveness, readiness, Prometheus metrics.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn healthz_and_readyz_answer_when_all_is_well() {
    let app = TestApp::builder().spawn().await;
    let r = raw_get(&app, "/healthz", None, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    let r = raw_get(&app, "/readyz", None, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": "ready", "database": "ok"})
    );
}

#[tokio::test]
async fn readyz_is_503_with_a_json_body_when_the_database_is_gone() {
    let app = TestApp::builder().spawn().await;
    if !app.test_db.is_pg() {
        // A SQLite file that is open cannot be made unreachable from outside the process:
        // the PostgreSQL run covers the 503 path.
        eprintln!("readyz 503 is exercised on PostgreSQL (TEST_DATABASE_URL)");
        return;
    }
    app.test_db
        .admin_sql(|name| format!("DROP DATABASE {name} WITH (FORCE)"));
    let r = raw_get(&app, "/readyz", None, &[]).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"], "unreachable");
    // Liveness does not depend on the database.
    let r = raw_get(&app, "/healthz", None, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_expose_requests_latency_seats_queue_and_outcomes() {
    let app = TestApp::builder().seats(2, 1).spawn().await;
    for i in 0..4 {
        app.create_user(&format!("m{i}")).await; // 3 claim, 1 queues
    }
    let first = app.get("/Users?filter=userName%20eq%20%22m0%22").await.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.delete(&format!("/Users/{first}")).await.status,
        StatusCode::NO_CONTENT
    ); // released, and m3 activated from the queue
    app.create_user("m4").await; // queued
    let _ = app.get("/Users/does-not-exist").await;
    let _ = raw_get(&app, "/no/such/path/12345", None, &[]).await;

    let r = raw_get(&app, "/metrics", None, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = r.text().await.unwrap();
    let has = |needle: &str| {
        assert!(
            text.lines().any(|l| l.starts_with(needle)),
            "missing {needle} in:\n{text}"
        )
    };
    has("# TYPE scim_seats_http_requests_total counter");
    has(r#"scim_seats_http_requests_total{method="POST",route="/scim/v2/Users",status="201"} 5"#);
    has(
        r#"scim_seats_http_requests_total{method="GET",route="/scim/v2/Users/{id}",status="404"} 1"#,
    );
    has(r#"scim_seats_http_requests_total{method="GET",route="unmatched",status="404"} 1"#);
    has("# TYPE scim_seats_http_request_duration_seconds histogram");
    has(
        r#"scim_seats_http_request_duration_seconds_bucket{method="POST",route="/scim/v2/Users",status="201",le="+Inf"} 5"#,
    );
    has(
        r#"scim_seats_http_request_duration_seconds_count{method="DELETE",route="/scim/v2/Users/{id}",status="204"} 1"#,
    );
    // Seats and the queue, read at scrape time.
    has(r#"scim_seats_seats{state="purchased",tier="standard"} 2"#);
    has(r#"scim_seats_seats{state="claimed",tier="standard"} 2"#);
    has(r#"scim_seats_seats{state="claimed",tier="premium"} 1"#);
    has(r#"scim_seats_seats{state="free",tier="premium"} 0"#);
    has("scim_seats_queue_length 1");
    has("scim_seats_database_up 1");
    // Outcome counters are process-wide (other tests run in this process too): present and
    // at least what this test caused.
    for (outcome, at_least) in [
        ("claimed", 3),
        ("queued", 2),
        ("released", 1),
        ("activated_from_queue", 1),
    ] {
        let prefix = format!(r#"scim_seats_provisioning_outcomes_total{{outcome="{outcome}"}} "#);
        let line = text
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("missing {prefix}"));
        let n: u64 = line[prefix.len()..].parse().unwrap();
        assert!(n >= at_least, "{line}");
    }
}

/// PostgreSQL drops the server's connections (a restart, an administrator's
/// `pg_terminate_backend`). A connection that worked a moment ago is handed out without a
/// check, so a request can meet a dead one: it is answered 503 with `Retry-After` (IdPs send
/// it again), every connection is then checked before its next use and replaced, and the
/// server recovers by itself with nothing lost.
#[tokio::test]
async fn requests_recover_when_postgresql_drops_the_connections() {
    let app = TestApp::builder().spawn().await;
    if !app.test_db.is_pg() {
        eprintln!("dropped connections are exercised on PostgreSQL (TEST_DATABASE_URL)");
        return;
    }
    app.create_user("before@x.com").await;
    let lookup = "/Users?filter=userName%20eq%20%22before@x.com%22";
    // Several at once, so the pool holds several connections that were just used.
    let warm = futures_util::future::join_all((0..4).map(|_| app.get(lookup))).await;
    assert!(warm.iter().all(|r| r.status == StatusCode::OK));

    app.test_db.admin_sql(|name| {
        format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
    });

    let mut statuses = Vec::new();
    for _ in 0..20 {
        let r = app.get(lookup).await;
        if r.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_scim_error(&r, 503, None);
            assert_eq!(r.header("retry-after").as_deref(), Some("1"));
        } else {
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(r.body["totalResults"], 1);
        }
        statuses.push(r.status.as_u16());
    }
    let failed = statuses.iter().filter(|s| **s == 503).count();
    // The first use of a dropped connection fails (none does if a slow machine took more
    // than a second to get here: the pool then checked them all); the pool then checks every
    // connection before its next use, so at most one request fails, not one per connection.
    assert!(failed <= 1, "{statuses:?}");
    assert!(statuses[1..].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        app.post("/Users", user("after@x.com")).await.status,
        StatusCode::CREATED
    );
}
