//! The seats flow of the console in a real browser: an Owner sees who is waiting, buys what
//! is needed through Review → Update, and the pending users become active (read over SCIM);
//! a reload, going back and submitting again, or a double submit make exactly one invoice.

use fantoccini::Locator;
use reqwest::StatusCode;

use crate::browser::Browser;
use crate::console_support::*;
use crate::helpers::*;
use crate::web_invitations::sign_in_by_invitation;

#[tokio::test]
async fn an_owner_buys_what_is_needed_and_the_queue_drains() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let Some(mut browser) = Browser::start("console_owner_buys_seats").await else {
        return;
    };
    // The owner takes the only seat; three people from the IdP wait.
    sign_in_by_invitation(&app, &mut browser, "olivia@acme.example.com", "owner").await;
    let mut waiting = Vec::new();
    for (u, d) in [
        ("ann@acme.example.com", "Ann Archer"),
        ("ben@acme.example.com", "Ben Brook"),
        ("cy@acme.example.com", "Cy Cole"),
    ] {
        waiting.push(scim_user(&app, u, d).await);
    }
    for id in &waiting {
        assert_eq!(seat_status(&app, id).await, "pending");
    }

    browser.goto(&format!("{}/console", app.addr)).await;
    let text = browser.text().await;
    browser.screenshot("overview").await;
    for s in [
        "Seats",
        "Members",
        "Pending users",
        "Invoices",
        "Settings",
        "Audit log",
    ] {
        assert!(text.contains(s), "nav lacks {s}: {text}");
    }
    assert!(text.contains("3 people are waiting for a seat"), "{text}");
    assert!(text.contains("Projected renewal"), "{text}");
    assert!(text.contains("$600.00"), "{text}");

    browser.click_link("Pending users").await;
    let text = browser.text().await;
    browser.screenshot("pending").await;
    assert!(
        text.contains("Ann Archer") && text.contains("Cy Cole"),
        "{text}"
    );
    assert!(text.contains("3 standard and 0 premium seats"), "{text}");

    browser.click_link("Buy what is needed").await;
    assert_eq!(browser.path().await, "/console/seats");
    let filled = browser
        .client
        .find(Locator::Id("add_standard"))
        .await
        .expect("field")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(filled.as_deref(), Some("3"));
    browser.screenshot("seats-prefilled").await;

    browser.click_button("Review").await;
    assert_eq!(browser.path().await, "/console/seats/review");
    let text = browser.text().await;
    browser.screenshot("review").await;
    assert!(
        text.contains("Add 3 standard seats, 12 of 12 months left"),
        "{text}"
    );
    assert!(text.contains("12 of 12"), "{text}");
    // 3 seats × $600.00 × 12/12.
    assert!(text.contains("$1,800.00"), "{text}");
    assert_eq!(app.invoice_count("seat_change"), 0, "Review buys nothing");

    browser.click_button("Update").await;
    assert!(browser.path().await.starts_with("/console/invoices/"));
    let text = browser.text().await;
    browser.screenshot("invoice").await;
    assert!(text.contains("Seats updated"), "{text}");
    assert!(
        text.contains("3 pending users got a seat: Ann Archer, Ben Brook, Cy Cole."),
        "{text}"
    );
    assert!(
        text.contains("Total") && text.contains("$1,800.00"),
        "{text}"
    );
    for id in &waiting {
        assert_eq!(seat_status(&app, id).await, "active", "over SCIM");
    }
    assert_eq!(app.invoice_count("seat_change"), 1);

    // A reload shows the invoice again and buys nothing.
    browser.client.refresh().await.expect("reload");
    assert!(!browser.text().await.contains("Seats updated"));
    assert_eq!(app.invoice_count("seat_change"), 1);
    // Back to the Review page and Update again: the same key, the same invoice.
    browser.client.back().await.expect("back");
    assert_eq!(browser.path().await, "/console/seats/review");
    browser.click_button("Update").await;
    let text = browser.text().await;
    browser.screenshot("update-again").await;
    assert!(text.contains("was already confirmed"), "{text}");
    assert!(text.contains("it was not charged again"), "{text}");
    assert_eq!(app.invoice_count("seat_change"), 1);
    assert_eq!(app.pool("standard"), (4, 4));

    // Upgrade one standard seat, naming who moves up.
    browser.click_link("Seats").await;
    browser.fill("Upgrade standard seats to premium", "1").await;
    browser
        .client
        .find(Locator::XPath(
            "//label[contains(normalize-space(.), 'Ben Brook')]/input",
        ))
        .await
        .expect("Ben's box")
        .click()
        .await
        .expect("check");
    browser.screenshot("seats-upgrade").await;
    browser.click_button("Review").await;
    let text = browser.text().await;
    browser.screenshot("review-upgrade").await;
    assert!(
        text.contains("Moving up to premium first: Ben Brook."),
        "{text}"
    );
    assert!(text.contains("$600.00"), "premium − standard: {text}");
    browser.click_button("Update").await;
    assert_eq!(app.invoice_count("seat_change"), 2);
    let r = app.get(&format!("/Users/{}", waiting[1])).await;
    assert_eq!(seat(&r.body)["tier"], "premium", "Ben moved up: {}", r.body);

    browser.click_link("Invoices").await;
    let text = browser.text().await;
    browser.screenshot("invoices").await;
    assert!(
        text.contains("Seat change") && text.contains("$1,800.00"),
        "{text}"
    );

    browser.click_link("Audit log").await;
    let text = browser.text().await;
    browser.screenshot("audit").await;
    assert!(
        text.contains("invoice.issued") || text.contains("seats.purchased"),
        "{text}"
    );

    // Settings: a SCIM token is shown once, with the base URL to paste into the IdP.
    browser.click_link("Settings").await;
    browser.fill("Description", "Okta production").await;
    browser.click_button("Create token").await;
    let text = browser.text().await;
    browser.screenshot("settings-token-created").await;
    assert!(text.contains(&format!("{}/scim/v2", app.addr)), "{text}");
    let secret = text
        .split("shown only once): ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no secret in {text}"))
        .to_string();
    let r = call(
        &app.client,
        &app.addr,
        Some(&secret),
        reqwest::Method::GET,
        "/scim/v2/Users?count=1",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "the new token works over SCIM");
    browser.client.refresh().await.expect("reload");
    assert!(!browser.text().await.contains(&secret), "shown once");
    browser.fill("Free seat threshold", "2").await;
    browser.click_button("Save alert").await;
    let text = browser.text().await;
    browser.screenshot("settings").await;
    assert!(text.contains("Usage alert saved."), "{text}");
    browser.goto(&format!("{}/console", app.addr)).await;
    let text = browser.text().await;
    assert!(text.contains("below your alert threshold of 2"), "{text}");

    // Lowering seats is explained beside the form, not as a raw error.
    browser
        .goto(&format!(
            "{}/console/seats/review?add_standard=-2",
            app.addr
        ))
        .await;
    let text = browser.text().await;
    browser.screenshot("lowering-refused").await;
    assert!(text.contains("never removed mid-term"), "{text}");
    assert!(text.contains("Change seats"), "{text}");

    // At phone width the same page stays readable.
    browser
        .client
        .set_window_size(390, 844)
        .await
        .expect("resize");
    browser.goto(&format!("{}/console", app.addr)).await;
    browser.screenshot("overview-phone").await;
    browser.close().await;
    app.assert_seat_invariants();
}

