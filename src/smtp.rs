//! Mail over SMTP (lettre): the sender `serve` uses when `SCIM_SEATS_SMTP_URL` is set.
//!
//! `smtp://host[:port]` upgrades with STARTTLS when the server offers it (`?tls=required`
//! refuses a server that does not; `?tls=none` never upgrades, for a relay on the same host);
//! `smtps://` speaks TLS from the first byte. Credentials go in the URL
//! (`smtp://user:password@host:587`, percent-encoded). Each message carries a Message-ID made
//! from its outbox row, so a message sent twice (the server accepted it but we crashed before
//! marking it sent) is recognizably the same message.

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::{Message, SmtpTransport, Transport};

use crate::domain::mail::{Mail, MailSender};

/// How long one SMTP conversation may take before the outbox retries it later.
const TIMEOUT: Duration = Duration::from_secs(20);

pub struct SmtpSender {
    transport: SmtpTransport,
    from: Mailbox,
    /// The right-hand side of our Message-IDs: the From address's domain.
    id_domain: String,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: only the From address is shown.
        f.debug_struct("SmtpSender")
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl SmtpSender {
    /// `url` as described in the module docs; `from` an address (`Name <a@b>` or `a@b`).
    pub fn new(url: &str, from: &str) -> anyhow::Result<SmtpSender> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("SCIM_SEATS_MAIL_FROM is not a mail address: {e}"))?;
        let id_domain = from.email.domain().to_string();
        let transport = SmtpTransport::from_url(&lettre_url(url)?)
            .map_err(|e| anyhow::anyhow!("SCIM_SEATS_SMTP_URL: {e}"))?
            .timeout(Some(TIMEOUT))
            .build();
        Ok(SmtpSender {
            transport,
            from,
            id_domain,
        })
    }
}

/// Our URL rules in lettre's terms: STARTTLS when offered is the default of `smtp://`.
fn lettre_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim();
    let (scheme, _) = url.split_once("://").ok_or_else(|| {
        anyhow::anyhow!("SCIM_SEATS_SMTP_URL must start with smtp:// or smtps://")
    })?;
    match scheme {
        "smtps" => Ok(url.to_string()),
        "smtp" => {
            let (base, query) = url.split_once('?').unwrap_or((url, ""));
            let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
            match pairs.iter().position(|p| p.starts_with("tls=")) {
                None => pairs.push("tls=opportunistic"),
                Some(i) => match pairs[i] {
                    "tls=none" => {
                        pairs.remove(i);
                    }
                    "tls=opportunistic" | "tls=required" => {}
                    other => anyhow::bail!(
                        "SCIM_SEATS_SMTP_URL: {other} is not one of tls=opportunistic, tls=required, tls=none"
                    ),
                },
            }
            Ok(match pairs.is_empty() {
                true => base.to_string(),
                false => format!("{base}?{}", pairs.join("&")),
            })
        }
        other => anyhow::bail!(
            "SCIM_SEATS_SMTP_URL: unknown scheme {other}:// (use smtp:// or smtps://)"
        ),
    }
}

impl MailSender for SmtpSender {
    fn name(&self) -> &'static str {
        "smtp"
    }

    fn send(&self, mail: &Mail, message_id: &str) -> Result<(), anyhow::Error> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| anyhow::anyhow!("the recipient is not a mail address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{message_id}@{}>", self.id_domain)))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())?;
        self.transport.send(&message)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::lettre_url;

    #[test]
    fn smtp_urls_upgrade_with_starttls_unless_told_otherwise() {
        for (ours, lettres) in [
            ("smtp://mx:25", "smtp://mx:25?tls=opportunistic"),
            (
                "smtp://u:p@mx:587?tls=required",
                "smtp://u:p@mx:587?tls=required",
            ),
            ("smtp://127.0.0.1:2525?tls=none", "smtp://127.0.0.1:2525"),
            ("smtps://u:p@mx", "smtps://u:p@mx"),
        ] {
            assert_eq!(lettre_url(ours).unwrap(), lettres, "{ours}");
        }
        assert!(lettre_url("smtp://mx?tls=maybe").is_err());
        assert!(lettre_url("http://mx").is_err());
        assert!(lettre_url("mx:25").is_err());
    }
}
