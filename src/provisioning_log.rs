//! The provisioning log: every SCIM request of an organization is recorded (time, method,
//! path, status, scimType, the resource and its userName/displayName, User-Agent, token id,
//! duration, and the seat decision it caused). The request path only builds a row and hands it
//! to a bounded channel (`try_send`: never waits); a background task writes the rows in
//! batches, one transaction per batch, and prunes rows past the retention. A full channel
//! drops rows (counted in a warning) rather than slow provisioning down.
//!
//! Request bodies are never stored; response bodies of writes are read for the resource id,
//! its name and the seat extension, and dropped. Requests that fail authentication name no
//! organization and are not logged here (the access log has them).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::domain::seat_decisions::{Decided, SeatDecision, SeatDecisions};
use crate::scim::schema::SEAT_USER;
use crate::store::{self, provisioning_log::LogRow, Db};

/// Rows waiting to be written before new ones are dropped.
const CHANNEL: usize = 10_000;
/// Rows written per transaction at most.
const BATCH: usize = 500;
/// Seat decisions spelled out in one row at most; the rest are counted ("and 7 more").
const MAX_DECISIONS: usize = 5;
/// Longest userName a decision names, in characters.
const MAX_NAME: usize = 64;
/// Longest decision text, in characters.
const MAX_DECISION: usize = 1000;
/// Largest response body read for the resource and decision: above any one user or error
/// (request bodies are capped at 1 MiB by default), since a larger body would be lost.
const MAX_READ: usize = 8 * 1024 * 1024;

/// Who a SCIM request acts for; put in the request's extensions by the `ScimClient` extractor.
#[derive(Debug, Clone)]
pub struct Caller {
    pub org_id: String,
    pub token_id: String,
}

pub struct Recorder {
    tx: mpsc::Sender<LogRow>,
    dropped: AtomicU64,
    /// `provisioning_log.enabled`: off, the middleware passes requests straight through.
    enabled: bool,
}

/// The writer side: run `Writer::run` in the background.
pub struct Writer {
    rx: mpsc::Receiver<LogRow>,
    db: Db,
    settings: crate::config::ProvisioningLogSettings,
}

pub fn channel(db: Db, settings: crate::config::ProvisioningLogSettings) -> (Recorder, Writer) {
    let (tx, rx) = mpsc::channel(CHANNEL);
    (
        Recorder {
            tx,
            dropped: AtomicU64::new(0),
            enabled: settings.enabled,
        },
        Writer { rx, db, settings },
    )
}

impl Recorder {
    fn record(&self, row: LogRow) {
        if self.tx.try_send(row).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "provisioning log is behind: rows dropped");
            }
        }
    }
}

impl Writer {
    /// Write rows as they come, a batch at a time, and prune once a `prune_interval`.
    pub async fn run(mut self) {
        let mut last_prune: Option<Instant> = None;
        let mut buf = Vec::with_capacity(BATCH);
        loop {
            let flush = tokio::time::sleep(self.settings.flush_interval);
            tokio::pin!(flush);
            // Collect until the interval passes or the batch is full.
            loop {
                tokio::select! {
                    got = self.rx.recv() => match got {
                        Some(row) => {
                            buf.push(row);
                            if buf.len() >= BATCH { break; }
                        }
                        None => {
                            self.write(std::mem::take(&mut buf)).await;
                            return;
                        }
                    },
                    _ = &mut flush => break,
                }
            }
            self.write(std::mem::take(&mut buf)).await;
            if last_prune.is_none_or(|t| t.elapsed() >= self.settings.prune_interval) {
                last_prune = Some(Instant::now());
                self.prune().await;
            }
        }
    }

