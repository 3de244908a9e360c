//! Issue 20: the same answer on both backends for any input. NUL characters and oversized
//! values are refused with a SCIM error naming the attribute on every way in (each of these
//! was a PostgreSQL 500, or a value stored that broke every later filter of the tenant);
//! list pages are bounded in bytes; refusals of the request head are SCIM errors; CSV cells
//! cannot run as formulas; outbound webhooks cannot reach the inside.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use scim_seats::domain::seats::alerts::{EVENT_BELOW_THRESHOLD, EVENT_QUEUE_NONEMPTY};
use scim_seats::scim::limits::{MAX_INDEXED_BYTES, MAX_PAGE_BYTES, MAX_VALUES};

const NUL: &str = "a\u{0}b";

fn detail(r: &Resp) -> String {
    r.body["detail"].as_str().unwrap_or_default().to_string()
}

/// 400 invalidValue whose detail names `attr`.
fn assert_refused(r: &Resp, attr: &str, what: &str) {
    assert_scim_error(r, 400, Some("invalidValue"));
    assert!(detail(r).contains(attr), "{what}: {}", r.body);
}

async fn user_count(app: &TestApp) -> i64 {
    let r = app.get("/Users?count=0").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["totalResults"].as_i64().unwrap()
}

#[tokio::test]
async fn a_nul_character_is_refused_on_every_way_in_and_changes_nothing() {
    let app = TestApp::builder().spawn().await;
    let u = app.create_user("kept@acme.example.com").await;
    let id = u["id"].as_str().unwrap().to_string();
    let version = u["meta"]["version"].clone();

    // POST: an indexed attribute and one kept only in the stored resource.
    let r = app.post("/Users", user(NUL)).await;
    assert_refused(&r, "userName", "POST userName");
    let mut body = user("given@acme.example.com");
    body["name"] = json!({"givenName": NUL});
    assert_refused(&app.post("/Users", body).await, "givenName", "POST name");
    let r = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": NUL}),
        )
        .await;
    assert_refused(&r, "displayName", "POST group");

    // PUT and PATCH (a value, a value inside a path filter, an escaped NUL in the path).
    let mut body = user("kept@acme.example.com");
    body["nickName"] = json!(NUL);
    assert_refused(
        &app.put(&format!("/Users/{id}"), body).await,
        "nickName",
        "PUT",
    );
    let patch = |op: Value| json!({"schemas": [PATCH_OP], "Operations": [op]});
    let r = app
        .patch(
            &format!("/Users/{id}"),
            patch(json!({"op": "replace", "path": "name.familyName", "value": NUL})),
        )
        .await;
    assert_refused(&r, "familyName", "PATCH value");
    let r = app
        .patch(
            &format!("/Users/{id}"),
            patch(json!({"op": "replace", "value": {"displayName": NUL}})),
        )
        .await;
    assert_refused(&r, "displayName", "PATCH path-less value");
    let r = app
        .patch(
            &format!("/Users/{id}"),
            patch(
                json!({"op": "add", "path": "emails[value eq \"a\u{0}\"].type", "value": "work"}),
            ),
        )
        .await;
    assert_refused(&r, "path", "PATCH path with a NUL");
    let r = app
        .patch(
            &format!("/Users/{id}"),
            patch(
                json!({"op": "add", "path": "emails[value eq \"a\\u0000\"].type", "value": "work"}),
            ),
        )
        .await;
    assert_refused(&r, "value", "PATCH path with an escaped NUL");

    // Bulk.
    let r = app
        .post(
            "/Bulk",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                   "Operations": [{"method": "POST", "path": "/Users", "bulkId": "b1",
                                   "data": user(NUL)}]}),
        )
        .await;
    assert_refused(&r, "Operations[0].data.userName", "Bulk");

    // Filters: an escaped NUL in a string, a raw one in the query, and in /.search.
    let r = app
        .get("/Users?filter=userName%20eq%20%22a%5Cu0000b%22")
        .await;
    assert_refused(&r, "userName", "filter with an escaped NUL");
    let r = app.get("/Users?filter=userName%20eq%20%22a%00b%22").await;
    assert_refused(&r, "filter", "filter with a raw NUL");
    let r = app
        .post(
            "/Users/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter": "name.givenName eq \"a\\u0000\""}),
        )
        .await;
    assert_refused(&r, "name.givenName", ".search");
    let r = app.get("/Users?sortBy=name.given%00Name").await;
    assert_refused(&r, "sortBy", "sortBy");
    // An id in the path.
    let r = app.get("/Users/a%00b").await;
    assert_refused(&r, "path", "id");

    // Owner API bodies, invitations and query strings.
    let owner = owner_token(&app, Role::Owner);
    let r = app
        .api(
            &owner,
            Method::POST,
            "/invitations",
            Some(json!({"email": "x\u{0}@acme.example.com", "role": "member"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(detail(&r).contains("email"), "{}", r.body);
    let r = app
        .api(&owner, Method::GET, "/audit?user=a%00b", None, &[])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);

    // Nothing changed, and the tenant's filters and sorts on any attribute still work.
    assert_eq!(user_count(&app).await, 1);
    let r = app.get(&format!("/Users/{id}")).await;
    assert_eq!(r.body["meta"]["version"], version);
    let r = app
        .get("/Users?filter=name.givenName%20pr%20or%20nickName%20pr&sortBy=name.givenName")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn oversized_values_are_refused_naming_the_attribute_the_limit_itself_is_stored() {
    let app = TestApp::builder().spawn().await;
    let long = "a".repeat(3000);
    let r = app.post("/Users", user(&long)).await;
    assert_refused(&r, "userName", "userName");
    for (attr, value) in [
        ("externalId", json!(long)),
        ("emails", json!([{"value": format!("{long}@x.com")}])),
        ("nickName", json!("n".repeat(20_000))),
    ] {
        let mut body = user("big@acme.example.com");
        body[attr] = value;
        let r = app.post("/Users", body).await;
        assert_scim_error(&r, 400, Some("invalidValue"));
        let name = if attr == "emails" { "value" } else { attr };
        assert!(detail(&r).contains(name), "{attr}: {}", r.body);
    }
    let r = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": long}),
        )
        .await;
    assert_refused(&r, "displayName", "group displayName");
    // Too many values of one attribute.
    let mut body = user("many@acme.example.com");
    body["emails"] = Value::Array(
        (0..=MAX_VALUES)
            .map(|i| json!({"value": format!("e{i}@x.com")}))
            .collect(),
    );
    assert_refused(&app.post("/Users", body).await, "emails", "emails count");
    // A whole resource over 64 KiB, each attribute within its own limit.
    let mut body = user("huge@acme.example.com");
    let part = "p".repeat(15_000);
    body[ENTERPRISE] = json!({"department": part, "division": part, "organization": part,
                              "costCenter": part, "employeeNumber": "1"});
    body["title"] = json!(part);
    assert_refused(&app.post("/Users", body).await, "resource", "resource size");

    // At the limit: accepted and found again, on both backends (the PostgreSQL index).
    let at_limit = format!("{}@x.com", "l".repeat(MAX_INDEXED_BYTES - 6));
    let mut body = user(&at_limit);
    body["externalId"] = json!("e".repeat(MAX_INDEXED_BYTES));
    body["emails"] = json!([{"value": at_limit, "type": "work"}]);
    let r = app.post("/Users", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .get(&format!("/Users?filter=userName%20eq%20%22{at_limit}%22"))
        .await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    // PATCH past the limit: refused, the user unchanged.
    let r = app
        .patch(
            &format!("/Users/{id}"),
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "replace", "path": "userName", "value": long}]}),
        )
        .await;
    assert_refused(&r, "userName", "PATCH userName");
    assert_eq!(user_count(&app).await, 1);
}

