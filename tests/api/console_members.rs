//! Members in the console, in a real browser: an Admin invites a member and gives a seat to
//! a pending user.

use fantoccini::Locator;

use crate::browser::Browser;
use crate::console_support::*;
use crate::helpers::*;
use crate::web_invitations::sign_in_by_invitation;

#[tokio::test]
async fn an_admin_invites_a_member_and_gives_a_seat_to_a_pending_user() {
    let app = TestApp::builder().seats(2, 0).manual_jobs().spawn().await;
    let Some(mut browser) = Browser::start("console_admin_members").await else {
        return;
    };
    sign_in_by_invitation(&app, &mut browser, "ada@acme.example.com", "admin").await;
    // Bob holds the other seat (his account came from the IdP); Dora waits.
    let bob_account = scim_user(&app, "bob@acme.example.com", "Bob Baker").await;
    let bob = add_member_email(&app, "bob@acme.example.com", Role::Member);
    let dora = scim_user(&app, "dora@acme.example.com", "Dora Dunn").await;
    assert_eq!(seat_status(&app, &dora).await, "pending");

    browser.goto(&format!("{}/console", app.addr)).await;
    let text = browser.text().await;
    browser.screenshot("admin-overview").await;
    assert!(
        text.contains("Members") && text.contains("Pending users"),
        "{text}"
    );
    for hidden in ["Invoices", "Settings", "Audit log", "Contract"] {
        assert!(
            !text.contains(hidden),
            "an Admin is offered {hidden}: {text}"
        );
    }

    browser.click_link("Members").await;
    browser.screenshot("members").await;
    browser.fill("Email address", "nina@acme.example.com").await;
    browser.select("Role to give", "Admin").await;
    browser.click_button("Send invitation").await;
    let text = browser.text().await;
    browser.screenshot("invited").await;
    assert!(
        text.contains("Invitation mailed to nina@acme.example.com as Admin"),
        "{text}"
    );
    assert!(text.contains("Open invitations"), "{text}");
    assert_eq!(outbox_to(&app, "nina@acme.example.com").len(), 1);

    // An address outside the verified domains is refused with a page, and nothing is sent.
    browser
        .fill("Email address", "eve@elsewhere.example.org")
        .await;
    browser.click_button("Send invitation").await;
    let text = browser.text().await;
    browser.screenshot("invite-refused").await;
    assert!(text.contains("verified"), "{text}");
    assert!(outbox_to(&app, "eve@elsewhere.example.org").is_empty());

    // Filter to members holding a seat, then manage Bob.
    browser.goto(&format!("{}/console/members", app.addr)).await;
    browser.select("Seat status", "Holds a seat").await;
    browser.click_button("Filter").await;
    let text = browser.text().await;
    assert!(text.contains("bob@acme.example.com"), "{text}");
    assert!(!text.contains("nina@acme.example.com · "), "{text}");
    let manage = browser
        .client
        .find(Locator::Css("a[aria-label='Manage bob@acme.example.com']"))
        .await
        .expect("manage link");
    browser.click_and_wait(manage).await;
    assert_eq!(browser.path().await, format!("/console/members/{bob}"));
    let text = browser.text().await;
    browser.screenshot("member").await;
    assert!(text.contains("Standard seat"), "{text}");
    assert!(
        !text.contains("Change role"),
        "only Owners change roles: {text}"
    );
    browser
        .select("Pending user", "#1 Dora Dunn <dora@acme.example.com>")
        .await;
    browser.click_button("Give seat").await;
    let text = browser.text().await;
    browser.screenshot("seat-given").await;
    assert!(
        text.contains("Dora Dunn got the standard seat; Bob Baker is now pending."),
        "{text}"
    );
    assert_eq!(seat_status(&app, &dora).await, "active", "over SCIM");
    assert_eq!(seat_status(&app, &bob_account).await, "pending");
    browser.close().await;
    app.assert_seat_invariants();
}
