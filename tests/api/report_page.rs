//! The owner's report page: log-in by token then cookie, escaping, and a real headless
//! browser (Debian's chromium) rendering it.

use std::path::PathBuf;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

async fn page_app() -> TestApp {
    spawn_billing_app(
        Seats {
            standard: 2,
            premium: 0,
        },
        contract_from(date(2026, 1, 1), true),
        date(2026, 3, 1),
        |_| {},
    )
    .await
}

fn cookie_of(resp: &reqwest::Response) -> String {
    let set = resp
        .headers()
        .get("set-cookie")
        .expect("set-cookie")
        .to_str()
        .unwrap()
        .to_string();
    set.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn token_in_the_url_becomes_a_strict_http_only_cookie_then_a_redirect() {
    let app = page_app().await;
    let admin = owner_token(&app, Role::Admin);
    let resp = raw_get(&app, &format!("/reports?token={admin}"), None, &[]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/reports");
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.starts_with("scim_seats_report="), "{set}");
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    assert!(set.contains("Path=/"), "{set}");
    let cookie = cookie_of(&resp);

    let page = raw_get(&app, "/reports", None, &[("cookie", &cookie)]).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.headers()["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    // The cookie also opens the CSV the page links to…
    let csv = raw_get(
        &app,
        "/api/v1/reports/pending.csv",
        None,
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(csv.status(), StatusCode::OK);
    // …and nothing else.
    for path in [
        "/api/v1/reports/pending",
        "/api/v1/reports/usage",
        "/api/v1/contract",
    ] {
        let r = raw_get(&app, path, None, &[("cookie", &cookie)]).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // A bad token gets no cookie; no credentials at all get a page saying how to log in.
    let bad = raw_get(&app, "/reports?token=not-a-jwt", None, &[]).await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(bad.headers().get("set-cookie").is_none());
    let none = raw_get(&app, "/reports", None, &[]).await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert!(none.text().await.unwrap().contains("/reports?token="));
    // Members may not see it.
    let member = owner_token(&app, Role::Member);
    let r = raw_get(&app, "/reports", Some(&member), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn user_data_is_escaped_on_the_page() {
    let app = page_app().await;
    app.create_user("seated-1").await;
    app.create_user("seated-2").await;
    let r = app
        .post(
            "/Users",
            json!({"schemas": [CORE_USER], "userName": "<script>alert(1)</script>",
                   "displayName": "<img src=x onerror=alert(2)>", "active": true,
                   "emails": [{"value": "\"quoted\"@bill.example.com", "primary": true}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let admin = owner_token(&app, Role::Admin);
    let resp = raw_get(&app, "/reports", Some(&admin), &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    let html = resp.text().await.unwrap();
    assert!(
        !html.contains("<script>alert"),
        "raw script tag on the page"
    );
    assert!(!html.contains("<img src=x"), "raw img tag on the page");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("&quot;quoted&quot;@bill.example.com"));
    assert_eq!(html.matches("<script").count(), 1, "only our own script");
}

/// Debian's chromium, or why not.
fn chromium() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/chromium");
    p.exists().then_some(p)
}

fn run_chromium(bin: &PathBuf, args: &[String]) -> std::process::Output {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(args);
    let out = cmd.output().expect("run chromium");
    drop(profile);
    out
}

#[tokio::test]
async fn report_page_renders_in_headless_chromium() {
    let Some(bin) = chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("/usr/bin/chromium is missing; CI must install it (.ci/install-chromium)");
        }
        eprintln!(
            "SKIPPED report_page_renders_in_headless_chromium: /usr/bin/chromium is not \
             installed (run .ci/install-chromium)"
        );
        return;
    };
    let app = page_app().await;
    app.create_user("seated-1").await;
    app.create_user("seated-2").await;
    let people = [
        ("ada", "Ada Lovelace", "ada@bill.example.com"),
        ("grace", "Grace Hopper", "grace@bill.example.com"),
        ("zoe", "Zoë Ünïcödé", "zoe@bill.example.com"),
        (
            "evil",
            "<script>document.title='pwned'</script>",
            "evil@bill.example.com",
        ),
    ];
    for (u, name, email) in people {
        let r = app
            .post(
                "/Users",
                json!({"schemas": [CORE_USER], "userName": u, "displayName": name,
                       "externalId": format!("okta-{u}"), "active": true,
                       "emails": [{"value": email, "primary": true}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let grace = app
        .get("/Users?filter=userName%20eq%20%22grace%22")
        .await
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let group = create_group_with(&app, "Compiler Team", &[grace]).await;
    set_group_tier(&app, &group, scim_seats::domain::Tier::Premium);
    let owner = owner_token(&app, Role::Owner);
    let url = format!("{}/reports?token={owner}", app.addr);

    let dom_args = vec![
        "--virtual-time-budget=3000".to_string(),
        "--dump-dom".to_string(),
        url.clone(),
    ];
    let b = bin.clone();
    let out = tokio::task::spawn_blocking(move || run_chromium(&b, &dom_args))
        .await
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success() && dom.contains("<table id=\"pending\""),
        "chromium failed: {}\nstdout: {dom}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (_, name, email) in &people[..3] {
        assert!(dom.contains(name), "{name} missing from the rendered page");
        assert!(
            dom.contains(email),
            "{email} missing from the rendered page"
        );
    }
    // The injected script never ran: the title is ours, and the text shows as text.
    assert!(dom.contains("<title>Seats and pending users"), "{dom}");
    assert!(!dom.contains("pwned</title>"));
    assert!(dom.contains("&lt;script&gt;document.title"));
    // 3 standard × 600 × 10/12 + 1 premium (Grace's group) × 1,200 × 10/12 = 2,500.00 today.
    assert!(
        dom.contains("id=\"quote-total\">2500.00 USD"),
        "quote missing"
    );
    assert!(dom.contains("3 standard and 1 premium"));
    assert!(dom.contains("Compiler Team"));
    assert!(dom.contains("<svg id=\"usage-chart\""));
    assert!(dom.contains("href=\"/api/v1/reports/pending.csv\""));
    // Our script ran (it sets nothing visible until used, but the table is sortable).
    assert!(dom.contains("id=\"shown\">4<"));

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    let png = dir.join("report-page.png");
    let _ = std::fs::remove_file(&png);
    let shot_args = vec![
        format!("--screenshot={}", png.display()),
        "--window-size=1280,1600".to_string(),
        "--virtual-time-budget=3000".to_string(),
        url,
    ];
    let out = tokio::task::spawn_blocking(move || run_chromium(&bin, &shot_args))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
    assert!(bytes.len() > 20_000, "suspiciously small screenshot");
}
