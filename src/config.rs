//! Settings, passed by value to `Application::build` so tests can pick ports and databases.
//! The CLI fills them from flags and environment variables (see `cli.rs`).

use std::time::Duration;

use chrono::NaiveDate;

use crate::auth::jwt::JwtKeys;

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub scim: ScimSettings,
    pub auth: AuthSettings,
    pub billing: BillingSettings,
    /// Billing's "today" (UTC) when set; the system date otherwise. Tests pin March 1 here.
    pub clock_override: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Owner-token signing keys. The default is an ephemeral random key (see `JwtKeys`).
    pub jwt: JwtKeys,
}

#[derive(Debug, Clone)]
pub struct BillingSettings {
    /// How often `serve` runs due renewals; `None` turns the background task off.
    pub renewal_interval: Option<Duration>,
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
}

#[derive(Debug, Clone)]
pub struct ScimSettings {
    /// Largest page a list returns (advertised in ServiceProviderConfig).
    pub max_results: i64,
    pub bulk_max_operations: usize,
    pub bulk_max_payload_bytes: usize,
    /// How stale `last_used_at` of a token may get before it is written again.
    pub token_touch_interval: Duration,
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
            },
            scim: ScimSettings {
                max_results: 200,
                bulk_max_operations: 1000,
                bulk_max_payload_bytes: 1024 * 1024,
                token_touch_interval: Duration::from_secs(60),
            },
            auth: AuthSettings {
                jwt: JwtKeys::ephemeral(),
            },
            billing: BillingSettings {
                renewal_interval: Some(Duration::from_secs(60)),
            },
            clock_override: None,
        }
    }
}
