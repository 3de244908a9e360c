//! Manual invitations through the real server: role rules, verified domains, the 21-day
//! expiry (with the injectable clock), re-invite voiding, acceptance claiming a seat or
//! queueing and the Primary Owner's first invitation (mail delivery: mail.rs).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

const DAY0: (i32, u32, u32) = (2026, 3, 1);

fn day(offset: i64) -> chrono::NaiveDate {
    date(DAY0.0, DAY0.1, DAY0.2) + chrono::Duration::days(offset)
}

async fn invite(app: &TestApp, token: &str, email: &str, role: &str) -> Resp {
    app.api(
        token,
        Method::POST,
        "/invitations",
        Some(json!({"email": email, "role": role})),
        &[],
    )
    .await
}

#[tokio::test]
async fn an_invitation_is_mailed_and_accepting_it_claims_a_seat_and_opens_a_session() {
    let app = TestApp::builder().seats(1, 1).manual_jobs().spawn().await;
    let admin = owner_token(&app, Role::Admin);
    let r = invite(&app, &admin, "ada@acme.example.com", "member").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["role"], "member");
    // The secret is never in the API response, only in the mail.
    assert!(!r.body.to_string().contains("scimseats-inv_"));
    let mails = outbox_to(&app, "ada@acme.example.com");
    assert_eq!(mails.len(), 1);
    assert!(mails[0].body.contains("21 days"));
    assert!(
        mails[0].sent_at.is_none(),
        "delivered later, not in the transaction"
    );
    let token = latest_invitation_token(&app, "ada@acme.example.com");

    let r = accept_at(&app, &app.addr, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["created_account"], true);
    let account = &r.body["member"]["account"];
    assert_eq!(account["status"], "active");
    assert_eq!(account["tier"], "premium", "the highest free tier");
    assert_eq!(account["source"], "invitation");
    // The session token works on the owner API with the invited role.
    let session = r.body["token"].as_str().unwrap();
    let me = app.api(session, Method::GET, "/me", None, &[]).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["email"], "ada@acme.example.com");
    assert_eq!(me.body["role"], "member");
    assert_eq!(
        app.api(session, Method::GET, "/members", None, &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The account is a SCIM user the IdP can see.
    let id = account["id"].as_str().unwrap();
    let u = app.get(&format!("/Users/{id}")).await;
    assert_eq!(u.status, StatusCode::OK);
    assert_eq!(seat(&u.body)["status"], "active");
    // Accepting twice: 410 Gone.
    let again = accept_at(&app, &app.addr, &token).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.body["detail"]
        .as_str()
        .unwrap()
        .contains("already accepted"));
    app.assert_seat_invariants();
}

