//! Settings, passed by value to `Application::build` so tests can pick ports and databases.
//! The CLI fills them from flags and environment variables (see `cli.rs`).

use std::time::Duration;

use chrono::NaiveDate;

use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub scim: ScimSettings,
    pub auth: AuthSettings,
    pub billing: BillingSettings,
    pub mail: MailSettings,
    pub webhooks: WebhookSettings,
    /// What outbound requests (webhooks, OpenID discovery) may reach besides public hosts.
    pub outbound: crate::outbound::Policy,
    pub provisioning_log: ProvisioningLogSettings,
    /// Billing's "today" (UTC) when set; the system date otherwise. Tests pin March 1 here.
    pub clock_override: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Owner-token signing keys. The default is an ephemeral random key (see `JwtKeys`).
    pub jwt: JwtKeys,
    /// How long a session token from an invitation acceptance or an SSO login is valid.
    pub session_ttl: Duration,
}

/// Outgoing mail (invitations). Messages go to the `mail_outbox` table in the transaction
/// that causes them; `serve` delivers them after commit through `sender`.
#[derive(Clone)]
pub struct MailSettings {
    /// How often `serve` delivers due messages; `None` turns the background task off.
    pub delivery_interval: Option<Duration>,
    /// Where messages go: SMTP (`crate::smtp::SmtpSender`) when configured; the default logs
    /// them (no secrets in the log line).
    pub sender: std::sync::Arc<dyn crate::domain::mail::MailSender>,
    /// Wait before the first retry of a failed send; doubles per attempt, capped at an hour.
    pub retry_base: Duration,
    /// Base URL people open from an invitation mail (`{public_url}/invitations/accept?token=…`).
    pub public_url: String,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("delivery_interval", &self.delivery_interval)
            .field("sender", &self.sender.name())
            .field("retry_base", &self.retry_base)
            .field("public_url", &self.public_url)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct BillingSettings {
    /// How often `serve` runs due renewals; `None` turns the background task off.
    pub renewal_interval: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// How often `serve` looks for due webhook deliveries; `None` turns delivery off.
    pub delivery_interval: Option<Duration>,
    /// Attempts before a delivery is given up (kept in the outbox with its last error).
    pub max_attempts: i32,
    /// Wait before the first retry; doubles after every failed attempt (capped at an hour).
    pub retry_base: Duration,
    /// Per-attempt HTTP timeout.
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct ProvisioningLogSettings {
    /// Off: SCIM requests are not recorded at all (the log's middleware passes them through).
    /// On by default; turning it off is for measuring its cost (docs/benchmarks.md).
    pub enabled: bool,
    /// Days a row of the provisioning log is kept.
    pub retention_days: u32,
    /// How long rows may wait before they are written (one transaction per batch).
    pub flush_interval: Duration,
    /// How often old rows are pruned.
    pub prune_interval: Duration,
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// `ADDR:PORT`; port 0 picks a free port (tests).
    pub bind: String,
    /// Largest request body accepted; larger ones get 413 with a SCIM error.
    pub max_body_bytes: usize,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `postgres://…` for PostgreSQL; a path or `sqlite://path` for SQLite.
    pub url: String,
    pub pool_size: u32,
    /// Time budget of one request's database work: past it a read is cancelled and
    /// answered `400 tooMany`, a write refused with `429` (see `store::budget`). `None`: no
    /// budget.
    pub budget: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct ScimSettings {
    /// Largest page a list returns (advertised in ServiceProviderConfig).
    pub max_results: i64,
    pub bulk_max_operations: usize,
    pub bulk_max_payload_bytes: usize,
    /// List and search requests (other than point lookups) one organization may run at
    /// once; 0 means a quarter of the pool (at least one).
    pub searches_per_org: usize,
    /// How stale `last_used_at` of a token may get before it is written again.
    pub token_touch_interval: Duration,
    /// Lifetime of an OAuth 2.0 access token from `POST /oauth/token`.
    pub oauth_token_ttl: Duration,
    /// Group members one list page may carry (see `scim::limits::MAX_PAGE_MEMBERS`).
    pub max_page_members: i64,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/scim-seats.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Default for Settings {
    fn default() -> Self {
        Settings {
            http: HttpSettings {
                bind: DEFAULT_BIND.into(),
                max_body_bytes: 1024 * 1024,
                workers: 0,
            },
            database: DatabaseSettings {
                url: DEFAULT_DATABASE_URL.into(),
                pool_size: 8,
                budget: Some(Duration::from_secs(5)),
            },
            scim: ScimSettings {
                max_results: 200,
                bulk_max_operations: 1000,
                bulk_max_payload_bytes: 1024 * 1024,
                searches_per_org: 0,
                token_touch_interval: Duration::from_secs(60),
                oauth_token_ttl: Duration::from_secs(3600),
                max_page_members: crate::scim::limits::MAX_PAGE_MEMBERS,
            },
            auth: AuthSettings {
                jwt: JwtKeys::ephemeral(),
                session_ttl: Duration::from_secs(8 * 3600),
            },
            billing: BillingSettings {
                renewal_interval: Some(Duration::from_secs(60)),
            },
            mail: MailSettings {
                delivery_interval: Some(Duration::from_secs(5)),
                sender: std::sync::Arc::new(crate::domain::mail::LogSender),
                retry_base: Duration::from_secs(30),
                public_url: format!("http://{DEFAULT_BIND}"),
            },
            webhooks: WebhookSettings {
                delivery_interval: Some(Duration::from_secs(1)),
                max_attempts: 10,
                retry_base: Duration::from_secs(10),
                timeout: Duration::from_secs(10),
            },
            outbound: crate::outbound::Policy::strict(),
            provisioning_log: ProvisioningLogSettings::default(),
            clock_override: None,
        }
    }
}

impl Default for ProvisioningLogSettings {
    fn default() -> Self {
        ProvisioningLogSettings {
            enabled: true,
            retention_days: 30,
            flush_interval: Duration::from_millis(200),
            prune_interval: Duration::from_secs(600),
        }
    }
}

// Owner-token signing keys are settings (secrets read at start); `auth::jwt` signs and
// verifies with them. Here rather than there so that the settings depend on no layer.

/// Shorter secrets are refused: HS256 needs at least 256 bits of key to be worth its name.
pub const MIN_SECRET_BYTES: usize = 32;

/// One signing secret and its key id.
#[derive(Clone)]
pub struct JwtKey {
    pub(crate) kid: String,
    pub(crate) secret: Vec<u8>,
}

impl std::fmt::Debug for JwtKey {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKey").field("kid", &self.kid).finish()
    }
}

impl JwtKey {
    pub fn new(secret: &[u8]) -> Result<JwtKey, anyhow::Error> {
        if secret.len() < MIN_SECRET_BYTES {
            anyhow::bail!("a JWT secret needs at least {MIN_SECRET_BYTES} bytes");
        }
        // The kid names the key without revealing it: a prefix of its SHA-256.
        let kid = hex::encode(&Sha256::digest(secret)[..8]);
        Ok(JwtKey {
            kid,
            secret: secret.to_vec(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// The current signing key and the previous ones still accepted.
#[derive(Debug, Clone)]
pub struct JwtKeys {
    pub current: JwtKey,
    pub previous: Vec<JwtKey>,
    /// Generated at start (no secret configured): tokens die with the process.
    pub ephemeral: bool,
}

impl JwtKeys {
    pub fn from_secrets(current: &str, previous: &[String]) -> Result<JwtKeys, anyhow::Error> {
        Ok(JwtKeys {
            current: JwtKey::new(current.as_bytes())?,
            previous: previous
                .iter()
                .map(|s| JwtKey::new(s.as_bytes()))
                .collect::<Result<_, _>>()?,
            ephemeral: false,
        })
    }

    /// A random key for this process only.
    pub fn ephemeral() -> JwtKeys {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        JwtKeys {
            // 32 random bytes always satisfy the length rule.
            current: JwtKey {
                kid: hex::encode(&Sha256::digest(secret)[..8]),
                secret: secret.to_vec(),
            },
            previous: Vec::new(),
            ephemeral: true,
        }
    }

    /// `SCIM_SEATS_JWT_SECRET` and the comma-separated `SCIM_SEATS_JWT_PREVIOUS_SECRETS`;
    /// `None` when no secret is set.
    pub fn from_env() -> Result<Option<JwtKeys>, anyhow::Error> {
        let Some(current) = std::env::var("SCIM_SEATS_JWT_SECRET")
            .ok()
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        let previous: Vec<String> = std::env::var("SCIM_SEATS_JWT_PREVIOUS_SECRETS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        JwtKeys::from_secrets(&current, &previous)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("SCIM_SEATS_JWT_SECRET: {e}"))
    }
}
