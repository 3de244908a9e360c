//! The seat engine through the real server: the invariant `0 <= claimed <= purchased` under
//! concurrency (one process and two processes on one database), release and drain in
//! first-come order, a model-based property test, reassignment and group tier policy.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use scim_seats::domain::{reassign, seat_admin, seats, seats::seat_policy, Actor, Tier};
use scim_seats::error::Error;
use scim_seats::store::{self, Db};

use crate::helpers::*;

/// What a concurrent task needs to talk to one server (cheap to clone into tasks).
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn of(app: &TestApp) -> Api {
        Api {
            client: app.client.clone(),
            base: app.base.clone(),
            token: app.token.clone(),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        let resp = crate::helpers::into_resp(req.send().await.expect("request")).await;
        (resp.status.as_u16(), resp.body)
    }
}

fn actor() -> Actor {
    Actor::admin("owner-1")
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// Every user of the organization, paging through the list endpoint.
async fn all_users(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let r = app
            .get(&format!("/Users?startIndex={}&count=100", out.len() + 1))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let page = r.body["Resources"].as_array().cloned().unwrap_or_default();
        let total = r.body["totalResults"].as_u64().expect("totalResults") as usize;
        let done = page.is_empty();
        out.extend(page);
        if done || out.len() >= total {
            return out;
        }
    }
}

/// Ids of pending users in queue order, checking positions are exactly 1..=n.
fn queue_of(users: &[Value]) -> Vec<String> {
    let mut pending: Vec<(i64, String)> = users
        .iter()
        .filter(|u| seat(u)["status"] == "pending")
        .map(|u| {
            (
                seat(u)["queuePosition"].as_i64().expect("queuePosition"),
                id_of(u),
            )
        })
        .collect();
    pending.sort();
    let positions: Vec<i64> = pending.iter().map(|p| p.0).collect();
    let want: Vec<i64> = (1..=pending.len() as i64).collect();
    assert_eq!(positions, want, "queue positions are 1..n, distinct");
    pending.into_iter().map(|p| p.1).collect()
}

fn ids_with_status(users: &[Value], status: &str) -> BTreeSet<String> {
    users
        .iter()
        .filter(|u| seat(u)["status"] == status)
        .map(id_of)
        .collect()
}

async fn user_seat(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    seat(&r.body).clone()
}

