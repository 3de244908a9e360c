//! Seat usage, alert settings, and the webhook: fired in the seat transaction when free seats
//! cross below the threshold or the queue stops being empty; signed; retried after a 500.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use scim_seats::domain::seats::alerts::{EVENT_BELOW_THRESHOLD, EVENT_QUEUE_NONEMPTY};

const SECRET: &str = "a-webhook-secret-of-some-length";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    signature: String,
    event: String,
    delivery: String,
    content_type: String,
    body: String,
}

struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    async fn wait_for(&self, n: usize) -> Vec<Hit> {
        for _ in 0..200 {
            let h = self.hits();
            if h.len() >= n {
                return h;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "the receiver got {} requests, expected {n}",
            self.hits().len()
        );
    }
}

/// A local webhook receiver on 127.0.0.1 that answers 500 to the first `fail_first` requests.
async fn spawn_receiver(fail_first: usize) -> Receiver {
    let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
    let shared = hits.clone();
    let server = HttpServer::new(move || {
        let hits = shared.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let hits = hits.clone();
            async move {
                let h = |name: &str| {
                    req.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                // Seat events share the organization's webhook (tests/api/events.rs covers
                // them); this receiver keeps the usage alerts.
                let event = h("x-scim-seats-event");
                if event != EVENT_BELOW_THRESHOLD && event != EVENT_QUEUE_NONEMPTY {
                    return HttpResponse::NoContent().finish();
                }
                let mut all = hits.lock().unwrap();
                all.push(Hit {
                    signature: h("x-scim-seats-signature"),
                    event: h("x-scim-seats-event"),
                    delivery: h("x-scim-seats-delivery"),
                    content_type: h("content-type"),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                if all.len() <= fail_first {
                    HttpResponse::InternalServerError().body("try again")
                } else {
                    HttpResponse::NoContent().finish()
                }
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind receiver");
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    Receiver {
        url: format!("http://127.0.0.1:{port}/hooks/seats"),
        hits,
    }
}

/// A billing app whose webhook deliveries run every 30 ms and retry after 50 ms.
async fn alert_app(standard: i64, premium: i64, deliver: bool) -> TestApp {
    TestApp::builder()
        .seats(standard, premium)
        .contract(contract_from(date(2026, 1, 1), true))
        .today(date(2026, 3, 1))
        .settings(move |s| {
            s.webhooks.delivery_interval = deliver.then_some(Duration::from_millis(30));
            s.webhooks.retry_base = Duration::from_millis(50);
            s.webhooks.timeout = Duration::from_secs(5);
            // The receiver and the never-answering URLs are on loopback.
            s.outbound = scim_seats::outbound::Policy::parse("127.0.0.1").unwrap();
        })
        .spawn()
        .await
}

async fn set_alerts(app: &TestApp, owner: &str, body: Value) -> Resp {
    app.api(owner, Method::PUT, "/settings/alerts", Some(body), &[])
        .await
}

async fn create(app: &TestApp, name: &str) -> String {
    app.create_user(name).await["id"]
        .as_str()
        .expect("id")
        .to_string()
}

fn events(app: &TestApp) -> Vec<String> {
    let mut rows = outbox(app);
    rows.reverse();
    rows.into_iter().map(|r| r.event).collect()
}

#[tokio::test]
async fn usage_reports_tiers_utilization_queue_alert_and_projected_renewal() {
    let app = alert_app(3, 1, false).await;
    for i in 0..5 {
        create(&app, &format!("u{i}")).await;
    }
    let owner = owner_token(&app, Role::Owner);
    let admin = owner_token(&app, Role::Admin);
    let r = app
        .api(&owner, Method::GET, "/reports/usage", None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = &r.body;
    assert_eq!(
        b["tiers"],
        json!([
            {"tier": "premium", "purchased": 1, "claimed": 1, "free": 0, "utilization": 1.0},
            {"tier": "standard", "purchased": 3, "claimed": 3, "free": 0, "utilization": 1.0},
        ])
    );
    assert_eq!(
        b["totals"],
        json!({"purchased": 4, "claimed": 4, "free": 0, "utilization": 1.0})
    );
    assert_eq!(b["pending"], 1);
    assert_eq!(b["alert"]["state"], "not_configured");
    assert_eq!(b["warning"], false);
    let renewal = &b["projected_renewal"];
    assert_eq!(renewal["on"], "2027-01-01");
    assert_eq!(renewal["seats"], json!({"standard": 3, "premium": 1}));
    // Seats in use at the full annual price: 3 × 600 + 1 × 1,200.
    assert_eq!(renewal["quote"]["total"], "3000.00");
    // Admins see usage, not prices (the contract is for Owners).
    let r = app
        .api(&admin, Method::GET, "/reports/usage", None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["projected_renewal"]["quote"], Value::Null);
    assert_eq!(r.body["projected_renewal"]["seats"]["standard"], 3);

    let r = set_alerts(&app, &owner, json!({"free_seat_threshold": 1})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .api(&owner, Method::GET, "/reports/usage", None, &[])
        .await;
    assert_eq!(
        r.body["alert"],
        json!({"free_seat_threshold": 1, "state": "warning"})
    );
    assert_eq!(r.body["warning"], true);
}

#[tokio::test]
async fn alert_settings_are_validated_and_the_secret_never_read_back() {
    let app = alert_app(5, 0, false).await;
    let owner = owner_token(&app, Role::Owner);
    for (body, needle) in [
        (json!({}), "free_seat_threshold is required"),
        (json!({"free_seat_threshold": -1}), "free_seat_threshold"),
        (json!({"free_seat_threshold": "3"}), "free_seat_threshold"),
        (
            json!({"free_seat_threshold": 3, "webhook_url": "ftp://x.example.com"}),
            "http",
        ),
        (
            json!({"free_seat_threshold": 3, "webhook_url": "https://x.example.com/h"}),
            "webhook_secret is required",
        ),
        (
            json!({"free_seat_threshold": 3, "webhook_url": "https://x.example.com/h", "webhook_secret": "short"}),
            "webhook_secret is required",
        ),
        (
            json!({"free_seat_threshold": 3, "webhook_secret": SECRET}),
            "without webhook_url",
        ),
        (
            json!({"free_seat_threshold": 3, "colour": "red"}),
            "unknown field",
        ),
    ] {
        let r = set_alerts(&app, &owner, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{body}: {detail}");
    }
    let r = set_alerts(
        &app,
        &owner,
        json!({"free_seat_threshold": 2, "webhook_url": "https://hooks.example.com/seats",
               "webhook_secret": SECRET}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .api(&owner, Method::GET, "/settings/alerts", None, &[])
        .await;
    assert_eq!(r.body["free_seat_threshold"], 2);
    assert_eq!(r.body["webhook_url"], "https://hooks.example.com/seats");
    assert_eq!(r.body["webhook_secret_set"], true);
    assert!(!r.body.to_string().contains(SECRET));
}

#[tokio::test]
async fn crossing_below_the_threshold_sends_one_signed_webhook_retried_after_a_500() {
    let receiver = spawn_receiver(1).await;
    let app = alert_app(5, 0, true).await;
    let owner = owner_token(&app, Role::Owner);
    let r = set_alerts(
        &app,
        &owner,
        json!({"free_seat_threshold": 3, "webhook_url": receiver.url, "webhook_secret": SECRET}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // 5 → 4 → 3 free: still at the threshold, nothing is sent.
    create(&app, "a").await;
    create(&app, "b").await;
    assert!(outbox(&app).is_empty());
    // 3 → 2: below. The event is in the outbox as soon as the claim committed.
    create(&app, "c").await;
    assert_eq!(events(&app), [EVENT_BELOW_THRESHOLD]);

    // First attempt gets a 500, the retry (after the backoff) a 204.
    let hits = receiver.wait_for(2).await;
    for h in &hits {
        assert_eq!(h.event, EVENT_BELOW_THRESHOLD);
        assert_eq!(h.content_type, "application/json");
        assert_eq!(
            h.signature,
            scim_seats::webhooks::signature(SECRET, h.body.as_bytes()),
            "HMAC-SHA256 of the body under the secret"
        );
        assert!(h.signature.starts_with("sha256=") && h.signature.len() == 7 + 64);
    }
    assert_eq!(hits[0].body, hits[1].body, "a retry sends the same body");
    assert_eq!(hits[0].delivery, hits[1].delivery);
    let body: Value = serde_json::from_str(&hits[1].body).unwrap();
    assert_eq!(body["event"], EVENT_BELOW_THRESHOLD);
    assert_eq!(body["id"], hits[1].delivery.as_str());
    assert_eq!(body["organization_id"], app.org_id.as_str());
    assert_eq!(
        body["data"],
        json!({"free_seats": 2, "free_seats_before": 3, "threshold": 3})
    );
    let standard = body["seats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["tier"] == "standard")
        .expect("standard pool");
    assert_eq!(standard["unclaimed"], 2);
    // A tampered body does not verify.
    assert_ne!(
        hits[1].signature,
        scim_seats::webhooks::signature(SECRET, hits[1].body.replace('2', "3").as_bytes())
    );

    // Delivered once it got a 2xx; two attempts recorded.
    for _ in 0..100 {
        if outbox(&app)[0].delivered_at.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let row = &outbox(&app)[0];
    assert!(row.delivered_at.is_some(), "{row:?}");
    assert_eq!(row.attempts, 2);
    assert!(row.last_error.as_deref().unwrap_or("").contains("500"));

    // Already below: further claims send nothing new.
    create(&app, "d").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(events(&app), [EVENT_BELOW_THRESHOLD]);
    assert_eq!(receiver.hits().len(), 2);
    // The audit log records the alert.
    let audit = app
        .api(&owner, Method::GET, "/audit?kind=alert.fired", None, &[])
        .await;
    assert_eq!(audit.body["total"], 1, "{}", audit.body);
}

#[tokio::test]
async fn queue_becoming_non_empty_fires_once_per_transition() {
    let app = alert_app(1, 0, false).await;
    let owner = owner_token(&app, Role::Owner);
    let r = set_alerts(
        &app,
        &owner,
        json!({"free_seat_threshold": 0, "webhook_url": "http://127.0.0.1:9/never",
               "webhook_secret": SECRET}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let first = create(&app, "first").await; // takes the only seat: 1 → 0 free, not below 0
    assert!(events(&app).is_empty());
    let second = create(&app, "second").await; // queue 0 → 1
    assert_eq!(events(&app), [EVENT_QUEUE_NONEMPTY]);
    let body: Value = serde_json::from_str(&outbox(&app)[0].body).unwrap();
    assert_eq!(body["data"]["pending"], 1);
    create(&app, "third").await; // 1 → 2: no event
    assert_eq!(events(&app).len(), 1);

    // The seat of `first` goes to `second`; `third` still waits: no event.
    assert_eq!(
        app.delete(&format!("/Users/{first}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(events(&app).len(), 1);
    // `third` leaves the queue (deactivated): empty again, no event.
    let third = app
        .get("/Users?filter=userName%20eq%20%22third%22")
        .await
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .patch(
            &format!("/Users/{third}"),
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.count_status("pending"), 0);
    assert_eq!(events(&app).len(), 1);
    // Someone queues again: 0 → 1 fires again.
    create(&app, "fourth").await;
    assert_eq!(events(&app), [EVENT_QUEUE_NONEMPTY, EVENT_QUEUE_NONEMPTY]);
    let _ = second;
    app.assert_seat_invariants();
}

#[tokio::test]
async fn a_released_seat_given_straight_to_the_queue_is_not_an_alert() {
    let app = alert_app(1, 0, false).await;
    let owner = owner_token(&app, Role::Owner);
    let r = set_alerts(
        &app,
        &owner,
        json!({"free_seat_threshold": 1, "webhook_url": "http://127.0.0.1:9/never",
               "webhook_secret": SECRET}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let a = create(&app, "a").await; // 1 → 0 free: below 1
    create(&app, "b").await; // queued
    assert_eq!(events(&app), [EVENT_BELOW_THRESHOLD, EVENT_QUEUE_NONEMPTY]);
    // Release + drain in one transaction: free stays 0, nobody new waits.
    assert_eq!(
        app.delete(&format!("/Users/{a}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.count_status("pending"), 0);
    assert_eq!(events(&app).len(), 2);
    // Buying seats raises free seats above the threshold; claiming one crosses again.
    let r = app
        .confirm(&owner, "more", json!({"add_standard": 1}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(events(&app).len(), 2);
    create(&app, "c").await;
    assert_eq!(
        events(&app),
        [
            EVENT_BELOW_THRESHOLD,
            EVENT_QUEUE_NONEMPTY,
            EVENT_BELOW_THRESHOLD
        ]
    );
}
