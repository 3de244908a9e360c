//! Load generator for scim-seats: `cargo bench --bench load -- --help`.
//!
//! It builds nothing: it runs the release server binary (`cargo build --release` first) as a
//! child process on a free loopback port with a fresh database (SQLite in a temp dir, or a
//! fresh `bench_<random>` PostgreSQL database), drives it over HTTP with bounded concurrency,
//! samples the server's memory and CPU from /proc, and prints Markdown tables.
//! Every request is a real, distinct request; any non-2xx answer (and any failed operation
//! inside a /Bulk answer) counts as an error.
//!
//! The client has to stay cheap, since it shares the machine's cores with the server: it is a
//! bare HTTP/1.1 client on hyper's connection API (one keep-alive connection per concurrency
//! slot, requests sent one after another on it, bodies and targets built before the clock
//! starts) on a **current-thread** tokio runtime, so it never uses more than one core. A
//! 2-worker multi-thread runtime was measured too: no cheaper per request (about the same at
//! ~35k trivial requests/s, ~20% more at ~4k lookups/s, where wake-ups and context switches
//! dominate the client's cost on this VM), so it is not used. What the client still costs
//! (measured on the 2-vCPU bench VM: ~20 µs of CPU per lookup at ~6,600 lookups/s, ~10 µs per
//! request at ~35,000 trivial requests/s) is mostly kernel time: the loopback TCP write (which
//! also delivers to and wakes the server), the read and the epoll wake-ups; its user-space
//! part is a few µs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use rand::distributions::Alphanumeric;
use rand::seq::SliceRandom;
use rand::Rng;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;
use tokio::net::TcpStream;

// A file under benches/load/, so cargo does not take it for a bench target of its own.
#[path = "load/tenants.rs"]
mod tenants;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const SCIM_JSON: &str = "application/scim+json";
/// Path prefix of the SCIM API.
const SCIM_PREFIX: &str = "/scim/v2";
/// Seats bought for the bench org: more than any run provisions, so every user claims a seat.
const SEATS: &str = "10000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Phase {
    Create,
    Lookup,
    Deactivate,
    Page,
    MemberAdd,
    Bulk,
    Scale,
    /// One tenant runs the costliest filters it can while another's lookups are measured.
    Noisy,
    /// Many organizations (`--tenants`) sync at once; one more, quiet tenant's lookups are
    /// measured alone and during that load (benches/load/tenants.rs).
    Tenants,
}

#[derive(Debug, Parser)]
#[command(
    name = "load",
    about = "Load generator for scim-seats (runs the release binary; loopback only)"
)]
struct Args {
    /// Phases to run (always in this order): create,lookup,deactivate,page,member-add,bulk,
    /// noisy,tenants,scale.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "create,lookup,deactivate,page,member-add,bulk,scale"
    )]
    phases: Vec<Phase>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Users created one by one in `create` (seeded through /Bulk when `create` is not run).
    #[arg(long, default_value_t = 20_000)]
    users: usize,
    /// Override the request count of every request phase (lookup, deactivate, page,
    /// member-add, scale lookups).
    #[arg(long)]
    requests: Option<usize>,
    #[arg(long, default_value_t = 50_000)]
    lookups: usize,
    #[arg(long, default_value_t = 5_000)]
    deactivations: usize,
    #[arg(long, default_value_t = 3_000)]
    pages: usize,
    /// Single-member PATCH adds measured per group size.
    #[arg(long, default_value_t = 5_000)]
    member_adds: usize,
    /// Group sizes (members seeded before measuring).
    #[arg(long, value_delimiter = ',', default_value = "5000,100000")]
    member_sizes: Vec<usize>,
    /// Members per seeding PATCH request.
    #[arg(long, default_value_t = 1_000)]
    member_chunk: usize,
    /// Users loaded in the `bulk` phase.
    #[arg(long, default_value_t = 100_000)]
    bulk_users: usize,
    /// Operations per /Bulk request (the server's maxOperations caps it).
    #[arg(long, default_value_t = 1_000)]
    bulk_size: usize,
    /// /Bulk requests in flight at once (bulk phase and all seeding).
    #[arg(long, default_value_t = 2)]
    bulk_concurrency: usize,
    /// User counts at which `scale` measures lookups (one fresh server, seeded upwards).
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    scale_sizes: Vec<usize>,
    /// Lookups measured at each scale size.
    #[arg(long, default_value_t = 10_000)]
    scale_lookups: usize,
    /// Server processes on the one database, each on its own port; the client's connections
    /// go to them in turn. The RSS and CPU columns are the first process's.
    #[arg(long, default_value_t = 1)]
    servers: usize,
    /// postgres://… to run on PostgreSQL (a fresh database is created and dropped);
    /// default: SQLite in a temp dir.
    #[arg(long)]
    database_url: Option<String>,
    /// The server binary; default $CARGO_TARGET_DIR/release/scim-seats or target/release/scim-seats.
    #[arg(long)]
    bin: Option<PathBuf>,
    /// Time limit of each phase, in seconds (the phase stops early and says so).
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
    /// `noisy`: users of the quiet tenant, whose `userName eq` lookups are measured.
    #[arg(long, default_value_t = 1_000)]
    quiet_users: usize,
    /// `noisy`: lookups of the quiet tenant.
    #[arg(long, default_value_t = 10_000)]
    quiet_lookups: usize,
    /// `noisy`: requests of the noisy tenant in flight at once.
    #[arg(long, default_value_t = 16)]
    noisy_concurrency: usize,
    /// `tenants`: organizations syncing at once, each with its own SCIM token.
    #[arg(long, default_value_t = 100)]
    tenants: usize,
    /// `tenants`: users seeded per organization (through /Bulk).
    #[arg(long, default_value_t = 2_000)]
    tenant_users: usize,
    /// `tenants`: groups seeded per organization.
    #[arg(long, default_value_t = 20)]
    tenant_groups: usize,
    /// `tenants`: requests of the mixed sync load, over all organizations.
    #[arg(long, default_value_t = 50_000)]
    tenant_requests: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Args {
    fn count(&self, default: usize) -> usize {
        self.requests.unwrap_or(default)
    }
}

// ---------------------------------------------------------------------------------------------
// The server under test

enum DbGuard {
    Sqlite(PathBuf),
    Pg { admin_url: String, name: String },
}

impl DbGuard {
    fn size_bytes(&self) -> Option<u64> {
        match self {
            DbGuard::Sqlite(path) => {
                let mut total = 0;
                for ext in ["", "-wal", "-shm"] {
                    let p = PathBuf::from(format!("{}{ext}", path.display()));
                    total += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                }
                Some(total)
            }
            DbGuard::Pg { admin_url, name } => {
                psql(admin_url, &format!("SELECT pg_database_size('{name}')"))
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
            }
        }
    }
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        if let DbGuard::Pg { admin_url, name } = self {
            if let Err(e) = psql(
                admin_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ) {
                eprintln!("warning: could not drop database {name}: {e}");
            }
        }
    }
}

fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qtAc", sql])
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The same server and credentials, another database name.
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let rest_at = url.find("://").ok_or_else(|| anyhow!("not a URL: {url}"))? + 3;
    let (query_at, query) = match url.find('?') {
        Some(q) => (q, &url[q..]),
        None => (url.len(), ""),
    };
    let path_at = url[rest_at..query_at]
        .find('/')
        .map(|p| rest_at + p)
        .unwrap_or(query_at);
    Ok(format!("{}/{name}{query}", &url[..path_at]))
}

struct Server {
    child: Child,
    pid: u32,
    addr: SocketAddr,
    /// The other processes of `--servers`, on the same database.
    others: Vec<(Child, SocketAddr)>,
    token: String,
    log: PathBuf,
    db: DbGuard,
    /// The database URL the server runs on (for the CLI).
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        for child in
            std::iter::once(&mut self.child).chain(self.others.iter_mut().map(|o| &mut o.0))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Server {
    /// Where the client connects: every process, in turn.
    fn addrs(&self) -> Vec<SocketAddr> {
        std::iter::once(self.addr)
            .chain(self.others.iter().map(|o| o.1))
            .collect()
    }
}

/// `scim-seats serve` on a free loopback port, its output appended to `log`.
fn spawn_serve(bin: &Path, url: &str, log: &Path) -> anyhow::Result<(Child, SocketAddr)> {
    let port = free_port()?;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let child = Command::new(bin)
        .args(["serve", "--database-url", url, "--bind"])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    Ok((child, SocketAddr::from(([127, 0, 0, 1], port))))
}

fn run_cli(bin: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .args(args)
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "{} {}: {}",
            bin.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The release binary next to this bench executable (`<target>/release/deps/load-…`), else
/// under $CARGO_TARGET_DIR or ./target.
fn default_bin() -> PathBuf {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("scim-seats")));
    if let Some(bin) = beside.filter(|b| b.exists()) {
        return bin;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("release").join("scim-seats")
}

async fn start_server(args: &Args, bin: &Path) -> anyhow::Result<Server> {
    let dir = tempfile::tempdir()?;
    let (url, db) = match &args.database_url {
        None => {
            let path = dir.path().join("bench.db");
            (
                format!("sqlite://{}", path.display()),
                DbGuard::Sqlite(path),
            )
        }
        Some(admin_url) => {
            let suffix: String = rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(10)
                .map(|c| char::from(c).to_ascii_lowercase())
                .collect();
            let name = format!("bench_{suffix}");
            psql(admin_url, &format!("CREATE DATABASE {name}"))?;
            let guard = DbGuard::Pg {
                admin_url: admin_url.clone(),
                name: name.clone(),
            };
            (with_database(admin_url, &name)?, guard)
        }
    };
    run_cli(
        bin,
        &[
            "org",
            "create",
            "bench",
            "--name",
            "Bench",
            "--standard-seats",
            SEATS,
            "--database-url",
            &url,
        ],
    )?;
    let token = run_cli(
        bin,
        &["token", "create", "--org", "bench", "--database-url", &url],
    )?
    .trim()
    .to_string();
    let log = dir.path().join("server.log");
    let (child, addr) = spawn_serve(bin, &url, &log)?;
    let mut server = Server {
        pid: child.id(),
        child,
        addr,
        others: Vec::new(),
        token,
        log,
        db,
        url: url.clone(),
        _dir: dir,
    };
    // The first process has migrated the database before the others start.
    for n in 1..args.servers.max(1) {
        if n == 1 {
            wait_ready(&server, server.addr).await?;
        }
        let log = server.log.with_file_name(format!("server-{n}.log"));
        server.others.push(spawn_serve(bin, &url, &log)?);
    }
    for addr in server.addrs() {
        wait_ready(&server, addr).await?;
    }
    Ok(server)
}

/// Waits until the process at `addr` answers.
async fn wait_ready(server: &Server, addr: SocketAddr) -> anyhow::Result<()> {
    let probe = Api::at(server, vec![addr])?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = probe
            .once(Req::get(probe.uri("/ServiceProviderConfig")?))
            .await;
        if matches!(&r, Ok((status, _)) if status.is_success()) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(&server.log).unwrap_or_default();
            bail!("server at {addr} did not become ready in 30 s; log:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// /proc sampling

fn proc_status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU time of a process, in seconds.
fn cpu_seconds(pid: &str) -> f64 {
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let after = s.rfind(')').map(|i| &s[i + 2..])?.to_string();
            let f: Vec<&str> = after.split_whitespace().collect();
            // Fields 14 and 15 of stat(5); `after` starts at field 3.
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    ticks as f64 / 100.0
}

/// Busy CPU seconds of the whole machine (all cores), from /proc/stat.
fn machine_busy_seconds() -> f64 {
    let busy = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().next()?.to_string();
            let v: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait.
            let total: u64 = v.iter().take(8).sum();
            Some(total - v.get(3)? - v.get(4)?)
        })
        .unwrap_or(0);
    busy as f64 / 100.0
}

/// Samples the server's current RSS every 50 ms; `phase_max` is reset at each phase start.
struct Sampler {
    pid: u32,
    phase_max_kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let phase_max_kib = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, s) = (phase_max_kib.clone(), stop.clone());
        tokio::spawn(async move {
            while !s.load(Ordering::Relaxed) {
                m.fetch_max(proc_status_kib(pid, "VmRSS:"), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        Sampler {
            pid,
            phase_max_kib,
            stop,
        }
    }
    fn reset(&self) {
        self.phase_max_kib
            .store(proc_status_kib(self.pid, "VmRSS:"), Ordering::Relaxed);
    }
    fn phase_max_mib(&self) -> f64 {
        self.phase_max_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
    fn peak_mib(&self) -> f64 {
        proc_status_kib(self.pid, "VmHWM:") as f64 / 1024.0
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------------------------------------
// Driving requests
//
// A lean HTTP/1.1 client on hyper's low-level connection API: no pool lookups, no redirect or
// proxy logic, no per-request URL parsing beyond the origin-form target. Each concurrency slot
// owns one keep-alive connection and sends its requests one after another on it (no
// pipelining); connections are parked in `idle` between phases and reopened when the server
// closed them.

type Conn = SendRequest<Full<Bytes>>;

/// Give up on one request (connect + send + full body) after this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Clone)]
struct Api {
    /// The server processes; each new connection goes to the next.
    addrs: Arc<Vec<SocketAddr>>,
    next_addr: Arc<AtomicUsize>,
    host: HeaderValue,
    auth: HeaderValue,
    idle: Arc<Mutex<Vec<Conn>>>,
    /// PostgreSQL: the bench database's URL, for `settle_statistics`.
    pg_url: Option<String>,
}

/// One request: method, origin-form target (`/scim/v2/Users?…`), optional SCIM JSON body.
/// Targets and bodies are built before a phase starts where they can be (cloning a `Uri` or
/// `Bytes` only bumps a reference count).
#[derive(Clone)]
struct Req {
    method: Method,
    uri: Uri,
    body: Option<Bytes>,
    /// The `Authorization` header of another organization than the `Api`'s (the `tenants`
    /// phase sends each request as one of many organizations over the same connections).
    auth: Option<HeaderValue>,
}

impl Req {
    fn get(uri: Uri) -> Req {
        Req {
            method: Method::GET,
            uri,
            body: None,
            auth: None,
        }
    }
    fn json(method: Method, uri: Uri, body: impl Into<Bytes>) -> Req {
        Req {
            method,
            uri,
            body: Some(body.into()),
            auth: None,
        }
    }
    /// The same request, sent as the organization whose header is `auth`.
    fn for_org(mut self, auth: &HeaderValue) -> Req {
        self.auth = Some(auth.clone());
        self
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (query values, path segments).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A JSON string literal (quotes and escapes) for `s`.
fn json_str(s: &str) -> String {
    Value::from(s).to_string()
}

impl Api {
    fn new(server: &Server) -> anyhow::Result<Api> {
        Api::at(server, server.addrs())
    }

    /// `new`, connecting to `addrs` only.
    fn at(server: &Server, addrs: Vec<SocketAddr>) -> anyhow::Result<Api> {
        Ok(Api {
            addrs: Arc::new(addrs),
            next_addr: Arc::new(AtomicUsize::new(0)),
            host: HeaderValue::from_str(&server.addr.to_string())?,
            auth: HeaderValue::from_str(&format!("Bearer {}", server.token))?,
            idle: Arc::new(Mutex::new(Vec::new())),
            pg_url: match &server.db {
                DbGuard::Pg { admin_url, name } => Some(with_database(admin_url, name)?),
                DbGuard::Sqlite(_) => None,
            },
        })
    }

    /// After seeding, before a measured phase, on PostgreSQL: `ANALYZE`, as autovacuum does
    /// within its one-minute naptime on a deployed server. The tool seeds and measures within
    /// that first minute, when the planner still has no statistics for tables that grew from
    /// empty: it then sorted the whole organization for every page of users (151 pages/s at
    /// 20,000 users), which is not what a server that has run for a minute does.
    fn settle_statistics(&self) {
        if let Some(url) = &self.pg_url {
            if let Err(e) = psql(url, "ANALYZE") {
                eprintln!("warning: ANALYZE failed: {e}");
            }
        }
    }

    /// The target of `path` (below the SCIM prefix, query included, already encoded).
    fn uri(&self, path: &str) -> anyhow::Result<Uri> {
        Uri::try_from(format!("{SCIM_PREFIX}{path}"))
            .with_context(|| format!("request target {path:?}"))
    }

    async fn connect(&self) -> anyhow::Result<Conn> {
        let n = self.next_addr.fetch_add(1, Ordering::Relaxed);
        let tcp = TcpStream::connect(self.addrs[n % self.addrs.len()]).await?;
        tcp.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(tcp)).await?;
        // The connection's I/O runs in its own task; errors surface through `sender`.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    fn take_idle(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(c) = idle.pop() {
            if !c.is_closed() {
                return Some(c);
            }
        }
        None
    }

    fn put_idle(&self, conn: Option<Conn>) {
        if let Some(c) = conn.filter(|c| !c.is_closed()) {
            self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(c);
        }
    }

    /// Send `req` on the slot's connection (opening one if it has none or it was closed) and
    /// read the whole body. A request the connection refused before writing it (the server
    /// closed an idle connection) is retried once on a fresh connection; nothing else is.
    async fn send(&self, slot: &mut Option<Conn>, req: Req) -> anyhow::Result<(StatusCode, Bytes)> {
        let has_body = req.body.is_some();
        let mut request = Request::new(Full::new(req.body.unwrap_or_default()));
        *request.method_mut() = req.method;
        *request.uri_mut() = req.uri;
        let h = request.headers_mut();
        h.insert(HOST, self.host.clone());
        h.insert(AUTHORIZATION, req.auth.unwrap_or_else(|| self.auth.clone()));
        if has_body {
            h.insert(CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        }
        let mut retried = false;
        loop {
            let conn = match slot.take().filter(|c| !c.is_closed()) {
                Some(c) => slot.insert(c),
                None => slot.insert(self.connect().await?),
            };
            if conn.ready().await.is_err() {
                *slot = None;
                if retried {
                    bail!("connection closed");
                }
                retried = true;
                continue;
            }
            match conn.try_send_request(request).await {
                Ok(resp) => {
                    let status = resp.status();
                    match resp.into_body().collect().await {
                        Ok(body) => return Ok((status, body.to_bytes())),
                        Err(e) => {
                            *slot = None;
                            return Err(e.into());
                        }
                    }
                }
                Err(mut e) => {
                    *slot = None;
                    match e.take_message() {
                        Some(unsent) if !retried => {
                            retried = true;
                            request = unsent;
                        }
                        _ => return Err(e.into_error().into()),
                    }
                }
            }
        }
    }

    /// One request outside any phase (probes, setup), on a parked connection.
    async fn once(&self, req: Req) -> anyhow::Result<(StatusCode, Bytes)> {
        let mut slot = self.take_idle();
        let r = tokio::time::timeout(REQUEST_TIMEOUT, self.send(&mut slot, req)).await;
        let r = match r {
            Ok(r) => r,
            Err(_) => {
                slot = None;
                Err(anyhow!("no answer in {} s", REQUEST_TIMEOUT.as_secs()))
            }
        };
        self.put_idle(slot);
        r
    }
}

#[derive(Clone)]
struct Outcome {
    name: String,
    requests: u64,
    errors: BTreeMap<String, u64>,
    elapsed: Duration,
    hist: Histogram<u64>,
    rss_max_mib: f64,
    server_cpu: f64,
    client_cpu: f64,
    /// Busy CPU of the whole machine: what neither server nor client used is PostgreSQL
    /// or other processes competing for the same cores.
    machine_cpu: f64,
    note: String,
}

impl Outcome {
    fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    fn ms(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }
}

/// Called with each 2xx body; returns extra errors found inside it (Bulk operations).
type OnOk = dyn Fn(usize, &[u8]) -> Vec<String> + Send + Sync;

struct Errors {
    phase: String,
    counts: Mutex<BTreeMap<String, u64>>,
}

impl Errors {
    fn add(&self, kind: String, detail: &str) {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = c.entry(kind.clone()).or_insert(0);
        if *n == 0 {
            let d: String = detail.chars().take(300).collect();
            eprintln!("  [{}] first {kind}: {d}", self.phase);
        }
        *n += 1;
    }
}

/// Called with each request's index, latency and whether it succeeded (2xx and no error
/// found inside the body), for phases that break latency down (per tenant, per kind).
type Observe = dyn Fn(usize, Duration, bool) + Send + Sync;

/// What a phase may add to `drive`: checks of 2xx bodies, a per-request observer, a flag
/// that ends the phase early (a measurement that lasts exactly as long as another load), and
/// a pace (each task starts a request at most once per `pace`: a client that is not itself
/// a load).
#[derive(Default, Clone)]
struct Hooks {
    on_ok: Option<Arc<OnOk>>,
    observe: Option<Arc<Observe>>,
    stop: Option<Arc<AtomicBool>>,
    pace: Option<Duration>,
}

/// Run `n` requests, `concurrency` at a time, built by `make(i)`; latency is send to full body.
/// Each of the `concurrency` tasks owns one connection and sends its requests in turn on it.
#[allow(clippy::too_many_arguments)]
async fn drive<F>(
    name: &str,
    n: usize,
    concurrency: usize,
    limit: Duration,
    sampler: &Sampler,
    api: &Api,
    make: F,
    on_ok: Option<Arc<OnOk>>,
) -> Outcome
where
    F: Fn(usize) -> anyhow::Result<Req> + Send + Sync + 'static,
{
    let hooks = Hooks {
        on_ok,
        ..Hooks::default()
    };
    drive_with(name, n, concurrency, limit, sampler, api, make, hooks).await
}

/// `drive` with every hook.
#[allow(clippy::too_many_arguments)]
async fn drive_with<F>(
    name: &str,
    n: usize,
    concurrency: usize,
    limit: Duration,
    sampler: &Sampler,
    api: &Api,
    make: F,
    hooks: Hooks,
) -> Outcome
where
    F: Fn(usize) -> anyhow::Result<Req> + Send + Sync + 'static,
{
    if hooks.stop.is_some() && n == usize::MAX {
        eprintln!("phase {name}: until the other load ends, concurrency {concurrency}");
    } else {
        eprintln!("phase {name}: {n} requests, concurrency {concurrency}");
    }
    sampler.reset();
    let (srv0, cli0, all0) = (
        cpu_seconds(&sampler.pid.to_string()),
        cpu_seconds("self"),
        machine_busy_seconds(),
    );
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(Errors {
        phase: name.to_string(),
        counts: Mutex::new(BTreeMap::new()),
    });
    let start = Instant::now();
    let deadline = start + limit;
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (api, make, next, done, errors, hooks) = (
            api.clone(),
            make.clone(),
            next.clone(),
            done.clone(),
            errors.clone(),
            hooks.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)
                .unwrap_or_else(|_| unreachable!("static bounds"));
            let mut conn = api.take_idle();
            loop {
                let stopped = hooks
                    .stop
                    .as_ref()
                    .is_some_and(|s| s.load(Ordering::Relaxed));
                if stopped || Instant::now() > deadline {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let req = match make(i) {
                    Ok(req) => req,
                    Err(e) => {
                        done.fetch_add(1, Ordering::Relaxed);
                        errors.add("unbuildable request".into(), &format!("{e:#}"));
                        continue;
                    }
                };
                let t = Instant::now();
                let result = tokio::time::timeout(REQUEST_TIMEOUT, api.send(&mut conn, req)).await;
                let latency = t.elapsed();
                hist.saturating_record(latency.as_micros() as u64);
                done.fetch_add(1, Ordering::Relaxed);
                let result = result.unwrap_or_else(|_| {
                    // The dropped request closed its connection; the next one opens another.
                    conn = None;
                    Err(anyhow!("no answer in {} s", REQUEST_TIMEOUT.as_secs()))
                });
                let ok = match result {
                    Ok((status, body)) if status.is_success() => {
                        let found = hooks
                            .on_ok
                            .as_ref()
                            .map(|f| f(i, &body))
                            .unwrap_or_default();
                        for e in &found {
                            errors.add(format!("operation {e}"), "inside a 2xx answer");
                        }
                        found.is_empty()
                    }
                    Ok((status, body)) => {
                        errors.add(
                            format!("HTTP {}", status.as_u16()),
                            &String::from_utf8_lossy(&body),
                        );
                        false
                    }
                    Err(e) => {
                        errors.add("transport error".into(), &format!("{e:#}"));
                        false
                    }
                };
                if let Some(observe) = &hooks.observe {
                    observe(i, latency, ok);
                }
                if let Some(pace) = hooks.pace {
                    tokio::time::sleep(pace.saturating_sub(latency)).await;
                }
            }
            api.put_idle(conn);
            hist
        }));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)
        .unwrap_or_else(|_| unreachable!("static bounds"));
    for t in tasks {
        if let Ok(h) = t.await {
            let _ = hist.add(h);
        }
    }
    let elapsed = start.elapsed();
    let requests = done.load(Ordering::Relaxed) as u64;
    let mut note = String::new();
    let stopped = hooks
        .stop
        .as_ref()
        .is_some_and(|s| s.load(Ordering::Relaxed));
    if (requests as usize) < n {
        note = if stopped {
            format!("ran while the other load did: {requests} requests")
        } else {
            format!("stopped by --max-seconds after {requests} of {n}")
        };
        eprintln!("  {note}");
    }
    let errors = std::mem::take(&mut *errors.counts.lock().unwrap_or_else(|e| e.into_inner()));
    let out = Outcome {
        name: name.to_string(),
        requests,
        errors,
        elapsed,
        hist,
        rss_max_mib: sampler.phase_max_mib(),
        server_cpu: cpu_seconds(&sampler.pid.to_string()) - srv0,
        client_cpu: cpu_seconds("self") - cli0,
        machine_cpu: machine_busy_seconds() - all0,
        note,
    };
    eprintln!(
        "  {} req in {:.1} s = {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, errors {}",
        out.requests,
        out.elapsed.as_secs_f64(),
        out.rate(),
        out.ms(0.5),
        out.ms(0.99),
        out.error_count()
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Okta-shaped data

const FIRST: &[&str] = &[
    "Isaac", "Maria", "Wei", "Aisha", "Lars", "Priya", "Diego", "Yuki", "Fatima", "Noah", "Chloe",
    "Mateo", "Ingrid", "Kwame", "Sofia", "Omar", "Hannah", "Ravi", "Elena", "Tomas",
];
const LAST: &[&str] = &[
    "Brock", "Garcia", "Zhang", "Okafor", "Nilsson", "Sharma", "Rossi", "Tanaka", "Haddad",
    "Smith", "Dubois", "Silva", "Berg", "Mensah", "Costa", "Khan", "Muller", "Iyer", "Popescu",
    "Novak",
];

fn random_str(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// The body Okta sends to create a user (Okta SCIM 2.0 reference, "Create the User"), as
/// JSON text. Formatted directly: every interpolated piece is ASCII letters, digits, `.` or `@`
/// (names from the tables above, the alphanumeric run tag and random strings), so nothing
/// needs escaping.
fn user_body(tag: &str, i: usize) -> (String, String) {
    let (first, last) = (FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()]);
    let user_name = format!(
        "{}.{}.{i}.{tag}@example.com",
        first.to_lowercase(),
        last.to_lowercase()
    );
    let body = format!(
        r#"{{"schemas":["{USER_SCHEMA}"],"userName":"{user_name}","name":{{"givenName":"{first}","familyName":"{last}"}},"emails":[{{"primary":true,"value":"{user_name}","type":"work"}}],"displayName":"{first} {last}","locale":"en-US","externalId":"00u{}","groups":[],"password":"{}","active":true}}"#,
        random_str(17),
        random_str(12)
    );
    debug_assert!(serde_json::from_str::<Value>(&body).is_ok(), "{body}");
    (user_name, body)
}

#[derive(Clone)]
struct User {
    id: String,
    user_name: String,
}

/// Users known to exist on one server, and a run tag so user names never repeat.
struct Population {
    tag: String,
    users: Vec<User>,
    next_index: usize,
}

fn quote_filter(user_name: &str) -> String {
    format!("userName eq \"{user_name}\"")
}

/// A PATCH body adding `ids` to a group's members.
fn members_patch<'a>(ids: impl IntoIterator<Item = &'a str>) -> Bytes {
    let mut body = format!(
        r#"{{"schemas":["{PATCH_SCHEMA}"],"Operations":[{{"op":"add","path":"members","value":["#
    );
    for (n, id) in ids.into_iter().enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(&format!(r#"{{"value":{}}}"#, json_str(id)));
    }
    body.push_str("]}]}");
    Bytes::from(body)
}

/// The part of a created resource the tool reads (serde skips the rest without building it).
#[derive(Deserialize)]
struct Created {
    id: Option<String>,
}

/// The parts of a ListResponse the tool checks.
#[derive(Deserialize)]
struct ListAnswer {
    #[serde(rename = "totalResults")]
    total_results: Option<u64>,
    #[serde(rename = "Resources")]
    resources: Option<Vec<IgnoredAny>>,
}

/// /Bulk bodies creating `count` users (user indexes `first..first + count`, named with
/// `tag`), `size` operations each; returns the user names (by bulkId number `u<k>`, k from 0)
/// and the bodies.
fn bulk_bodies(tag: &str, first: usize, count: usize, size: usize) -> (Vec<String>, Vec<Bytes>) {
    let size = size.max(1);
    let requests = count.div_ceil(size);
    let mut names = Vec::with_capacity(count);
    let mut bodies = Vec::with_capacity(requests);
    for r in 0..requests {
        let mut body = format!(r#"{{"schemas":["{BULK_SCHEMA}"],"Operations":["#);
        for k in r * size..((r + 1) * size).min(count) {
            let (user_name, data) = user_body(tag, first + k);
            names.push(user_name);
            if k > r * size {
                body.push(',');
            }
            body.push_str(&format!(
                r#"{{"method":"POST","path":"/Users","bulkId":"u{k}","data":{data}}}"#
            ));
        }
        body.push_str("]}");
        bodies.push(Bytes::from(body));
    }
    (names, bodies)
}

/// The users a /Bulk answer created, as (bulkId number, id), and the statuses of the
/// operations that failed.
fn bulk_created(body: &[u8]) -> (Vec<(usize, String)>, Vec<String>) {
    let mut errs = Vec::new();
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut got = Vec::new();
    for op in v["Operations"].as_array().into_iter().flatten() {
        let status = op["status"].as_str().unwrap_or("?");
        let k = op["bulkId"]
            .as_str()
            .and_then(|b| b.strip_prefix('u'))
            .and_then(|k| k.parse::<usize>().ok());
        let id = op["location"]
            .as_str()
            .and_then(|l| l.rsplit('/').next())
            .map(str::to_string);
        match (status.starts_with('2'), k, id) {
            (true, Some(k), Some(id)) => got.push((k, id)),
            _ => errs.push(status.to_string()),
        }
    }
    (got, errs)
}

/// Load `count` users through /Bulk; returns the outcome (one request = one Bulk call).
async fn bulk_load(
    args: &Args,
    api: &Api,
    sampler: &Sampler,
    pop: &mut Population,
    count: usize,
    name: &str,
) -> Outcome {
    let size = args.bulk_size.max(1);
    let requests = count.div_ceil(size);
    let first = pop.next_index;
    pop.next_index += count;
    // Bodies are built before the clock starts, so the client's JSON work is not timed.
    let (names, bodies) = bulk_bodies(&pop.tag, first, count, size);
    let bodies = Arc::new(bodies);
    let found: Arc<Mutex<Vec<(usize, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let f = found.clone();
    let on_ok: Arc<OnOk> = Arc::new(move |_, body: &[u8]| {
        let (got, errs) = bulk_created(body);
        f.lock().unwrap_or_else(|e| e.into_inner()).extend(got);
        errs
    });
    let (bulk, b2) = (Uri::from_static("/scim/v2/Bulk"), bodies.clone());
    let mut out = drive(
        name,
        requests,
        args.bulk_concurrency,
        Duration::from_secs(args.max_seconds),
        sampler,
        api,
        move |r| Ok(Req::json(Method::POST, bulk.clone(), b2[r].clone())),
        Some(on_ok),
    )
    .await;
    let found = std::mem::take(&mut *found.lock().unwrap_or_else(|e| e.into_inner()));
    let loaded = found.len();
    for (k, id) in found {
        if let Some(user_name) = names.get(k) {
            pop.users.push(User {
                id,
                user_name: user_name.clone(),
            });
        }
    }
    let secs = out.elapsed.as_secs_f64();
    let extra = format!(
        "{loaded} users in {secs:.1} s = {:.0} users/s ({size} operations per request)",
        loaded as f64 / secs.max(1e-9)
    );
    out.note = if out.note.is_empty() {
        extra
    } else {
        format!("{}; {extra}", out.note)
    };
    eprintln!("  {}", out.note);
    out
}

/// Make sure at least `count` users exist (seeding through /Bulk); returns the seeding outcome.
async fn ensure_users(
    args: &Args,
    api: &Api,
    sampler: &Sampler,
    pop: &mut Population,
    count: usize,
    name: &str,
) -> Option<Outcome> {
    if pop.users.len() >= count {
        return None;
    }
    let missing = count - pop.users.len();
    let seeded = bulk_load(args, api, sampler, pop, missing, name).await;
    api.settle_statistics();
    Some(seeded)
}

// ---------------------------------------------------------------------------------------------
// Phases

async fn phase_create(args: &Args, api: &Api, sampler: &Sampler, pop: &mut Population) -> Outcome {
    let n = args.users;
    let first = pop.next_index;
    pop.next_index += n;
    let prepared: Vec<(String, Bytes)> = (0..n)
        .map(|k| {
            let (name, body) = user_body(&pop.tag, first + k);
            (name, Bytes::from(body))
        })
        .collect();
    let prepared = Arc::new(prepared);
    let found: Arc<Mutex<Vec<(usize, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let f = found.clone();
    let on_ok: Arc<OnOk> =
        Arc::new(move |i, body: &[u8]| {
            match serde_json::from_slice::<Created>(body)
                .ok()
                .and_then(|c| c.id)
            {
                Some(id) => {
                    f.lock().unwrap_or_else(|e| e.into_inner()).push((i, id));
                    Vec::new()
                }
                None => vec!["201 without id".into()],
            }
        });
    let (users, p) = (Uri::from_static("/scim/v2/Users"), prepared.clone());
    let out = drive(
        "create",
        n,
        args.concurrency,
        Duration::from_secs(args.max_seconds),
        sampler,
        api,
        move |i| Ok(Req::json(Method::POST, users.clone(), p[i].1.clone())),
        Some(on_ok),
    )
    .await;
    let mut found = std::mem::take(&mut *found.lock().unwrap_or_else(|e| e.into_inner()));
    found.sort();
    for (i, id) in found {
        pop.users.push(User {
            id,
            user_name: prepared[i].0.clone(),
        });
    }
    out
}

async fn phase_lookup(
    name: &str,
    n: usize,
    args: &Args,
    api: &Api,
    sampler: &Sampler,
    pop: &Population,
) -> anyhow::Result<Outcome> {
    // Request targets are encoded before the clock starts.
    let targets = Arc::new(
        pop.users
            .iter()
            .map(|u| {
                api.uri(&format!(
                    "/Users?filter={}",
                    enc(&quote_filter(&u.user_name))
                ))
            })
            .collect::<anyhow::Result<Vec<Uri>>>()?,
    );
    // Each request looks up a user chosen at random, so nothing is served from one hot row.
    let out = drive(
        name,
        n,
        args.concurrency,
        Duration::from_secs(args.max_seconds),
        sampler,
        api,
        move |_| {
            let target = targets
                .choose(&mut rand::thread_rng())
                .ok_or_else(|| anyhow!("no users to look up"))?;
            Ok(Req::get(target.clone()))
        },
        Some(Arc::new(|_, body: &[u8]| {
            let total = serde_json::from_slice::<ListAnswer>(body)
                .ok()
                .and_then(|l| l.total_results);
            if total == Some(1) {
                Vec::new()
            } else {
                let total = total.map_or("null".to_string(), |t| t.to_string());
                vec![format!("lookup totalResults {total}")]
            }
        })),
    )
    .await;
    Ok(out)
}

async fn phase_deactivate(
    args: &Args,
    api: &Api,
    sampler: &Sampler,
    pop: &Population,
) -> anyhow::Result<Outcome> {
    let mut ids: Vec<&str> = pop.users.iter().map(|u| u.id.as_str()).collect();
    ids.shuffle(&mut rand::thread_rng());
    let n = args.count(args.deactivations).min(ids.len());
    let targets = Arc::new(
        ids[..n]
            .iter()
            .map(|id| api.uri(&format!("/Users/{}", enc(id))))
            .collect::<anyhow::Result<Vec<Uri>>>()?,
    );
    let body = Bytes::from(format!(
        r#"{{"schemas":["{PATCH_SCHEMA}"],"Operations":[{{"op":"replace","value":{{"active":false}}}}]}}"#
    ));
    let out = drive(
        "deactivate",
        n,
        args.concurrency,
        Duration::from_secs(args.max_seconds),
        sampler,
        api,
        move |i| Ok(Req::json(Method::PATCH, targets[i].clone(), body.clone())),
        None,
    )
    .await;
    Ok(out)
}

async fn phase_page(args: &Args, api: &Api, sampler: &Sampler, pop: &Population) -> Outcome {
    let total = pop.users.len();
    let a = api.clone();
    drive(
        "page",
        args.count(args.pages),
        args.concurrency,
        Duration::from_secs(args.max_seconds),
        sampler,
        api,
        move |_| {
            let start = rand::thread_rng().gen_range(1..=total.saturating_sub(99).max(1));
            Ok(Req::get(
                a.uri(&format!("/Users?startIndex={start}&count=100"))?,
            ))
        },
        Some(Arc::new(move |_, body: &[u8]| {
            let got = serde_json::from_slice::<ListAnswer>(body)
                .ok()
                .and_then(|l| l.resources)
                .map_or(0, |r| r.len());
            if got == 100.min(total) {
                Vec::new()
            } else {
                vec![format!("page of {got}")]
            }
        })),
    )
    .await
}

async fn phase_member_add(
    args: &Args,
    api: &Api,
    sampler: &Sampler,
    pop: &mut Population,
    results: &mut Vec<Outcome>,
) -> anyhow::Result<()> {
    let adds = args.count(args.member_adds);
    for &size in &args.member_sizes {
        if let Some(seed) = ensure_users(
            args,
            api,
            sampler,
            pop,
            size + adds,
            &format!("(seed users for member-add {size})"),
        )
        .await
        {
            results.push(seed);
        }
        if pop.users.len() < size + adds {
            eprintln!(
                "  member-add {size}: only {} users exist (seeding stopped); skipping this size",
                pop.users.len()
            );
            continue;
        }
        let (status, body) = api
            .once(Req::json(
                Method::POST,
                Uri::from_static("/scim/v2/Groups"),
                format!(
                    r#"{{"schemas":["{GROUP_SCHEMA}"],"displayName":"bench-{size}-{}"}}"#,
                    pop.tag
                ),
            ))
            .await?;
        if !status.is_success() {
            bail!(
                "creating a group: {status} {}",
                String::from_utf8_lossy(&body)
            );
        }
        let gid = serde_json::from_slice::<Created>(&body)
            .ok()
            .and_then(|g| g.id)
            .ok_or_else(|| anyhow!("group without id"))?;
        let group = api.uri(&format!("/Groups/{}", enc(&gid)))?;
        let chunk = args.member_chunk.max(1);
        // Bodies are built before the clock starts: PATCH add with `chunk` members each.
        let seed_bodies: Arc<Vec<Bytes>> = Arc::new(
            pop.users[..size]
                .chunks(chunk)
                .map(|users| members_patch(users.iter().map(|u| u.id.as_str())))
                .collect(),
        );
        let (b, g) = (seed_bodies.clone(), group.clone());
        // Seeding: one request at a time (each one is a write on the same group row).
        let mut seed = drive(
            &format!("(seed {size} members)"),
            seed_bodies.len(),
            1,
            Duration::from_secs(args.max_seconds),
            sampler,
            api,
            move |r| Ok(Req::json(Method::PATCH, g.clone(), b[r].clone())),
            None,
        )
        .await;
        seed.note = format!(
            "{size} members in {:.1} s = {:.0} members/s ({chunk} per PATCH)",
            seed.elapsed.as_secs_f64(),
            size as f64 / seed.elapsed.as_secs_f64().max(1e-9)
        );
        results.push(seed);
        api.settle_statistics();
        let newcomers: Arc<Vec<Bytes>> = Arc::new(
            pop.users[size..size + adds]
                .iter()
                .map(|u| members_patch([u.id.as_str()]))
                .collect(),
        );
        let out = drive(
            &format!("member-add @{size}"),
            adds,
            args.concurrency,
            Duration::from_secs(args.max_seconds),
            sampler,
            api,
            move |i| {
                Ok(Req::json(
                    Method::PATCH,
                    group.clone(),
                    newcomers[i].clone(),
                ))
            },
            None,
        )
        .await;
        results.push(out);
    }
    Ok(())
}

/// Create organization `slug` (seats for every user a run creates) and a SCIM token for it
/// through the CLI, as an operator would; returns its `Authorization` header.
fn create_org(bin: &Path, url: &str, slug: &str) -> anyhow::Result<HeaderValue> {
    run_cli(
        bin,
        &[
            "org",
            "create",
            slug,
            "--name",
            slug,
            "--standard-seats",
            SEATS,
            "--database-url",
            url,
        ],
    )?;
    let token = run_cli(
        bin,
        &["token", "create", "--org", slug, "--database-url", url],
    )?;
    Ok(HeaderValue::from_str(&format!("Bearer {}", token.trim()))?)
}

struct ScaleRow {
    users: usize,
    seed_secs: f64,
    seed_users: usize,
    cumulative_secs: f64,
    db_mib: Option<f64>,
    lookup: Outcome,
}

/// Issue 20: the organization `bench` (the noisy tenant, `--users` users) sends the costliest
/// filters it can (120 `displayName co` terms, under the 256-node cap), `--noisy-concurrency`
/// at a time without pause, while a second organization's `userName eq` lookups are measured
/// (`--quiet-lookups`, concurrency 4). The noisy tenant's refusals (400 tooMany past the time
/// budget, 429 past its turns) are counted as its errors: they are the point.
async fn phase_noisy(
    args: &Args,
    bin: &Path,
    server: &Server,
    api: &Api,
    sampler: &Sampler,
    pop: &mut Population,
    results: &mut Vec<Outcome>,
) -> anyhow::Result<()> {
    if let Some(o) = ensure_users(args, api, sampler, pop, args.users, "(seed noisy)").await {
        results.push(o);
    }
    let quiet = Api {
        auth: create_org(bin, &server.url, "quiet")?,
        idle: Arc::new(Mutex::new(Vec::new())),
        ..api.clone()
    };
    let mut qpop = Population {
        tag: random_str(6).to_lowercase(),
        users: Vec::new(),
        next_index: 0,
    };
    if let Some(o) = ensure_users(
        args,
        &quiet,
        sampler,
        &mut qpop,
        args.quiet_users,
        "(seed quiet)",
    )
    .await
    {
        results.push(o);
    }
    let costly: Vec<String> = (0..120)
        .map(|i| format!("displayName co \"{}{i}\"", random_str(3).to_lowercase()))
        .collect();
    let target = api.uri(&format!(
        "/Users?count=200&filter={}",
        enc(&costly.join(" or "))
    ))?;
    let stop = Arc::new(AtomicBool::new(false));
    let noisy = {
        let stop = stop.clone();
        let api = api.clone();
        let limit = Duration::from_secs(args.max_seconds);
        let concurrency = args.noisy_concurrency;
        async move {
            let mut tasks = Vec::new();
            let sent = Arc::new(AtomicU64::new(0));
            let refused = Arc::new(AtomicU64::new(0));
            let deadline = Instant::now() + limit;
            for _ in 0..concurrency.max(1) {
                let (api, stop, target, sent, refused) = (
                    api.clone(),
                    stop.clone(),
                    target.clone(),
                    sent.clone(),
                    refused.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let mut slot = None;
                    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                        let r = api.send(&mut slot, Req::get(target.clone())).await;
                        sent.fetch_add(1, Ordering::Relaxed);
                        if !matches!(&r, Ok((s, _)) if s.is_success()) {
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
            (
                sent.load(Ordering::Relaxed),
                refused.load(Ordering::Relaxed),
            )
        }
    };
    let measured = async {
        // Let the noisy tenant fill every turn it may take first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let args4 = Args::parse_from(["load", "--concurrency", "4"]);
        let out = phase_lookup(
            "quiet lookup (noisy neighbour)",
            args.quiet_lookups,
            &Args {
                max_seconds: args.max_seconds,
                ..args4
            },
            &quiet,
            sampler,
            &qpop,
        )
        .await;
        stop.store(true, Ordering::Relaxed);
        out
    };
    let (noisy, out) = tokio::join!(tokio::spawn(noisy), measured);
    let (sent, refused) = noisy.unwrap_or((0, 0));
    eprintln!("noisy tenant: {sent} costly filters sent, {refused} refused (400 tooMany / 429)");
    results.push(out?);
    Ok(())
}

async fn phase_scale(args: &Args, bin: &Path) -> anyhow::Result<(Vec<ScaleRow>, f64)> {
    let server = start_server(args, bin).await?;
    let sampler = Sampler::start(server.pid);
    let api = Api::new(&server)?;
    let mut pop = Population {
        tag: random_str(6).to_lowercase(),
        users: Vec::new(),
        next_index: 0,
    };
    let mut sizes = args.scale_sizes.clone();
    sizes.sort_unstable();
    let mut rows = Vec::new();
    let mut cumulative = 0.0;
    for size in sizes {
        let before = pop.users.len();
        let seed = ensure_users(
            args,
            &api,
            &sampler,
            &mut pop,
            size,
            &format!("(seed scale {size})"),
        )
        .await;
        let seed_secs = seed.as_ref().map_or(0.0, |s| s.elapsed.as_secs_f64());
        cumulative += seed_secs;
        if let Some(s) = &seed {
            if s.error_count() > 0 || pop.users.len() < size {
                eprintln!(
                    "  scale: reached {} users of {size}; stopping",
                    pop.users.len()
                );
            }
        }
        let lookup = phase_lookup(
            &format!("lookup @{}", pop.users.len()),
            args.count(args.scale_lookups),
            args,
            &api,
            &sampler,
            &pop,
        )
        .await?;
        let reached = pop.users.len();
        rows.push(ScaleRow {
            users: reached,
            seed_secs,
            seed_users: reached - before,
            cumulative_secs: cumulative,
            db_mib: server.db.size_bytes().map(|b| b as f64 / 1048576.0),
            lookup,
        });
        if reached < size {
            break;
        }
    }
    let peak = sampler.peak_mib();
    Ok((rows, peak))
}

// ---------------------------------------------------------------------------------------------
// Report

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores ({cpu}), shared by client and server")
}

fn print_table(rows: &[Outcome]) {
    println!("| phase | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | server RSS max MiB | server CPU | client CPU | other CPU |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for o in rows {
        let wall = o.elapsed.as_secs_f64().max(1e-9);
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {} | {:.1} | {:.0}% | {:.0}% | {:.0}% |",
            o.name,
            o.requests,
            o.rate(),
            o.ms(0.5),
            o.ms(0.9),
            o.ms(0.99),
            o.hist.max() as f64 / 1000.0,
            o.error_count(),
            o.rss_max_mib,
            100.0 * o.server_cpu / wall,
            100.0 * o.client_cpu / wall,
            100.0 * (o.machine_cpu - o.server_cpu - o.client_cpu).max(0.0) / wall,
        );
    }
    println!();
    for o in rows {
        if !o.note.is_empty() {
            println!("- {}: {}", o.name, o.note);
        }
        for (kind, n) in &o.errors {
            println!("- {}: {n} × {kind}", o.name);
        }
    }
}

fn print_scale(rows: &[ScaleRow]) {
    println!("| users | seeded | seed s | seed users/s | cumulative seed s | DB MiB | lookups | req/s | p50 ms | p99 ms | max ms | errors | other CPU |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let o = &r.lookup;
        println!(
            "| {} | {} | {:.1} | {:.0} | {:.1} | {} | {} | {:.0} | {:.2} | {:.2} | {:.1} | {} | {:.0}% |",
            r.users,
            r.seed_users,
            r.seed_secs,
            r.seed_users as f64 / r.seed_secs.max(1e-9),
            r.cumulative_secs,
            r.db_mib.map_or("?".into(), |m| format!("{m:.0}")),
            o.requests,
            o.rate(),
            o.ms(0.5),
            o.ms(0.99),
            o.hist.max() as f64 / 1000.0,
            o.error_count(),
            100.0 * (o.machine_cpu - o.server_cpu - o.client_cpu).max(0.0)
                / o.elapsed.as_secs_f64().max(1e-9),
        );
    }
}

/// The client runs on one thread (see the module doc).
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    // Returning from here drops the running phase, whose guards kill the server and drop
    // the PostgreSQL database.
    tokio::select! {
        r = run(args) => r,
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
        _ = term.recv() => bail!("terminated"),
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let loadavg_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let bin = args.bin.clone().unwrap_or_else(default_bin);
    if !bin.exists() {
        bail!(
            "{} not found: build it with `cargo build --release` or pass --bin",
            bin.display()
        );
    }
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let phases = |p: Phase| args.phases.contains(&p);
    let command: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let backend = match &args.database_url {
        Some(_) => "PostgreSQL",
        None => "SQLite",
    };

    let mut results = Vec::new();
    let mut main_peak = None;
    let mut tenants_report = None;
    let main_phases = [
        Phase::Create,
        Phase::Lookup,
        Phase::Deactivate,
        Phase::Page,
        Phase::MemberAdd,
        Phase::Bulk,
        Phase::Noisy,
        Phase::Tenants,
    ];
    if main_phases.iter().any(|p| phases(*p)) {
        let server = start_server(&args, &bin).await?;
        eprintln!(
            "server pid {} at http://{}{SCIM_PREFIX} (log {})",
            server.pid,
            server.addr,
            server.log.display()
        );
        let sampler = Sampler::start(server.pid);
        let api = Api::new(&server)?;
        let mut pop = Population {
            tag: random_str(6).to_lowercase(),
            users: Vec::new(),
            next_index: 0,
        };
        if phases(Phase::Create) {
            results.push(phase_create(&args, &api, &sampler, &mut pop).await);
            api.settle_statistics();
        }
        if phases(Phase::Lookup) || phases(Phase::Deactivate) || phases(Phase::Page) {
            if let Some(o) =
                ensure_users(&args, &api, &sampler, &mut pop, args.users, "(seed users)").await
            {
                results.push(o);
            }
        }
        if phases(Phase::Lookup) {
            let n = args.count(args.lookups);
            results.push(phase_lookup("lookup", n, &args, &api, &sampler, &pop).await?);
        }
        if phases(Phase::Deactivate) {
            results.push(phase_deactivate(&args, &api, &sampler, &pop).await?);
        }
        if phases(Phase::Page) {
            results.push(phase_page(&args, &api, &sampler, &pop).await);
        }
        if phases(Phase::MemberAdd) {
            phase_member_add(&args, &api, &sampler, &mut pop, &mut results).await?;
        }
        if phases(Phase::Bulk) {
            let n = args.bulk_users;
            results.push(bulk_load(&args, &api, &sampler, &mut pop, n, "bulk").await);
        }
        if phases(Phase::Noisy) {
            phase_noisy(&args, &bin, &server, &api, &sampler, &mut pop, &mut results).await?;
        }
        if phases(Phase::Tenants) {
            let report =
                tenants::phase_tenants(&args, &bin, &server, &api, &sampler, &mut results).await?;
            tenants_report = Some(report);
        }
        main_peak = Some((sampler.peak_mib(), pop.users.len()));
        if let Some(db) = server.db.size_bytes() {
            eprintln!("database size {:.0} MiB", db as f64 / 1048576.0);
        }
    }
    let scale = if phases(Phase::Scale) {
        Some(phase_scale(&args, &bin).await?)
    } else {
        None
    };

    println!();
    println!("## scim-seats load, {backend}");
    println!();
    println!("- machine: {}", machine());
    println!("- server: `{}`", bin.display());
    println!(
        "- command: `cargo bench --bench load -- {}`",
        command.join(" ")
    );
    println!(
        "- concurrency {} (bulk {}), phases run in order",
        args.concurrency, args.bulk_concurrency
    );
    println!(
        "- load average before the run: {}; `other CPU` = machine busy CPU not used by server or \
         client (PostgreSQL, other processes); 100% = one core",
        loadavg_before
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!();
    if !results.is_empty() {
        print_table(&results);
        if let Some((peak, users)) = main_peak {
            println!();
            println!("Server peak RSS (VmHWM): **{peak:.1} MiB** ({users} users at the end).");
        }
        println!();
    }
    if let Some(report) = &tenants_report {
        tenants::print_tenants(report);
    }
    if let Some((rows, peak)) = scale {
        println!("### scale: lookup by userName as the user count grows (one fresh server)");
        println!();
        print_scale(&rows);
        println!();
        println!("Server peak RSS (VmHWM) during scale: **{peak:.1} MiB**.");
    }
    Ok(())
}
