//! The roles table of PRODUCT.md, walked for every (endpoint, role) pair through the real
//! server, and the rules of role changes and primary-ownership transfer.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// Every owner-API endpoint with the lowest role PRODUCT.md allows. Ids are dummies: allowed
/// roles get past the role check and then fail on the id or the body (never 401/403).
fn table() -> Vec<(Method, &'static str, Role, Option<Value>)> {
    use Role::*;
    vec![
        // buy seats, upgrade seats, see contract and invoices: Owners
        (Method::GET, "/contract", Owner, None),
        (
            Method::POST,
            "/seats/preview",
            Owner,
            Some(json!({"add_standard": -1})),
        ),
        (
            Method::POST,
            "/seats/confirm",
            Owner,
            Some(json!({"add_standard": 1})),
        ),
        (Method::GET, "/invoices", Owner, None),
        (Method::GET, "/invoices/INV-x-000009", Owner, None),
        (Method::GET, "/invoices/INV-x-000009.html", Owner, None),
        (Method::GET, "/invoices/INV-x-000009.csv", Owner, None),
        // SCIM tokens, SSO/IdP settings, verified domains: Owners
        (Method::GET, "/scim-tokens", Owner, None),
        (
            Method::POST,
            "/scim-tokens",
            Owner,
            Some(json!({"description": "role walk"})),
        ),
        (Method::DELETE, "/scim-tokens/no-such-token", Owner, None),
        (Method::GET, "/sso", Owner, None),
        (Method::PUT, "/sso", Owner, Some(json!({}))),
        (Method::DELETE, "/sso", Owner, None),
        (Method::GET, "/domains", Owner, None),
        (
            Method::POST,
            "/domains",
            Owner,
            Some(json!({"domain": "not a domain"})),
        ),
        (Method::DELETE, "/domains/nowhere.example.org", Owner, None),
        (Method::GET, "/events", Owner, None),
        (Method::GET, "/provisioning-log", Admin, None),
        (Method::GET, "/provisioning-log/users/nobody", Admin, None),
        (Method::GET, "/oauth-clients", Owner, None),
        (
            Method::POST,
            "/oauth-clients",
            Owner,
            Some(json!({"description": "role walk"})),
        ),
        (
            Method::POST,
            "/oauth-clients/no-such-client/secrets",
            Owner,
            None,
        ),
        (
            Method::DELETE,
            "/oauth-clients/no-such-client/secrets/no-such-secret",
            Owner,
            None,
        ),
        (Method::DELETE, "/oauth-clients/no-such-client", Owner, None),
        (Method::GET, "/group-tiers", Owner, None),
        (
            Method::PUT,
            "/group-tiers/no-such-group",
            Owner,
            Some(json!({"tier": "premium"})),
        ),
        (Method::DELETE, "/group-tiers/no-such-group", Owner, None),
        // invite members, reassign seats, see members: Admins
        (Method::POST, "/invitations", Admin, Some(json!({}))),
        (Method::GET, "/invitations", Admin, None),
        (
            Method::DELETE,
            "/invitations/no-such-invitation",
            Admin,
            None,
        ),
        (Method::GET, "/members", Admin, None),
        (Method::GET, "/members/no-such-member", Admin, None),
        (
            Method::PUT,
            "/members/no-such-member/tier",
            Admin,
            Some(json!({"tier": "premium"})),
        ),
        (
            Method::POST,
            "/members/no-such-member/swap",
            Admin,
            Some(json!({"with": "nobody"})),
        ),
        (
            Method::POST,
            "/members/no-such-member/give-seat",
            Admin,
            Some(json!({"to": "nobody"})),
        ),
        (Method::DELETE, "/members/no-such-member", Admin, None),
        // change roles: Owners
        (
            Method::PUT,
            "/members/no-such-member/role",
            Owner,
            Some(json!({"role": "admin"})),
        ),
        // transfer primary ownership: the Primary Owner
        (
            Method::POST,
            "/ownership/transfer",
            PrimaryOwner,
            Some(json!({"member_id": "nobody"})),
        ),
        // anyone signed in
        (Method::GET, "/me", Member, None),
        (Method::GET, "/reports/pending", Admin, None),
        (Method::GET, "/reports/pending.csv", Admin, None),
        (Method::GET, "/reports/usage", Admin, None),
        (Method::GET, "/settings/alerts", Owner, None),
        (Method::PUT, "/settings/alerts", Owner, Some(json!({}))),
        (Method::GET, "/audit", Owner, None),
    ]
}

/// Documented routes outside `/api/v1` with their roles, checked by their own tests. None
/// today: `/reports` only redirects to the console, whose pages console_*.rs check.
const PAGES: &[(&str, &str, Role)] = &[];

