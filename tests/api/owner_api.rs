//! The owner API through the real server: members with their seats (list, filters, paging),
//! seat operations, verified domains, SCIM token management, tenant isolation, and the
//! OpenAPI document kept in sync with the routes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// A member with an account made through SCIM (userName = email).
async fn member_with_account(app: &TestApp, email: &str, role: Role) -> (String, String) {
    let u = app.create_user(email).await;
    let id = add_member_email(app, email, role);
    (id, u["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn members_list_with_seats_filters_and_pages() {
    let app = TestApp::builder().seats(1, 1).manual_jobs().spawn().await;
    let admin = owner_token(&app, Role::Admin); // a member without an account
    member_with_account(&app, "p@acme.example.com", Role::Owner).await; // premium
    member_with_account(&app, "s@acme.example.com", Role::Member).await; // standard
    member_with_account(&app, "q@acme.example.com", Role::Member).await; // pending

    let all = app.api(&admin, Method::GET, "/members", None, &[]).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(all.body["total"], 4);
    let by = |q: &str| {
        let app = &app;
        let admin = admin.clone();
        let q = q.to_string();
        async move {
            app.api(&admin, Method::GET, &format!("/members?{q}"), None, &[])
                .await
                .body
        }
    };
    let emails = |v: &Value| -> Vec<String> {
        v["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["email"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(emails(&by("tier=premium").await), ["p@acme.example.com"]);
    assert_eq!(emails(&by("tier=standard").await), ["s@acme.example.com"]);
    assert_eq!(emails(&by("status=pending").await), ["q@acme.example.com"]);
    assert_eq!(
        by("status=none").await["total"],
        1,
        "the admin has no account"
    );
    assert_eq!(by("role=member").await["total"], 2);
    assert_eq!(by("role=member&status=active").await["total"], 1);
    let pending = by("status=pending").await;
    assert_eq!(pending["members"][0]["account"]["queue_position"], 1);
    // Paging.
    let p1 = by("per_page=3&page=1").await;
    let p2 = by("per_page=3&page=2").await;
    assert_eq!(p1["members"].as_array().unwrap().len(), 3);
    assert_eq!(p2["members"].as_array().unwrap().len(), 1);
    assert_eq!(p2["total"], 4);
    // Bad filters.
    for q in ["role=root", "status=gone", "tier=gold"] {
        let r = app
            .api(&admin, Method::GET, &format!("/members?{q}"), None, &[])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
    }
}

#[tokio::test]
async fn seat_operations_move_swap_give_and_remove() {
    let app = TestApp::builder().seats(2, 1).manual_jobs().spawn().await;
    let admin = owner_token(&app, Role::Admin);
    let (p, _) = member_with_account(&app, "p@acme.example.com", Role::Member).await; // premium
    let (s, s_acct) = member_with_account(&app, "s@acme.example.com", Role::Member).await; // standard
    let waiting = app.create_user("w@acme.example.com").await; // standard (last free)
    let w2 = app.create_user("w2@acme.example.com").await; // pending
    let w2_id = w2["id"].as_str().unwrap();
    assert_eq!(seat(&w2)["status"], "pending");
    let _ = waiting;

    // Swap p (premium) and s (standard), by member ids.
    let r = app
        .api(
            &admin,
            Method::POST,
            &format!("/members/{p}/swap"),
            Some(json!({"with": s})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["accounts"][0]["tier"], "standard");
    assert_eq!(r.body["accounts"][1]["tier"], "premium");
    // Move to a tier with no free seat: 409.
    let r = app
        .api(
            &admin,
            Method::PUT,
            &format!("/members/{p}/tier"),
            Some(json!({"tier": "premium"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // Give s's seat (by account id) to the pending SCIM user: s is queued at the back.
    let r = app
        .api(
            &admin,
            Method::POST,
            &format!("/members/{s_acct}/give-seat"),
            Some(json!({"to": w2_id})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["to"]["status"], "active");
    assert_eq!(r.body["to"]["tier"], "premium");
    assert_eq!(r.body["from"]["status"], "pending");
    app.assert_seat_invariants();
    // Remove p: its standard seat goes to the head of the queue (s).
    let r = app
        .api(&admin, Method::DELETE, &format!("/members/{p}"), None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["account"]["status"], "inactive");
    let got = app
        .api(&admin, Method::GET, &format!("/members/{s}"), None, &[])
        .await;
    assert_eq!(got.body["account"]["status"], "active", "{}", got.body);
    assert_eq!(got.body["account"]["tier"], "standard");
    assert_eq!(
        app.api(&admin, Method::GET, &format!("/members/{p}"), None, &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Move s to premium after freeing one: w2 (premium) removed by account id.
    app.api(
        &admin,
        Method::DELETE,
        &format!("/members/{w2_id}"),
        None,
        &[],
    )
    .await;
    let r = app
        .api(
            &admin,
            Method::PUT,
            &format!("/members/{s}/tier"),
            Some(json!({"tier": "premium"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["account"]["tier"], "premium");
    // A member without an account has no seat to move.
    let bare = add_member_email(&app, "bare@acme.example.com", Role::Member);
    let r = app
        .api(
            &admin,
            Method::PUT,
            &format!("/members/{bare}/tier"),
            Some(json!({"tier": "standard"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body["detail"].as_str().unwrap().contains("no account"));
    app.assert_seat_invariants();
}

/// The token `id` as GET /scim-tokens lists it; the secret never appears in the list.
async fn listed_token(app: &TestApp, owner: &str, id: &str, secret: &str) -> Value {
    let list = app.api(owner, Method::GET, "/scim-tokens", None, &[]).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.body.to_string().contains(secret), "never shown again");
    list.body["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap()
        .clone()
}

#[tokio::test]
async fn owners_manage_scim_tokens_shown_once() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let r = app
        .api(
            &owner,
            Method::POST,
            "/scim-tokens",
            Some(json!({"description": "Okta"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let secret = r.body["token"].as_str().unwrap().to_string();
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with("scimseats_"));
    // It works on SCIM, and its use shows in the list.
    let s = app.scim_as(&secret, Method::GET, "/Users", None, &[]).await;
    assert_eq!(s.status, StatusCode::OK);
    // The use is recorded after the answer (best-effort, off the request path): wait for it.
    let mut t = json!(null);
    for _ in 0..100 {
        t = listed_token(&app, &owner, &id, &secret).await;
        if !t["last_used_at"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(t["description"], "Okta");
    assert_eq!(t["status"], "active");
    assert!(t["prefix"]
        .as_str()
        .unwrap()
        .starts_with(&format!("scimseats_{id}_")));
    assert!(!t["last_used_at"].is_null(), "{t}");
    assert!(!t["created_at"].is_null());
    // Revoked: SCIM refuses it at once; the list says revoked.
    assert_eq!(
        app.api(
            &owner,
            Method::DELETE,
            &format!("/scim-tokens/{id}"),
            None,
            &[]
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.scim_as(&secret, Method::GET, "/Users", None, &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let t = listed_token(&app, &owner, &id, &secret).await;
    assert_eq!(t["status"], "revoked");
    assert_eq!(
        app.api(
            &owner,
            Method::DELETE,
            &format!("/scim-tokens/{id}"),
            None,
            &[]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn owners_manage_verified_domains() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let list = app.api(&owner, Method::GET, "/domains", None, &[]).await;
    assert_eq!(list.body["domains"], json!(["acme.example.com"]));
    let r = app
        .api(
            &owner,
            Method::POST,
            "/domains",
            Some(json!({"domain": "Acme.Example.ORG."})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["domain"], "acme.example.org");
    assert_eq!(
        app.api(
            &owner,
            Method::POST,
            "/domains",
            Some(json!({"domain": "acme.example.org"})),
            &[]
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.api(
            &owner,
            Method::POST,
            "/domains",
            Some(json!({"domain": "bad domain"})),
            &[]
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.api(
            &owner,
            Method::DELETE,
            "/domains/acme.example.com",
            None,
            &[]
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let list = app.api(&owner, Method::GET, "/domains", None, &[]).await;
    assert_eq!(list.body["domains"], json!(["acme.example.org"]));
    // Invitations follow the list.
    let r = app
        .api(
            &owner,
            Method::POST,
            "/invitations",
            Some(json!({"email": "a@acme.example.com"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.api(
            &owner,
            Method::DELETE,
            "/domains/acme.example.com",
            None,
            &[]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn organizations_see_only_their_own_members_invitations_and_tokens() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let (acme_member, _) = member_with_account(&app, "x@acme.example.com", Role::Member).await;
    let acme_owner = owner_token(&app, Role::Owner);
    app.api(
        &acme_owner,
        Method::POST,
        "/invitations",
        Some(json!({"email": "i@acme.example.com"})),
        &[],
    )
    .await;
    let (other, _) = new_org(
        &app.db,
        "globex",
        Seats {
            standard: 1,
            premium: 0,
        },
    );
    let g = add_member(&app, &other, Role::PrimaryOwner);
    let globex = owner_token_for(&app, &other, &g);
    assert_eq!(
        app.api(
            &globex,
            Method::GET,
            &format!("/members/{acme_member}"),
            None,
            &[]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api(
            &globex,
            Method::DELETE,
            &format!("/members/{acme_member}"),
            None,
            &[]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let m = app.api(&globex, Method::GET, "/members", None, &[]).await;
    assert_eq!(m.body["total"], 1);
    assert_eq!(
        app.api(&globex, Method::GET, "/invitations", None, &[])
            .await
            .body["total"],
        0
    );
    let t = app
        .api(&globex, Method::GET, "/scim-tokens", None, &[])
        .await;
    assert_eq!(
        t.body["tokens"].as_array().unwrap().len(),
        1,
        "only its own token"
    );
}

/// Every (method, path) the owner tests call, as OpenAPI templates.
const CALLED: &[(&str, &str)] = &[
    ("GET", "/api/v1/contract"),
    ("POST", "/api/v1/seats/preview"),
    ("POST", "/api/v1/seats/confirm"),
    ("GET", "/api/v1/invoices"),
    ("GET", "/api/v1/invoices/{number}"),
    ("GET", "/api/v1/invoices/{number}.html"),
    ("GET", "/api/v1/invoices/{number}.csv"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/members"),
    ("GET", "/api/v1/members/{id}"),
    ("PUT", "/api/v1/members/{id}/role"),
    ("PUT", "/api/v1/members/{id}/tier"),
    ("POST", "/api/v1/members/{id}/swap"),
    ("POST", "/api/v1/members/{id}/give-seat"),
    ("DELETE", "/api/v1/members/{id}"),
    ("POST", "/api/v1/ownership/transfer"),
    ("POST", "/api/v1/invitations"),
    ("GET", "/api/v1/invitations"),
    ("DELETE", "/api/v1/invitations/{id}"),
    ("POST", "/api/v1/invitations/accept"),
    ("GET", "/api/v1/domains"),
    ("POST", "/api/v1/domains"),
    ("DELETE", "/api/v1/domains/{domain}"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/provisioning-log"),
    ("GET", "/api/v1/provisioning-log/users/{user}"),
    ("GET", "/api/v1/oauth-clients"),
    ("POST", "/api/v1/oauth-clients"),
    ("POST", "/api/v1/oauth-clients/{client_id}/secrets"),
    (
        "DELETE",
        "/api/v1/oauth-clients/{client_id}/secrets/{secret_id}",
    ),
    ("DELETE", "/api/v1/oauth-clients/{client_id}"),
    ("GET", "/api/v1/group-tiers"),
    ("PUT", "/api/v1/group-tiers/{group_id}"),
    ("DELETE", "/api/v1/group-tiers/{group_id}"),
    ("GET", "/api/v1/scim-tokens"),
    ("POST", "/api/v1/scim-tokens"),
    ("DELETE", "/api/v1/scim-tokens/{id}"),
    ("GET", "/api/v1/sso"),
    ("PUT", "/api/v1/sso"),
    ("DELETE", "/api/v1/sso"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/reports/pending"),
    ("GET", "/api/v1/reports/pending.csv"),
    ("GET", "/api/v1/reports/usage"),
    ("GET", "/api/v1/settings/alerts"),
    ("PUT", "/api/v1/settings/alerts"),
    ("GET", "/api/v1/audit"),
];

fn concrete(template: &str) -> String {
    template
        .replace("{number}", "INV-none-000001")
        .replace("{org_slug}", "acme")
        .replace("{domain}", "none.example.com")
        .replace("{id}", "no-such-id")
}

#[tokio::test]
async fn the_openapi_document_parses_and_matches_the_routes() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let r = call(
        &app.client,
        &app.addr,
        None,
        Method::GET,
        "/api/v1/openapi.json",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    // It is an OpenAPI 3 document: version, and it deserializes into utoipa's OpenAPI model.
    assert!(
        r.body["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        r.body["openapi"]
    );
    let parsed: utoipa::openapi::OpenApi =
        serde_json::from_value(r.body.clone()).expect("an OpenAPI 3 document");
    assert!(!parsed.paths.paths.is_empty());
    // Every path and method the tests call is described...
    for (method, path) in CALLED {
        let op = &r.body["paths"][path][method.to_lowercase()];
        assert!(
            op.is_object(),
            "{method} {path} is missing from openapi.json"
        );
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path}"
        );
    }
    // ...and every described route is served (walk the document: no "endpoint not found").
    let po = owner_token(&app, Role::PrimaryOwner);
    let mut described = 0;
    for (path, item) in r.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            described += 1;
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (m != Method::GET && m != Method::DELETE).then(|| json!({}));
            let resp = call(
                &app.client,
                &app.addr,
                Some(&po),
                m.clone(),
                &concrete(path),
                body,
            )
            .await;
            assert_ne!(resp.body["detail"], "endpoint not found", "{method} {path}");
            assert_ne!(
                resp.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
        }
    }
    assert_eq!(
        described,
        CALLED.len(),
        "the document describes exactly the routes the tests know"
    );
    // Request bodies are described by schemas.
    assert!(r.body["components"]["schemas"]["InviteRequest"]["properties"]["email"].is_object());
    assert_eq!(
        r.body["paths"]["/api/v1/members/{id}/role"]["put"]["x-required-role"],
        "owner"
    );
}
