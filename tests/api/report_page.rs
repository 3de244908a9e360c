//! The old report page address: the report is a console page now (`/console/pending`,
//! covered in console_*.rs). Browsers are redirected there; the `?token=` log-in is gone
//! (no cookie is ever set from an address); programs keep the JSON and CSV with a bearer.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn the_old_report_address_sends_browsers_to_the_console_and_never_stores_a_token() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let admin = owner_token(&app, Role::Admin);
    for path in [
        "/reports".to_string(),
        format!("/reports?token={admin}"),
        "/reports?token=not-a-jwt".to_string(),
    ] {
        let r = raw_get(&app, &path, None, &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()["location"], "/console/pending", "{path}");
        assert!(r.headers().get("set-cookie").is_none(), "{path}");
    }
    // Without a session the console asks to sign in and comes back to the report.
    let r = raw_get(&app, "/console/pending", None, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/signin?next=/console/pending");

    // The API keeps the report for bearer tokens, and only for them.
    for path in ["/api/v1/reports/pending", "/api/v1/reports/pending.csv"] {
        let ok = raw_get(&app, path, Some(&admin), &[]).await;
        assert_eq!(ok.status(), StatusCode::OK, "{path}");
        let cookie = format!("scim_seats_report={admin}");
        let refused = raw_get(&app, path, None, &[("cookie", &cookie)]).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let member = owner_token(&app, Role::Member);
    let r = raw_get(&app, "/api/v1/reports/pending.csv", Some(&member), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
