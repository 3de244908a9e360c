//! Outgoing mail. A use case that sends mail writes an outbox row in its own transaction
//! (`enqueue`); nothing talks to a mail server while a seat transaction is open. `Delivery`
//! sends due rows after commit through a pluggable `MailSender` (SMTP in production, see
//! `crate::smtp`) and marks them sent; a failed send is retried with a growing delay.
//!
//! Delivery is at-least-once: a row is marked sent after the mail server accepted it, so a
//! crash between the two sends it again, with the same Message-ID (made from the row id).

use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::store::{self, mail::MailRow, Db, DbConn};

/// One message as a sender sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Where mail goes. Implementations must be cheap to share across threads.
pub trait MailSender: Send + Sync {
    fn name(&self) -> &'static str;
    /// Send one message; `message_id` is stable for its outbox row (the left part of the
    /// Message-ID header), so a resend can be recognized as the same message.
    fn send(&self, mail: &Mail, message_id: &str) -> Result<(), anyhow::Error>;
}

/// The default: one log line per message. The body (which holds invitation secrets) and the
/// address stay out of the log; operators wire a real sender for production.
#[derive(Debug, Clone, Copy)]
pub struct LogSender;

impl MailSender for LogSender {
    fn name(&self) -> &'static str {
        "log"
    }
    fn send(&self, mail: &Mail, message_id: &str) -> Result<(), anyhow::Error> {
        tracing::info!(subject = %mail.subject, message_id, "mail delivered to the log sender (no mail server configured)");
        Ok(())
    }
}

/// Queue a message in the caller's transaction.
pub fn enqueue(conn: &mut DbConn, org_id: &str, kind: &str, mail: Mail) -> Result<(), Error> {
    let now = store::now();
    store::mail::insert(
        conn,
        &MailRow {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: org_id.to_string(),
            kind: kind.to_string(),
            to_addr: mail.to,
            subject: mail.subject,
            body: mail.body,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            sent_at: None,
            last_error: None,
        },
    )?;
    Ok(())
}

/// Send every due message once; returns how many were sent. Each row is marked in its own
/// short transaction after its send, never inside a seat transaction.
/// How long a claimed mail is its sender's alone: longer than an SMTP exchange may take
/// (`smtp`'s timeouts), so that it is never sent twice while its sender still works on it.
const SEND_LEASE: chrono::Duration = chrono::Duration::minutes(2);

pub fn deliver_due(db: &Db, sender: &dyn MailSender, retry_base: Duration) -> Result<usize, Error> {
    let due = db.read_sync(|c| Ok(store::mail::due(c, store::now(), 100)?))?;
    let mut sent = 0;
    for row in due {
        // Another process may have read the same row: only the one that claims it sends.
        let lease_until = store::now() + SEND_LEASE;
        let claimed = db.write_sync(|c| {
            Ok(store::mail::claim(
                c,
                &row.id,
                row.next_attempt_at,
                lease_until,
            )?)
        })?;
        if !claimed {
            continue;
        }
        let mail = Mail {
            to: row.to_addr.clone(),
            subject: row.subject.clone(),
            body: row.body.clone(),
        };
        match sender.send(&mail, &row.id) {
            Ok(()) => {
                tracing::info!(mail_id = %row.id, kind = %row.kind, sender = sender.name(), "mail sent");
                if db.write_sync(|c| Ok(store::mail::mark_sent(c, &row.id, store::now())?))? {
                    sent += 1;
                }
            }
            Err(e) => {
                // 30 s, 1 min, 2 min, … capped at an hour. The error text is the mail server's
                // or the network's, never the body, so no token reaches the log.
                let base = i64::try_from(retry_base.as_millis()).unwrap_or(i64::MAX);
                let backoff = base
                    .saturating_mul(1 << row.attempts.clamp(0, 7))
                    .min(3_600_000);
                let retry_at = store::now() + chrono::Duration::milliseconds(backoff);
                tracing::warn!(mail_id = %row.id, attempts = row.attempts + 1, error = %e, "sending mail failed; will retry");
                let msg = e.to_string();
                db.write_sync(|c| Ok(store::mail::mark_failed(c, &row.id, &msg, retry_at)?))?;
            }
        }
    }
    Ok(sent)
}

/// The background delivery task of `serve`.
pub struct Delivery {
    db: Db,
    sender: Arc<dyn MailSender>,
    every: Duration,
    retry_base: Duration,
}

impl Delivery {
    pub fn new(
        db: Db,
        sender: Arc<dyn MailSender>,
        every: Duration,
        retry_base: Duration,
    ) -> Delivery {
        Delivery {
            db,
            sender,
            every,
            retry_base,
        }
    }

    pub async fn run(self) {
        let (db, sender, retry_base) = (self.db, self.sender, self.retry_base);
        crate::jobs::every(self.every, "mail delivery", move || {
            deliver_due(&db, sender.as_ref(), retry_base)
        })
        .await
    }
}
