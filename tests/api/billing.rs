//! Contracts, seat orders (preview/confirm), prorated invoices, upgrades and renewals,
//! through the real server on both backends.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const PRODUCT_ORDER: fn() -> Value =
    || json!({"add_standard": 5, "upgrade_standard_to_premium": 10});

fn amounts(invoice: &Value) -> Vec<String> {
    invoice["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["amount"].as_str().expect("amount").to_string())
        .collect()
}

async fn product_app(today: chrono::NaiveDate) -> TestApp {
    TestApp::builder()
        .seats(100, 0)
        .contract(contract_from(date(2026, 1, 1), true))
        .today(today)
        .spawn()
        .await
}

async fn user_id(app: &TestApp, name: &str) -> String {
    app.create_user(name).await["id"]
        .as_str()
        .expect("id")
        .to_string()
}

async fn seat_of(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    seat(&r.body).clone()
}

#[tokio::test]
async fn product_example_on_march_1_invoices_7500() {
    let app = product_app(date(2026, 3, 1)).await;
    let owner = owner_token(&app, Role::Owner);

    let preview = app
        .api(
            &owner,
            Method::POST,
            "/seats/preview",
            Some(PRODUCT_ORDER()),
            &[],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(amounts(&preview.body), ["2500.00", "5000.00"]);
    assert_eq!(preview.body["total"], "7500.00");
    // A preview changes nothing.
    assert_eq!(app.pool("standard"), (100, 0));
    assert_eq!(app.invoice_count("seat_change"), 0);

    let r = app.confirm(&owner, "order-1", PRODUCT_ORDER()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let inv = &r.body;
    assert_eq!(inv["number"], "INV-bill-000001");
    assert_eq!(inv["issued_on"], "2026-03-01");
    assert_eq!(inv["currency"], "USD");
    let lines = inv["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["kind"], "add_seats");
    assert_eq!(lines[0]["tier"], "standard");
    assert_eq!(lines[0]["quantity"], 5);
    assert_eq!(lines[0]["unit_price"], "600.00");
    assert_eq!(lines[0]["months_left"], "10");
    assert_eq!(lines[0]["amount"], "2500.00");
    assert_eq!(lines[1]["kind"], "upgrade");
    assert_eq!(lines[1]["quantity"], 10);
    assert_eq!(lines[1]["unit_price"], "600.00");
    assert_eq!(lines[1]["months_left"], "10");
    assert_eq!(lines[1]["amount"], "5000.00");
    assert_eq!(inv["total"], "7500.00");
    assert_eq!(inv["total_minor"], 750_000);
    // Preview and invoice agree line for line.
    assert_eq!(preview.body["lines"], inv["lines"]);

    // 100 + 5 − 10 standard, 10 premium.
    assert_eq!(app.pool("standard"), (95, 0));
    assert_eq!(app.pool("premium"), (10, 0));
    app.assert_seat_invariants();

    let got = app
        .api(&owner, Method::GET, "/invoices/INV-bill-000001", None, &[])
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["lines"], inv["lines"]);
    assert_eq!(got.body["total"], "7500.00");

    let list = app.api(&owner, Method::GET, "/invoices", None, &[]).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["invoices"][0]["number"], "INV-bill-000001");

    let contract = app.api(&owner, Method::GET, "/contract", None, &[]).await;
    assert_eq!(contract.status, StatusCode::OK, "{}", contract.body);
    assert_eq!(contract.body["term"]["start"], "2026-01-01");
    assert_eq!(contract.body["term"]["last_day"], "2026-12-31");
    assert_eq!(contract.body["prices"]["standard"], "600.00");
    assert_eq!(contract.body["prices"]["premium"], "1200.00");
    assert_eq!(contract.body["status"], "active");
    assert_eq!(contract.body["months_left"], "10");
}

#[tokio::test]
async fn product_example_on_march_15_invoices_7161_29() {
    let app = product_app(date(2026, 3, 15)).await;
    let owner = owner_token(&app, Role::PrimaryOwner);
    let r = app.confirm(&owner, "k", PRODUCT_ORDER()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(amounts(&r.body), ["2387.10", "4774.19"]);
    assert_eq!(r.body["total"], "7161.29");
    assert_eq!(r.body["total_minor"], 716_129);
    assert_eq!(r.body["lines"][0]["months_left"], "9 + 17/31");
}

#[tokio::test]
async fn invoice_as_html_and_csv() {
    let app = product_app(date(2026, 3, 15)).await;
    let owner = owner_token(&app, Role::Owner);
    let r = app.confirm(&owner, "k", PRODUCT_ORDER()).await;
    assert_eq!(r.status, StatusCode::CREATED);

    let html = app
        .api(
            &owner,
            Method::GET,
            "/invoices/INV-bill-000001.html",
            None,
            &[],
        )
        .await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/html")));
    let text = html.body.as_str().expect("html text");
    assert!(text.contains("Invoice INV-bill-000001"));
    assert!(text.contains("7161.29") && text.contains("2387.10") && text.contains("4774.19"));
    assert!(text.contains("9 + 17/31"));

    let csv = app
        .api(
            &owner,
            Method::GET,
            "/invoices/INV-bill-000001.csv",
            None,
            &[],
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/csv")));
    let text = csv.body.as_str().expect("csv text");
    let mut rows = ::csv::Reader::from_reader(text.as_bytes());
    let records: Vec<::csv::StringRecord> = rows.records().map(|r| r.expect("row")).collect();
    assert_eq!(records.len(), 3, "two lines and a total:\n{text}");
    // Descriptions contain commas: they must come back as one field.
    assert_eq!(
        &records[0][5],
        "Add 5 standard seats, 9 + 17/31 of 12 months left"
    );
    assert_eq!(&records[0][9], "2387.10");
    assert_eq!(&records[2][9], "7161.29");

    for missing in [
        "INV-bill-000002",
        "INV-bill-000002.html",
        "INV-bill-000002.csv",
    ] {
        let r = app
            .api(
                &owner,
                Method::GET,
                &format!("/invoices/{missing}"),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn html_escapes_organization_names() {
    let app = product_app(date(2026, 3, 1)).await;
    let org = app.org_id.clone();
    app.db
        .write_sync(move |c| {
            use diesel::prelude::*;
            use scim_seats::store::schema::organizations;
            diesel::update(organizations::table.find(&org))
                .set(organizations::name.eq("<script>alert('x')</script> & Co"))
                .execute(c)?;
            Ok(())
        })
        .expect("rename");
    let owner = owner_token(&app, Role::Owner);
    assert_eq!(
        app.confirm(&owner, "k", json!({"add_standard": 1}))
            .await
            .status,
        StatusCode::CREATED
    );
    let html = app
        .api(
            &owner,
            Method::GET,
            "/invoices/INV-bill-000001.html",
            None,
            &[],
        )
        .await;
    let text = html.body.as_str().expect("html");
    assert!(!text.contains("<script>"));
    assert!(text.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"));
}

#[tokio::test]
async fn leap_day_change_in_a_leap_year() {
    // Period Feb 1 – Feb 29 2028 has 29 days; Feb 29 leaves 1 of them: 10 + 1/29 months.
    let app = TestApp::builder()
        .seats(10, 0)
        .contract(contract_from(date(2028, 1, 1), true))
        .today(date(2028, 2, 29))
        .spawn()
        .await;
    let owner = owner_token(&app, Role::Owner);
    let r = app.confirm(&owner, "k", json!({"add_standard": 1})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["lines"][0]["months_left"], "10 + 1/29");
    // 600 × (10 × 29 + 1) / (12 × 29) = 501.724… → 501.72
    assert_eq!(r.body["total"], "501.72");
}

#[tokio::test]
async fn term_starting_on_the_31st() {
    // Periods start Jan 31, Feb 28, Mar 31, …: March 1 falls in [Feb 28, Mar 31), 31 days,
    // with 30 left: 10 + 30/31 months.
    let app = TestApp::builder()
        .seats(10, 0)
        .contract(contract_from(date(2026, 1, 31), true))
        .today(date(2026, 3, 1))
        .spawn()
        .await;
    let owner = owner_token(&app, Role::Owner);
    let r = app.confirm(&owner, "k", json!({"add_standard": 1})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["lines"][0]["months_left"], "10 + 30/31");
    // 600 × 340 / 372 = 548.387… → 548.39
    assert_eq!(r.body["total"], "548.39");
    let c = app.api(&owner, Method::GET, "/contract", None, &[]).await;
    assert_eq!(c.body["term"]["end"], "2027-01-31");
}

#[tokio::test]
async fn first_and_last_day_of_the_term() {
    for (day, months, total) in [
        (date(2026, 1, 1), "12", "600.00"),
        (date(2026, 12, 31), "1/31", "1.61"),
    ] {
        let app = product_app(day).await;
        let owner = owner_token(&app, Role::Owner);
        let r = app.confirm(&owner, "k", json!({"add_standard": 1})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{day}: {}", r.body);
        assert_eq!(r.body["lines"][0]["months_left"], months, "{day}");
        assert_eq!(r.body["total"], total, "{day}");
    }
    // The day after the last day, before the renewal ran: refused, nothing changes.
    let app = product_app(date(2027, 1, 1)).await;
    let owner = owner_token(&app, Role::Owner);
    let r = app.confirm(&owner, "k", json!({"add_standard": 1})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("renewal"));
    assert_eq!(app.pool("standard"), (100, 0));
}

#[tokio::test]
async fn retried_confirm_returns_the_same_invoice() {
    let app = product_app(date(2026, 3, 1)).await;
    let owner = owner_token(&app, Role::Owner);
    let first = app.confirm(&owner, "retry-me", PRODUCT_ORDER()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.body["replayed"], false);
    // Same key, same body (keys in another order): the same invoice, no second charge.
    let again = app
        .confirm(
            &owner,
            "retry-me",
            json!({"upgrade_standard_to_premium": 10, "add_standard": 5}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["replayed"], true);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.body["number"], first.body["number"]);
    assert_eq!(again.body["lines"], first.body["lines"]);
    assert_eq!(app.invoice_count("seat_change"), 1);
    assert_eq!(app.pool("standard"), (95, 0));
    assert_eq!(app.pool("premium"), (10, 0));

    // Same key, different body: refused, nothing changes.
    let other = app
        .confirm(&owner, "retry-me", json!({"add_standard": 6}))
        .await;
    assert_eq!(
        other.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        other.body
    );
    let detail = other.body["detail"].as_str().unwrap();
    assert!(detail.contains("already used") && detail.contains("INV-bill-000001"));
    assert_eq!(app.invoice_count("seat_change"), 1);
    assert_eq!(app.pool("standard"), (95, 0));

    // No key: refused.
    let r = app
        .api(
            &owner,
            Method::POST,
            "/seats/confirm",
            Some(json!({"add_standard": 1})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));
}

#[tokio::test]
async fn concurrent_retries_make_exactly_one_invoice() {
    let app = product_app(date(2026, 3, 1)).await;
    let owner = owner_token(&app, Role::Owner);
    let calls = (0..8).map(|_| app.confirm(&owner, "same-key", PRODUCT_ORDER()));
    let results = futures_util::future::join_all(calls).await;
    let created = results
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "exactly one confirm charges");
    for r in &results {
        assert!(
            r.status == StatusCode::CREATED || r.status == StatusCode::OK,
            "{}: {}",
            r.status,
            r.body
        );
        assert_eq!(r.body["number"], "INV-bill-000001");
        assert_eq!(r.body["total"], "7500.00");
    }
    assert_eq!(app.invoice_count("seat_change"), 1);
    assert_eq!(app.pool("standard"), (95, 0), "inventory raised once");
    assert_eq!(app.pool("premium"), (10, 0));
    app.assert_seat_invariants();
}

#[tokio::test]
async fn invoices_are_numbered_per_organization_and_paged() {
    let app = product_app(date(2026, 3, 1)).await;
    let owner = owner_token(&app, Role::Owner);
    for i in 1..=3 {
        let r = app
            .confirm(&owner, &format!("k{i}"), json!({"add_premium": i}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.body["number"], format!("INV-bill-00000{i}"));
    }
    let page = app
        .api(
            &owner,
            Method::GET,
            "/invoices?page=2&per_page=2",
            None,
            &[],
        )
        .await;
    assert_eq!(page.body["total"], 3);
    let numbers: Vec<&str> = page.body["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["INV-bill-000001"], "newest first");
    // Another organization's owner sees none of them.
    let acme_owner = {
        let acme: String = app
            .db
            .read_sync(|c| Ok(scim_seats::domain::orgs::by_slug(c, "acme")?.id))
            .unwrap();
        let m = add_member(&app, &acme, Role::Owner);
        owner_token_for(&app, &acme, &m)
    };
    let theirs = app
        .api(&acme_owner, Method::GET, "/invoices", None, &[])
        .await;
    assert_eq!(theirs.body["total"], 0);
    let r = app
        .api(
            &acme_owner,
            Method::GET,
            "/invoices/INV-bill-000001",
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_orders_are_refused_and_change_nothing() {
    let app = product_app(date(2026, 3, 1)).await;
    let owner = owner_token(&app, Role::Owner);
    for (body, status, needle) in [
        (json!({"add_standard": -5}), 400, "never removed"),
        (json!({"remove_standard": 5}), 400, "never removed"),
        (
            json!({"upgrade_standard_to_premium": 101}),
            400,
            "has 100 standard seats",
        ),
        (json!({}), 400, "empty"),
        (json!({"add_standard": 1.5}), 400, "whole number"),
        (
            json!({"upgrade_standard_to_premium": 1, "upgrade_members": ["nobody"]}),
            400,
            "does not hold a standard seat",
        ),
    ] {
        for path in ["/seats/preview", "/seats/confirm"] {
            let r = app
                .api(
                    &owner,
                    Method::POST,
                    path,
                    Some(body.clone()),
                    &[("Idempotency-Key", "x")],
                )
                .await;
            assert_eq!(r.status.as_u16(), status, "{path} {body}: {}", r.body);
            let detail = r.body["detail"].as_str().unwrap();
            assert!(detail.contains(needle), "{path} {body}: {detail}");
        }
    }
    assert_eq!(app.pool("standard"), (100, 0));
    assert_eq!(app.invoice_count("seat_change"), 0);
}

#[tokio::test]
async fn a_purchase_activates_pending_users_in_the_same_transaction() {
    let app = TestApp::builder()
        .seats(2, 0)
        .contract(contract_from(date(2026, 1, 1), true))
        .today(date(2026, 3, 1))
        .spawn()
        .await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(user_id(&app, &format!("u{i}")).await);
    }
    assert_eq!(app.count_status("pending"), 3);
    let owner = owner_token(&app, Role::Owner);
    let r = app.confirm(&owner, "k", json!({"add_standard": 2})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // First come, first served: u2 and u3 now, u4 still waits.
    assert_eq!(r.body["activated_users"], json!([ids[2], ids[3]]));
    assert_eq!(seat_of(&app, &ids[2]).await["status"], "active");
    assert_eq!(seat_of(&app, &ids[3]).await["status"], "active");
    let last = seat_of(&app, &ids[4]).await;
    assert_eq!(last["status"], "pending");
    assert_eq!(last["queuePosition"], 1);
    app.assert_seat_invariants();
}

#[tokio::test]
async fn upgrades_move_named_then_longest_seated_members_up() {
    let app = TestApp::builder()
        .seats(5, 0)
        .contract(contract_from(date(2026, 1, 1), true))
        .today(date(2026, 3, 1))
        .spawn()
        .await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(user_id(&app, &format!("u{i}")).await);
    }
    assert_eq!(app.pool("standard"), (5, 5));
    let owner = owner_token(&app, Role::Owner);
    let r = app
        .confirm(
            &owner,
            "k",
            json!({"upgrade_standard_to_premium": 2, "upgrade_members": [ids[4]]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["upgraded_users"], json!([ids[4], ids[0]]));
    assert_eq!(app.pool("standard"), (3, 3));
    assert_eq!(app.pool("premium"), (2, 2));
    for (i, tier) in [
        (0, "premium"),
        (1, "standard"),
        (2, "standard"),
        (3, "standard"),
        (4, "premium"),
    ] {
        assert_eq!(seat_of(&app, &ids[i]).await["tier"], tier, "u{i}");
    }
    // 2 × (1,200 − 600) × 10/12
    assert_eq!(r.body["total"], "1000.00");
    app.assert_seat_invariants();

    // Upgrading more standard seats than exist is refused.
    let r = app
        .confirm(&owner, "k2", json!({"upgrade_standard_to_premium": 4}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // A premium member cannot be named for an upgrade.
    let r = app
        .confirm(
            &owner,
            "k3",
            json!({"upgrade_standard_to_premium": 1, "upgrade_members": [ids[0]]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    app.assert_seat_invariants();
}

#[tokio::test]
async fn upgrades_keep_the_queue_waiting_until_seats_are_free() {
    let app = TestApp::builder()
        .seats(4, 0)
        .contract(contract_from(date(2026, 1, 1), true))
        .today(date(2026, 3, 1))
        .spawn()
        .await;
    for i in 0..6 {
        app.create_user(&format!("u{i}")).await;
    }
    assert_eq!(app.count_status("pending"), 2);
    let owner = owner_token(&app, Role::Owner);
    // 2 standard become premium: 2 standard members move up, the rest stay; seats are full
    // again afterwards and the queue waits. Then buy 2 premium: the queue drains into them.
    let r = app
        .confirm(&owner, "k1", json!({"upgrade_standard_to_premium": 2}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(app.pool("standard"), (2, 2));
    assert_eq!(app.pool("premium"), (2, 2));
    assert_eq!(app.count_status("pending"), 2);
    let r = app.confirm(&owner, "k2", json!({"add_premium": 2})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(app.pool("premium"), (4, 4));
    assert_eq!(app.count_status("pending"), 0);
    app.assert_seat_invariants();
}

fn renew(
    app: &TestApp,
    today: chrono::NaiveDate,
) -> Vec<scim_seats::domain::billing::renewal::Outcome> {
    scim_seats::domain::billing::renewal::renew_due(&app.db, today).expect("renew")
}

#[tokio::test]
async fn renewal_keeps_seats_in_use_at_full_price_once() {
    let app = TestApp::builder()
        .seats(10, 5)
        .contract(contract_from(date(2026, 1, 1), true))
        .today(date(2027, 1, 1))
        .spawn()
        .await;
    for i in 0..7 {
        app.create_user(&format!("u{i}")).await;
    }
    // Premium first: 5 premium and 2 standard in use.
    assert_eq!(app.pool("premium"), (5, 5));
    assert_eq!(app.pool("standard"), (10, 2));

    // Not due the day before the term ends.
    assert!(renew(&app, date(2026, 12, 31)).is_empty());

    // Two processes at once, then again: one renewal.
    let (a, b) = (app.db.clone(), app.db.clone());
    let t1 = std::thread::spawn(move || {
        scim_seats::domain::billing::renewal::renew_due(&a, date(2027, 1, 1)).expect("renew")
    });
    let t2 = std::thread::spawn(move || {
        scim_seats::domain::billing::renewal::renew_due(&b, date(2027, 1, 1)).expect("renew")
    });
    let n = t1.join().unwrap().len() + t2.join().unwrap().len();
    assert_eq!(n, 1, "renewed exactly once");
    assert!(renew(&app, date(2027, 1, 1)).is_empty());
    assert_eq!(app.invoice_count("renewal"), 1);

    // Unclaimed seats lapsed.
    assert_eq!(app.pool("standard"), (2, 2));
    assert_eq!(app.pool("premium"), (5, 5));
    app.assert_seat_invariants();

    let owner = owner_token(&app, Role::Owner);
    let c = app.api(&owner, Method::GET, "/contract", None, &[]).await;
    assert_eq!(c.body["term"]["start"], "2027-01-01");
    assert_eq!(c.body["term"]["end"], "2028-01-01");
    assert_eq!(c.body["status"], "active");
    let list = app.api(&owner, Method::GET, "/invoices", None, &[]).await;
    let inv = &list.body["invoices"][0];
    assert_eq!(inv["kind"], "renewal");
    assert_eq!(inv["issued_on"], "2027-01-01");
    // Full annual price: 2 × 600 + 5 × 1,200.
    assert_eq!(amounts(inv), ["1200.00", "6000.00"]);
    assert_eq!(inv["total"], "7200.00");
    assert_eq!(inv["lines"][0]["months_left"], "12");

    // Mid-term purchases work again in the new term (the clock says Jan 1 2027: 12 months).
    let r = app.confirm(&owner, "k", json!({"add_standard": 1})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["total"], "600.00");
}

#[tokio::test]
async fn renewal_keeps_the_queue_and_renews_zero_seats_without_invoice() {
    let app = TestApp::builder()
        .seats(2, 0)
        .contract(contract_from(date(2026, 1, 1), true))
        .today(date(2027, 1, 1))
        .spawn()
        .await;
    for i in 0..3 {
        app.create_user(&format!("u{i}")).await;
    }
    assert_eq!(renew(&app, date(2027, 1, 1)).len(), 1);
    assert_eq!(app.pool("standard"), (2, 2));
    assert_eq!(app.count_status("pending"), 1, "pending users stay queued");
    assert_eq!(app.invoice_count("renewal"), 1);
    app.assert_seat_invariants();

    // An organization with nothing in use renews with zero seats and no invoice.
    let (empty_org, _) = new_org_with_contract(
        &app.db,
        "empty",
        Seats {
            standard: 3,
            premium: 0,
        },
        contract_from(date(2026, 1, 1), true),
    );
    let outcomes = renew(&app, date(2027, 1, 1));
    assert_eq!(
        outcomes,
        [scim_seats::domain::billing::renewal::Outcome::Renewed {
            org_id: empty_org,
            term_start: date(2027, 1, 1),
            standard: 0,
            premium: 0,
            invoice: None,
        }]
    );
}

#[tokio::test]
async fn a_contract_that_does_not_renew_expires_and_refuses_purchases() {
    let app = TestApp::builder()
        .seats(3, 0)
        .contract(contract_from(date(2026, 1, 1), false))
        .today(date(2027, 1, 2))
        .spawn()
        .await;
    app.create_user("u0").await;
    let outcomes = renew(&app, date(2027, 1, 2));
    assert!(matches!(
        outcomes.as_slice(),
        [scim_seats::domain::billing::renewal::Outcome::Expired { .. }]
    ));
    assert!(renew(&app, date(2027, 1, 2)).is_empty());
    assert_eq!(app.invoice_count("renewal"), 0);

    let owner = owner_token(&app, Role::Owner);
    let c = app.api(&owner, Method::GET, "/contract", None, &[]).await;
    assert_eq!(c.body["status"], "expired");
    for path in ["/seats/preview", "/seats/confirm"] {
        let r = app
            .api(
                &owner,
                Method::POST,
                path,
                Some(json!({"add_standard": 1})),
                &[("Idempotency-Key", "k")],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{path}: {}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains("expired"));
    }
    assert_eq!(app.pool("standard"), (3, 1));
}

#[tokio::test]
async fn the_server_renews_due_contracts_in_the_background() {
    let app = TestApp::builder()
        .seats(3, 0)
        .contract(contract_from(date(2026, 1, 1), true))
        .today(date(2027, 1, 1))
        .settings(|s| s.billing.renewal_interval = Some(std::time::Duration::from_millis(100)))
        .spawn()
        .await;
    let owner = owner_token(&app, Role::Owner);
    for _ in 0..100 {
        let c = app.api(&owner, Method::GET, "/contract", None, &[]).await;
        if c.body["term"]["start"] == "2027-01-01" {
            assert_eq!(app.pool("standard"), (0, 0), "nothing in use: all lapsed");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the background task did not renew the contract");
}

#[tokio::test]
async fn only_owners_buy_seats_and_see_contract_and_invoices() {
    let app = product_app(date(2026, 3, 1)).await;
    let calls: [(Method, &str, Option<Value>); 5] = [
        (
            Method::POST,
            "/seats/preview",
            Some(json!({"add_standard": 1})),
        ),
        (
            Method::POST,
            "/seats/confirm",
            Some(json!({"add_standard": 1})),
        ),
        (Method::GET, "/contract", None),
        (Method::GET, "/invoices", None),
        (Method::GET, "/invoices/INV-bill-000001", None),
    ];
    for role in [Role::Admin, Role::Member] {
        let token = owner_token(&app, role);
        for (method, path, body) in calls.iter().cloned() {
            let r = app
                .api(&token, method, path, body, &[("Idempotency-Key", "k")])
                .await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{role:?} {path}: {}",
                r.body
            );
            assert!(
                r.body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("requires Owner or Primary Owner"),
                "{}",
                r.body
            );
        }
    }
    assert_eq!(app.invoice_count("seat_change"), 0);
    for (i, role) in [Role::Owner, Role::PrimaryOwner].into_iter().enumerate() {
        let token = owner_token(&app, role);
        for (method, path, body) in calls.iter().cloned() {
            let key = format!("k{i}");
            let r = app
                .api(&token, method, path, body, &[("Idempotency-Key", &key)])
                .await;
            assert!(
                r.status.is_success(),
                "{role:?} {path}: {} {}",
                r.status,
                r.body
            );
        }
    }
}