    async fn write(&self, rows: Vec<LogRow>) {
        if rows.is_empty() {
            return;
        }
        let n = rows.len();
        // Only failures can raise an organization's failed share: check those organizations.
        let mut failing: Vec<String> = rows
            .iter()
            .filter(|r| r.status >= 400 && r.status != 404)
            .map(|r| r.org_id.clone())
            .collect();
        failing.sort_unstable();
        failing.dedup();
        let res = self
            .db
            .write(move |c| Ok(store::provisioning_log::insert_many(c, &rows)?))
            .await;
        if let Err(e) = res {
            tracing::warn!(error = %e, rows = n, "writing the provisioning log");
            return;
        }
        for org in failing {
            let res = self
                .db
                .write(move |c| crate::domain::provisioning_log::check_health(c, &org))
                .await;
            if let Err(e) = res {
                tracing::warn!(error = %e, "checking the IdP health");
            }
        }
    }

    async fn prune(&self) {
        /// Rows one delete takes: a few milliseconds of the writer at a time.
        const CHUNK: usize = 5_000;
        let days = i64::from(self.settings.retention_days);
        let before = store::now() - chrono::Duration::days(days);
        let mut pruned = 0;
        loop {
            let res = self
                .db
                .write(move |c| Ok(store::provisioning_log::prune(c, before, CHUNK as i64)?))
                .await;
            match res {
                Ok(n) => {
                    pruned += n;
                    if n < CHUNK {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "pruning the provisioning log");
                    break;
                }
            }
        }
        if pruned > 0 {
            tracing::info!(rows = pruned, days, "provisioning log pruned");
        }
    }
}

/// The middleware of the SCIM scope.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let recorder = req.app_data::<web::Data<Recorder>>().cloned();
    let Some(recorder) = recorder.filter(|r| r.enabled) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let started = Instant::now();
    let at = store::now();
    let method = req.method().to_string();
    let path = req.path().to_string();
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect::<String>());
    let mut res = next.call(req).await?;
    // The seat decisions the use case returned (`api::respond::with_decisions`).
    let decisions = res
        .response_mut()
        .extensions_mut()
        .remove::<SeatDecisions>()
        .unwrap_or_default();
    let caller = res.request().extensions().get::<Caller>().cloned();
    let Some(caller) = caller else {
        return Ok(res.map_into_boxed_body());
    };
    let status = res.status();
    let (resource_type, resource_id) = resource_of(&path);
    // Only answers that are small and tell something are read: errors, and writes of one
    // user (its seat extension). Lists, searches, /Bulk and groups (whose members can number
    // 100,000) are not.
    let user_write = resource_type == Some("User")
        && !path.ends_with(".search")
        && matches!(method.as_str(), "POST" | "PUT" | "PATCH");
    let read_body = user_write || status.is_client_error() || status.is_server_error();
    // A created resource's id is in its Location.
    let location_id = res
        .headers()
        .get(actix_web::http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| l.rsplit('/').next())
        .map(str::to_string);
    let (res, body) = if read_body {
        let (req, res) = res.into_parts();
        let (head, body) = res.into_parts();
        let bytes = actix_web::body::to_bytes_limited(body, MAX_READ).await;
        let (bytes, parsed) = match bytes {
            Ok(Ok(b)) => {
                let v = serde_json::from_slice::<Value>(&b).ok();
                (b, v)
            }
            // Unreadable (the client went away) or beyond MAX_READ, which these never reach.
            _ => (web::Bytes::new(), None),
        };
        let res = ServiceResponse::new(req, head.set_body(bytes).map_into_boxed_body());
        (res, parsed)
    } else {
        (res.map_into_boxed_body(), None)
    };
    let body = body.as_ref();
    let decision = match resource_type {
        // A user's own seat is told from its answer, as it always was; what its write did to
        // others (someone activated from the queue) follows.
        Some("User") => {
            let subject = resource_id.as_deref().or(location_id.as_deref());
            let own = decision(&method, resource_type, status.as_u16(), body);
            let others = describe(&decisions, subject);
            match (own, others) {
                (Some(a), Some(b)) => Some(bounded(format!("{a}; {b}"))),
                (a, b) => a.or(b),
            }
        }
        _ => describe(&decisions, None),
    };
    let row = LogRow {
        id: uuid::Uuid::now_v7().to_string(),
        org_id: caller.org_id,
        at,
        scim_type: body
            .and_then(|b| b.get("scimType"))
            .and_then(Value::as_str)
            .map(str::to_string),
        resource_id: resource_id.or(location_id).or_else(|| {
            body.and_then(|b| b.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string)
        }),
        resource_name: body
            .and_then(|b| b.get("userName").or_else(|| b.get("displayName")))
            .and_then(Value::as_str)
            .map(|s| s.chars().take(256).collect()),
        decision,
        resource_type: resource_type.map(str::to_string),
        method,
        path: path.chars().take(512).collect(),
        status: i32::from(status.as_u16()),
        user_agent,
        token_id: Some(caller.token_id),
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    };
    recorder.record(row);
    Ok(res)
}

