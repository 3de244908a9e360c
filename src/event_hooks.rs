//! Delivery of the seat event feed to each organization's webhook (the one set in the alert
//! settings), in order and at least once: a background task of `serve` reads each
//! organization's events after its delivery cursor, POSTs them one by one (signed like the
//! usage webhook: HMAC-SHA256 of the body under the organization's secret) and moves the
//! cursor after each 2xx. A failure stops that organization's delivery until a backoff has
//! passed, so nothing overtakes an event that was not acknowledged; the cursor lives in the
//! database, so undelivered events survive a restart. A receiver de-duplicates on the event id
//! (`X-Scim-Seats-Delivery`, also the body's `id`): an event is sent again when the
//! acknowledgement was lost. Several server processes may run this: a lease on the cursor row
//! keeps them from sending one organization's events at the same time.
//!
//! A new webhook receives the feed from its start (the cursor begins at 0).

use std::time::Duration;

use crate::config::WebhookSettings;
use crate::domain::events::Event;
use crate::error::Error;
use crate::outbound::{self, Policy};
use crate::store::{self, seat_events::CursorRow, Db};
use crate::webhooks::{backoff, signature, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER};

/// Events sent per organization and round.
const BATCH: i64 = 50;

pub struct EventDeliverer {
    db: Db,
    client: reqwest::Client,
    settings: WebhookSettings,
    outbound: Policy,
}

impl EventDeliverer {
    pub fn new(
        db: Db,
        settings: WebhookSettings,
        outbound: Policy,
    ) -> anyhow::Result<EventDeliverer> {
        // The one guarded client: no redirects, no internal addresses unless allowed.
        let client = outbound::client(&outbound, settings.timeout)?;
        Ok(EventDeliverer {
            db,
            client,
            settings,
            outbound,
        })
    }

    pub async fn run(self) {
        let Some(every) = self.settings.delivery_interval else {
            return;
        };
        loop {
            if let Err(e) = self.round().await {
                tracing::warn!(error = %e, "seat event delivery round failed");
            }
            tokio::time::sleep(every).await;
        }
    }

    /// One round over every organization with a webhook; returns the events acknowledged.
    pub async fn round(&self) -> Result<usize, Error> {
        let hooks = self
            .db
            .read(|c| Ok(store::seat_events::webhooks(c)?))
            .await?;
        let mut sent = 0;
        for (org, url, secret) in hooks {
            sent += self.deliver_org(org, url, secret).await?;
        }
        Ok(sent)
    }

    async fn deliver_org(&self, org: String, url: String, secret: String) -> Result<usize, Error> {
        let now = store::now();
        let lease = now
            + chrono::Duration::from_std(
                self.settings.timeout.saturating_mul(BATCH as u32) + Duration::from_secs(30),
            )
            .unwrap_or(chrono::Duration::minutes(10));
        let o = org.clone();
        let leased = self
            .db
            .write(move |c| {
                if store::seat_events::cursor(c, &o)?.is_none() {
                    store::seat_events::insert_cursor(
                        c,
                        &CursorRow {
                            org_id: o.clone(),
                            delivered_seq: 0,
                            attempts: 0,
                            next_attempt_at: now,
                            lease_until: None,
                            last_error: None,
                            updated_at: now,
                        },
                    )?;
                }
                Ok(store::seat_events::lease(c, &o, now, lease)?)
            })
            .await?;
        if !leased {
            return Ok(0);
        }
        let o = org.clone();
        let (cursor, events) = self
            .db
            .read(move |c| {
                let cur = store::seat_events::cursor(c, &o)?
                    .ok_or_else(|| Error::Internal(anyhow::anyhow!("cursor of {o} vanished")))?;
                let events = store::seat_events::after(c, &o, cur.delivered_seq, BATCH)?;
                Ok((cur, events))
            })
            .await?;
        let mut sent = 0;
        for row in events {
            let seq = row.seq;
            let event = Event::from_row(row);
            match self.send(&url, &secret, &event).await {
                Ok(()) => {
                    let o = org.clone();
                    self.db
                        .write(move |c| {
                            Ok(store::seat_events::delivered(c, &o, seq, store::now())?)
                        })
                        .await?;
                    sent += 1;
                }
                Err(err) => {
                    let attempts = cursor.attempts + 1;
                    let base = self.settings.retry_base;
                    let o = org.clone();
                    self.db
                        .write(move |c| {
                            let now = store::now();
                            let next = now
                                + chrono::Duration::from_std(backoff(base, attempts))
                                    .unwrap_or(chrono::Duration::hours(1));
                            Ok(store::seat_events::failed(
                                c, &o, attempts, &err, next, now,
                            )?)
                        })
                        .await?;
                    return Ok(sent);
                }
            }
        }
        let o = org.clone();
        self.db
            .write(move |c| Ok(store::seat_events::release(c, &o)?))
            .await?;
        Ok(sent)
    }

    async fn send(&self, url: &str, secret: &str, event: &Event) -> Result<(), String> {
        // Checked at send time, as the usage webhook is: an IP literal never reaches the
        // client's resolver, and the operator's allow list may have changed.
        let url = outbound::check_url(&self.outbound, url).map_err(|e| e.to_string())?;
        let body = serde_json::to_vec(event).map_err(|e| format!("encoding the event: {e}"))?;
        let resp = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(secret, &body))
            .header(EVENT_HEADER, &event.kind)
            .header(DELIVERY_HEADER, &event.id)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {status}"))
        }
    }
}
