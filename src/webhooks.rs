//! Webhook delivery: a background task of `serve` that sends the outbox rows the seat engine
//! wrote (after their transaction committed), signed with HMAC-SHA256 of the body under the
//! organization's secret, retried with exponential backoff. Several server processes may run
//! it: each due row is claimed with a guarded update (a lease) before it is sent, so a row is
//! normally sent by one process; delivery is at least once (receivers dedupe on the
//! `X-Scim-Seats-Delivery` id, which is also the body's `id`).

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::WebhookSettings;
use crate::error::Error;
use crate::outbound::{self, Policy};
use crate::store::{self, alerts::OutboxRow, Db};

pub const SIGNATURE_HEADER: &str = "X-Scim-Seats-Signature";
pub const EVENT_HEADER: &str = "X-Scim-Seats-Event";
pub const DELIVERY_HEADER: &str = "X-Scim-Seats-Delivery";

/// Rows looked at per round.
const BATCH: i64 = 50;
/// Longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Wait before retry number `attempts` (1 after the first failure): base × 2^(attempts−1).
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    base.saturating_mul(1u32 << exp).min(MAX_BACKOFF)
}

pub struct Deliverer {
    db: Db,
    client: reqwest::Client,
    settings: WebhookSettings,
    outbound: Policy,
}

impl Deliverer {
    pub fn new(db: Db, settings: WebhookSettings, outbound: Policy) -> anyhow::Result<Deliverer> {
        // No redirects (one would re-send the signed body somewhere the owner did not name),
        // and no internal destination after DNS resolution.
        let client = outbound::client(&outbound, settings.timeout)?;
        Ok(Deliverer {
            db,
            client,
            settings,
            outbound,
        })
    }

    /// Deliver due rows every `delivery_interval` until the task is aborted.
    pub async fn run(self) {
        let Some(every) = self.settings.delivery_interval else {
            return;
        };
        loop {
            if let Err(e) = self.round().await {
                tracing::warn!(error = %e, "webhook delivery round failed");
            }
            tokio::time::sleep(every).await;
        }
    }

    /// One round: claim and send what is due; returns how many were attempted.
    pub async fn round(&self) -> Result<usize, Error> {
        let now = store::now();
        let due = self
            .db
            .read(move |c| Ok(store::alerts::due(c, now, BATCH)?))
            .await?;
        let mut mine = Vec::new();
        for row in due {
            let lease = now
                + chrono::Duration::from_std(self.settings.timeout + Duration::from_secs(30))
                    .unwrap_or(chrono::Duration::seconds(60));
            let (id, seen) = (row.id.clone(), row.next_attempt_at);
            let won = self
                .db
                .write(move |c| Ok(store::alerts::claim(c, &id, seen, lease)?))
                .await?;
            if won {
                mine.push(row);
            }
        }
        let n = mine.len();
        futures_util::future::join_all(mine.into_iter().map(|row| self.deliver(row))).await;
        Ok(n)
    }

    async fn deliver(&self, row: OutboxRow) {
        let org = row.org_id.clone();
        let secret = self
            .db
            .read(move |c| Ok(store::alerts::find(c, &org)?.and_then(|a| a.webhook_secret)))
            .await;
        let attempts = row.attempts + 1;
        let outcome = match secret {
            Ok(Some(secret)) => self.send(&row, &secret).await,
            Ok(None) => Err("the organization removed its webhook".to_string()),
            Err(e) => {
                // Database trouble: leave the lease to expire and retry then.
                tracing::warn!(error = %e, delivery = %row.id, "reading the webhook secret");
                return;
            }
        };
        let id = row.id.clone();
        let (base, max) = (self.settings.retry_base, self.settings.max_attempts);
        let result = self
            .db
            .write(move |c| {
                let now = store::now();
                match outcome {
                    Ok(()) => store::alerts::delivered(c, &id, attempts, now)?,
                    Err(err) => {
                        let next = (attempts < max).then(|| {
                            now + chrono::Duration::from_std(backoff(base, attempts))
                                .unwrap_or(chrono::Duration::hours(1))
                        });
                        store::alerts::attempt_failed(c, &id, attempts, &err, next, now)?
                    }
                }
                Ok(())
            })
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, delivery = %row.id, "recording a webhook attempt");
        }
    }

    async fn send(&self, row: &OutboxRow, secret: &str) -> Result<(), String> {
        // Checked again at send time: an IP literal never reaches the client's resolver, and
        // the operator's allow list may have changed since the URL was saved.
        let url = outbound::check_url(&self.outbound, &row.url).map_err(|e| e.to_string())?;
        let resp = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(secret, row.body.as_bytes()))
            .header(EVENT_HEADER, &row.event)
            .header(DELIVERY_HEADER, &row.id)
            .body(row.body.clone())
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = resp.status();
        if status.is_success() {
            tracing::info!(delivery = %row.id, event = %row.event, "webhook delivered");
            Ok(())
        } else {
            tracing::info!(delivery = %row.id, status = status.as_u16(), "webhook refused");
            Err(format!("the receiver answered {status}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_hmac() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Duration::from_secs(10);
        assert_eq!(backoff(b, 1), Duration::from_secs(10));
        assert_eq!(backoff(b, 2), Duration::from_secs(20));
        assert_eq!(backoff(b, 4), Duration::from_secs(80));
        assert_eq!(backoff(b, 30), MAX_BACKOFF);
    }
}