#[tokio::test]
async fn a_list_page_stops_at_its_byte_limit_and_paging_still_finds_everyone() {
    let app = TestApp::builder().spawn().await;
    // Users of ~60 KiB each: a page of 200 would be 12 MiB.
    let part = "x".repeat(15_000);
    let n = MAX_PAGE_BYTES / 60_000 + 6;
    for i in 0..n {
        let mut body = user(&format!("big{i}@acme.example.com"));
        body[ENTERPRISE] = json!({"department": part, "division": part,
                                  "organization": part, "costCenter": part});
        let r = app.post("/Users", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let mut seen = std::collections::HashSet::new();
    let mut start = 1;
    let mut pages = 0;
    while seen.len() < n {
        let raw = app
            .client
            .get(format!("{}/Users?count=200&startIndex={start}", app.base))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        let text = raw.text().await.unwrap();
        assert!(
            text.len() <= MAX_PAGE_BYTES + 80_000,
            "a page of {} bytes",
            text.len()
        );
        let page: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(page["totalResults"], n as i64);
        let items = page["itemsPerPage"].as_u64().unwrap() as usize;
        let resources = page["Resources"].as_array().unwrap();
        assert_eq!(items, resources.len());
        assert!(items >= 1 && items < n, "{items} items of {n}");
        for r in resources {
            assert!(seen.insert(r["id"].as_str().unwrap().to_string()));
        }
        start += items;
        pages += 1;
        assert!(pages < 10);
    }
    assert!(pages >= 2);
}

#[tokio::test]
async fn refusals_of_the_request_head_are_scim_errors() {
    let app = TestApp::builder().spawn().await;
    let u = app.create_user("head@acme.example.com").await;
    let id = u["id"].as_str().unwrap().to_string();
    // Invalid UTF-8 in the query: not read as U+FFFD (which matched nothing: 200, empty).
    let r = app.get("/Users?filter=userName%20eq%20%22%FF%22").await;
    assert_scim_error(&r, 400, None);
    assert!(detail(&r).contains("filter"), "{}", r.body);
    // In the path.
    assert_scim_error(&app.get("/Users/%FF%FE").await, 400, None);
    // An If-Match that is not visible ASCII was ignored, and the PUT went through.
    let r = app
        .client
        .put(format!("{}/Users/{id}", app.base))
        .bearer_auth(&app.token)
        .header("content-type", "application/scim+json")
        .header(
            "if-match",
            reqwest::header::HeaderValue::from_bytes(b"W/\"1\xff\"").unwrap(),
        )
        .body(user("changed@acme.example.com").to_string())
        .send()
        .await
        .unwrap();
    let r = into_resp(r).await;
    assert_scim_error(&r, 400, None);
    assert!(detail(&r).contains("if-match"), "{}", r.body);
    let r = app.get(&format!("/Users/{id}")).await;
    assert_eq!(r.body["userName"], "head@acme.example.com");
    // A head over our limit, still under the HTTP codec's: 431 as a SCIM error.
    let mut req = app
        .client
        .get(format!("{}/Users", app.base))
        .bearer_auth(&app.token);
    for i in 0..70 {
        req = req.header(format!("x-filler-{i}"), "v");
    }
    let r = into_resp(req.send().await.unwrap()).await;
    assert_scim_error(&r, 431, None);
}

/// Sends `head` as it is on a new connection and reads the answer until the server closes
/// it: (status line, headers, body).
async fn raw_exchange(app: &TestApp, head: &[u8]) -> (String, String, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.addr.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(host).await.expect("connect");
    conn.write_all(head).await.expect("send");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .expect("read");
    let text = String::from_utf8_lossy(&answer).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text:?}"));
    (status.to_string(), headers.to_ascii_lowercase(), body)
}

#[tokio::test]
async fn requests_the_http_codec_refuses_get_a_scim_error_too() {
    let app = TestApp::builder().spawn().await;
    let u = app.create_user("codec@acme.example.com").await;
    let id = u["id"].as_str().unwrap().to_string();
    // A control character in If-Match: actix-http's parser refuses the head itself.
    let put = format!(
        "PUT /scim/v2/Users/{id} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {}\r\n\
         if-match: W/\"1\x01\"\r\ncontent-type: application/scim+json\r\n\
         content-length: 2\r\n\r\n{{}}",
        app.addr.trim_start_matches("http://"),
        app.token
    );
    let (status, headers, body) = raw_exchange(&app, put.as_bytes()).await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert!(
        headers.contains("content-type: application/scim+json"),
        "{headers}"
    );
    assert_eq!(body["status"], "400", "{body}");
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    // More headers than the codec parses at all (96).
    let mut get = format!(
        "GET /scim/v2/Users HTTP/1.1\r\nhost: {}\r\n",
        app.addr.trim_start_matches("http://")
    );
    for i in 0..120 {
        get.push_str(&format!("x-filler-{i}: v\r\n"));
    }
    get.push_str("\r\n");
    let (status, headers, body) = raw_exchange(&app, get.as_bytes()).await;
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
    assert!(
        headers.contains("content-type: application/scim+json"),
        "{headers}"
    );
    assert_eq!(body["status"], "431", "{body}");
    // Nothing changed, and the server goes on answering.
    let r = app.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["userName"], "codec@acme.example.com");
}