async fn set_active(app: &TestApp, user_name: &str, id: &str, active: bool) -> Value {
    let r = app
        .put(
            &format!("/Users/{id}"),
            json!({"schemas": [CORE_USER], "userName": user_name, "active": active}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// Buy seats the way billing will: raise purchased, then the one drain entry point, in one
/// transaction. Returns the users activated, in order.
fn buy(db: &Db, org: &str, added: &[(Tier, i64)]) -> Vec<String> {
    db.write_sync(|c| {
        for (tier, n) in added {
            store::seats::add_purchased(c, org, tier.as_str(), *n, store::now())?;
        }
        seats::seats_added(c, org, &Actor::system())
    })
    .expect("add seats")
}

fn add_seats(db: &Db, org: &str, tier: Tier, n: i64) -> Vec<String> {
    buy(db, org, &[(tier, n)])
}

fn audit_kinds(app: &TestApp, subject: &str) -> Vec<(String, Value)> {
    let (org, subject) = (app.org_id.clone(), subject.to_string());
    app.db
        .read_sync(move |c| Ok(store::audit::for_subject(c, &org, &subject)?))
        .expect("audit")
        .into_iter()
        .map(|r| (r.kind, serde_json::from_str(&r.detail).expect("detail")))
        .collect()
}

/// Fire `n` creates at once, spread over `apis` round-robin, each in its own task.
async fn create_concurrently(apis: &[Api], prefix: &str, n: usize) -> Vec<Value> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let api = apis[i % apis.len()].clone();
            let name = format!("{prefix}{i}@acme.example.com");
            tokio::spawn(async move {
                api.send(reqwest::Method::POST, "/Users", Some(user(&name)))
                    .await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in futures_util::future::join_all(tasks).await {
        let (status, body) = t.expect("task");
        assert_eq!(status, 201, "every create answers 201, seat or not: {body}");
        out.push(body);
    }
    out
}

/// 200 creates against 50 seats: exactly 50 active, 150 pending at positions 1..150.
async fn assert_200_creates_50_seats(app: &TestApp, apis: &[Api]) {
    let created = create_concurrently(apis, "c", 200).await;
    let in_responses = created
        .iter()
        .filter(|u| seat(u)["status"] == "active")
        .count();
    assert_eq!(in_responses, 50, "the 201 bodies show 50 active users");
    app.assert_seat_invariants();
    assert_eq!(app.count_status("active"), 50);
    assert_eq!(app.count_status("pending"), 150);
    assert_eq!(
        app.pools(),
        vec![("premium".into(), 0, 0), ("standard".into(), 50, 50)]
    );
    let users = all_users(app).await;
    assert_eq!(users.len(), 200);
    let queue = queue_of(&users);
    assert_eq!(queue.len(), 150);
    // First come, first queued: pendingSince never goes down along the queue.
    let since: HashMap<String, String> = users
        .iter()
        .filter_map(|u| Some((id_of(u), seat(u)["pendingSince"].as_str()?.to_string())))
        .collect();
    let order: Vec<&String> = queue.iter().map(|id| &since[id]).collect();
    assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "queue is first-come"
    );
    for u in &users {
        assert_eq!(u["active"], true, "`active` is stored as the IdP sent it");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_never_oversell() {
    let app = TestApp::builder().seats(50, 0).spawn().await;
    assert_200_creates_50_seats(&app, &[Api::of(&app)]).await;
}

/// Child server processes, killed when dropped, even when the test fails.
struct Servers(Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Start the real binary on a free port and wait until it answers.
async fn start_server(servers: &mut Servers, db_url: &str) -> String {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_scim-seats"))
        .args([
            "serve",
            "--database-url",
            db_url,
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "2",
            "--pool-size",
            "4",
        ])
        .stdout(Stdio::null())
        .stderr(if std::env::var("TEST_LOG").is_ok() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .expect("start scim-seats");
    servers.0.push(child);
    let addr = format!("http://127.0.0.1:{port}");
    let client = http_client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if client
            .get(format!("{addr}/scim/v2/ServiceProviderConfig"))
            .send()
            .await
            .is_ok()
        {
            return addr;
        }
        let last = servers.0.len() - 1;
        if let Ok(Some(status)) = servers.0[last].try_wait() {
            panic!("scim-seats exited early: {status}");
        }
        assert!(Instant::now() < deadline, "scim-seats did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Two server processes on one database (PostgreSQL with TEST_DATABASE_URL, else one SQLite
/// file): the org row lock (PostgreSQL) and BEGIN IMMEDIATE (SQLite) serialise claims across
/// processes, so 200 creates split between them still give exactly 50 seats.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_server_processes_share_one_inventory() {
    let test_db = TestDb::fresh();
    let db = Db::connect(test_db.url(), 2).expect("connect");
    // Migrate once up front so the two processes do not race to migrate.
    db.migrate().expect("migrate");
    let (org_id, token) = new_org(
        &db,
        "acme",
        Seats {
            standard: 50,
            premium: 0,
        },
    );
    let mut servers = Servers(Vec::new());
    let a = start_server(&mut servers, test_db.url()).await;
    let b = start_server(&mut servers, test_db.url()).await;
    let client = http_client();
    let apis: Vec<Api> = [&a, &b]
        .iter()
        .map(|addr| Api {
            client: client.clone(),
            base: format!("{addr}/scim/v2"),
            token: token.clone(),
        })
        .collect();
    // TestApp only as a reader: its base is process A, its db the shared database.
    let app = TestApp {
        base: apis[0].base.clone(),
        addr: a.clone(),
        token,
        org_id,
        client,
        db,
        settings: scim_seats::config::Settings::default(),
        test_db,
    };
    assert_200_creates_50_seats(&app, &apis).await;
    // Each process sees the same queue.
    let (status, body) = apis[1]
        .send(reqwest::Method::GET, "/Users?count=1", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["totalResults"], 200);
    drop(servers);
}

/// Three processes on one database (the test's own server and two of the binary) under a
/// mixed load at once: creates, deactivations, seat purchases and pushes into a group whose
/// members want premium seats. Each process commits its SCIM writes in batches (group commit
/// on PostgreSQL, the writer thread on SQLite); a purchase is a transaction of its own. At
/// the end every seat invariant holds, every create answered 201 and every push is there
/// exactly once, and every seat bought is taken while users wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_mixed_writes_keep_every_seat_invariant() {
    let app = TestApp::builder()
        .seats(40, 5)
        .contract(contract_from(date(2026, 1, 1), true))
        .today(date(2026, 3, 1))
        .spawn()
        .await;
    let mut seeded = Vec::new();
    for i in 0..30 {
        seeded.push(id_of(
            &app.create_user(&format!("seed{i}@acme.example.com")).await,
        ));
    }
    let group = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": "Premium engineers"}),
        )
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    let group_id = id_of(&group.body);
    set_group_tier(&app, &group_id, Tier::Premium);

    let mut servers = Servers(Vec::new());
    let b = start_server(&mut servers, app.test_db.url()).await;
    let c = start_server(&mut servers, app.test_db.url()).await;
    let apis: Vec<Api> = [app.addr.clone(), b, c]
        .into_iter()
        .map(|addr| Api {
            client: app.client.clone(),
            base: format!("{addr}/scim/v2"),
            token: app.token.clone(),
        })
        .collect();

    let mut scim = Vec::new();
    for i in 0..90 {
        let api = apis[i % 3].clone();
        let name = format!("new{i}@acme.example.com");
        scim.push(tokio::spawn(async move {
            let (status, body) = api
                .send(reqwest::Method::POST, "/Users", Some(user(&name)))
                .await;
            ("create", status, body)
        }));
    }
    for (i, id) in seeded.iter().take(20).enumerate() {
        let api = apis[(i + 1) % 3].clone();
        let path = format!("/Users/{id}");
        let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
        scim.push(tokio::spawn(async move {
            let (status, body) = api.send(reqwest::Method::PATCH, &path, Some(body)).await;
            ("deactivate", status, body)
        }));
    }
    for (i, id) in seeded.iter().skip(20).enumerate() {
        let api = apis[(i + 2) % 3].clone();
        let path = format!("/Groups/{group_id}");
        let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
        scim.push(tokio::spawn(async move {
            let (status, body) = api.send(reqwest::Method::PATCH, &path, Some(body)).await;
            ("group push", status, body)
        }));
    }
    let owner = owner_token(&app, Role::Owner);
    for k in 0..3 {
        let r = app
            .confirm(&owner, &format!("mixed-{k}"), json!({"add_standard": 5}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut created = BTreeSet::new();
    for task in futures_util::future::join_all(scim).await {
        let (what, status, body) = task.expect("task");
        match what {
            "create" => {
                assert_eq!(status, 201, "{what}: {body}");
                assert!(created.insert(id_of(&body)), "one id answered twice");
            }
            _ => assert!(status == 200 || status == 204, "{what}: {status} {body}"),
        }
    }
    drop(servers);

    let users = all_users(&app).await;
    assert_eq!(users.len(), 120, "30 seeded + 90 created, each once");
    let listed: BTreeSet<String> = users.iter().map(id_of).collect();
    assert!(
        created.is_subset(&listed),
        "a create answered 201 is missing"
    );
    app.assert_seat_invariants();
    // 55 standard seats and 5 premium for 100 active users: all taken, 40 wait.
    assert_eq!(app.pool("standard"), (55, 55));
    assert_eq!(app.pool("premium"), (5, 5));
    assert_eq!(app.count_status("pending"), 40);
    assert_eq!(app.count_status("inactive"), 20);
    // Every group push landed once.
    let group = app.get(&format!("/Groups/{group_id}")).await;
    assert_eq!(group.status, StatusCode::OK, "{}", group.body);
    let in_group: BTreeSet<&str> = group.body["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["value"].as_str())
        .collect();
    let pushed: BTreeSet<&str> = seeded.iter().skip(20).map(String::as_str).collect();
    assert_eq!(in_group, pushed);
}

/// Many creates at once, a third of them taking a userName another create has: on PostgreSQL
/// they share group-commit batches, so a failed create is rolled back inside a batch whose
/// other creates commit (on SQLite, inside the writer's batch). Each failure is a 409 that
/// left nothing behind (no seat, no audit row, no seat event, no gap in the event numbers),
/// and each success is there with exactly its own rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_creates_in_a_batch_leave_nothing_and_undo_no_other() {
    use scim_seats::store::audit::AuditFilter;
    let app = TestApp::builder().seats(50, 0).spawn().await;
    let api = Api::of(&app);
    let mut tasks = Vec::new();
    for i in 0..90 {
        let api = api.clone();
        let name = format!("u{}@acme.example.com", i % 60);
        tasks.push(tokio::spawn(async move {
            api.send(reqwest::Method::POST, "/Users", Some(user(&name)))
                .await
        }));
    }
    let mut created = BTreeSet::new();
    let mut conflicts = 0;
    for t in futures_util::future::join_all(tasks).await {
        let (status, body) = t.expect("task");
        match status {
            201 => assert!(created.insert(id_of(&body))),
            409 => {
                assert_eq!(body["scimType"], "uniqueness", "{body}");
                conflicts += 1;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!((created.len(), conflicts), (60, 30));
    app.assert_seat_invariants();
    assert_eq!(app.count_status("active"), 50);
    assert_eq!(app.count_status("pending"), 10);

    let org = app.org_id.clone();
    let (audited, events) = app
        .db
        .read_sync(move |c| {
            let created = AuditFilter {
                kind: Some("user.created".into()),
                ..AuditFilter::default()
            };
            let (rows, _) = store::audit::page(c, &org, &created, 0, 1_000)?;
            let events = store::seat_events::after(c, &org, 0, 1_000)?;
            Ok((rows, events))
        })
        .expect("read audit and events");
    let audited: BTreeSet<String> = audited.into_iter().filter_map(|r| r.subject_id).collect();
    assert_eq!(
        audited, created,
        "one user.created audit row per user created"
    );
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "event numbers without gaps"
    );
    for e in &events {
        let subject = e.subject_id.clone().unwrap_or_default();
        assert!(
            created.contains(&subject),
            "an event of a create that failed: {}",
            e.kind
        );
    }
    let with_event: BTreeSet<String> = events.into_iter().filter_map(|e| e.subject_id).collect();
    assert_eq!(with_event, created, "every user created has its seat event");
}

/// Releases and creates at once: no seat is given twice, none stays free while someone
/// waits, and the freed seats go to the oldest pending users.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_releases_and_creates_keep_the_queue_order() {
    let app = TestApp::builder().seats(30, 0).spawn().await;
    let mut seated = Vec::new();
    for i in 0..30 {
        seated.push(id_of(
            &app.create_user(&format!("s{i}@acme.example.com")).await,
        ));
    }
    let mut waiting = Vec::new();
    for i in 0..30 {
        let u = app.create_user(&format!("w{i}@acme.example.com")).await;
        assert_eq!(seat(&u)["status"], "pending");
        assert_eq!(seat(&u)["queuePosition"], i + 1);
        waiting.push(id_of(&u));
    }
    app.assert_seat_invariants();

    let api = Api::of(&app);
    let mut tasks = Vec::new();
    for (i, id) in seated.iter().take(20).enumerate() {
        let (api, id) = (api.clone(), id.clone());
        let body = json!({"schemas": [CORE_USER], "userName": format!("s{i}@acme.example.com"), "active": false});
        tasks.push(tokio::spawn(async move {
            api.send(reqwest::Method::PUT, &format!("/Users/{id}"), Some(body))
                .await
        }));
    }
    for i in 0..20 {
        let api = api.clone();
        let name = format!("n{i}@acme.example.com");
        tasks.push(tokio::spawn(async move {
            api.send(reqwest::Method::POST, "/Users", Some(user(&name)))
                .await
        }));
    }
    let mut new_ids = Vec::new();
    for t in futures_util::future::join_all(tasks).await {
        let (status, body) = t.expect("task");
        assert!(status == 200 || status == 201, "{status}: {body}");
        if status == 201 {
            assert_eq!(
                seat(&body)["status"],
                "pending",
                "no new user jumps the queue"
            );
            new_ids.push(id_of(&body));
        }
    }
    app.assert_seat_invariants();
    let users = all_users(&app).await;
    let active = ids_with_status(&users, "active");
    let want: BTreeSet<String> = seated[20..]
        .iter()
        .chain(waiting[..20].iter())
        .cloned()
        .collect();
    assert_eq!(
        active, want,
        "the 20 oldest pending users got the freed seats"
    );
    let queue = queue_of(&users);
    assert_eq!(
        queue[..10],
        waiting[20..],
        "the older waiters stay in front"
    );
    let tail: BTreeSet<String> = queue[10..].iter().cloned().collect();
    assert_eq!(tail, new_ids.into_iter().collect::<BTreeSet<_>>());
    assert_eq!(
        ids_with_status(&users, "inactive"),
        seated[..20].iter().cloned().collect::<BTreeSet<_>>()
    );
}

/// Pending users get seats strictly in queue order; leaving the queue and coming back puts a
/// user at the back; the IdP's `active` is never changed by the server.
#[tokio::test]
async fn pending_users_are_activated_first_come_first_served() {
    let app = TestApp::builder().seats(2, 0).spawn().await;
    let a = id_of(&app.create_user("a@acme.example.com").await);
    let b = id_of(&app.create_user("b@acme.example.com").await);
    let mut p = Vec::new();
    for i in 1..=4 {
        let u = app.create_user(&format!("p{i}@acme.example.com")).await;
        assert_eq!(u["active"], true, "a pending user keeps active: true");
        assert_eq!(seat(&u)["status"], "pending");
        assert_eq!(seat(&u)["queuePosition"], i);
        assert!(seat(&u)["pendingSince"].as_str().is_some());
        assert!(seat(&u).get("tier").is_none());
        p.push(id_of(&u));
    }
    let queue = |users: &[Value]| queue_of(users);

    // A deleted member's seat goes to the head of the queue.
    assert_eq!(app.delete(&format!("/Users/{a}")).await.status, 204);
    assert_eq!(user_seat(&app, &p[0]).await["status"], "active");
    assert_eq!(user_seat(&app, &p[0]).await["tier"], "standard");
    assert_eq!(queue(&all_users(&app).await), p[1..].to_vec());

    // A pending user who is deactivated leaves the queue; reactivated, it queues at the back.
    let u = set_active(&app, "p3@acme.example.com", &p[2], false).await;
    assert_eq!(u["active"], false);
    assert_eq!(seat(&u)["status"], "inactive");
    assert_eq!(
        queue(&all_users(&app).await),
        vec![p[1].clone(), p[3].clone()]
    );
    let u = set_active(&app, "p3@acme.example.com", &p[2], true).await;
    assert_eq!(seat(&u)["status"], "pending");
    assert_eq!(seat(&u)["queuePosition"], 3);
    assert_eq!(
        queue(&all_users(&app).await),
        vec![p[1].clone(), p[3].clone(), p[2].clone()]
    );

    // A deactivated member's seat goes to the (new) head.
    set_active(&app, "b@acme.example.com", &b, false).await;
    assert_eq!(user_seat(&app, &p[1]).await["status"], "active");
    app.assert_seat_invariants();

    // Seats bought: the rest drain in order, in the same transaction.
    let activated = add_seats(&app.db, &app.org_id, Tier::Standard, 1);
    assert_eq!(activated, vec![p[3].clone()]);
    let activated = add_seats(&app.db, &app.org_id, Tier::Premium, 5);
    assert_eq!(activated, vec![p[2].clone()]);
    assert_eq!(user_seat(&app, &p[2]).await["tier"], "premium");
    app.assert_seat_invariants();

    // Each activation is in the audit log with before/after and its source.
    let log = audit_kinds(&app, &p[3]);
    let (_, d) = log
        .iter()
        .find(|(k, _)| k == "queue.activated")
        .expect("queue.activated");
    assert_eq!(d["before"]["status"], "pending");
    assert_eq!(d["after"]["status"], "active");
    assert_eq!(d["source"], "scim");
    assert!(log
        .iter()
        .any(|(k, d)| k == "user.queued" && d["source"] == "scim"));
}

// --- Property test: random operations against the real server and a FIFO model ---------

mod model {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    pub enum Op {
        Create,
        Deactivate(usize),
        Reactivate(usize),
        Delete(usize),
        AddSeats(bool, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Create),
            2 => (0usize..64).prop_map(Op::Deactivate),
            2 => (0usize..64).prop_map(Op::Reactivate),
            1 => (0usize..64).prop_map(Op::Delete),
            1 => (any::<bool>(), 1i64..3).prop_map(|(p, n)| Op::AddSeats(p, n)),
        ]
    }

    struct ModelUser {
        id: String,
        name: String,
        idp_active: bool,
    }

    /// What the product promises, in a few lines: seats are a number, the queue is FIFO.
    #[derive(Default)]
    struct Model {
        seats: i64,
        users: Vec<ModelUser>,
        active: BTreeSet<String>,
        queue: VecDeque<String>,
    }

    impl Model {
        fn claim_or_queue(&mut self, id: &str) {
            if (self.active.len() as i64) < self.seats {
                self.active.insert(id.to_string());
            } else {
                self.queue.push_back(id.to_string());
            }
        }
        fn vacate(&mut self, id: &str) {
            self.active.remove(id);
            self.queue.retain(|q| q != id);
            self.drain();
        }
        fn drain(&mut self) {
            while (self.active.len() as i64) < self.seats {
                let Some(head) = self.queue.pop_front() else {
                    break;
                };
                self.active.insert(head);
            }
        }
    }

    async fn run(standard: i64, premium: i64, ops: Vec<Op>) {
        let app = TestApp::builder().seats(standard, premium).spawn().await;
        let mut m = Model {
            seats: standard + premium,
            ..Model::default()
        };
        for (step, op) in ops.iter().enumerate() {
            match op {
                Op::Create => {
                    let name = format!("u{step}@acme.example.com");
                    let id = id_of(&app.create_user(&name).await);
                    m.claim_or_queue(&id);
                    m.users.push(ModelUser {
                        id,
                        name,
                        idp_active: true,
                    });
                }
                Op::Deactivate(k) | Op::Reactivate(k) if !m.users.is_empty() => {
                    let want = matches!(op, Op::Reactivate(_));
                    let i = k % m.users.len();
                    let (id, name) = (m.users[i].id.clone(), m.users[i].name.clone());
                    set_active(&app, &name, &id, want).await;
                    if m.users[i].idp_active != want {
                        m.users[i].idp_active = want;
                        if want {
                            m.claim_or_queue(&id);
                        } else {
                            m.vacate(&id);
                        }
                    }
                }
                Op::Delete(k) if !m.users.is_empty() => {
                    let u = m.users.remove(k % m.users.len());
                    assert_eq!(app.delete(&format!("/Users/{}", u.id)).await.status, 204);
                    m.vacate(&u.id);
                }
                Op::AddSeats(prem, n) => {
                    let tier = if *prem { Tier::Premium } else { Tier::Standard };
                    add_seats(&app.db, &app.org_id, tier, *n);
                    m.seats += n;
                    m.drain();
                }
                _ => {}
            }
            app.assert_seat_invariants();
            let users = all_users(&app).await;
            assert_eq!(users.len(), m.users.len(), "step {step}: {op:?}");
            assert_eq!(
                ids_with_status(&users, "active"),
                m.active,
                "step {step}: {op:?}"
            );
            assert_eq!(
                queue_of(&users),
                m.queue.iter().cloned().collect::<Vec<_>>(),
                "step {step}: {op:?}"
            );
            let idp: HashMap<&str, bool> = m
                .users
                .iter()
                .map(|u| (u.id.as_str(), u.idp_active))
                .collect();
            for u in &users {
                assert_eq!(
                    u["active"].as_bool(),
                    Some(idp[id_of(u).as_str()]),
                    "`active` is the IdP's value"
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 12,
            max_shrink_iters: 32,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        #[test]
        fn random_operations_match_a_fifo_model(
            standard in 0i64..4,
            premium in 0i64..2,
            ops in proptest::collection::vec(op(), 1..25),
        ) {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(run(standard, premium, ops));
        }
    }
}

// --- Admin removal, reassignment, group tier policy (engine calls; no HTTP API yet) -------

fn engine<T>(
    app: &TestApp,
    f: impl FnOnce(&mut store::DbConn) -> Result<T, Error>,
) -> Result<T, Error> {
    app.db.write_sync(f)
}

#[tokio::test]
async fn admin_removal_frees_the_seat_but_keeps_active() {
    let app = TestApp::builder().seats(1, 0).spawn().await;
    let a = id_of(&app.create_user("a@acme.example.com").await);
    let b = id_of(&app.create_user("b@acme.example.com").await);
    let org = app.org_id.clone();

    let v = engine(&app, |c| {
        seat_admin::remove_from_seats(c, &org, &a, &actor())
    })
    .expect("remove");
    assert_eq!(v.row.seat_status, "inactive");
    let got = app.get(&format!("/Users/{a}")).await.body;
    assert_eq!(got["active"], true, "the IdP's `active` is untouched");
    assert_eq!(seat(&got)["status"], "inactive");
    assert_eq!(
        user_seat(&app, &b).await["status"],
        "active",
        "seat went to the head"
    );
    app.assert_seat_invariants();
    let (_, d) = audit_kinds(&app, &a)
        .into_iter()
        .find(|(k, _)| k == "member.removed")
        .expect("audited");
    assert_eq!(d["before"]["status"], "active");
    assert_eq!(d["after"]["status"], "inactive");

    // An IdP sync that keeps active: true does not undo the removal.
    let u = app
        .put(
            &format!("/Users/{a}"),
            json!({"schemas": [CORE_USER], "userName": "a@acme.example.com", "displayName": "A", "active": true}),
        )
        .await;
    assert_eq!(seat(&u.body)["status"], "inactive");

    // An admin assigns a seat: none free, so it queues at the back.
    let v = engine(&app, |c| seat_admin::assign_seat(c, &org, &a, &actor())).expect("assign");
    assert_eq!(v.row.seat_status, "pending");
    assert_eq!(v.queue_position, Some(1));
    // Removing a pending member takes it out of the queue.
    engine(&app, |c| {
        seat_admin::remove_from_seats(c, &org, &a, &actor())
    })
    .expect("remove");
    assert!(user_seat(&app, &a).await.get("queuePosition").is_none());

    // While the IdP has the user deactivated, an admin cannot assign it a seat.
    set_active(&app, "a@acme.example.com", &a, false).await;
    let e = engine(&app, |c| seat_admin::assign_seat(c, &org, &a, &actor())).unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    // The IdP reactivates: it claims again or queues at the back.
    let u = set_active(&app, "a@acme.example.com", &a, true).await;
    assert_eq!(seat(&u)["status"], "pending");
    engine(&app, |c| {
        seat_admin::remove_from_seats(c, &org, &b, &actor())
    })
    .expect("remove b");
    assert_eq!(user_seat(&app, &a).await["status"], "active");
    app.assert_seat_invariants();
}

#[tokio::test]
async fn move_and_swap_tiers() {
    let app = TestApp::builder().seats(3, 1).spawn().await;
    let org = app.org_id.clone();
    let u1 = id_of(&app.create_user("u1@acme.example.com").await);
    let u2 = id_of(&app.create_user("u2@acme.example.com").await);
    let u3 = id_of(&app.create_user("u3@acme.example.com").await);
    let u4 = id_of(&app.create_user("u4@acme.example.com").await);
    assert_eq!(user_seat(&app, &u1).await["tier"], "premium");
    assert_eq!(user_seat(&app, &u2).await["tier"], "standard");

    // No premium seat free: refused, nothing changes.
    let e = engine(&app, |c| {
        reassign::move_tier(c, &org, &u2, Tier::Premium, &actor())
    })
    .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    // Free a standard seat, then move the premium member down and u2 up.
    app.delete(&format!("/Users/{u4}")).await;
    engine(&app, |c| {
        reassign::move_tier(c, &org, &u1, Tier::Standard, &actor())
    })
    .expect("move");
    engine(&app, |c| {
        reassign::move_tier(c, &org, &u2, Tier::Premium, &actor())
    })
    .expect("move");
    assert_eq!(user_seat(&app, &u1).await["tier"], "standard");
    assert_eq!(user_seat(&app, &u2).await["tier"], "premium");
    assert_eq!(
        app.pools(),
        vec![("premium".into(), 1, 1), ("standard".into(), 3, 2)]
    );
    app.assert_seat_invariants();
    let (_, d) = audit_kinds(&app, &u2)
        .into_iter()
        .find(|(k, _)| k == "seat.moved")
        .expect("audited");
    assert_eq!(d["before"]["tier"], "standard");
    assert_eq!(d["after"]["tier"], "premium");

    // Swap: counts per tier stay, the members trade tiers.
    engine(&app, |c| reassign::swap_tiers(c, &org, &u2, &u3, &actor())).expect("swap");
    assert_eq!(user_seat(&app, &u2).await["tier"], "standard");
    assert_eq!(user_seat(&app, &u3).await["tier"], "premium");
    assert_eq!(
        app.pools(),
        vec![("premium".into(), 1, 1), ("standard".into(), 3, 2)]
    );
    let e = engine(&app, |c| reassign::swap_tiers(c, &org, &u1, &u2, &actor())).unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "same tier: {e:?}");
    let e = engine(&app, |c| {
        reassign::swap_tiers(c, &org, &u1, "nope", &actor())
    })
    .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    app.assert_seat_invariants();
}

#[tokio::test]
async fn giving_a_seat_queues_the_member_it_was_taken_from_at_the_back() {
    let app = TestApp::builder().seats(0, 1).spawn().await;
    let org = app.org_id.clone();
    let m = id_of(&app.create_user("m@acme.example.com").await);
    let p1 = id_of(&app.create_user("p1@acme.example.com").await);
    let p2 = id_of(&app.create_user("p2@acme.example.com").await);

    let (from, to) =
        engine(&app, |c| reassign::give_seat(c, &org, &m, &p2, &actor())).expect("give");
    assert_eq!(from.row.seat_status, "pending");
    assert_eq!(to.row.seat_status, "active");
    let s = user_seat(&app, &p2).await;
    assert_eq!(
        (s["status"].clone(), s["tier"].clone()),
        (json!("active"), json!("premium"))
    );
    assert_eq!(
        queue_of(&all_users(&app).await),
        vec![p1.clone(), m.clone()]
    );
    let got = app.get(&format!("/Users/{m}")).await.body;
    assert_eq!(got["active"], true, "`active` stays the IdP's");
    app.assert_seat_invariants();
    let (_, d) = audit_kinds(&app, &p2)
        .into_iter()
        .find(|(k, _)| k == "seat.reassigned")
        .expect("audited");
    assert_eq!(d["before"]["status"], "pending");
    assert_eq!(d["after"]["tier"], "premium");
    assert_eq!(d["from"], m.as_str());

    // Only from a seated member, only to a pending user.
    let e = engine(&app, |c| reassign::give_seat(c, &org, &p1, &m, &actor())).unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    set_active(&app, "p1@acme.example.com", &p1, false).await;
    let e = engine(&app, |c| reassign::give_seat(c, &org, &p2, &p1, &actor())).unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "inactive target: {e:?}");
    let e = engine(&app, |c| reassign::give_seat(c, &org, &p2, &p2, &actor())).unwrap_err();
    assert!(matches!(e, Error::BadRequest(_)), "{e:?}");
    app.assert_seat_invariants();
}

async fn create_group(app: &TestApp, name: &str, members: &[&String]) -> String {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    let r = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": name, "members": members}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    id_of(&r.body)
}

#[tokio::test]
async fn group_tier_policy_decides_the_tier_when_a_seat_is_given() {
    let app = TestApp::builder().seats(0, 0).spawn().await;
    let org = app.org_id.clone();
    // IdPs create users first and push groups afterwards: all four wait for seats.
    let mut u = Vec::new();
    for i in 1..=4 {
        u.push(id_of(
            &app.create_user(&format!("u{i}@acme.example.com")).await,
        ));
    }
    let contractors = create_group(&app, "Contractors", &[&u[0], &u[2]]).await;
    let design = create_group(&app, "Design", &[&u[1], &u[2], &u[3]]).await;
    engine(&app, |c| {
        seat_policy::set_group_tier(c, &org, &contractors, Some(Tier::Standard), &actor())?;
        seat_policy::set_group_tier(c, &org, &design, Some(Tier::Premium), &actor())
    })
    .expect("policy");

    // Queue drain: u1 prefers standard although premium is free; u3 is in both groups and
    // gets premium; u4 finds no seat left.
    let activated = buy(
        &app.db,
        &app.org_id,
        &[(Tier::Premium, 2), (Tier::Standard, 1)],
    );
    assert_eq!(activated, u[..3].to_vec());
    assert_eq!(user_seat(&app, &u[0]).await["tier"], "standard");
    assert_eq!(user_seat(&app, &u[1]).await["tier"], "premium");
    assert_eq!(user_seat(&app, &u[2]).await["tier"], "premium");
    assert_eq!(user_seat(&app, &u[3]).await["status"], "pending");
    // Preferred tier not free: the highest free one.
    add_seats(&app.db, &app.org_id, Tier::Standard, 1);
    assert_eq!(user_seat(&app, &u[3]).await["tier"], "standard");
    app.assert_seat_invariants();

    // u4 took standard but waits for premium: a premium seat bought goes to it first.
    add_seats(&app.db, &app.org_id, Tier::Premium, 1);
    assert_eq!(user_seat(&app, &u[3]).await["tier"], "premium");
    // Reactivation: with premium and standard free, the contractor takes standard.
    set_active(&app, "u1@acme.example.com", &u[0], false).await;
    add_seats(&app.db, &app.org_id, Tier::Premium, 1);
    let got = set_active(&app, "u1@acme.example.com", &u[0], true).await;
    assert_eq!(seat(&got)["tier"], "standard");
    // Without the rule, the highest free tier.
    engine(&app, |c| {
        seat_policy::set_group_tier(c, &org, &contractors, None, &actor())
    })
    .expect("clear");
    set_active(&app, "u1@acme.example.com", &u[0], false).await;
    let got = set_active(&app, "u1@acme.example.com", &u[0], true).await;
    assert_eq!(seat(&got)["tier"], "premium");
    app.assert_seat_invariants();

    // Rules name groups of this organization; deleting the group drops its rule.
    let e = engine(&app, |c| {
        seat_policy::set_group_tier(c, &org, "no-such-group", Some(Tier::Premium), &actor())
    })
    .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    let rules = engine(&app, |c| seat_policy::group_tiers(c, &org)).expect("rules");
    assert_eq!(rules, vec![(design.clone(), Tier::Premium)]);
    assert_eq!(app.delete(&format!("/Groups/{design}")).await.status, 204);
    let rules = engine(&app, |c| seat_policy::group_tiers(c, &org)).expect("rules");
    assert!(rules.is_empty());
    app.assert_seat_invariants();
}

/// Writes of several organizations at once share batches on PostgreSQL, where the batch holds
/// each organization's counters and pools and writes them all in one statement before it
/// commits (`store::held`). Each organization must end with its own counts: seats claimed
/// equal its active users, its queue drained by its own releases, its user total right.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_of_many_organizations_at_once_keep_each_ones_seats_and_totals() {
    let app = TestApp::builder().seats(5, 0).spawn().await;
    // More organizations than a process has lanes, so that batches hold several.
    let mut orgs = vec![(app.org_id.clone(), app.token.clone())];
    for n in 1..12 {
        orgs.push(new_org(
            &app.db,
            &format!("org{n}"),
            Seats {
                standard: 5,
                premium: 0,
            },
        ));
    }
    let apis: Vec<Api> = orgs
        .iter()
        .map(|(_, token)| Api {
            client: app.client.clone(),
            base: app.base.clone(),
            token: token.clone(),
        })
        .collect();

    // 8 creates per organization, all at once: 5 claim a seat, 3 wait.
    let mut creates = Vec::new();
    for i in 0..8 {
        for (o, api) in apis.iter().enumerate() {
            let api = api.clone();
            let name = format!("u{i}@org{o}.example.com");
            creates.push(tokio::spawn(async move {
                let (status, body) = api
                    .send(reqwest::Method::POST, "/Users", Some(user(&name)))
                    .await;
                (o, status, body)
            }));
        }
    }
    let mut active: HashMap<usize, Vec<String>> = HashMap::new();
    for task in futures_util::future::join_all(creates).await {
        let (o, status, body) = task.expect("task");
        assert_eq!(status, 201, "{body}");
        if seat(&body)["status"] == "active" {
            active.entry(o).or_default().push(id_of(&body));
        }
    }
    // Two deactivations per organization, all at once: each release goes to that
    // organization's own queue.
    let mut patches = Vec::new();
    for (o, api) in apis.iter().enumerate() {
        assert_eq!(active[&o].len(), 5, "org {o}: 5 seats claimed");
        for id in active[&o].iter().take(2) {
            let api = api.clone();
            let path = format!("/Users/{id}");
            let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
            patches.push(tokio::spawn(async move {
                api.send(reqwest::Method::PATCH, &path, Some(body)).await
            }));
        }
    }
    for task in futures_util::future::join_all(patches).await {
        let (status, body) = task.expect("task");
        assert_eq!(status, 200, "{body}");
    }

    for (o, (org_id, _)) in orgs.iter().enumerate() {
        let (pools, active, pending, inactive) = {
            let org = org_id.clone();
            app.db
                .read_sync(move |c| {
                    let pools = store::seats::for_org(c, &org)?;
                    let mut n = |s: &str| store::users::count_by_status(c, &org, s);
                    Ok((pools, n("active")?, n("pending")?, n("inactive")?))
                })
                .expect("counts")
        };
        let claimed: i64 = pools.iter().map(|p| p.claimed).sum();
        assert_eq!(claimed, 5, "org {o}: every seat taken");
        assert_eq!(active, 5, "org {o}: claimed seats == active users");
        assert_eq!(
            pending, 1,
            "org {o}: 2 of its 3 waiting got the released seats"
        );
        assert_eq!(inactive, 2, "org {o}");
        let (_, listed) = apis[o]
            .send(reqwest::Method::GET, "/Users?count=0", None)
            .await;
        assert_eq!(listed["totalResults"], 8, "org {o}: its user total");
    }
}