/// `("User", Some(id))` for `/scim/v2/Users/{id}`, `("User", None)` for `/scim/v2/Users`.
fn resource_of(path: &str) -> (Option<&'static str>, Option<String>) {
    let rest = path.trim_start_matches("/scim/v2").trim_start_matches('/');
    let mut parts = rest.splitn(2, '/');
    let kind = match parts.next() {
        Some("Users") => "User",
        Some("Groups") => "Group",
        _ => return (None, None),
    };
    let id = parts
        .next()
        .filter(|id| !id.is_empty() && !id.starts_with('.'))
        .map(str::to_string);
    (Some(kind), id)
}

/// The seat decision a request caused, in words, from the seat extension of its answer.
fn decision(method: &str, kind: Option<&str>, status: u16, body: Option<&Value>) -> Option<String> {
    if kind != Some("User") || !(200..300).contains(&status) {
        return None;
    }
    if method == "DELETE" {
        return Some("deleted: its seat (if any) went to the queue".into());
    }
    if method == "GET" || method == "HEAD" {
        return None;
    }
    let seat = body?.get(SEAT_USER)?;
    let tier = seat.get("tier").and_then(Value::as_str).unwrap_or("?");
    Some(match seat.get("status").and_then(Value::as_str)? {
        "active" if method == "POST" => format!("claimed {tier}"),
        "active" => format!("active on {tier}"),
        "pending" => match seat.get("queuePosition").and_then(Value::as_i64) {
            Some(p) => format!("queued at position {p}: no seat free"),
            None => "queued: no seat free".into(),
        },
        "inactive" => "inactive: holds no seat".into(),
        other => format!("status {other}"),
    })
}

/// Seat decisions in words: `who: what` in the order taken, a release and the activations
/// it led to on one line ("bob@…: released standard → activated jane@…"), at most
/// `MAX_DECISIONS` lines and then how many more. With a `subject` (the user a `/Users`
/// request wrote, whose claim, queue place or release its answer already tells), the lines
/// kept are those that involve someone else or that the answer does not tell (a tier change
/// or wait), without naming the subject.
fn describe(decisions: &SeatDecisions, subject: Option<&str>) -> Option<String> {
    let name = |d: &SeatDecision| d.user_name.chars().take(MAX_NAME).collect::<String>();
    let mut lines: Vec<String> = Vec::new();
    let mut list = decisions.0.iter().peekable();
    while let Some(d) = list.next() {
        let mut keep = Some(d.user_id.as_str()) != subject
            || matches!(d.what, Decided::TierChanged { .. } | Decided::WaitsFor(_));
        let mut what = d.what.to_string();
        if let Decided::Released(_) = d.what {
            let mut activated = Vec::new();
            while let Some(next) = list.next_if(|n| matches!(n.what, Decided::Activated(_))) {
                activated.push(name(next));
            }
            if !activated.is_empty() {
                keep = true;
                what = format!("{what} → activated {}", activated.join(", "));
            }
        }
        if !keep {
            continue;
        }
        lines.push(match Some(d.user_id.as_str()) == subject {
            true => what,
            false => format!("{}: {what}", name(d)),
        });
    }
    if lines.is_empty() {
        return None;
    }
    let more = lines.len().saturating_sub(MAX_DECISIONS);
    lines.truncate(MAX_DECISIONS);
    let mut text = lines.join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    Some(bounded(text))
}

