// Shared by every test module; not every test uses every helper.
#![allow(dead_code)]

//! Test harness: each test gets its own server on a random port and its own database — a
//! SQLite file in a temp dir, or (with TEST_DATABASE_URL=postgres://…) a fresh PostgreSQL
//! database that is dropped afterwards.

use std::sync::Once;

use diesel::{Connection, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use scim_seats::config::Settings;
use scim_seats::domain::{orgs, tokens};
use scim_seats::startup::Application;
use scim_seats::store::Db;

pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const SEAT: &str = "urn:scim-seats:params:scim:schemas:extension:seat:2.0:User";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

static TRACING: Once = Once::new();

fn init_tracing() {
    TRACING.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            scim_seats::telemetry::init("debug", false);
        }
    });
}

/// A throwaway database.
pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Pg {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    pub fn fresh() -> TestDb {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => TestDb::new_pg(admin_url, ""),
            _ => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                TestDb::Sqlite { _dir: dir, url }
            }
        }
    }

    /// PostgreSQL (when `TEST_DATABASE_URL` names it): a database whose ctype and collation
    /// are "C", where `lower()` folds ASCII only. `None` on SQLite.
    pub fn fresh_pg_c_locale() -> Option<TestDb> {
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))?;
        Some(TestDb::new_pg(
            admin_url,
            " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'",
        ))
    }

    /// A new PostgreSQL database named for this test, created by the administrator at
    /// `admin_url` with `options` after `CREATE DATABASE name`.
    fn new_pg(admin_url: String, options: &str) -> TestDb {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::PgConnection::establish(&admin_url).unwrap_or_else(|e| {
            panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
        });
        diesel::sql_query(format!("CREATE DATABASE {name}{options}"))
            .execute(&mut conn)
            .expect("create test database");
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&admin_url);
        let url = format!("{base}/{name}");
        TestDb::Pg {
            admin_url,
            name,
            url,
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Pg { url, .. } => url,
        }
    }

    pub fn is_pg(&self) -> bool {
        matches!(self, TestDb::Pg { .. })
    }

    /// PostgreSQL: runs, as the administrator, the statement `sql` makes of this database's
    /// name (to drop it, or to end the server's sessions on it). Panics on SQLite: nothing
    /// outside the process can take an open database file away.
    pub fn admin_sql(&self, sql: impl FnOnce(&str) -> String) {
        let TestDb::Pg {
            admin_url, name, ..
        } = self
        else {
            panic!("admin_sql is for PostgreSQL test databases");
        };
        let mut admin = diesel::PgConnection::establish(admin_url).expect("admin connection");
        diesel::sql_query(sql(name))
            .execute(&mut admin)
            .expect("administrator's statement");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Pg {
            admin_url, name, ..
        } = self
        {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

pub struct TestApp {
    pub addr: String,
    pub base: String,
    pub token: String,
    pub org_id: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub settings: Settings,
    // Dropped last: the database outlives the server handle.
    pub test_db: TestDb,
}

pub struct Seats {
    pub standard: i64,
    pub premium: i64,
}

/// The tests' HTTP client. It drops idle connections after a second, before the server's
/// 5 s keep-alive does: otherwise a request sent after a long pause in the test (parsing
/// 100,000 CSV rows in a debug build on a busy machine) can go out on a connection the server
/// is closing, and fail with `IncompleteMessage`.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(1))
        .build()
        .expect("HTTP client")
}

/// A change to the settings, applied in `spawn`.
type Tweak<'a> = Box<dyn FnOnce(&mut Settings) + 'a>;

/// How a test's server starts. By default: organization "acme" (domain acme.example.com)
/// with 100 standard seats and a SCIM token, default settings, a fresh database.
///
/// ```ignore
/// let app = TestApp::builder().seats(2, 1).manual_jobs().today(date(2026, 3, 1)).spawn().await;
/// ```
pub struct TestAppBuilder<'a> {
    seats: Seats,
    contract: Option<NewContract>,
    today: Option<chrono::NaiveDate>,
    manual_jobs: bool,
    database: Option<TestDb>,
    tweaks: Vec<Tweak<'a>>,
}

impl TestApp {
    pub fn builder<'a>() -> TestAppBuilder<'a> {
        TestAppBuilder {
            seats: Seats {
                standard: 100,
                premium: 0,
            },
            contract: None,
            today: None,
            manual_jobs: false,
            database: None,
            tweaks: Vec::new(),
        }
    }