#[tokio::test]
async fn a_double_submit_of_update_makes_one_invoice() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let (client, _) = http_sign_in(&app, "otto@acme.example.com", "owner").await;
    let review = client
        .get(format!(
            "{}/console/seats/review?add_standard=2&add_premium=1",
            app.addr
        ))
        .send()
        .await
        .expect("review");
    assert_eq!(review.status(), StatusCode::OK);
    let html = review.text().await.unwrap();
    let form: Vec<(String, String)> = [
        "csrf",
        "add_standard",
        "add_premium",
        "upgrade",
        "members",
        "key",
    ]
    .iter()
    .map(|k| (k.to_string(), hidden(&html, k)))
    .collect();
    // Two clicks in flight at once, then one more later.
    let post = || {
        client
            .post(format!("{}/console/seats/update", app.addr))
            .form(&form)
            .send()
    };
    let (a, b) = tokio::join!(post(), post());
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert_eq!(a.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.status(), StatusCode::SEE_OTHER);
    assert_eq!(a.headers()["location"], b.headers()["location"]);
    let c = post().await.expect("third");
    assert_eq!(c.headers()["location"], a.headers()["location"]);
    assert_eq!(app.invoice_count("seat_change"), 1);
    assert_eq!(app.pool("standard").0, 3);
    assert_eq!(app.pool("premium").0, 1);
    app.assert_seat_invariants();
}
