//! Console actions over plain HTTP (the journeys in a browser are in console_billing.rs and
//! console_members.rs): role changes and the transfer of primary ownership, invitations
//! re-sent and voided, removal, an expired contract, and bad input, which gets a readable
//! page and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::console_support::{scim_user, seat_status};
use crate::helpers::*;

/// A browser session for an existing member, started on the server as sign-in would.
struct Session {
    addr: String,
    csrf: String,
    client: reqwest::Client,
}

impl Session {
    fn start(app: &TestApp, org_id: &str, member_id: &str) -> Session {
        let (org, id) = (org_id.to_string(), member_id.to_string());
        let started = app
            .db
            .write_sync(move |c| {
                let m = scim_seats::domain::members::find(c, &org, &id)?.expect("member");
                scim_seats::domain::members::web_sessions::start(
                    c,
                    &m,
                    scim_seats::store::now(),
                    chrono::Duration::hours(1),
                )
            })
            .expect("session");
        // The browser's cookie jar: the session cookie, then whatever the server sets.
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let url: reqwest::Url = app.addr.parse().expect("url");
        jar.add_cookie_str(
            &format!("scim_seats_session={}; Path=/", started.secret),
            &url,
        );
        Session {
            addr: app.addr.clone(),
            csrf: started.csrf_token,
            client: reqwest::Client::builder()
                .cookie_provider(jar)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.addr))
            .send()
            .await
            .expect("get");
        let status = r.status();
        (status, r.text().await.expect("body"))
    }

    /// POST a form with the session's CSRF token; the status and the Location or body.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let mut form: Vec<(&str, &str)> = form.to_vec();
        form.push(("csrf", &self.csrf));
        let r = self
            .client
            .post(format!("{}{path}", self.addr))
            .form(&form)
            .send()
            .await
            .expect("post");
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap_or_default().to_string());
        let body = r.text().await.expect("body");
        (status, location.unwrap_or(body))
    }
}

fn role_of(app: &TestApp, id: &str) -> Role {
    let (org, id) = (app.org_id.clone(), id.to_string());
    app.db
        .read_sync(move |c| scim_seats::domain::members::find(c, &org, &id))
        .expect("member")
        .expect("exists")
        .role
}