#[tokio::test]
async fn every_endpoint_and_role_pair_follows_the_roles_table() {
    let app = TestApp::builder().seats(2, 0).manual_jobs().spawn().await;
    let tokens: Vec<(Role, String)> = Role::ALL
        .into_iter()
        .map(|r| (r, owner_token(&app, r)))
        .collect();
    let mut checked = 0;
    for (method, path, min, body) in table() {
        for (role, token) in &tokens {
            let r = app
                .api(token, method.clone(), path, body.clone(), &[])
                .await;
            let pair = format!("{method} {path} as {role}");
            if role.at_least(min) {
                assert!(
                    r.status != StatusCode::FORBIDDEN && r.status != StatusCode::UNAUTHORIZED,
                    "{pair}: allowed, got {} {}",
                    r.status,
                    r.body
                );
                // A 404 is about the dummy id, never a missing route.
                assert_ne!(r.body["detail"], "endpoint not found", "{pair}");
            } else {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{pair}: {}", r.body);
                let detail = r.body["detail"].as_str().unwrap_or_default();
                assert!(
                    detail.contains(&format!("requires {}", min.and_above())),
                    "{pair}: the detail names the roles allowed: {detail}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, table().len() * 4);
    // Nothing in the walk changed a seat.
    app.assert_seat_invariants();
}

#[tokio::test]
async fn the_table_covers_every_documented_route_with_its_role() {
    let app = TestApp::builder().seats(0, 0).manual_jobs().spawn().await;
    let doc = call(
        &app.client,
        &app.addr,
        None,
        Method::GET,
        "/api/v1/openapi.json",
        None,
    )
    .await;
    assert_eq!(doc.status, StatusCode::OK);
    let table = table();
    let mut documented = 0;
    for (path, item) in doc.body["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Some(role) = op.get("x-required-role").and_then(Value::as_str) else {
                continue;
            };
            if let Some((_, _, min)) = PAGES.iter().find(|(m, p, _)| m == method && p == path) {
                assert_eq!(min.as_str(), role, "{method} {path}");
                continue;
            }
            documented += 1;
            // Match the documented template against the table's concrete path.
            let found = table.iter().find(|(m, p, _, _)| {
                m.as_str().eq_ignore_ascii_case(method)
                    && template_matches(path, &format!("/api/v1{p}"))
            });
            let (_, _, min, _) =
                found.unwrap_or_else(|| panic!("{method} {path} is not in the roles table"));
            assert_eq!(min.as_str(), role, "{method} {path}");
        }
    }
    assert_eq!(
        documented,
        table.len(),
        "every table row is a documented route"
    );
}

/// `/api/v1/members/{id}/tier` matches `/api/v1/members/x/tier`; `{number}.csv` matches `N.csv`.
fn template_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| match t.split_once('}') {
            Some((_, suffix)) if t.starts_with('{') => {
                p.ends_with(suffix) && p.len() > suffix.len()
            }
            _ => t == p,
        })
}

