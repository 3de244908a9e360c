//! Prometheus metrics. Each application owns a `Registry` (no global recorder), so several
//! servers in one process — the test suite — keep their HTTP series apart. Provisioning
//! outcome counters are process-wide (the seat engine has no handle to the app); each app's
//! registry exposes the same counters.
//!
//! The request middleware costs one `match_pattern` lookup and two labelled updates (atomic
//! adds behind a read lock); seat and queue gauges are computed at scrape time with one query.

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// What the seat engine did, counted when it did it (inside the transaction: a transaction
/// that later rolls back is still counted; such rollbacks are rare and the counters are
/// trends, not the ledger — the audit log is).
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Claimed,
    Queued,
    Released,
    ActivatedFromQueue,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Claimed => "claimed",
            Outcome::Queued => "queued",
            Outcome::Released => "released",
            Outcome::ActivatedFromQueue => "activated_from_queue",
        }
    }
}

static OUTCOMES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    let c = IntCounterVec::new(
        Opts::new(
            "scim_seats_provisioning_outcomes_total",
            "Seat engine outcomes: claimed, queued, released, activated_from_queue",
        ),
        &["outcome"],
    )
    .expect("constant metric definition");
    for o in [
        Outcome::Claimed,
        Outcome::Queued,
        Outcome::Released,
        Outcome::ActivatedFromQueue,
    ] {
        c.with_label_values(&[o.label()]);
    }
    c
});

/// Count a seat-engine outcome.
pub fn outcome(o: Outcome) {
    OUTCOMES.with_label_values(&[o.label()]).inc();
}

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    seats: IntGaugeVec,
    queue: IntGauge,
    db_up: IntGauge,
}

/// Route label of requests no route matched: never the raw path (unbounded cardinality).
const UNMATCHED: &str = "unmatched";

impl Metrics {
    pub fn new() -> anyhow::Result<Arc<Metrics>> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "scim_seats_http_requests_total",
                "HTTP requests by route pattern, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "scim_seats_http_request_duration_seconds",
                "HTTP request latency by route pattern, method and status",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ]),
            &["route", "method", "status"],
        )?;
        let seats = IntGaugeVec::new(
            Opts::new(
                "scim_seats_seats",
                "Seats over all organizations by tier and state (purchased, claimed, free)",
            ),
            &["tier", "state"],
        )?;
        let queue = IntGauge::new(
            "scim_seats_queue_length",
            "Pending users over all organizations",
        )?;
        let db_up = IntGauge::new(
            "scim_seats_database_up",
            "1 when the last scrape could read the database",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(seats.clone()))?;
        registry.register(Box::new(queue.clone()))?;
        registry.register(Box::new(db_up.clone()))?;
        registry.register(Box::new(OUTCOMES.clone()))?;
        Ok(Arc::new(Metrics {
            registry,
            requests,
            latency,
            seats,
            queue,
            db_up,
        }))
    }

    /// Record one finished request.
    pub fn observe(&self, route: Option<&str>, method: &str, status: u16, started: Instant) {
        let status = status_label(status);
        let labels = [route.unwrap_or(UNMATCHED), method, status];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(started.elapsed().as_secs_f64());
    }

    /// Set the database gauges from a scrape-time read; `None` when the database failed.
    pub fn set_inventory(&self, inv: Option<(Vec<crate::store::reports::TierSums>, i64)>) {
        match inv {
            Some((tiers, pending)) => {
                self.db_up.set(1);
                for t in tiers {
                    self.seats
                        .with_label_values(&[&t.tier, "purchased"])
                        .set(t.purchased);
                    self.seats
                        .with_label_values(&[&t.tier, "claimed"])
                        .set(t.claimed);
                    self.seats
                        .with_label_values(&[&t.tier, "free"])
                        .set(t.purchased - t.claimed);
                }
                self.queue.set(pending);
            }
            None => self.db_up.set(0),
        }
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> anyhow::Result<String> {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf)?;
        Ok(String::from_utf8(buf)?)
    }
}

/// Status codes as strings made once: no allocation per request.
static STATUS_LABELS: LazyLock<Vec<String>> =
    LazyLock::new(|| (0..600u16).map(|c| c.to_string()).collect());

fn status_label(code: u16) -> &'static str {
    STATUS_LABELS
        .get(usize::from(code))
        .map_or("other", String::as_str)
}