#[tokio::test]
async fn owners_change_roles_and_the_primary_owner_hands_over() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let primary = add_member(&app, &app.org_id, Role::PrimaryOwner);
    let amy = add_member_email(&app, "amy@acme.example.com", Role::Admin);
    let p = Session::start(&app, &app.org_id, &primary);

    let (status, page) = p.get(&format!("/console/members/{amy}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Change role") && page.contains("Make Primary Owner"));

    let (status, to) = p
        .post(
            &format!("/console/members/{amy}/role"),
            &[("role", "owner")],
        )
        .await;
    assert_eq!(
        (status, to.as_str()),
        (
            StatusCode::SEE_OTHER,
            format!("/console/members/{amy}").as_str()
        )
    );
    assert_eq!(role_of(&app, &amy), Role::Owner);
    let (_, page) = p.get(&format!("/console/members/{amy}")).await;
    assert!(
        page.contains("amy@acme.example.com is now Owner."),
        "the flash: {page}"
    );

    // Never to Primary Owner by a role change.
    let (status, page) = p
        .post(
            &format!("/console/members/{amy}/role"),
            &[("role", "primary_owner")],
        )
        .await;
    assert!(status.is_client_error(), "{status} {page}");
    assert!(page.contains("Primary Owner"), "{page}");
    assert_eq!(role_of(&app, &amy), Role::Owner);

    // An Owner may not transfer; the Primary Owner may.
    let a = Session::start(&app, &app.org_id, &amy);
    let (status, _) = a
        .post(&format!("/console/members/{primary}/transfer"), &[])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = p
        .post(&format!("/console/members/{amy}/transfer"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(role_of(&app, &amy), Role::PrimaryOwner);
    assert_eq!(role_of(&app, &primary), Role::Owner);
    // The change acts on the next request: the former Primary Owner no longer sees the button.
    let (_, page) = p.get(&format!("/console/members/{amy}")).await;
    assert!(!page.contains("Make Primary Owner"));
    assert!(!page.contains("Change role"), "never from Primary Owner");
}

#[tokio::test]
async fn invitations_are_resent_and_voided_and_a_removed_members_seat_goes_to_the_queue() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let owner = add_member(&app, &app.org_id, Role::Owner);
    let s = Session::start(&app, &app.org_id, &owner);
    let form = [("email", "ivy@acme.example.com"), ("role", "admin")];
    assert_eq!(
        s.post("/console/members/invite", &form).await.0,
        StatusCode::SEE_OTHER
    );
    let first = latest_invitation_token(&app, "ivy@acme.example.com");
    assert_eq!(
        s.post("/console/members/invite", &form).await.0,
        StatusCode::SEE_OTHER
    );
    let second = latest_invitation_token(&app, "ivy@acme.example.com");
    assert_ne!(first, second);
    let (_, page) = s.get("/console/members").await;
    assert!(
        page.contains("The earlier invitation no longer works."),
        "{page}"
    );
    assert!(page.contains("ivy@acme.example.com"), "{page}");
    let old = raw_get(
        &app,
        &format!("/invitations/accept?token={first}"),
        None,
        &[],
    )
    .await;
    assert_eq!(old.status(), StatusCode::GONE);

    let token = owner_token(&app, Role::Owner);
    let list = app
        .api(
            &token,
            Method::GET,
            "/invitations?status=pending",
            None,
            &[],
        )
        .await;
    let id = list.body["invitations"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (status, to) = s
        .post(&format!("/console/invitations/{id}/void"), &[])
        .await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/console/members")
    );
    let voided = raw_get(
        &app,
        &format!("/invitations/accept?token={second}"),
        None,
        &[],
    )
    .await;
    assert_eq!(voided.status(), StatusCode::GONE);

    // Remove a seated member: the head of the queue gets the seat at once.
    let kim_account = scim_user(&app, "kim@acme.example.com", "Kim Kay").await;
    let kim = add_member_email(&app, "kim@acme.example.com", Role::Member);
    let lou = scim_user(&app, "lou@acme.example.com", "Lou Lane").await;
    assert_eq!(seat_status(&app, &lou).await, "pending");
    let (status, _) = s.post(&format!("/console/members/{kim}/remove"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(seat_status(&app, &lou).await, "active");
    assert_ne!(seat_status(&app, &kim_account).await, "active");
    app.assert_seat_invariants();
}

#[tokio::test]
async fn bad_input_gets_a_readable_page_and_changes_nothing() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let owner = add_member(&app, &app.org_id, Role::Owner);
    let bob = add_member_email(&app, "bob@acme.example.com", Role::Member);
    let s = Session::start(&app, &app.org_id, &owner);
    let before = (app.pools(), app.invoice_count("seat_change"));
    for (path, status, says) in [
        ("/console/members?role=bogus", 400, "unknown role"),
        ("/console/members?status=asleep", 400, "unknown status"),
        ("/console/audit?since=yesterday", 400, "since must be"),
        (
            "/console/audit?since=2026-12-02&until=2026-12-01",
            400,
            "since is after until",
        ),
        ("/console/invoices/INV-none-000001", 404, "not found"),
        ("/console/members/no-such-member", 404, "not found"),
        (
            "/console/seats/review?add_standard=abc",
            400,
            "whole number",
        ),
        (
            "/console/seats/review?add_standard=-2",
            400,
            "never removed",
        ),
        ("/console/seats/review?upgrade=5", 400, "cannot upgrade 5"),
        ("/console/seats/review", 400, "empty"),
    ] {
        let (got, page) = s.get(path).await;
        assert_eq!(got.as_u16(), status, "{path}: {page}");
        assert!(page.to_lowercase().contains(says), "{path}: {page}");
    }
    let u = uuid::Uuid::new_v4().to_string();
    for (path, form) in [
        (
            format!("/console/members/{bob}/tier"),
            vec![("tier", "gold")],
        ),
        (
            format!("/console/members/{bob}/tier"),
            vec![("tier", "premium")],
        ),
        (
            format!("/console/members/{bob}/give-seat"),
            vec![("to", u.as_str())],
        ),
        (
            format!("/console/members/{bob}/swap"),
            vec![("with", u.as_str())],
        ),
        ("/console/members/no-such/remove".to_string(), vec![]),
        (
            "/console/members/invite".to_string(),
            vec![("email", "x@other.example"), ("role", "member")],
        ),
        (
            "/console/members/invite".to_string(),
            vec![("email", "y@acme.example.com"), ("role", "boss")],
        ),
        (
            "/console/settings/alerts".to_string(),
            vec![("threshold", "-1")],
        ),
        (
            "/console/settings/alerts".to_string(),
            vec![("threshold", "2"), ("webhook_url", "not a url")],
        ),
        (
            "/console/settings/domains".to_string(),
            vec![("domain", "not a domain")],
        ),
        ("/console/settings/tokens/nope/revoke".to_string(), vec![]),
        (
            "/console/seats/update".to_string(),
            vec![
                ("add_standard", "1"),
                ("add_premium", "0"),
                ("upgrade", "0"),
                ("key", "has space"),
            ],
        ),
        (
            "/console/seats/update".to_string(),
            vec![("add_standard", "1")],
        ),
    ] {
        let (got, page) = s.post(&path, &form).await;
        assert!(got.is_client_error(), "{path} {form:?}: {got} {page}");
        assert!(
            page.contains("<h1>"),
            "{path}: a page, not a raw error: {page}"
        );
    }
    assert_eq!((app.pools(), app.invoice_count("seat_change")), before);
    assert!(outbox_to(&app, "x@other.example").is_empty());
    let token = owner_token(&app, Role::Owner);
    let alerts = app
        .api(&token, Method::GET, "/settings/alerts", None, &[])
        .await;
    assert_eq!(alerts.body["free_seat_threshold"], Value::Null);
    app.assert_seat_invariants();
}

#[tokio::test]
async fn an_expired_contract_is_explained_on_the_seats_page() {
    let app = TestApp::builder()
        .seats(2, 0)
        .contract(contract_from(date(2025, 1, 1), false))
        .today(date(2026, 3, 1))
        .spawn()
        .await;
    let owner = add_member(&app, &app.org_id, Role::Owner);
    let s = Session::start(&app, &app.org_id, &owner);
    let (status, page) = s.get("/console/seats").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Seats cannot be bought now"), "{page}");
    assert!(!page.contains(">Review<"), "no order form: {page}");
    let (status, page) = s.get("/console/seats/review?add_standard=1").await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("Seats cannot be bought now"), "{page}");
    assert_eq!(app.invoice_count("seat_change"), 0);
}