#[tokio::test]
async fn pending_report_csv_cells_cannot_run_as_formulas() {
    let app = TestApp::builder().seats(0, 0).spawn().await;
    for (name, display) in [
        ("f1@acme.example.com", "=HYPERLINK(\"http://evil\",\"x\")"),
        ("f2@acme.example.com", "+1+1"),
        ("f3@acme.example.com", "@SUM(A1)"),
        ("f4@acme.example.com", "-2+3"),
    ] {
        let mut body = user(name);
        body["displayName"] = json!(display);
        body["externalId"] = json!(format!("\t{name}"));
        assert_eq!(app.post("/Users", body).await.status, StatusCode::CREATED);
    }
    let admin = owner_token(&app, Role::Admin);
    let r = raw_get(&app, "/api/v1/reports/pending.csv", Some(&admin), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut rows = 0;
    for rec in reader.records() {
        let rec = rec.unwrap();
        rows += 1;
        for cell in rec.iter() {
            let formula = cell.starts_with(['=', '+', '@', '\t', '\r'])
                || (cell.starts_with('-') && cell.parse::<f64>().is_err());
            assert!(!formula, "cell {cell:?} in {text}");
        }
        assert!(rec.iter().any(|c| c.starts_with("'")), "{rec:?}");
    }
    assert_eq!(rows, 4);
}

/// A receiver on 127.0.0.1 that counts requests and answers `status` (with a `Location`
/// to `redirect` when given).
async fn receiver(status: u16, redirect: Option<String>) -> (String, Arc<Mutex<usize>>) {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let hits: Arc<Mutex<usize>> = Arc::default();
    let shared = hits.clone();
    let server = HttpServer::new(move || {
        let (hits, redirect) = (shared.clone(), redirect.clone());
        App::new().default_service(web::to(move |req: actix_web::HttpRequest| {
            let (hits, redirect) = (hits.clone(), redirect.clone());
            // Seat events share the organization's webhook (tests/api/events.rs covers them);
            // these counts are the usage alert's deliveries.
            let usage_alert = req
                .headers()
                .get("x-scim-seats-event")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|e| e == EVENT_BELOW_THRESHOLD || e == EVENT_QUEUE_NONEMPTY);
            async move {
                if usage_alert {
                    *hits.lock().unwrap() += 1;
                }
                let mut r =
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
                if let Some(to) = redirect {
                    r.insert_header(("location", to));
                }
                r.finish()
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}/hook"), hits)
}

const SECRET: &str = "a-webhook-secret-of-some-length";

/// A server that delivers no webhooks itself (the tests start the delivering ones).
async fn quiet_app(standard: i64) -> TestApp {
    TestApp::builder()
        .seats(standard, 0)
        .settings(|s| {
            s.webhooks.delivery_interval = None;
            s.mail.delivery_interval = None;
            s.billing.renewal_interval = None;
        })
        .spawn()
        .await
}

#[tokio::test]
async fn webhook_urls_inside_the_network_are_refused_when_saved() {
    let app = TestApp::builder().seats(5, 0).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    for url in [
        "http://127.0.0.1:5432/",
        "http://localhost/",
        "http://0.0.0.0/",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00:ec2::254]/",
        "https://user:pass@hooks.example.com/",
        "ftp://hooks.example.com/",
        "file:///etc/passwd",
    ] {
        let r = app
            .api(
                &owner,
                Method::PUT,
                "/settings/alerts",
                Some(json!({"free_seat_threshold": 1, "webhook_url": url,
                            "webhook_secret": SECRET})),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.body);
    }
    let r = app
        .api(&owner, Method::GET, "/settings/alerts", None, &[])
        .await;
    assert_eq!(r.body["webhook_url"], Value::Null, "{}", r.body);
    // A public host is accepted (no DNS lookup at save time).
    let r = app
        .api(
            &owner,
            Method::PUT,
            "/settings/alerts",
            Some(
                json!({"free_seat_threshold": 1, "webhook_url": "https://hooks.example.com/seats",
                        "webhook_secret": SECRET}),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn deliveries_check_the_destination_again_and_follow_no_redirect() {
    // The URL is saved while the operator allows loopback; a server without that
    // allowance must not deliver to it.
    let mut app = quiet_app(1).await;
    app.settings.outbound = scim_seats::outbound::Policy::parse("127.0.0.1").unwrap();
    let saving = app
        .second_server(|s| s.webhooks.delivery_interval = None)
        .await;
    let (inside, inside_hits) = receiver(204, None).await;
    let owner = owner_token(&app, Role::Owner);
    let r = call(
        &app.client,
        &saving,
        Some(&owner),
        Method::PUT,
        "/api/v1/settings/alerts",
        Some(json!({"free_seat_threshold": 1, "webhook_url": inside, "webhook_secret": SECRET})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let _strict = app
        .second_server(|s| {
            s.outbound = scim_seats::outbound::Policy::strict();
            s.webhooks.delivery_interval = Some(Duration::from_millis(30));
            s.webhooks.retry_base = Duration::from_secs(60);
        })
        .await;
    app.create_user("takes-the-seat@acme.example.com").await; // 1 → 0 free: an alert
    let mut failed = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        if let Some(row) = outbox(&app).into_iter().find(|r| r.last_error.is_some()) {
            failed = Some(row);
            break;
        }
    }
    let row = failed.expect("the delivery was attempted and failed");
    assert!(
        row.last_error.as_deref().unwrap_or("").contains("loopback"),
        "{:?}",
        row.last_error
    );
    assert!(row.delivered_at.is_none());
    assert_eq!(*inside_hits.lock().unwrap(), 0);

    // With loopback allowed, a redirect elsewhere is not followed.
    let app2 = quiet_app(1).await;
    let (target, target_hits) = receiver(204, None).await;
    let (redirecting, redirect_hits) = receiver(307, Some(target)).await;
    let open = app2
        .second_server(|s| {
            s.outbound = scim_seats::outbound::Policy::parse("127.0.0.1").unwrap();
            s.webhooks.delivery_interval = Some(Duration::from_millis(30));
            s.webhooks.retry_base = Duration::from_secs(60);
        })
        .await;
    let owner = owner_token(&app2, Role::Owner);
    let r = call(
        &app2.client,
        &open,
        Some(&owner),
        Method::PUT,
        "/api/v1/settings/alerts",
        Some(
            json!({"free_seat_threshold": 1, "webhook_url": redirecting, "webhook_secret": SECRET}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app2.create_user("seat@acme.example.com").await;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        if *redirect_hits.lock().unwrap() > 0 {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(*redirect_hits.lock().unwrap(), 1);
    assert_eq!(*target_hits.lock().unwrap(), 0, "a redirect was followed");
}

/// The server's real log output (the binary, its stderr) carries no value of a request
/// whose filter was refused, but still the error and its position.
#[tokio::test]
async fn a_refused_filter_logs_its_position_not_the_email_it_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::fresh();
    let url = db.url().to_string();
    let bin = env!("CARGO_BIN_EXE_scim-seats");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .args(args)
            .args(["--database-url", &url])
            .output()
            .expect("run cli");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    run(&[
        "org",
        "create",
        "logs",
        "--name",
        "Logs",
        "--standard-seats",
        "1",
    ]);
    let token = run(&["token", "create", "--org", "logs"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = dir.path().join("server.log");
    let mut server = std::process::Command::new(bin)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--database-url", &url])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("start server");
    let base = format!("http://127.0.0.1:{port}");
    let client = http_client();
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut statuses = Vec::new();
    for filter in [
        "active%20eq%20%22carol.private%40example.com%22",
        "userName%20eq%20carol.private%40example.com",
        "emails%5Bvalue%20eq%20%22carol.private%40example.com%22%5D%20xx",
        "nosuch%20eq%20%22carol.private%40example.com%22",
    ] {
        let r = client
            .get(format!("{base}/scim/v2/Users?filter={filter}"))
            .bearer_auth(token.trim())
            .send()
            .await;
        statuses.push(r.map(|r| r.status().as_u16()).unwrap_or(0));
    }
    let mut body = user("carol.private@example.com");
    body["active"] = json!("perhaps");
    let r = client
        .post(format!("{base}/scim/v2/Users"))
        .bearer_auth(token.trim())
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await;
    statuses.push(r.map(|r| r.status().as_u16()).unwrap_or(0));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(statuses, [400, 400, 400, 400, 400]);
    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(text.contains("request refused"), "{text}");
    assert!(text.contains("position"), "the position stays: {text}");
    assert!(
        !text.contains("carol.private"),
        "an email reached the log: {text}"
    );
    drop(db);
}

/// A filter of 120 `co` terms (239 nodes, under the 256 cap).
fn costly_filter() -> String {
    let terms: Vec<String> = (0..120)
        .map(|i| format!("displayName co \"zz{i}q\""))
        .collect();
    terms.join(" or ")
}

#[tokio::test]
async fn a_read_over_its_time_budget_is_400_too_many_and_point_lookups_go_on() {
    let app = TestApp::builder()
        .seats(10, 0)
        .settings(|s| {
            s.database.budget = Some(Duration::from_millis(50));
            s.scim.searches_per_org = 1;
        })
        .spawn()
        .await;
    seed_pending(&app, &app.org_id, 20_000);
    let started = std::time::Instant::now();
    let r = app
        .post(
            "/Users/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter": costly_filter(), "count": 10}),
        )
        .await;
    assert_scim_error(&r, 400, Some("tooMany"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The root search and the report run under the same budget.
    let r = app
        .post(
            "/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter": costly_filter()}),
        )
        .await;
    assert_scim_error(&r, 400, Some("tooMany"));
    // A point lookup is not a costly read: it answers.
    let r = app
        .get("/Users?filter=userName%20eq%20%22bulk-77%40bulk.example.com%22")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["totalResults"], 1);
}

#[tokio::test]
async fn one_organizations_costly_searches_wait_for_its_own_turns() {
    let app = TestApp::builder()
        .seats(10, 0)
        .settings(|s| {
            s.database.budget = Some(Duration::from_millis(300));
            s.scim.searches_per_org = 1;
        })
        .spawn()
        .await;
    seed_pending(&app, &app.org_id, 20_000);
    let (_, other_token) = new_org(
        &app.db,
        "globex",
        Seats {
            standard: 5,
            premium: 0,
        },
    );
    let other = app
        .scim_as(
            &other_token,
            Method::POST,
            "/Users",
            Some(user("someone@globex.example.com")),
            &[],
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED);
    let costly = (0..6).map(|_| {
        app.scim(
            Method::POST,
            "/Users/.search",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "filter": costly_filter()}),
            ),
        )
    });
    let lookups = async {
        let mut out = Vec::new();
        for _ in 0..5 {
            let r = app
                .scim_as(
                    &other_token,
                    Method::GET,
                    "/Users?filter=userName%20eq%20%22someone%40globex.example.com%22",
                    None,
                    &[],
                )
                .await;
            out.push((r.status, r.body["totalResults"].clone()));
        }
        out
    };
    let (costly, lookups) = tokio::join!(futures_util::future::join_all(costly), lookups);
    for r in &costly {
        match r.status.as_u16() {
            400 => assert_scim_error(r, 400, Some("tooMany")),
            429 => {
                assert_scim_error(r, 429, None);
                assert!(r.header("retry-after").is_some());
            }
            200 => {}
            other => panic!("{other}: {}", r.body),
        }
    }
    assert!(
        costly.iter().any(|r| r.status.as_u16() == 429),
        "with one turn and a 300 ms wait, six costly searches cannot all run"
    );
    for (status, total) in lookups {
        assert_eq!(status, StatusCode::OK);
        assert_eq!(total, 1);
    }
}

/// What schemathesis needs from the document (`.ci/openapi-fuzz`): request bodies, the
/// Idempotency-Key header, a response description with content for every route.
#[tokio::test]
async fn the_openapi_document_describes_bodies_headers_and_responses_of_every_route() {
    let app = TestApp::builder().spawn().await;
    let r = call(
        &app.client,
        &app.addr,
        None,
        Method::GET,
        "/api/v1/openapi.json",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.body;
    let order = &doc["components"]["schemas"]["OrderBody"]["properties"];
    for field in ["add_standard", "add_premium", "upgrade_standard_to_premium"] {
        assert!(
            order.get(field).is_some(),
            "OrderBody lacks {field}: {order}"
        );
    }
    let confirm = &doc["paths"]["/api/v1/seats/confirm"]["post"];
    assert!(confirm["requestBody"].is_object(), "{confirm}");
    let header = confirm["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "Idempotency-Key"))
        .expect("Idempotency-Key parameter");
    assert_eq!(header["in"], "header");
    assert_eq!(header["required"], true);
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let responses = op["responses"].as_object().unwrap();
            let (status, ok) = responses
                .iter()
                .find(|(s, _)| s.starts_with('2'))
                .unwrap_or_else(|| panic!("{method} {path}: no success response"));
            if status != "204" {
                assert!(
                    ok["content"].is_object(),
                    "{method} {path}: success without content"
                );
            }
        }
    }
    assert!(operations >= 40, "{operations}");
    for (path, method) in [
        ("/api/v1/seats/preview", "post"),
        ("/api/v1/settings/alerts", "put"),
        ("/api/v1/invitations", "post"),
        ("/api/v1/sso", "put"),
    ] {
        assert!(
            doc["paths"][path][method]["requestBody"].is_object(),
            "{method} {path}"
        );
    }
}

/// A page of groups stops before the group whose members would pass the server's member
/// budget (the first group always stays), so listing big groups never loads them all at once;
/// the client reads on from `startIndex + itemsPerPage` and misses nothing.
#[tokio::test]
async fn group_pages_stop_at_the_member_budget_and_page_on_without_gaps() {
    let app = TestApp::builder()
        .seats(10, 0)
        .settings(|s| s.scim.max_page_members = 3)
        .spawn()
        .await;
    let mut ids = Vec::new();
    for u in ["a", "b", "c"] {
        let user = app.create_user(&format!("{u}@acme.example.com")).await;
        ids.push(user["id"].as_str().unwrap().to_string());
    }
    create_group_with(&app, "g1", &ids[0..2]).await;
    create_group_with(&app, "g2", &ids[1..3]).await;
    create_group_with(&app, "g3", &[]).await;

    let names = |r: &Resp| -> Vec<String> {
        r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["displayName"].as_str().unwrap().to_string())
            .collect()
    };
    let first = app.get("/Groups?sortBy=displayName&count=10").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(names(&first), ["g1"], "g2's members would pass the budget");
    assert_eq!(first.body["itemsPerPage"], 1);
    assert_eq!(first.body["totalResults"], 3);
    let next = app
        .get("/Groups?sortBy=displayName&count=10&startIndex=2")
        .await;
    assert_eq!(names(&next), ["g2", "g3"]);
    // Without members there is nothing to bound: one page.
    let bare = app
        .get("/Groups?sortBy=displayName&count=10&excludedAttributes=members")
        .await;
    assert_eq!(names(&bare), ["g1", "g2", "g3"]);
    // The root search cuts at the same place, after the users.
    let root = app
        .post(
            "/.search",
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "sortBy": "displayName",
                "count": 10
            }),
        )
        .await;
    assert_eq!(root.status, StatusCode::OK, "{}", root.body);
    let kinds: Vec<&str> = root.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "Group").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(root.body["totalResults"], 6);
}

/// Holds the organization's write lock (its row on PostgreSQL, the database's write lock on
/// SQLite) for `hold`, from another connection, as a long transaction of another process
/// would; returns once the lock is held.
fn hold_the_write_lock(app: &TestApp, hold: Duration) -> std::thread::JoinHandle<()> {
    let (db, org) = (app.db.clone(), app.org_id.clone());
    let (held, is_held) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        db.write_sync(|c| {
            scim_seats::domain::seats::inventory::lock_org(c, &org)?;
            let _ = held.send(());
            std::thread::sleep(hold);
            Ok(())
        })
        .expect("holding the lock");
    });
    is_held.recv().expect("the lock is held");
    holder
}

#[tokio::test]
async fn a_write_over_its_time_budget_is_429_to_send_again_and_changes_nothing() {
    let app = TestApp::builder()
        .seats(10, 0)
        .settings(|s| s.database.budget = Some(Duration::from_millis(300)))
        .spawn()
        .await;
    let holder = hold_the_write_lock(&app, Duration::from_millis(1500));
    let r = app.post("/Users", user("ada@acme.example.com")).await;
    assert_scim_error(&r, 429, None);
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    holder.join().expect("the holder");
    // Nothing was written, and the same request, sent again, goes through.
    let r = app
        .get("/Users?filter=userName%20eq%20%22ada%40acme.example.com%22")
        .await;
    assert_eq!(r.body["totalResults"], 0, "{}", r.body);
    let r = app.post("/Users", user("ada@acme.example.com")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}
