//! The operator CLI, run as the real binary: org create, token create/list/revoke, migrate, and
//! a token it printed working against a server on the same database.

use std::process::Command;

use crate::helpers::*;

fn cli(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scim-seats"))
        .args(args)
        .env("DATABASE_URL", db)
        .output()
        .expect("run scim-seats");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn operator_commands_manage_orgs_and_tokens() {
    let app = spawn_app().await;
    let db = app.test_db.url().to_string();
    let (ok, out, err) = cli(&db, &["migrate"]);
    assert!(ok, "{err}");
    assert!(out.contains("migrations applied"));
    let (ok, out, err) = cli(
        &db,
        &[
            "org",
            "create",
            "initech",
            "--name",
            "Initech",
            "--domain",
            "initech.example.com",
            "--standard-seats",
            "1",
            "--premium-seats",
            "0",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("created organization initech"));
    let (ok, _, err) = cli(&db, &["org", "create", "initech", "--name", "Again"]);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = cli(&db, &["org", "create", "Bad Slug", "--name", "X"]);
    assert!(!ok && err.contains("invalid slug"), "{err}");

    let (ok, token, err) = cli(&db, &["token", "create", "--org", "initech"]);
    assert!(ok, "{err}");
    let token = token.trim().to_string();
    assert!(token.starts_with("scimseats_"));
    let r = app
        .scim_as(
            &token,
            reqwest::Method::POST,
            "/Users",
            Some(user("peter@initech.example.com")),
            &[],
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "a CLI token works: {}", r.body);
    // The token is scoped to its organization: the test org's users are not visible.
    let r = app
        .scim_as(&token, reqwest::Method::GET, "/Users", None, &[])
        .await;
    assert_eq!(r.body["totalResults"], 1);

    let (ok, list, err) = cli(&db, &["token", "list", "--org", "initech"]);
    assert!(ok, "{err}");
    let id = token.split('_').nth(1).unwrap();
    assert!(list.contains(id) && list.contains("active"), "{list}");
    assert!(!list.contains(&token), "secrets are never listed");

    let (ok, _, err) = cli(&db, &["token", "revoke", id, "--org", "initech"]);
    assert!(ok, "{err}");
    let r = app
        .scim_as(&token, reqwest::Method::GET, "/Users", None, &[])
        .await;
    assert_scim_error(&r, 401, None);
    let (ok, list, _) = cli(&db, &["token", "list", "--org", "initech"]);
    assert!(ok && list.contains("revoked"), "{list}");
    let (ok, _, err) = cli(&db, &["token", "revoke", id, "--org", "initech"]);
    assert!(
        !ok && err.contains("not found"),
        "revoking twice is an error: {err}"
    );
    let (ok, _, err) = cli(&db, &["token", "create", "--org", "nope"]);
    assert!(!ok && err.contains("not found"), "{err}");
}