async fn role_of(app: &TestApp, token: &str, id: &str) -> String {
    let r = app
        .api(token, Method::GET, &format!("/members/{id}"), None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["role"].as_str().expect("role").to_string()
}

#[tokio::test]
async fn owners_change_roles_but_never_to_or_from_primary_owner() {
    let app = TestApp::builder().seats(5, 0).manual_jobs().spawn().await;
    let po = add_member(&app, &app.org_id, Role::PrimaryOwner);
    let po_token = owner_token_for(&app, &app.org_id, &po);
    let owner = owner_token(&app, Role::Owner);
    let admin = owner_token(&app, Role::Admin);
    let m = add_member(&app, &app.org_id, Role::Member);

    for (token, to) in [(&owner, "admin"), (&po_token, "owner"), (&owner, "member")] {
        let r = app
            .api(
                token,
                Method::PUT,
                &format!("/members/{m}/role"),
                Some(json!({"role": to})),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["role"], to);
    }
    // Admins do not change roles.
    let r = app
        .api(
            &admin,
            Method::PUT,
            &format!("/members/{m}/role"),
            Some(json!({"role": "admin"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("requires Owner or Primary Owner"));
    // Never to Primary Owner...
    let r = app
        .api(
            &po_token,
            Method::PUT,
            &format!("/members/{m}/role"),
            Some(json!({"role": "primary_owner"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("transfer"));
    // ...nor from it.
    let r = app
        .api(
            &owner,
            Method::PUT,
            &format!("/members/{po}/role"),
            Some(json!({"role": "admin"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(role_of(&app, &owner, &po).await, "primary_owner");
    // A demotion takes effect at once: the role is read on every request.
    let r = app
        .api(
            &owner,
            Method::PUT,
            &format!("/members/{m}/role"),
            Some(json!({"role": "owner"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let m_token = owner_token_for(&app, &app.org_id, &m);
    assert_eq!(
        app.api(&m_token, Method::GET, "/domains", None, &[])
            .await
            .status,
        StatusCode::OK
    );
    app.api(
        &owner,
        Method::PUT,
        &format!("/members/{m}/role"),
        Some(json!({"role": "member"})),
        &[],
    )
    .await;
    assert_eq!(
        app.api(&m_token, Method::GET, "/domains", None, &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn only_the_primary_owner_transfers_primary_ownership_in_one_step() {
    let app = TestApp::builder().seats(5, 0).manual_jobs().spawn().await;
    let po = add_member(&app, &app.org_id, Role::PrimaryOwner);
    let po_token = owner_token_for(&app, &app.org_id, &po);
    let owner_id = add_member(&app, &app.org_id, Role::Owner);
    let owner = owner_token_for(&app, &app.org_id, &owner_id);
    let admin_id = add_member(&app, &app.org_id, Role::Admin);

    // An Owner cannot take it.
    let r = app
        .api(
            &owner,
            Method::POST,
            "/ownership/transfer",
            Some(json!({"member_id": owner_id})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("requires Primary Owner"));
    // Not to oneself, not to a stranger.
    let r = app
        .api(
            &po_token,
            Method::POST,
            "/ownership/transfer",
            Some(json!({"member_id": po})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .api(
            &po_token,
            Method::POST,
            "/ownership/transfer",
            Some(json!({"member_id": "nobody"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // To an Admin: the Admin becomes Primary Owner, the old one an Owner.
    let r = app
        .api(
            &po_token,
            Method::POST,
            "/ownership/transfer",
            Some(json!({"member_id": admin_id})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["primary_owner"]["id"], admin_id.as_str());
    assert_eq!(r.body["primary_owner"]["role"], "primary_owner");
    assert_eq!(r.body["previous_primary_owner"]["role"], "owner");
    assert_eq!(role_of(&app, &owner, &po).await, "owner");
    assert_eq!(role_of(&app, &owner, &admin_id).await, "primary_owner");
    // Exactly one Primary Owner.
    let list = app
        .api(
            &owner,
            Method::GET,
            "/members?role=primary_owner",
            None,
            &[],
        )
        .await;
    assert_eq!(list.body["total"], 1, "{}", list.body);
    // The old Primary Owner cannot transfer any more; the new one can.
    let r = app
        .api(
            &po_token,
            Method::POST,
            "/ownership/transfer",
            Some(json!({"member_id": po})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let new_po = owner_token_for(&app, &app.org_id, &admin_id);
    let r = app
        .api(
            &new_po,
            Method::POST,
            "/ownership/transfer",
            Some(json!({"member_id": po})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(role_of(&app, &owner, &po).await, "primary_owner");
}

#[tokio::test]
async fn admins_cannot_remove_owners_and_nobody_removes_the_primary_owner() {
    let app = TestApp::builder().seats(5, 0).manual_jobs().spawn().await;
    let po = add_member(&app, &app.org_id, Role::PrimaryOwner);
    let po_token = owner_token_for(&app, &app.org_id, &po);
    let admin = owner_token(&app, Role::Admin);
    let owner_id = add_member(&app, &app.org_id, Role::Owner);
    let other_admin = add_member(&app, &app.org_id, Role::Admin);

    let r = app
        .api(
            &admin,
            Method::DELETE,
            &format!("/members/{owner_id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("Owner or Primary Owner"));
    let r = app
        .api(
            &po_token,
            Method::DELETE,
            &format!("/members/{po}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Addressed by its account instead, an Owner is protected just the same.
    let acct = app.create_user(&owner_email(&app, &owner_id)).await;
    let acct_id = acct["id"].as_str().unwrap();
    let r = app
        .api(
            &admin,
            Method::DELETE,
            &format!("/members/{acct_id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("belongs to an Owner"));
    let r = app
        .api(
            &admin,
            Method::DELETE,
            &format!("/members/{other_admin}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .api(
            &po_token,
            Method::DELETE,
            &format!("/members/{owner_id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A removed member's token stops working at once.
    let gone = owner_token_for(&app, &app.org_id, &owner_id);
    assert_eq!(
        app.api(&gone, Method::GET, "/me", None, &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
}

fn owner_email(app: &TestApp, member_id: &str) -> String {
    let (org, id) = (app.org_id.clone(), member_id.to_string());
    app.db
        .read_sync(move |c| Ok(scim_seats::store::members::find(c, &org, &id)?))
        .expect("member")
        .expect("exists")
        .email
}