#[tokio::test]
async fn the_console_downloads_the_pending_report_and_invoices_as_csv() {
    let app = TestApp::builder().seats(0, 0).manual_jobs().spawn().await;
    scim_user(&app, "pia@acme.example.com", "=HYPERLINK(\"x\") Pia").await;
    let admin = add_member(&app, &app.org_id, Role::Admin);
    let owner = add_member(&app, &app.org_id, Role::Owner);
    let a = Session::start(&app, &app.org_id, &admin);
    let r = a
        .client
        .get(format!("{}/console/pending.csv", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("queue_position,"), "{csv}");
    assert!(csv.contains("pia@acme.example.com"), "{csv}");
    // Invoices are an Owner's: the Admin gets a 403 page, the Owner the CSV.
    let o = Session::start(&app, &app.org_id, &owner);
    let (status, to) = o
        .post(
            "/console/seats/update",
            &[
                ("add_standard", "1"),
                ("add_premium", "0"),
                ("upgrade", "0"),
                ("key", "csv-test-order"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    let csv_path = format!("{to}.csv");
    assert_eq!(a.get(&csv_path).await.0, StatusCode::FORBIDDEN);
    let (status, csv) = o.get(&csv_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.contains("600.00"), "{csv}");
    let (status, page) = o.get(&to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("1 pending user got a seat"), "{page}");
}

#[tokio::test]
async fn an_admin_swaps_tiers_and_moves_a_member_to_a_free_seat() {
    let app = TestApp::builder().seats(1, 1).manual_jobs().spawn().await;
    // The first account takes premium (the highest free tier), the second standard.
    let pam_account = scim_user(&app, "pam@acme.example.com", "Pam Park").await;
    let sid_account = scim_user(&app, "sid@acme.example.com", "Sid Stone").await;
    let pam = add_member_email(&app, "pam@acme.example.com", Role::Member);
    let sid = add_member_email(&app, "sid@acme.example.com", Role::Member);
    let tier = |app: &TestApp, id: &str| {
        let (org, id) = (app.org_id.clone(), id.to_string());
        app.db
            .read_sync(move |c| Ok(scim_seats::store::users::find(c, &org, &id)?))
            .expect("user")
            .and_then(|u| u.seat_tier)
    };
    assert_eq!(tier(&app, &pam_account).as_deref(), Some("premium"));
    let admin = add_member(&app, &app.org_id, Role::Admin);
    let s = Session::start(&app, &app.org_id, &admin);
    let (_, page) = s.get(&format!("/console/members/{pam}")).await;
    assert!(page.contains("sid@acme.example.com (standard)"), "{page}");

    let (status, to) = s
        .post(&format!("/console/members/{pam}/swap"), &[("with", &sid)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    assert_eq!(tier(&app, &pam_account).as_deref(), Some("standard"));
    assert_eq!(tier(&app, &sid_account).as_deref(), Some("premium"));
    let (_, page) = s.get(&to).await;
    assert!(
        page.contains("Swapped tiers: Pam Park now holds standard"),
        "{page}"
    );

    // No free premium seat: refused with a page, nothing moves; with one, Pam moves up.
    let (status, _) = s
        .post(
            &format!("/console/members/{pam}/tier"),
            &[("tier", "premium")],
        )
        .await;
    assert!(status.is_client_error());
    assert_eq!(tier(&app, &pam_account).as_deref(), Some("standard"));
    add_seats(&app, "premium", 1);
    let (status, _) = s
        .post(
            &format!("/console/members/{pam}/tier"),
            &[("tier", "premium")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(tier(&app, &pam_account).as_deref(), Some("premium"));
    app.assert_seat_invariants();
}
