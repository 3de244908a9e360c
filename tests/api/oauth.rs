//! OAuth 2.0 client credentials for SCIM (RFC 6749 §4.4) through the real server: owners create
//! clients, `POST /oauth/token` issues short-lived tokens, SCIM accepts them; errors per §5.2.

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const FORM: &str = "application/x-www-form-urlencoded";

async fn create_client(app: &TestApp, owner: &str) -> (String, String) {
    let r = app
        .api(
            owner,
            Method::POST,
            "/oauth-clients",
            Some(json!({"description": "Entra"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.body["token_url"]
        .as_str()
        .unwrap()
        .ends_with("/oauth/token"));
    (
        r.body["client_id"].as_str().unwrap().to_string(),
        r.body["client_secret"].as_str().unwrap().to_string(),
    )
}

/// A raw token request: `basic` as (id, secret), the form body as given.
async fn token_request(
    app: &TestApp,
    basic: Option<(&str, &str)>,
    body: &str,
    ctype: &str,
) -> Resp {
    let mut req = app
        .client
        .post(format!("{}/oauth/token", app.addr))
        .header("content-type", ctype)
        .body(body.to_string());
    if let Some((id, secret)) = basic {
        let creds = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        req = req.header("authorization", format!("Basic {creds}"));
    }
    into_resp(req.send().await.expect("token request")).await
}

async fn basic_token(app: &TestApp, id: &str, secret: &str) -> String {
    let r = token_request(
        app,
        Some((id, secret)),
        "grant_type=client_credentials",
        FORM,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

fn oauth_error(r: &Resp, status: StatusCode, error: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["error"], error, "{}", r.body);
    assert!(r.body["error_description"].is_string(), "{}", r.body);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
}

#[tokio::test]
async fn a_client_credentials_token_provisions_users_over_scim() {
    let app = TestApp::builder().seats(5, 0).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let (id, secret) = create_client(&app, &owner).await;

    // client_secret_basic
    let r = token_request(
        &app,
        Some((&id, &secret)),
        "grant_type=client_credentials&scope=scim",
        FORM,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3600);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let token = r.body["access_token"].as_str().unwrap().to_string();
    let created = app
        .scim_as(
            &token,
            Method::POST,
            "/Users",
            Some(user("entra@acme.example.com")),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(seat(&created.body)["status"], "active");
    // The same organization as the long-lived bearer token sees it.
    let listed = app
        .get("/Users?filter=userName%20eq%20%22entra@acme.example.com%22")
        .await;
    assert_eq!(listed.body["totalResults"], 1, "{}", listed.body);

    // client_secret_post
    let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let r = token_request(
        &app,
        None,
        &body,
        "application/x-www-form-urlencoded; charset=UTF-8",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token2 = r.body["access_token"].as_str().unwrap();
    assert_ne!(token2, token);
    let r = app.scim_as(token2, Method::GET, "/Users", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);

    // Another organization's data stays out of reach.
    let (_, other) = new_org(
        &app.db,
        "globex",
        Seats {
            standard: 1,
            premium: 0,
        },
    );
    let theirs = app
        .scim_as(
            &other,
            Method::POST,
            "/Users",
            Some(user("g@globex.example.com")),
            &[],
        )
        .await;
    let r = app
        .scim_as(
            &token,
            Method::GET,
            &format!("/Users/{}", theirs.body["id"].as_str().unwrap()),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Discovery names both schemes.
    let spc = app.get("/ServiceProviderConfig").await;
    let types: Vec<&str> = spc.body["authenticationSchemes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["oauthbearertoken", "oauth2"]);
}

#[tokio::test]
async fn token_errors_follow_rfc_6749() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let (id, secret) = create_client(&app, &owner).await;
    let cc = "grant_type=client_credentials";

    let r = token_request(
        &app,
        Some((&id, "scimseats-secret_0123456789abcdef0123456789abcdef_x")),
        cc,
        FORM,
    )
    .await;
    oauth_error(&r, StatusCode::UNAUTHORIZED, "invalid_client");
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    let r = token_request(&app, Some(("nobody", &secret)), cc, FORM).await;
    oauth_error(&r, StatusCode::UNAUTHORIZED, "invalid_client");
    oauth_error(
        &token_request(&app, None, cc, FORM).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    oauth_error(
        &token_request(&app, Some((&id, &secret)), "", FORM).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    oauth_error(
        &token_request(
            &app,
            Some((&id, &secret)),
            "grant_type=password&username=a&password=b",
            FORM,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    );
    oauth_error(
        &token_request(
            &app,
            Some((&id, &secret)),
            r#"{"grant_type":"client_credentials"}"#,
            "application/json",
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    let both = format!("{cc}&client_id={id}&client_secret={secret}");
    oauth_error(
        &token_request(&app, Some((&id, &secret)), &both, FORM).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    oauth_error(
        &token_request(&app, Some((&id, &secret)), &format!("{cc}&{cc}"), FORM).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    let r = call(
        &app.client,
        &app.addr,
        None,
        Method::GET,
        "/oauth/token",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);

    // A garbage bearer on SCIM is a SCIM 401, whichever kind it pretends to be.
    for bad in [
        "scimseats-at_0123456789abcdef0123456789abcdef_x",
        "scimseats-at_short",
    ] {
        let r = app.scim_as(bad, Method::GET, "/Users", None, &[]).await;
        assert_scim_error(&r, 401, None);
    }
    // The client works after all of that.
    basic_token(&app, &id, &secret).await;
}

#[tokio::test]
async fn secrets_rotate_and_revoked_clients_or_secrets_stop_working() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let admin = owner_token(&app, Role::Admin);
    let r = app
        .api(&admin, Method::POST, "/oauth-clients", Some(json!({})), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (id, first) = create_client(&app, &owner).await;
    let r = app
        .api(
            &owner,
            Method::POST,
            &format!("/oauth-clients/{id}/secrets"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let second = r.body["client_secret"].as_str().unwrap().to_string();
    basic_token(&app, &id, &first).await;
    let token = basic_token(&app, &id, &second).await;

    // The list shows ids, never a secret.
    let list = app
        .api(&owner, Method::GET, "/oauth-clients", None, &[])
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let text = list.body.to_string();
    assert!(!text.contains(&first) && !text.contains(&second));
    let secrets = list.body["clients"][0]["secrets"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(secrets.len(), 2);

    // Revoke the first secret: it stops; the second goes on.
    let first_id = secrets[0]["id"].as_str().unwrap();
    let r = app
        .api(
            &owner,
            Method::DELETE,
            &format!("/oauth-clients/{id}/secrets/{first_id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = token_request(
        &app,
        Some((&id, &first)),
        "grant_type=client_credentials",
        FORM,
    )
    .await;
    oauth_error(&r, StatusCode::UNAUTHORIZED, "invalid_client");
    basic_token(&app, &id, &second).await;

    // Revoke the client: its live access token and its secret stop at once.
    assert_eq!(
        app.scim_as(&token, Method::GET, "/Users", None, &[])
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .api(
            &owner,
            Method::DELETE,
            &format!("/oauth-clients/{id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_scim_error(
        &app.scim_as(&token, Method::GET, "/Users", None, &[]).await,
        401,
        None,
    );
    let r = token_request(
        &app,
        Some((&id, &second)),
        "grant_type=client_credentials",
        FORM,
    )
    .await;
    oauth_error(&r, StatusCode::UNAUTHORIZED, "invalid_client");
    let r = app
        .api(
            &owner,
            Method::DELETE,
            &format!("/oauth-clients/{id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "already revoked");
    // The list shows it revoked.
    let list: Value = app
        .api(&owner, Method::GET, "/oauth-clients", None, &[])
        .await
        .body;
    assert!(list["clients"][0]["revoked_at"].is_string());
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let app = TestApp::builder()
        .seats(1, 0)
        .settings(|s| {
            s.scim.oauth_token_ttl = std::time::Duration::from_secs(1);
        })
        .spawn()
        .await;
    let owner = owner_token(&app, Role::Owner);
    let (id, secret) = create_client(&app, &owner).await;
    let r = token_request(
        &app,
        Some((&id, &secret)),
        "grant_type=client_credentials",
        FORM,
    )
    .await;
    assert_eq!(r.body["expires_in"], 1);
    let token = r.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        app.scim_as(&token, Method::GET, "/Users", None, &[])
            .await
            .status,
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = app.scim_as(&token, Method::GET, "/Users", None, &[]).await;
    assert_scim_error(&r, 401, None);
    assert!(
        r.body["detail"].as_str().unwrap().contains("expired"),
        "{}",
        r.body
    );
}
