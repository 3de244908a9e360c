//! The console's Settings page acting on the group → tier mapping: an Owner maps a SCIM
//! group to a tier and an Okta-shaped group push then moves its member; an Admin is refused;
//! a form without its CSRF token or with a bad value changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::console_support::*;
use crate::helpers::*;
use crate::web_invitations::sign_in_by_invitation;

async fn tier_of(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    seat(&r.body)["tier"].clone()
}

/// Okta's group push: members are added by a PATCH after the group exists.
async fn okta_add_member(app: &TestApp, group: &str, user: &str) {
    let r = app
        .patch(
            &format!("/Groups/{group}"),
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "add", "path": "members", "value": [{"value": user}]}]}),
        )
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
}

/// Scroll the mapping section into view, so that the screenshot shows it.
async fn show_group_section(browser: &Browser) {
    browser
        .client
        .execute(
            "document.getElementById('groups-h').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
}

async fn rules(app: &TestApp) -> Value {
    let owner = owner_token(app, scim_seats::domain::members::Role::Owner);
    let r = app
        .api(&owner, Method::GET, "/group-tiers", None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["rules"].clone()
}

#[tokio::test]
async fn an_owner_maps_a_group_to_premium_in_settings_and_a_group_push_moves_the_user() {
    let app = TestApp::builder().seats(2, 1).manual_jobs().spawn().await;
    // Carl holds the only premium seat, Ada a standard one; Engineering is pushed empty.
    let carl = scim_user(&app, "carl@acme.example.com", "Carl").await;
    let ada = scim_user(&app, "ada@acme.example.com", "Ada Lovelace").await;
    assert_eq!(tier_of(&app, &carl).await, "premium");
    assert_eq!(tier_of(&app, &ada).await, "standard");
    let eng = create_group_with(&app, "Engineering", &[]).await;
    create_group_with(&app, "Sales", &[]).await;

    let Some(mut browser) = Browser::start("console_settings_group_tiers").await else {
        return;
    };
    sign_in_by_invitation(&app, &mut browser, "olga@acme.example.com", "owner").await;
    browser
        .goto(&format!("{}/console/settings", app.addr))
        .await;
    let text = browser.text().await;
    assert!(text.contains("No group is mapped to a tier"), "{text}");
    browser.select("Group", "Engineering").await;
    browser.select("Tier", "Premium").await;
    browser.click_button("Map group").await;
    browser.wait_for_path("/console/settings").await;
    let text = browser.text().await;
    assert!(
        text.contains("Engineering is mapped to Premium"),
        "no flash: {text}"
    );
    assert_eq!(rules(&app).await[0]["group_id"], eng.as_str());
    assert_eq!(rules(&app).await[0]["tier"], "premium");

    // The group push: no premium seat is free, so Ada waits for one, and the page says so.
    okta_add_member(&app, &eng, &ada).await;
    assert_eq!(tier_of(&app, &ada).await, "standard");
    browser
        .goto(&format!("{}/console/settings", app.addr))
        .await;
    let text = browser.text().await;
    show_group_section(&browser).await;
    browser.screenshot("settings-rule-and-wait").await;
    assert!(
        text.contains("ada@acme.example.com Standard Premium"),
        "no wait shown: {text}"
    );
    assert!(!text.contains("Nobody waits for a tier"), "{text}");

    // Carl leaves: his premium seat goes to Ada (read back over SCIM).
    let r = app
        .patch(
            &format!("/Users/{carl}"),
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(tier_of(&app, &ada).await, "premium");

    // The Owner removes the rule: Ada keeps her seat.
    browser
        .goto(&format!("{}/console/settings", app.addr))
        .await;
    browser.click_button("Remove rule").await;
    browser.wait_for_path("/console/settings").await;
    let text = browser.text().await;
    show_group_section(&browser).await;
    browser.screenshot("settings-rule-removed").await;
    assert!(text.contains("tier rule was removed"), "{text}");
    assert!(text.contains("No group is mapped to a tier"), "{text}");
    assert_eq!(rules(&app).await, json!([]));
    assert_eq!(tier_of(&app, &ada).await, "premium");
    app.assert_seat_invariants();
    browser.close().await;
}

#[tokio::test]
async fn group_tier_forms_refuse_admins_missing_csrf_and_bad_values_changing_nothing() {
    let app = TestApp::builder().seats(2, 1).manual_jobs().spawn().await;
    let eng = create_group_with(&app, "Engineering", &[]).await;
    let post = |client: &reqwest::Client, path: &str, form: Vec<(&str, String)>| {
        client
            .post(format!("{}{path}", app.addr))
            .form(&form)
            .send()
    };

    // An Admin: 403 on both forms, even with a valid CSRF token.
    let (admin, admin_csrf) = http_sign_in(&app, "adam@acme.example.com", "admin").await;
    let r = post(
        &admin,
        "/console/settings/group-tiers",
        vec![
            ("csrf", admin_csrf.clone()),
            ("group_id", eng.clone()),
            ("tier", "premium".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("Requires Owner"));
    assert_eq!(rules(&app).await, json!([]));

    let (owner, csrf) = http_sign_in(&app, "olga@acme.example.com", "owner").await;
    // No CSRF token: refused, nothing mapped.
    let r = post(
        &owner,
        "/console/settings/group-tiers",
        vec![("group_id", eng.clone()), ("tier", "premium".into())],
    )
    .await
    .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(rules(&app).await, json!([]));
    // An unknown tier and an unknown group: readable pages, nothing mapped.
    for (group, tier, status) in [
        (eng.clone(), "gold", StatusCode::BAD_REQUEST),
        (
            "no-such-group".to_string(),
            "premium",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let r = post(
            &owner,
            "/console/settings/group-tiers",
            vec![
                ("csrf", csrf.clone()),
                ("group_id", group),
                ("tier", tier.into()),
            ],
        )
        .await
        .unwrap();
        assert_eq!(r.status(), status, "{tier}");
        let html = r.text().await.unwrap();
        assert!(html.contains("<html"), "not a page: {html}");
        assert_eq!(rules(&app).await, json!([]));
    }

    // A real rule, then its removal refused to the Admin and without CSRF.
    let r = post(
        &owner,
        "/console/settings/group-tiers",
        vec![
            ("csrf", csrf.clone()),
            ("group_id", eng.clone()),
            ("tier", "premium".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(rules(&app).await[0]["tier"], "premium");
    let remove = format!("/console/settings/group-tiers/{eng}/remove");
    let r = post(&admin, &remove, vec![("csrf", admin_csrf)])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(&owner, &remove, vec![]).await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(rules(&app).await.as_array().map(Vec::len), Some(1));
    let r = post(&owner, &remove, vec![("csrf", csrf.clone())])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(rules(&app).await, json!([]));
    // Removing it again: a readable 404, not a 5xx.
    let r = post(&owner, &remove, vec![("csrf", csrf)]).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// Follow the console's 303 and return the page it leads to.
async fn followed(client: &reqwest::Client, app: &TestApp, r: reqwest::Response) -> String {
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("location")
        .to_string();
    client
        .get(format!("{}{to}", app.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn sso_settings(app: &TestApp) -> crate::helpers::Resp {
    let owner = owner_token(app, scim_seats::domain::members::Role::Owner);
    app.api(&owner, Method::GET, "/sso", None, &[]).await
}

#[tokio::test]
async fn an_owner_saves_sso_in_settings_sees_the_redirect_uri_and_people_sign_in_through_it() {
    use crate::idp::{browser_client, sign_in_via_idp, TestIdp, CLIENT_ID, CLIENT_SECRET};
    // The redirect URI is built from the public URL, so the port must be known first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let app = TestApp::builder()
        .seats(3, 0)
        .settings(|s| {
            s.http.bind = format!("127.0.0.1:{port}");
            s.mail.public_url = format!("http://127.0.0.1:{port}");
            s.mail.delivery_interval = None;
            s.billing.renewal_interval = None;
            s.outbound = scim_seats::outbound::Policy::parse("127.0.0.1").expect("policy");
        })
        .spawn()
        .await;
    let redirect_uri = format!("{}/sso/acme/callback", app.addr);
    let idp = TestIdp::start(std::slice::from_ref(&redirect_uri));
    let (owner, csrf) = http_sign_in(&app, "olga@acme.example.com", "owner").await;
    let page = owner
        .get(format!("{}/console/settings", app.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("SSO is not set up"), "{page}");
    assert!(
        page.contains(&redirect_uri),
        "redirect URI not offered: {page}"
    );
    assert!(page.contains("type=\"password\""), "{page}");
    let save = |form: Vec<(&'static str, String)>| {
        owner
            .post(format!("{}/console/settings/sso", app.addr))
            .form(&form)
            .send()
    };

    // A wrong issuer: a readable 400 page, nothing saved.
    let r = save(vec![
        ("csrf", csrf.clone()),
        ("issuer", "http://idp.example.com".into()),
        ("client_id", CLIENT_ID.into()),
        ("client_secret", CLIENT_SECRET.into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("https://"));
    assert_eq!(sso_settings(&app).await.status, StatusCode::NOT_FOUND);
    // Without the CSRF token: nothing saved.
    let r = save(vec![
        ("issuer", idp.issuer.clone()),
        ("client_id", CLIENT_ID.into()),
        ("client_secret", CLIENT_SECRET.into()),
    ])
    .await
    .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(sso_settings(&app).await.status, StatusCode::NOT_FOUND);

    let r = save(vec![
        ("csrf", csrf.clone()),
        ("issuer", idp.issuer.clone()),
        ("client_id", CLIENT_ID.into()),
        ("client_secret", CLIENT_SECRET.into()),
        ("extra_scopes", "".into()),
    ])
    .await
    .unwrap();
    let page = followed(&owner, &app, r).await;
    assert!(
        page.contains(&format!(
            "Register this redirect URI at the identity provider: {redirect_uri}"
        )),
        "{page}"
    );
    assert!(!page.contains(CLIENT_SECRET), "the secret is shown back");
    let s = sso_settings(&app).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    assert_eq!(s.body["issuer"], idp.issuer.as_str());

    // The saved settings work: a person of the verified domain signs in through the IdP.
    let page = sign_in_via_idp(
        &browser_client(false),
        &app.addr,
        "acme",
        "nia@acme.example.com",
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.url.ends_with("/console"), "{}", page.url);

    // Saved again with the secret left blank: the stored secret is kept, the scope added.
    let r = save(vec![
        ("csrf", csrf.clone()),
        ("issuer", idp.issuer.clone()),
        ("client_id", CLIENT_ID.into()),
        ("client_secret", "".into()),
        ("extra_scopes", "groups".into()),
    ])
    .await
    .unwrap();
    followed(&owner, &app, r).await;
    let s = sso_settings(&app).await;
    assert_eq!(s.body["client_secret_set"], true, "{}", s.body);
    assert_eq!(
        s.body["scopes"],
        json!(["openid", "email", "profile", "groups"])
    );

    // An Admin may not change or turn it off.
    let (admin, admin_csrf) = http_sign_in(&app, "adam@acme.example.com", "admin").await;
    let r = admin
        .post(format!("{}/console/settings/sso/delete", app.addr))
        .form(&[("csrf", admin_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(sso_settings(&app).await.status, StatusCode::OK);

    // Turned off by the Owner.
    let r = owner
        .post(format!("{}/console/settings/sso/delete", app.addr))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let page = followed(&owner, &app, r).await;
    assert!(page.contains("SSO is off"), "{page}");
    assert!(page.contains("SSO is not set up"), "{page}");
    assert_eq!(sso_settings(&app).await.status, StatusCode::NOT_FOUND);
}

/// `(client id, secret)` from the flash of a page that shows a new OAuth secret once.
fn issued_in(page: &str) -> (String, String) {
    let word_after = |marker: &str| {
        page.split(marker)
            .nth(1)
            .and_then(|rest| rest.split(|c: char| c.is_whitespace() || c == '<').next())
            .unwrap_or_else(|| panic!("nothing after {marker:?} in {page}"))
            .to_string()
    };
    (
        word_after("OAuth client "),
        word_after("shown only once): "),
    )
}

async fn oauth_token(app: &TestApp, id: &str, secret: &str) -> Option<String> {
    let r = http_client()
        .post(format!("{}/oauth/token", app.addr))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    let r = into_resp(r).await;
    if r.status != StatusCode::OK {
        assert_eq!(r.body["error"], "invalid_client", "{}", r.body);
        return None;
    }
    Some(
        r.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string(),
    )
}

async fn scim_with(app: &TestApp, token: &str) -> StatusCode {
    call(
        &app.client,
        &app.addr,
        Some(token),
        Method::GET,
        "/scim/v2/Users?count=1",
        None,
    )
    .await
    .status
}

async fn oauth_clients(app: &TestApp) -> Value {
    let owner = owner_token(app, scim_seats::domain::members::Role::Owner);
    let r = app
        .api(&owner, Method::GET, "/oauth-clients", None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["clients"].clone()
}

#[tokio::test]
async fn an_owner_creates_an_oauth_client_in_settings_whose_secret_gets_scim_tokens() {
    let app = TestApp::builder().seats(2, 0).manual_jobs().spawn().await;
    let (owner, csrf) = http_sign_in(&app, "olga@acme.example.com", "owner").await;
    let form = |path: &str, fields: Vec<(&'static str, String)>| {
        owner
            .post(format!("{}/console/settings/oauth-clients{path}", app.addr))
            .form(&fields)
            .send()
    };
    // Without the CSRF token nothing is created.
    let r = form("", vec![("description", "Entra".into())])
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(oauth_clients(&app).await, json!([]));
    // An Admin is refused.
    let (admin, admin_csrf) = http_sign_in(&app, "adam@acme.example.com", "admin").await;
    let r = admin
        .post(format!("{}/console/settings/oauth-clients", app.addr))
        .form(&[("csrf", admin_csrf.as_str()), ("description", "Entra")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(oauth_clients(&app).await, json!([]));

    let r = form(
        "",
        vec![("csrf", csrf.clone()), ("description", "Entra".into())],
    )
    .await
    .unwrap();
    let page = followed(&owner, &app, r).await;
    assert!(
        page.contains(&format!("{}/oauth/token", app.addr)),
        "{page}"
    );
    let (client, secret) = issued_in(&page);
    assert_eq!(oauth_clients(&app).await[0]["client_id"], client.as_str());
    let token = oauth_token(&app, &client, &secret).await.expect("a token");
    assert_eq!(scim_with(&app, &token).await, StatusCode::OK);
    // Shown once.
    let again = owner
        .get(format!("{}/console/settings", app.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains(&secret), "the secret is shown again");
    assert!(again.contains(&client), "{again}");

    // Rotation: a second secret, then the first revoked.
    let r = form(&format!("/{client}/secrets"), vec![("csrf", csrf.clone())])
        .await
        .unwrap();
    let (same, second) = issued_in(&followed(&owner, &app, r).await);
    assert_eq!(same, client);
    assert!(oauth_token(&app, &client, &second).await.is_some());
    let first_id = oauth_clients(&app).await[0]["secrets"][0]["id"]
        .as_str()
        .expect("secret id")
        .to_string();
    let r = form(
        &format!("/{client}/secrets/{first_id}/revoke"),
        vec![("csrf", csrf.clone())],
    )
    .await
    .unwrap();
    let page = followed(&owner, &app, r).await;
    assert!(page.contains("The secret was revoked"), "{page}");
    assert!(oauth_token(&app, &client, &secret).await.is_none());
    assert!(oauth_token(&app, &client, &second).await.is_some());

    // An Admin may not revoke the client; the Owner does, and its secrets stop working.
    let r = admin
        .post(format!(
            "{}/console/settings/oauth-clients/{client}/revoke",
            app.addr
        ))
        .form(&[("csrf", admin_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(oauth_token(&app, &client, &second).await.is_some());
    let r = form(&format!("/{client}/revoke"), vec![("csrf", csrf.clone())])
        .await
        .unwrap();
    let page = followed(&owner, &app, r).await;
    assert!(page.contains("The OAuth client was revoked"), "{page}");
    assert!(oauth_token(&app, &client, &second).await.is_none());
    // Revoking an unknown client: a readable 404 page.
    let r = form("/no-such-client/revoke", vec![("csrf", csrf)])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