/// `text` cut to `MAX_DECISION` characters.
fn bounded(text: String) -> String {
    match text.char_indices().nth(MAX_DECISION - 1) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decisions_read_the_seat_extension() {
        let pending = json!({SEAT_USER: {"status": "pending", "queuePosition": 7}});
        assert_eq!(
            decision("POST", Some("User"), 201, Some(&pending)).as_deref(),
            Some("queued at position 7: no seat free")
        );
        let active = json!({SEAT_USER: {"status": "active", "tier": "premium"}});
        assert_eq!(
            decision("POST", Some("User"), 201, Some(&active)).as_deref(),
            Some("claimed premium")
        );
        assert_eq!(decision("POST", Some("Group"), 201, Some(&active)), None);
        assert_eq!(decision("POST", Some("User"), 409, Some(&active)), None);
        assert_eq!(
            resource_of("/scim/v2/Users/abc"),
            (Some("User"), Some("abc".into()))
        );
        assert_eq!(resource_of("/scim/v2/Users/.search"), (Some("User"), None));
        assert_eq!(resource_of("/scim/v2/Schemas"), (None, None));
    }

    fn d(id: &str, what: Decided) -> SeatDecision {
        SeatDecision {
            user_id: id.into(),
            user_name: format!("{id}@acme.example.com"),
            what,
        }
    }

    #[test]
    fn decisions_name_who_and_what() {
        use crate::domain::Tier::{Premium, Standard};
        let group_push = SeatDecisions(vec![
            d(
                "ada",
                Decided::TierChanged {
                    from: Standard,
                    to: Premium,
                },
            ),
            d("bob", Decided::WaitsFor(Premium)),
        ]);
        assert_eq!(
            describe(&group_push, None).as_deref(),
            Some(
                "ada@acme.example.com: tier changed standard → premium; \
                 bob@acme.example.com: tier change waits for a premium seat"
            )
        );
        // A user's own claim is told by its answer; a release that activated someone is not.
        let own = SeatDecisions(vec![d("ada", Decided::Claimed(Standard))]);
        assert_eq!(describe(&own, Some("ada")), None);
        let waits = SeatDecisions(vec![
            d("ada", Decided::Claimed(Standard)),
            d("ada", Decided::WaitsFor(Premium)),
        ]);
        assert_eq!(
            describe(&waits, Some("ada")).as_deref(),
            Some("tier change waits for a premium seat")
        );
        let freed = SeatDecisions(vec![
            d("ada", Decided::Released(Standard)),
            d("bob", Decided::Activated(Standard)),
        ]);
        assert_eq!(
            describe(&freed, Some("ada")).as_deref(),
            Some("released standard → activated bob@acme.example.com")
        );
        assert_eq!(
            describe(&freed, None).as_deref(),
            Some("ada@acme.example.com: released standard → activated bob@acme.example.com")
        );
        // A Bulk of many: the first few, then a count.
        let bulk = SeatDecisions(
            (0..7)
                .map(|i| {
                    d(
                        &format!("u{i}"),
                        Decided::Queued {
                            queue_seq: i,
                            position: Some(i + 1),
                        },
                    )
                })
                .collect(),
        );
        let text = describe(&bulk, None).unwrap_or_default();
        assert!(
            text.starts_with("u0@acme.example.com: queued at position 1; u1@")
                && text.ends_with("u4@acme.example.com: queued at position 5; and 2 more"),
            "{text}"
        );
        assert_eq!(describe(&SeatDecisions::default(), None), None);
        assert_eq!(bounded("x".repeat(5000)).chars().count(), MAX_DECISION);
    }
}