    /// A second server process on the same database as this app, with this app's settings
    /// changed by `tweak` (e.g. a later clock); returns its base address.
    pub async fn second_server(&self, tweak: impl FnOnce(&mut Settings)) -> String {
        let mut settings = self.settings.clone();
        settings.http.bind = "127.0.0.1:0".into();
        tweak(&mut settings);
        let server = Application::build(settings)
            .await
            .expect("build second server");
        let port = server.port();
        tokio::spawn(server.run_until_stopped());
        format!("http://127.0.0.1:{port}")
    }
}

impl<'a> TestAppBuilder<'a> {
    /// The seats the organization has bought.
    pub fn seats(mut self, standard: i64, premium: i64) -> Self {
        self.seats = Seats { standard, premium };
        self
    }

    /// The app acts (`org_id`, `token`) for organization "bill" with these contract terms
    /// and the seats of `seats`; "acme" exists beside it, with no seats. Renewals run only
    /// when a test asks (a `settings` tweak may turn them on).
    pub fn contract(mut self, contract: NewContract) -> Self {
        self.contract = Some(contract);
        self
    }

    /// The server's clock says `today` (billing's "today").
    pub fn today(mut self, today: chrono::NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// No background renewals or mail delivery: the test runs renewals and reads the outbox.
    pub fn manual_jobs(mut self) -> Self {
        self.manual_jobs = true;
        self
    }

    /// Start on this database instead of a fresh one.
    pub fn database(mut self, db: TestDb) -> Self {
        self.database = Some(db);
        self
    }

    /// Change the settings; applied after everything above, in the order given.
    pub fn settings(mut self, tweak: impl FnOnce(&mut Settings) + 'a) -> Self {
        self.tweaks.push(Box::new(tweak));
        self
    }

    pub async fn spawn(self) -> TestApp {
        init_tracing();
        let test_db = self.database.unwrap_or_else(TestDb::fresh);
        let mut settings = Settings::default();
        settings.http.bind = "127.0.0.1:0".into();
        settings.http.workers = 2;
        settings.database.url = test_db.url().to_string();
        settings.database.pool_size = 4;
        if self.today.is_some() {
            settings.clock_override = self.today;
        }
        if self.manual_jobs || self.contract.is_some() {
            settings.billing.renewal_interval = None;
        }
        if self.manual_jobs {
            settings.mail.delivery_interval = None;
        }
        for tweak in self.tweaks {
            tweak(&mut settings);
        }
        let app = Application::build(settings.clone())
            .await
            .expect("build app");
        let port = app.port();
        tokio::spawn(app.run_until_stopped());
        let db = Db::connect(test_db.url(), 2).expect("connect");
        let (org_id, token) = match self.contract {
            None => new_org(&db, "acme", self.seats),
            Some(contract) => {
                let none = Seats {
                    standard: 0,
                    premium: 0,
                };
                new_org(&db, "acme", none);
                new_org_with_contract(&db, "bill", self.seats, contract)
            }
        };
        let addr = format!("http://127.0.0.1:{port}");
        TestApp {
            base: format!("{addr}/scim/v2"),
            addr,
            token,
            org_id,
            client: http_client(),
            db,
            settings,
            test_db,
        }
    }
}

/// Create an organization with seats and a SCIM token for it.
pub fn new_org(db: &Db, slug: &str, seats: Seats) -> (String, String) {
    let new = orgs::NewOrg {
        slug: slug.into(),
        name: format!("{slug} Inc."),
        domains: vec![format!("{slug}.example.com")],
        standard_seats: seats.standard,
        premium_seats: seats.premium,
    };
    db.write_sync(|c| {
        let org = orgs::create(c, &new)?;
        let t = tokens::issue(c, &org.id, "test")?;
        Ok((org.id, t.secret))
    })
    .expect("create org")
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

impl TestApp {
    /// Send a request with this app's token; `path` is relative to the SCIM base.
    pub async fn scim(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.scim_as(&self.token, method, path, body, &[]).await
    }

    pub async fn scim_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        into_resp(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.scim(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.scim(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.scim(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.scim(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.scim(Method::DELETE, path, None).await
    }

    /// POST a minimal user; asserts 201 and returns the body.
    pub async fn create_user(&self, user_name: &str) -> Value {
        let r = self.post("/Users", user(user_name)).await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "create {user_name}: {}",
            r.body
        );
        r.body
    }

    /// Seat pools as `(tier, purchased, claimed)`, straight from the database.
    pub fn pools(&self) -> Vec<(String, i64, i64)> {
        let org = self.org_id.clone();
        self.db
            .read_sync(move |c| Ok(scim_seats::store::seats::for_org(c, &org)?))
            .expect("pools")
            .into_iter()
            .map(|p| (p.tier, p.purchased, p.claimed))
            .collect()
    }

    /// Users per seat status, straight from the database.
    pub fn count_status(&self, status: &str) -> i64 {
        let org = self.org_id.clone();
        let status = status.to_string();
        self.db
            .read_sync(move |c| Ok(scim_seats::store::users::count_by_status(c, &org, &status)?))
            .expect("count")
    }

    /// The invariants that must hold after anything: per tier `0 <= claimed <= purchased`,
    /// claimed seats equal active users, and no seat is free while someone waits.
    pub fn assert_seat_invariants(&self) {
        let pools = self.pools();
        let claimed: i64 = pools.iter().map(|p| p.2).sum();
        for (tier, purchased, c) in &pools {
            assert!(
                0 <= *c && c <= purchased,
                "tier {tier}: claimed {c} purchased {purchased}"
            );
        }
        assert_eq!(
            claimed,
            self.count_status("active"),
            "claimed seats != active users"
        );
        let free: i64 = pools.iter().map(|p| p.1 - p.2).sum();
        if self.count_status("pending") > 0 {
            assert_eq!(free, 0, "a seat is free while users wait");
        }
    }
}

pub fn user(user_name: &str) -> Value {
    json!({"schemas": [CORE_USER], "userName": user_name, "active": true})
}

pub fn seat(u: &Value) -> &Value {
    &u[SEAT]
}

pub fn assert_scim_error(r: &Resp, status: u16, scim_type: Option<&str>) {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.body);
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(r.body["status"], json!(status.to_string()));
    match scim_type {
        Some(t) => assert_eq!(r.body["scimType"], json!(t), "body: {}", r.body),
        None => assert!(r.body.get("scimType").is_none(), "body: {}", r.body),
    }
    assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/scim+json"),
        "SCIM errors are application/scim+json"
    );
}

// --- Owner API and billing ----------------------------------------------------------------

pub use scim_seats::domain::billing::contracts::NewContract;
pub use scim_seats::domain::members::Role;

pub fn date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// Contract terms with the product prices (600.00 / 1,200.00 USD) from `start`.
pub fn contract_from(start: chrono::NaiveDate, auto_renew: bool) -> NewContract {
    NewContract {
        term_start: Some(start),
        auto_renew,
        ..NewContract::default()
    }
}

/// Create an organization with seats, a contract and a SCIM token.
pub fn new_org_with_contract(
    db: &Db,
    slug: &str,
    seats: Seats,
    contract: NewContract,
) -> (String, String) {
    let new = orgs::NewOrg {
        slug: slug.into(),
        name: format!("{slug} Inc."),
        domains: vec![format!("{slug}.example.com")],
        standard_seats: seats.standard,
        premium_seats: seats.premium,
    };
    let opts = orgs::OrgOptions {
        contract,
        owner_email: None,
    };
    db.write_sync(|c| {
        let org = orgs::create_with(c, &new, &opts)?;
        let t = tokens::issue(c, &org.id, "test")?;
        Ok((org.id, t.secret))
    })
    .expect("create org with contract")
}

/// Add a member with `role` to organization `org_id`; returns its id. A Primary Owner is
/// reused when the organization already has one.
pub fn add_member(app: &TestApp, org_id: &str, role: Role) -> String {
    let org = org_id.to_string();
    app.db
        .write_sync(move |c| {
            if role == Role::PrimaryOwner {
                if let Some(m) = scim_seats::store::members::primary_owner(c, &org)? {
                    return Ok(m.id);
                }
            }
            let email = format!(
                "{}-{}@example.com",
                role.as_str(),
                uuid::Uuid::new_v4().simple()
            );
            let m = scim_seats::domain::members::add(
                c,
                &org,
                &email,
                role,
                &scim_seats::domain::Actor::system(),
            )?;
            Ok(m.id)
        })
        .expect("add member")
}

/// An owner-API token (valid one hour) for a new member of the app's organization with `role`.
pub fn owner_token(app: &TestApp, role: Role) -> String {
    let member = add_member(app, &app.org_id, role);
    owner_token_for(app, &app.org_id, &member)
}

/// An owner-API token for an existing member, signed with the server's key.
pub fn owner_token_for(app: &TestApp, org_id: &str, member_id: &str) -> String {
    scim_seats::auth::jwt::issue_owner(
        &app.settings.auth.jwt,
        org_id,
        member_id,
        std::time::Duration::from_secs(3600),
        chrono::Utc::now().timestamp(),
    )
    .expect("issue owner token")
}

impl TestApp {
    /// A request to the owner API (`path` under `/api/v1`) with an owner token.
    pub async fn api(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .client
            .request(method, format!("{}/api/v1{}", self.addr, path))
            .bearer_auth(token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        into_resp(req.send().await.expect("request")).await
    }

    /// `POST /api/v1/seats/confirm` with an idempotency key.
    pub async fn confirm(&self, token: &str, key: &str, order: Value) -> Resp {
        self.api(
            token,
            Method::POST,
            "/seats/confirm",
            Some(order),
            &[("Idempotency-Key", key)],
        )
        .await
    }

    /// Pool of a tier as `(purchased, claimed)`.
    pub fn pool(&self, tier: &str) -> (i64, i64) {
        self.pools()
            .into_iter()
            .find(|p| p.0 == tier)
            .map(|p| (p.1, p.2))
            .unwrap_or((0, 0))
    }

    /// Invoices of a kind in the app's organization, straight from the database.
    pub fn invoice_count(&self, kind: &str) -> i64 {
        let (org, kind) = (self.org_id.clone(), kind.to_string());
        self.db
            .read_sync(move |c| Ok(scim_seats::store::invoices::count_of_kind(c, &org, &kind)?))
            .expect("count invoices")
    }
}

// --- Owner API: members, invitations, SSO ---------------------------------------------------

/// A raw response into `Resp`.
pub async fn into_resp(resp: reqwest::Response) -> Resp {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Resp {
        status,
        headers,
        body,
    }
}

/// A request to any path of the server at `addr`, with an optional bearer token.
pub async fn call(
    client: &reqwest::Client,
    addr: &str,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Resp {
    let mut req = client.request(method, format!("{addr}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    into_resp(req.send().await.expect("request")).await
}

/// Add a member with a given email and role to the app's organization; returns its id.
pub fn add_member_email(app: &TestApp, email: &str, role: Role) -> String {
    let (org, email) = (app.org_id.clone(), email.to_string());
    app.db
        .write_sync(move |c| {
            Ok(scim_seats::domain::members::add(
                c,
                &org,
                &email,
                role,
                &scim_seats::domain::Actor::system(),
            )?
            .id)
        })
        .expect("add member")
}

/// Mail queued to `to` in the app's organization, oldest first.
pub fn outbox_to(app: &TestApp, to: &str) -> Vec<scim_seats::store::mail::MailRow> {
    let (org, to) = (app.org_id.clone(), to.to_string());
    app.db
        .read_sync(move |c| Ok(scim_seats::store::mail::to_address(c, &org, &to)?))
        .expect("outbox")
}

/// The invitation token in a mail body.
pub fn token_in(body: &str) -> String {
    let start = body
        .find("scimseats-inv_")
        .expect("an invitation token in the mail");
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// The token of the latest invitation mailed to `to`.
pub fn latest_invitation_token(app: &TestApp, to: &str) -> String {
    let mails = outbox_to(app, to);
    let last = mails.last().expect("an invitation mail");
    token_in(&last.body)
}

/// `POST /api/v1/invitations/accept` on the server at `addr`.
pub async fn accept_at(app: &TestApp, addr: &str, token: &str) -> Resp {
    call(
        &app.client,
        addr,
        None,
        Method::POST,
        "/api/v1/invitations/accept",
        Some(json!({ "token": token })),
    )
    .await
}

/// Accounts (SCIM users) of the app's organization with a source, straight from the database.
pub fn accounts_with_source(app: &TestApp, source: &str) -> Vec<scim_seats::store::users::UserRow> {
    let org = app.org_id.clone();
    let source = source.to_string();
    app.db
        .read_sync(move |c| {
            let (rows, _) = scim_seats::store::users::list(
                c,
                &org,
                &scim_seats::store::query::ListSpec {
                    filter: None,
                    sort_by: None,
                    descending: false,
                    offset: 0,
                    limit: 10_000,
                },
            )?;
            Ok(rows.into_iter().filter(|r| r.source == source).collect())
        })
        .expect("accounts")
}

/// Add seats the way a purchase does (pools raised, then the queue drains in one transaction).
pub fn add_seats(app: &TestApp, tier: &str, n: i64) {
    let (org, tier) = (app.org_id.clone(), tier.to_string());
    app.db
        .write_sync(move |c| {
            use diesel::{ExpressionMethods, QueryDsl};
            use scim_seats::store::schema::seat_pools::dsl as p;
            diesel::update(
                p::seat_pools
                    .filter(p::org_id.eq(&org))
                    .filter(p::tier.eq(&tier)),
            )
            .set(p::purchased.eq(p::purchased + n))
            .execute(c)?;
            scim_seats::domain::seats::seats_added(c, &org, &scim_seats::domain::Actor::system())?;
            Ok(())
        })
        .expect("add seats");
}

// --- Reports, alerts, page, audit, operations ---------------------------------------------

/// A raw GET on the server (any path from the root), with an optional bearer token and
/// extra headers; no redirects followed.
pub async fn raw_get(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut req = client.get(format!("{}{}", app.addr, path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

/// POST a SCIM group with `members` (user ids); returns its id.
pub async fn create_group_with(app: &TestApp, name: &str, members: &[String]) -> String {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    let r = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": name, "members": members}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "create group: {}", r.body);
    r.body["id"].as_str().expect("group id").to_string()
}

/// Map a group to a seat tier (the group tier policy).
pub fn set_group_tier(app: &TestApp, group_id: &str, tier: scim_seats::domain::Tier) {
    let (org, group) = (app.org_id.clone(), group_id.to_string());
    app.db
        .write_sync(move |c| {
            scim_seats::domain::seats::seat_policy::set_group_tier(
                c,
                &org,
                &group,
                Some(tier),
                &scim_seats::domain::Actor::system(),
            )
        })
        .expect("set group tier");
}

/// Put `n` pending users straight into the queue of `org_id` with one SQL statement
/// (userName `bulk-<i>@<org>.example.com`), for volume tests. Queue numbers continue after
/// the organization's counter, which is moved past them.
pub fn seed_pending(app: &TestApp, org_id: &str, n: i64) {
    use scim_seats::store::DbConn;
    let org = org_id.to_string();
    app.db
        .write_sync(move |c| {
            let base: i64 = {
                use diesel::prelude::*;
                use scim_seats::store::schema::org_counters::dsl as o;
                o::org_counters
                    .filter(o::org_id.eq(&org))
                    .select(o::queue_counter)
                    .first(c)?
            };
            let org_sql = org.replace('\'', "''");
            // Same statement on both backends but for the row generator.
            let select = format!(
                "SELECT '{org_sql}-' || CAST(i AS TEXT), '{org_sql}', \
                 'bulk-' || CAST(i AS TEXT) || '@bulk.example.com', \
                 'bulk-' || CAST(i AS TEXT) || '@bulk.example.com', 'ext-' || CAST(i AS TEXT), \
                 'Bulk User ' || CAST(i AS TEXT), TRUE, 'pending', NULL, NULL, \
                 CURRENT_TIMESTAMP, {base} + i, 'scim', '{{}}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
            );
            let insert = "INSERT INTO scim_users (id, org_id, user_name, user_name_norm, \
                external_id, display_name, active, seat_status, seat_tier, seated_at, \
                pending_since, queue_seq, source, resource, version, created_at, updated_at) ";
            let sql = match c {
                DbConn::Pg(_) => {
                    format!("{insert} {select} FROM generate_series(1, {n}) AS g(i)")
                }
                DbConn::Sqlite(_) => format!(
                    "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) \
                     {insert} {select} FROM g"
                ),
            };
            let bump = format!(
                "UPDATE org_counters SET queue_counter = queue_counter + {n} WHERE org_id = '{org_sql}'"
            );
            match c {
                DbConn::Pg(pc) => {
                    diesel::sql_query(sql).execute(pc)?;
                    diesel::sql_query(bump).execute(pc)?;
                }
                DbConn::Sqlite(sc) => {
                    diesel::sql_query(sql).execute(sc)?;
                    diesel::sql_query(bump).execute(sc)?;
                }
            }
            Ok(())
        })
        .expect("seed pending users");
}

/// Webhook deliveries of the app's organization, newest first.
pub fn outbox(app: &TestApp) -> Vec<scim_seats::store::alerts::OutboxRow> {
    let org = app.org_id.clone();
    app.db
        .read_sync(move |c| Ok(scim_seats::store::alerts::for_org(c, &org)?))
        .expect("outbox")
}
