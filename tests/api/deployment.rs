//! Several server processes on one database (docs/deployment.md): two real `scim-seats serve`
//! processes (the binary, as an operator runs it) started at the same moment on a fresh
//! database both migrate and serve; with both running their background jobs, a due renewal
//! is invoiced once and every outbox mail reaches the SMTP server once. On PostgreSQL with
//! TEST_DATABASE_URL, else on one SQLite file.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Months;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::smtp::SmtpSink;

const FROM: &str = "Acme Seats <seats@mail.example.net>";

/// Server processes, killed when dropped (also when the test fails); each one's output goes
/// to a file, shown when it exits early.
struct Servers {
    children: Vec<(Child, PathBuf)>,
    logs: tempfile::TempDir,
}

impl Servers {
    fn new() -> Servers {
        Servers {
            children: Vec::new(),
            logs: tempfile::tempdir().expect("log directory"),
        }
    }

    /// Start `scim-seats serve` on `db_url` with `extra` flags on a free port; returns its
    /// address without waiting for it.
    fn spawn(&mut self, db_url: &str, extra: &[&str]) -> String {
        let port = free_port();
        let log = self
            .logs
            .path()
            .join(format!("server-{}.log", self.children.len()));
        let out = std::fs::File::create(&log).expect("server log");
        let err = out.try_clone().expect("server log");
        let child = Command::new(env!("CARGO_BIN_EXE_scim-seats"))
            .args(["serve", "--database-url", db_url, "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--workers", "2", "--pool-size", "4"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start scim-seats");
        self.children.push((child, log));
        format!("http://127.0.0.1:{port}")
    }

    /// Wait until every process answers `/readyz` (its database is reachable); a process
    /// that exits first fails the test with its log.
    async fn wait_ready(&mut self, addrs: &[String]) {
        let client = http_client();
        let deadline = Instant::now() + Duration::from_secs(60);
        for (i, addr) in addrs.iter().enumerate() {
            loop {
                let ready = client.get(format!("{addr}/readyz")).send().await;
                if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                    break;
                }
                let (child, log) = &mut self.children[i];
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "server {i} exited with {status}:\n{}",
                        std::fs::read_to_string(log).unwrap_or_default()
                    );
                }
                assert!(Instant::now() < deadline, "server {i} did not become ready");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for (c, _) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// How many migrations the binary embeds for this backend (one folder each).
fn migrations_of(test_db: &TestDb) -> usize {
    let tree = if test_db.is_pg() {
        "postgres"
    } else {
        "sqlite"
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(tree);
    std::fs::read_dir(dir)
        .expect("migrations folder")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
        .count()
}

/// Rows of diesel's migration table: each migration recorded once, whoever ran it.
fn recorded_migrations(db: &scim_seats::store::Db) -> Vec<String> {
    db.read_sync(|c| {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Version {
            #[diesel(sql_type = diesel::sql_types::Text)]
            version: String,
        }
        let sql = "SELECT version FROM __diesel_schema_migrations ORDER BY version";
        let rows: Vec<Version> = match c {
            scim_seats::store::DbConn::Pg(pc) => diesel::sql_query(sql).load(pc)?,
            scim_seats::store::DbConn::Sqlite(sc) => diesel::sql_query(sql).load(sc)?,
        };
        Ok(rows.into_iter().map(|r| r.version).collect())
    })
    .expect("read the migration table")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_started_at_once_on_a_fresh_database_both_migrate_and_serve() {
    let test_db = TestDb::fresh();
    let mut servers = Servers::new();
    // Back to back, before either has connected: both find an empty database.
    let a = servers.spawn(test_db.url(), &[]);
    let b = servers.spawn(test_db.url(), &[]);
    servers.wait_ready(&[a.clone(), b.clone()]).await;

    let db = scim_seats::store::Db::connect(test_db.url(), 1).expect("connect");
    let recorded = recorded_migrations(&db);
    assert_eq!(
        recorded.len(),
        migrations_of(&test_db),
        "every migration applied exactly once: {recorded:?}"
    );
    // Both serve the schema they migrated: an organization made now is seen by each.
    let (_, token) = new_org(
        &db,
        "acme",
        Seats {
            standard: 1,
            premium: 0,
        },
    );
    let client = http_client();
    for addr in [&a, &b] {
        let r = client
            .get(format!("{addr}/scim/v2/Users"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("list users");
        assert_eq!(r.status(), StatusCode::OK, "{addr}");
    }
}

/// An organization "bill" whose contract (auto-renewing, 3 of 5 standard seats in use)
/// ended today, in an app with no background jobs of its own; returns the app.
async fn org_due_for_renewal() -> TestApp {
    let today = chrono::Utc::now().date_naive();
    let start = today
        .checked_sub_months(Months::new(12))
        .expect("a year ago");
    let app = TestApp::builder()
        .contract(contract_from(start, true))
        .seats(5, 0)
        // The in-process server's clock stands on the term's last day, so its own requests
        // find the contract active; the processes under test run on the real clock.
        .today(today.pred_opt().expect("yesterday"))
        .manual_jobs()
        .spawn()
        .await;
    for i in 0..3 {
        app.create_user(&format!("u{i}@bill.example.com")).await;
    }
    assert_eq!(app.pool("standard"), (5, 3));
    app
}

/// The flags of a process that runs its renewals and webhooks each second and delivers mail
/// to `sink` every `mail_secs` seconds (0: never).
fn job_flags(sink: &SmtpSink, mail_secs: &str) -> Vec<String> {
    [
        "--renewal-interval-secs",
        "1",
        "--mail-interval-secs",
        mail_secs,
        "--smtp-url",
        &sink.url(),
        "--mail-from",
        FROM,
        "--public-url",
        "https://seats.example.com",
    ]
    .map(String::from)
    .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_running_their_jobs_invoice_a_due_renewal_once() {
    let app = org_due_for_renewal().await;
    assert_eq!(app.invoice_count("renewal"), 0);
    let sink = SmtpSink::start();
    let flags = job_flags(&sink, "1");
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let mut servers = Servers::new();
    let a = servers.spawn(app.test_db.url(), &flags);
    let b = servers.spawn(app.test_db.url(), &flags);
    servers.wait_ready(&[a, b]).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    while app.invoice_count("renewal") == 0 {
        assert!(Instant::now() < deadline, "no process renewed the contract");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both processes keep running their renewal job every second meanwhile.
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    assert_eq!(app.invoice_count("renewal"), 1, "invoiced once");
    // Renewed with the 3 seats in use; the 2 unused ones lapsed, once.
    assert_eq!(app.pool("standard"), (3, 3));
}

/// Invitations to `n` addresses, queued in the outbox while no process delivers.
async fn queue_invitations(app: &TestApp, n: usize) -> Vec<String> {
    let admin = owner_token(app, Role::Admin);
    let mut to = Vec::new();
    for i in 0..n {
        let email = format!("invitee{i}@bill.example.com");
        let r = app
            .api(
                &admin,
                Method::POST,
                "/invitations",
                Some(json!({"email": email, "role": "member"})),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        to.push(email);
    }
    to
}

/// Each invitation arrives once at the SMTP server while two processes run, the second one
/// the second one delivering mail every `b_mail_secs` seconds (0: never); returns the
/// addresses that got it more than once.
async fn mail_twice_with(b_mail_secs: &str) -> Vec<(String, usize)> {
    let app = org_due_for_renewal().await;
    let invited = queue_invitations(&app, 30).await;
    let sink = SmtpSink::start();
    let (a_flags, b_flags) = (job_flags(&sink, "1"), job_flags(&sink, b_mail_secs));
    let a_flags: Vec<&str> = a_flags.iter().map(String::as_str).collect();
    let b_flags: Vec<&str> = b_flags.iter().map(String::as_str).collect();
    let mut servers = Servers::new();
    let a = servers.spawn(app.test_db.url(), &a_flags);
    let b = servers.spawn(app.test_db.url(), &b_flags);
    servers.wait_ready(&[a, b]).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    for to in &invited {
        while !outbox_to(&app, to).iter().any(|r| r.sent_at.is_some()) {
            assert!(Instant::now() < deadline, "the mail to {to} was never sent");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // The processes keep running their delivery job every second meanwhile.
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    let mut arrived: BTreeMap<String, usize> = BTreeMap::new();
    for m in sink.received() {
        for r in m.rcpt_tos {
            *arrived.entry(r.to_lowercase()).or_default() += 1;
        }
    }
    for to in &invited {
        assert!(arrived.contains_key(to), "the mail to {to} never arrived");
    }
    arrived.into_iter().filter(|(_, n)| *n > 1).collect()
}

/// Mail delivery turned off on one of the processes (`--mail-interval-secs 0`): each mail
/// still arrives once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_one_mail_process_each_outbox_mail_arrives_once() {
    let twice = mail_twice_with("0").await;
    assert!(twice.is_empty(), "mail sent more than once: {twice:?}");
}

/// Both processes deliver mail: each claims a due mail before sending it
/// (`store::mail::claim`), so each invitation arrives once. Without the claim, 29 of 30
/// arrived twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_delivering_processes_send_each_outbox_mail_once() {
    let twice = mail_twice_with("1").await;
    assert!(twice.is_empty(), "mail sent more than once: {twice:?}");
}
