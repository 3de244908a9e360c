//! Seat events: the ordered feed (`GET /api/v1/events?after=…`) and its delivery to the
//! organization's webhook (signed, in order, at least once, surviving a restart).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const SECRET: &str = "an-events-webhook-secret";
const SEAT_EVENTS: [&str; 8] = [
    "user.seat_granted",
    "user.queued",
    "user.seat_released",
    "user.tier_changed",
    "queue.drained",
    "seats.purchased",
    "invoice.issued",
    "contract.renewed",
];

#[derive(Debug, Clone)]
struct Hit {
    signature: String,
    delivery: String,
    body: String,
}

/// A webhook receiver on 127.0.0.1 that answers 500 to the first `fail_first` seat events
/// *after recording them* (a lost acknowledgement: the sender must send them again).
async fn spawn_receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<Hit>>>) {
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
                // The usage alerts share the webhook; only seat events are recorded here.
                if !SEAT_EVENTS.contains(&h("x-scim-seats-event").as_str()) {
                    return HttpResponse::NoContent().finish();
                }
                let mut all = hits.lock().unwrap();
                all.push(Hit {
                    signature: h("x-scim-seats-signature"),
                    delivery: h("x-scim-seats-delivery"),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                if all.len() <= fail_first {
                    HttpResponse::InternalServerError().body("lost")
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
    (format!("http://127.0.0.1:{port}/hooks/events"), hits)
}

async fn events_app(deliver: bool) -> TestApp {
    TestApp::builder()
        .seats(1, 1)
        .contract(contract_from(date(2026, 1, 1), true))
        .today(date(2026, 3, 1))
        .settings(move |s| {
            s.webhooks.delivery_interval = deliver.then_some(Duration::from_millis(30));
            s.webhooks.retry_base = Duration::from_millis(40);
            s.webhooks.timeout = Duration::from_secs(5);
            // The receiver listens on loopback, which the outbound guard allows only by name.
            s.outbound = scim_seats::outbound::Policy::parse("127.0.0.1").unwrap();
        })
        .spawn()
        .await
}

async fn feed(app: &TestApp, owner: &str, query: &str) -> Resp {
    app.api(owner, Method::GET, &format!("/events{query}"), None, &[])
        .await
}

/// Every event of the feed, paging with the cursor two at a time.
async fn whole_feed(app: &TestApp, owner: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = feed(app, owner, &format!("?limit=2&after={cursor}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let page = r.body["events"].as_array().unwrap().clone();
        if page.is_empty() {
            assert!(r.body["next_cursor"].is_null());
            return out;
        }
        cursor = r.body["next_cursor"].as_str().unwrap().to_string();
        out.extend(page);
    }
}

/// Seat traffic touching every kind but renewal: grant, queue, purchase, drain, tier change,
/// release.
async fn traffic(app: &TestApp, owner: &str) -> (String, String, String) {
    let ada = app.create_user("ada@bill.example.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = app.create_user("bob@bill.example.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cy = app.create_user("cy@bill.example.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .confirm(owner, "buy-1", json!({"add_standard": 1}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Ada (premium) cannot move to standard while both standard seats are held...
    let r = app
        .api(
            owner,
            Method::PUT,
            &format!("/members/{ada}/tier"),
            Some(json!({"tier": "standard"})),
            &[],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "no standard seat is free: {}",
        r.body
    );
    let r = app
        .patch(
            &format!("/Users/{bob}"),
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // ...and can once Bob's is released.
    let r = app
        .api(
            owner,
            Method::PUT,
            &format!("/members/{ada}/tier"),
            Some(json!({"tier": "standard"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    (ada, bob, cy)
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_feed_lists_seat_events_in_order_with_stable_ids_and_a_cursor() {
    let app = events_app(false).await;
    let owner = owner_token_for(
        &app,
        &app.org_id,
        &add_member(&app, &app.org_id, Role::Owner),
    );
    let (ada, bob, cy) = traffic(&app, &owner).await;
    let all = whole_feed(&app, &owner).await;
    assert_eq!(
        kinds(&all),
        [
            "user.seat_granted", // ada: premium
            "user.seat_granted", // bob: standard
            "user.queued",       // cy
            "seats.purchased",
            "invoice.issued",
            "user.seat_granted", // cy, from the queue
            "queue.drained",
            "user.seat_released", // bob
            "user.tier_changed",  // ada → standard
        ]
    );
    let subjects: Vec<&str> = all
        .iter()
        .map(|e| e["subject_id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(subjects[0], ada);
    assert_eq!(subjects[2], cy);
    assert_eq!(subjects[7], bob);
    assert_eq!(all[6]["data"]["activated"], json!([cy]));
    assert_eq!(all[3]["data"]["standard"], 1);
    assert_eq!(all[8]["data"]["to"], "standard");
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=9).collect::<Vec<_>>());
    let ids: HashSet<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 9);
    assert!(all[0]["occurred_at"].as_str().unwrap().ends_with('Z'));

    // Ids are stable: reading again gives the same; a seq works as a cursor too.
    let again = feed(&app, &owner, "?after=6").await;
    assert_eq!(again.body["events"][0]["id"], all[6]["id"]);
    let r = feed(
        &app,
        &owner,
        &format!("?after={}", all[8]["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(r.body["events"], json!([]));
    // Bad cursors and limits are clear errors; Admins cannot read the feed.
    let r = feed(&app, &owner, "?after=no-such-event").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("cursor"));
    let r = feed(&app, &owner, "?limit=many").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let admin = owner_token(&app, Role::Admin);
    assert_eq!(feed(&app, &admin, "").await.status, StatusCode::FORBIDDEN);
    // Another organization's feed is its own.
    let (other, other_token) = new_org(
        &app.db,
        "globex",
        Seats {
            standard: 1,
            premium: 0,
        },
    );
    app.scim_as(
        &other_token,
        Method::POST,
        "/Users",
        Some(user("g@globex.example.com")),
        &[],
    )
    .await;
    let theirs = owner_token_for(&app, &other, &add_member(&app, &other, Role::Owner));
    let r = feed(&app, &theirs, "").await;
    assert_eq!(
        kinds(r.body["events"].as_array().unwrap()),
        ["user.seat_granted"]
    );
    assert_eq!(r.body["events"][0]["seq"], 1);
    let r = feed(
        &app,
        &theirs,
        &format!("?after={}", all[0]["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "another org's event id is no cursor here"
    );
}

/// Hits de-duplicated by event id, in the order first received.
fn deduped(hits: &[Hit]) -> Vec<Value> {
    let mut seen = HashSet::new();
    hits.iter()
        .filter(|h| seen.insert(h.delivery.clone()))
        .map(|h| serde_json::from_str(&h.body).unwrap())
        .collect()
}

async fn wait_for_events(hits: &Arc<Mutex<Vec<Hit>>>, n: usize) -> Vec<Hit> {
    for _ in 0..400 {
        let h = hits.lock().unwrap().clone();
        if deduped(&h).len() >= n {
            return h;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the receiver got {:?}", deduped(&hits.lock().unwrap()));
}

fn assert_in_order_once(hits: &[Hit], feed: &[Value]) {
    for h in hits {
        assert_eq!(
            h.signature,
            scim_seats::webhooks::signature(SECRET, h.body.as_bytes()),
            "signed like the usage webhook"
        );
    }
    // Never out of order: each hit is the same event again or the next one.
    let seqs: Vec<i64> = hits
        .iter()
        .map(|h| {
            serde_json::from_str::<Value>(&h.body).unwrap()["seq"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1),
        "{seqs:?}"
    );
    let got = deduped(hits);
    assert_eq!(got.len(), feed.len());
    for (g, f) in got.iter().zip(feed) {
        assert_eq!(g["id"], f["id"]);
        assert_eq!(g["type"], f["type"]);
        assert_eq!(g["data"], f["data"]);
    }
}

#[tokio::test]
async fn events_reach_the_webhook_in_order_once_each_after_deduplication() {
    // The first two deliveries are recorded but answered 500: both are sent again.
    let (url, hits) = spawn_receiver(2).await;
    let app = events_app(true).await;
    let owner = owner_token_for(
        &app,
        &app.org_id,
        &add_member(&app, &app.org_id, Role::Owner),
    );
    let r = app
        .api(
            &owner,
            Method::PUT,
            "/settings/alerts",
            Some(json!({"free_seat_threshold": 0, "webhook_url": url, "webhook_secret": SECRET})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    traffic(&app, &owner).await;
    let all = whole_feed(&app, &owner).await;
    let got = wait_for_events(&hits, all.len()).await;
    assert!(got.len() > all.len(), "the refused deliveries came again");
    assert_in_order_once(&got, &all);
}

#[tokio::test]
async fn undelivered_events_are_sent_after_a_restart() {
    let (url, hits) = spawn_receiver(0).await;
    // A server without delivery: events pile up undelivered, as when a process stops.
    let app = events_app(false).await;
    let owner = owner_token_for(
        &app,
        &app.org_id,
        &add_member(&app, &app.org_id, Role::Owner),
    );
    app.api(
        &owner,
        Method::PUT,
        "/settings/alerts",
        Some(json!({"free_seat_threshold": 0, "webhook_url": url, "webhook_secret": SECRET})),
        &[],
    )
    .await;
    traffic(&app, &owner).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(hits.lock().unwrap().is_empty());
    let all = whole_feed(&app, &owner).await;

    // A new process on the same database picks them up, in order; later events follow.
    app.second_server(|s| {
        s.webhooks.delivery_interval = Some(Duration::from_millis(30));
    })
    .await;
    wait_for_events(&hits, all.len()).await;
    app.create_user("dee@bill.example.com").await;
    let all = whole_feed(&app, &owner).await;
    let got = wait_for_events(&hits, all.len()).await;
    assert_in_order_once(&got, &all);
    // Dee takes the premium seat Ada left.
    assert_eq!(all.last().unwrap()["type"], "user.seat_granted");
}