#[tokio::test]
async fn accepting_with_no_free_seat_queues_the_account_as_pending() {
    let app = TestApp::builder().seats(0, 0).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    assert_eq!(
        invite(&app, &owner, "bo@acme.example.com", "admin")
            .await
            .status,
        StatusCode::CREATED
    );
    let r = accept_at(
        &app,
        &app.addr,
        &latest_invitation_token(&app, "bo@acme.example.com"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let account = &r.body["member"]["account"];
    assert_eq!(account["status"], "pending");
    assert_eq!(account["queue_position"], 1);
    assert_eq!(accounts_with_source(&app, "invitation").len(), 1);
    // The admin can still use the owner API while waiting for a seat.
    let session = r.body["token"].as_str().unwrap();
    assert_eq!(
        app.api(session, Method::GET, "/members", None, &[])
            .await
            .status,
        StatusCode::OK
    );
    // Seats added: the queue drains.
    add_seats(&app, "standard", 1);
    let me = app.api(session, Method::GET, "/me", None, &[]).await;
    assert_eq!(me.body["account"]["status"], "active", "{}", me.body);
    app.assert_seat_invariants();
}

#[tokio::test]
async fn who_may_invite_whom_and_only_verified_domains() {
    let app = TestApp::builder().seats(5, 0).manual_jobs().spawn().await;
    let admin = owner_token(&app, Role::Admin);
    let owner = owner_token(&app, Role::Owner);
    let po = owner_token(&app, Role::PrimaryOwner);
    let member = owner_token(&app, Role::Member);

    assert_eq!(
        invite(&app, &admin, "m1@acme.example.com", "member")
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        invite(&app, &admin, "a1@acme.example.com", "admin")
            .await
            .status,
        StatusCode::CREATED
    );
    let r = invite(&app, &admin, "o1@acme.example.com", "owner").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("requires Owner or Primary Owner"),
        "{}",
        r.body
    );
    assert_eq!(
        invite(&app, &owner, "o1@acme.example.com", "owner")
            .await
            .status,
        StatusCode::CREATED
    );
    for token in [&admin, &owner, &po] {
        let r = invite(&app, token, "p@acme.example.com", "primary_owner").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains("Primary Owner"));
    }
    let r = invite(&app, &member, "m2@acme.example.com", "member").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("requires Admin, Owner or Primary Owner"));

    // Outside the verified domains: refused, nothing queued.
    let r = invite(&app, &owner, "eve@evil.example.net", "member").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("not a verified domain"));
    assert!(outbox_to(&app, "eve@evil.example.net").is_empty());
    // A subdomain is not its parent.
    assert_eq!(
        invite(&app, &owner, "x@sub.acme.example.com", "member")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Once an Owner verifies the domain, the invitation goes out.
    let r = app
        .api(
            &owner,
            Method::POST,
            "/domains",
            Some(json!({"domain": "Evil.Example.NET"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        invite(&app, &owner, "eve@evil.example.net", "member")
            .await
            .status,
        StatusCode::CREATED
    );
    // Bad input.
    assert_eq!(
        invite(&app, &owner, "not-an-email", "member").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        invite(&app, &owner, "z@acme.example.com", "root")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // An existing member is not invited again.
    add_member_email(&app, "kim@acme.example.com", Role::Member);
    assert_eq!(
        invite(&app, &owner, "KIM@acme.example.com", "admin")
            .await
            .status,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn re_inviting_voids_the_old_invitation() {
    let app = TestApp::builder().seats(5, 0).manual_jobs().spawn().await;
    let admin = owner_token(&app, Role::Admin);
    invite(&app, &admin, "cy@acme.example.com", "member").await;
    let old = latest_invitation_token(&app, "cy@acme.example.com");
    let r = invite(&app, &admin, "cy@acme.example.com", "admin").await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["voided_previous"], 1);
    let fresh = latest_invitation_token(&app, "cy@acme.example.com");
    assert_ne!(old, fresh);
    assert_eq!(
        outbox_to(&app, "cy@acme.example.com").len(),
        2,
        "a fresh mail"
    );

    let r = accept_at(&app, &app.addr, &old).await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("voided"));
    let list = app
        .api(&admin, Method::GET, "/invitations?status=voided", None, &[])
        .await;
    assert_eq!(list.body["total"], 1, "{}", list.body);

    let r = accept_at(&app, &app.addr, &fresh).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["member"]["role"], "admin",
        "the latest invitation's role"
    );

    // Withdrawn by an admin: also 410.
    invite(&app, &admin, "dee@acme.example.com", "member").await;
    let id = app
        .api(
            &admin,
            Method::GET,
            "/invitations?status=pending",
            None,
            &[],
        )
        .await
        .body["invitations"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.api(
            &admin,
            Method::DELETE,
            &format!("/invitations/{id}"),
            None,
            &[]
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let r = accept_at(
        &app,
        &app.addr,
        &latest_invitation_token(&app, "dee@acme.example.com"),
    )
    .await;
    assert_eq!(r.status, StatusCode::GONE);
    // Tokens that are not ours, or tampered: 401.
    assert_eq!(
        accept_at(&app, &app.addr, "garbage").await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut tampered = fresh.clone();
    tampered.pop();
    tampered.push(if fresh.ends_with('0') { '1' } else { '0' });
    assert_eq!(
        accept_at(&app, &app.addr, &tampered).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_invitation_expires_21_days_after_it_was_sent() {
    // The server that sends runs on day 0; later days are servers on the same database with
    // the clock moved on (the injectable clock, not waiting).
    let app = TestApp::builder()
        .seats(5, 0)
        .manual_jobs()
        .today(day(0))
        .spawn()
        .await;
    let admin = owner_token(&app, Role::Admin);
    invite(&app, &admin, "day20@acme.example.com", "member").await;
    invite(&app, &admin, "day22@acme.example.com", "member").await;
    let day20 = app
        .second_server(|s| s.clock_override = Some(day(20)))
        .await;
    let day22 = app
        .second_server(|s| s.clock_override = Some(day(22)))
        .await;

    let r = accept_at(
        &app,
        &day20,
        &latest_invitation_token(&app, "day20@acme.example.com"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "day 20: {}", r.body);
    let r = accept_at(
        &app,
        &day22,
        &latest_invitation_token(&app, "day22@acme.example.com"),
    )
    .await;
    assert_eq!(r.status, StatusCode::GONE, "day 22: {}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("expired"),
        "{}",
        r.body
    );
    // The expired one lists as expired on day 22, pending on day 0.
    let expired = call(
        &app.client,
        &day22,
        Some(&admin),
        Method::GET,
        "/api/v1/invitations?status=expired",
        None,
    )
    .await;
    assert_eq!(expired.body["total"], 1, "{}", expired.body);
    assert_eq!(
        expired.body["invitations"][0]["email"],
        "day22@acme.example.com"
    );
    let pending = app
        .api(
            &admin,
            Method::GET,
            "/invitations?status=pending",
            None,
            &[],
        )
        .await;
    assert_eq!(pending.body["total"], 1);
    // Re-inviting on day 22 gives 21 fresh days.
    let r = call(
        &app.client,
        &day22,
        Some(&admin),
        Method::POST,
        "/api/v1/invitations",
        Some(json!({"email": "day22@acme.example.com"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let day42 = app
        .second_server(|s| s.clock_override = Some(day(42)))
        .await;
    let r = accept_at(
        &app,
        &day42,
        &latest_invitation_token(&app, "day22@acme.example.com"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn org_create_invites_the_primary_owner_who_logs_in_by_accepting() {
    // The operator's CLI sends on the real date; later days are servers with the clock moved.
    let today = chrono::Utc::now().date_naive();
    let later = |n: i64| today + chrono::Duration::days(n);
    let app = TestApp::builder().seats(0, 0).manual_jobs().spawn().await;
    let new = scim_seats::domain::orgs::NewOrg {
        slug: "initech".into(),
        name: "Initech".into(),
        domains: vec!["initech.example.com".into()],
        standard_seats: 3,
        premium_seats: 0,
    };
    let opts = scim_seats::domain::orgs::OrgOptions {
        contract: NewContract::default(),
        owner_email: Some("bill@initech.example.com".into()),
    };
    let (org, shown) = app
        .db
        .write_sync(|c| {
            scim_seats::domain::orgs::create_full(
                c,
                &new,
                &opts,
                "https://seats.example.com/api/v1/invitations/accept",
            )
        })
        .expect("create org");
    // The member exists as Primary Owner, and its invitation was queued for mail.
    let po = app
        .db
        .read_sync(|c| Ok(scim_seats::store::members::primary_owner(c, &org.id)?))
        .expect("po")
        .expect("a primary owner");
    assert_eq!(po.email, "bill@initech.example.com");
    let mails = app
        .db
        .read_sync(|c| {
            Ok(scim_seats::store::mail::to_address(
                c,
                &org.id,
                "bill@initech.example.com",
            )?)
        })
        .expect("mails");
    assert_eq!(mails.len(), 1);
    assert!(mails[0]
        .body
        .contains("https://seats.example.com/api/v1/invitations/accept?token="));
    let token = token_in(&mails[0].body);
    assert_eq!(
        Some(token.clone()),
        shown,
        "the operator sees the same token once"
    );

    // Day 22: expired, like any invitation.
    let day22 = app
        .second_server(|s| s.clock_override = Some(later(22)))
        .await;
    assert_eq!(
        accept_at(&app, &day22, &token).await.status,
        StatusCode::GONE
    );
    // Day 21 minus a little: accepted, with a session as Primary Owner and a seat.
    let day20 = app
        .second_server(|s| s.clock_override = Some(later(20)))
        .await;
    let r = accept_at(&app, &day20, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["member"]["role"], "primary_owner");
    assert_eq!(r.body["member"]["account"]["status"], "active");
    let session = r.body["token"].as_str().unwrap();
    let c = call(
        &app.client,
        &day20,
        Some(session),
        Method::GET,
        "/api/v1/contract",
        None,
    )
    .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);
    assert_eq!(c.body["organization"]["slug"], "initech");
}
