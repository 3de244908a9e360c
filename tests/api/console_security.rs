//! What the console refuses: a Member sees no billing and gets 403 on its URLs, a form
//! without the CSRF token changes nothing, and user text is shown as text.

use reqwest::StatusCode;

use crate::browser::Browser;
use crate::console_support::*;
use crate::helpers::*;
use crate::web_invitations::sign_in_by_invitation;

#[tokio::test]
async fn a_member_sees_no_billing_and_gets_a_403_page_on_its_urls() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let Some(mut browser) = Browser::start("console_member_403").await else {
        return;
    };
    sign_in_by_invitation(&app, &mut browser, "max@acme.example.com", "member").await;
    let text = browser.text().await;
    browser.screenshot("member-overview").await;
    assert!(text.contains("You hold a standard seat."), "{text}");
    for hidden in [
        "Seats",
        "Members",
        "Pending users",
        "Invoices",
        "Settings",
        "Audit log",
        "Contract",
        "$",
    ] {
        assert!(
            !text.contains(hidden),
            "a Member is offered {hidden}: {text}"
        );
    }
    browser.goto(&format!("{}/console/seats", app.addr)).await;
    let text = browser.text().await;
    browser.screenshot("seats-403").await;
    assert!(text.contains("You don't have access to this"), "{text}");
    assert!(text.contains("Requires Owner"), "{text}");
    assert!(text.contains("Error 403"), "{text}");
    browser.close().await;

    // The same over HTTP, for every page a Member may not open.
    let (client, csrf) = http_sign_in(&app, "mo@acme.example.com", "member").await;
    for path in [
        "/console/seats",
        "/console/seats/review?add_standard=1",
        "/console/invoices",
        "/console/settings",
        "/console/audit",
        "/console/members",
        "/console/pending",
        "/console/pending.csv",
    ] {
        let r = client
            .get(format!("{}{path}", app.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("have access to this"), "{path}: {html}");
        assert!(
            html.contains("Requires Admin") || html.contains("Requires Owner"),
            "{path}: {html}"
        );
    }
    let r = client
        .post(format!("{}/console/seats/update", app.addr))
        .form(&[
            ("csrf", csrf.as_str()),
            ("add_standard", "1"),
            ("add_premium", "0"),
            ("upgrade", "0"),
            ("members", ""),
            ("key", "member-tries"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.invoice_count("seat_change"), 0);
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let (client, csrf) = http_sign_in(&app, "oona@acme.example.com", "owner").await;
    let tokens_before = app
        .db
        .read_sync({
            let org = app.org_id.clone();
            move |c| Ok(scim_seats::store::tokens::list(c, &org)?.len())
        })
        .unwrap();
    let order = [
        ("add_standard", "5"),
        ("add_premium", "0"),
        ("upgrade", "0"),
        ("members", ""),
        ("key", "k-csrf-test"),
    ];
    for bad in [None, Some(""), Some("0000")] {
        let mut form: Vec<(&str, &str)> = order.to_vec();
        if let Some(b) = bad {
            form.push(("csrf", b));
        }
        let r = client
            .post(format!("{}/console/seats/update", app.addr))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{bad:?}");
        assert!(r.text().await.unwrap().contains("nothing was changed"));
        for (path, form) in [
            (
                "/console/members/invite",
                vec![("email", "zed@acme.example.com"), ("role", "member")],
            ),
            ("/console/settings/tokens", vec![("description", "evil")]),
            (
                "/console/settings/domains",
                vec![("domain", "evil.example")],
            ),
        ] {
            let mut form = form;
            if let Some(b) = bad {
                form.push(("csrf", b));
            }
            let r = client
                .post(format!("{}{path}", app.addr))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} {bad:?}");
        }
    }
    // Another site's form carries no session token either: a client without our cookie.
    let r = cookie_client()
        .post(format!("{}/console/seats/update", app.addr))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "no session: sign in first"
    );
    assert_eq!(app.invoice_count("seat_change"), 0);
    assert_eq!(app.pool("standard").0, 1);
    assert!(outbox_to(&app, "zed@acme.example.com").is_empty());
    let tokens_after = app
        .db
        .read_sync({
            let org = app.org_id.clone();
            move |c| Ok(scim_seats::store::tokens::list(c, &org)?.len())
        })
        .unwrap();
    assert_eq!(tokens_before, tokens_after);

    // With the token the same order goes through: the refusals were about the token alone.
    let mut form: Vec<(&str, &str)> = order.to_vec();
    form.push(("csrf", csrf.as_str()));
    let r = client
        .post(format!("{}/console/seats/update", app.addr))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.invoice_count("seat_change"), 1);
}

#[tokio::test]
async fn a_display_name_with_markup_is_shown_as_text() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let Some(mut browser) = Browser::start("console_markup_as_text").await else {
        return;
    };
    sign_in_by_invitation(&app, &mut browser, "ola@acme.example.com", "owner").await;
    let evil = "<b>Eve</b><script>document.title='owned'</script><img src=x onerror=alert(1)>";
    scim_user(&app, "eve@acme.example.com", evil).await;
    browser.goto(&format!("{}/console/pending", app.addr)).await;
    let text = browser.text().await;
    browser.screenshot("pending-markup").await;
    assert!(text.contains(evil), "the name is shown as typed: {text}");
    assert_ne!(browser.title().await, "owned");
    let bold = browser
        .client
        .find_all(fantoccini::Locator::Css("td b, td img, td script"))
        .await
        .expect("query");
    assert!(bold.is_empty(), "markup became elements");

    // The Members page and the settings show user text escaped too.
    let (client, _) = http_sign_in(&app, "oz@acme.example.com", "owner").await;
    let html = client
        .get(format!("{}/console/pending", app.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("&#60;b&#62;Eve&#60;/b&#62;"), "{html}");
    assert!(!html.contains("<script>document"), "{html}");
    browser.close().await;
}
