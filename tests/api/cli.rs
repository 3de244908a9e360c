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
    let app = TestApp::builder().spawn().await;
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

/// Request logs record paths, never query strings: filters name users, and the report page
/// takes a token in `?token=`. Both requests below fail, so the server logs them.
#[tokio::test]
async fn request_logs_never_carry_query_strings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("logs.db").display());
    let (ok, _, err) = cli(
        &db,
        &[
            "org",
            "create",
            "logs",
            "--name",
            "Logs",
            "--standard-seats",
            "1",
        ],
    );
    assert!(ok, "{err}");
    let (_, token, _) = cli(&db, &["token", "create", "--org", "logs"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut server = Command::new(env!("CARGO_BIN_EXE_scim-seats"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &db,
        ])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start server");
    let base = format!("http://127.0.0.1:{port}");
    let client = http_client();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let filter = client
        .get(format!(
            "{base}/scim/v2/Users?filter=userName%20eq%20%22marker.person%40x.com%22%20and"
        ))
        .bearer_auth(token.trim())
        .send()
        .await;
    let with_token = client
        .get(format!(
            "{base}/scim/v2/Groups?filter=nosuch%20pr&token=marker-secret-token"
        ))
        .bearer_auth(token.trim())
        .send()
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let _ = server.kill();
    let _ = server.wait();
    assert!(up, "server started");
    assert_eq!(filter.expect("filter request").status(), 400);
    assert_eq!(with_token.expect("second request").status(), 400);
    let text = std::fs::read_to_string(&log_path).expect("read log");
    assert!(
        text.contains("/scim/v2/Users") && text.contains("/scim/v2/Groups"),
        "requests are logged: {text}"
    );
    assert!(
        !text.contains("marker.person") && !text.contains("marker%2Eperson"),
        "a userName reached the log: {text}"
    );
    assert!(
        !text.contains("marker-secret-token"),
        "a token reached the log: {text}"
    );
}

#[tokio::test]
async fn serve_refuses_an_smtp_url_without_a_from_address_or_with_an_unknown_scheme() {
    let app = TestApp::builder().spawn().await;
    let db = app.test_db.url().to_string();
    let serve = |extra: &[&str]| {
        let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_scim-seats"))
            .args(&args)
            .env("DATABASE_URL", &db)
            .env_remove("SCIM_SEATS_SMTP_URL")
            .env_remove("SCIM_SEATS_MAIL_FROM")
            .output()
            .expect("run scim-seats serve");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = serve(&["--smtp-url", "smtp://127.0.0.1:2525"]);
    assert!(!ok);
    assert!(err.contains("SCIM_SEATS_MAIL_FROM is not"), "{err}");
    let (ok, err) = serve(&[
        "--smtp-url",
        "http://127.0.0.1:2525",
        "--mail-from",
        "seats@example.com",
    ]);
    assert!(!ok);
    assert!(err.contains("use smtp:// or smtps://"), "{err}");
    let (ok, err) = serve(&[
        "--smtp-url",
        "smtp://127.0.0.1:2525",
        "--mail-from",
        "not an address",
    ]);
    assert!(!ok);
    assert!(
        err.contains("SCIM_SEATS_MAIL_FROM is not a mail address"),
        "{err}"
    );
}

#[tokio::test]
async fn serve_without_smtp_says_mail_is_only_logged() {
    use std::io::{BufRead, BufReader};
    let app = TestApp::builder().spawn().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_scim-seats"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", app.test_db.url())
        .env_remove("SCIM_SEATS_SMTP_URL")
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run scim-seats serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut said = false;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if line.contains("SCIM_SEATS_SMTP_URL is not set") && line.contains("only logged") {
            said = true;
        }
        if line.contains("scim-seats listening") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(said, "serve warns at start-up that mail is only logged");
}

#[tokio::test]
async fn org_create_prints_the_primary_owners_invitation_link() {
    let app = TestApp::builder().spawn().await;
    let db = app.test_db.url().to_string();
    let (ok, out, err) = cli(
        &db,
        &[
            "org",
            "create",
            "umbrella",
            "--name",
            "Umbrella",
            "--domain",
            "umbrella.example.com",
            "--owner-email",
            "alice@umbrella.example.com",
            "--public-url",
            "https://seats.example.com/",
        ],
    );
    assert!(ok, "{err}");
    let token = out.lines().last().unwrap_or_default().trim().to_string();
    assert!(token.starts_with("scimseats-inv_"), "{out}");
    // The link the server really answers on: the invitation page, with the same token.
    assert!(
        err.contains(&format!(
            "https://seats.example.com/invitations/accept?token={token}"
        )),
        "{err}"
    );
}
