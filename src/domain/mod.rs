//! Rules: provisioning, the seat engine, organizations and tokens. Calls `store`, never HTTP.

pub mod audit;
pub mod billing;
pub mod contracts;
pub mod groups;
pub mod invoices;
pub mod members;
pub mod orgs;
pub mod reassign;
pub mod renewal;
pub mod search;
pub mod seat_admin;
pub mod seat_orders;
pub mod seat_policy;
pub mod seat_upgrade;
pub mod seats;
pub mod tokens;
pub mod users;

use std::fmt;

/// Seat tiers, highest first in `Tier::ALL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Premium,
    Standard,
}

impl Tier {
    /// Highest tier first: a new account gets the first one with a free seat.
    pub const ALL: [Tier; 2] = [Tier::Premium, Tier::Standard];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Premium => "premium",
            Tier::Standard => "standard",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        match s.to_ascii_lowercase().as_str() {
            "premium" => Some(Tier::Premium),
            "standard" => Some(Tier::Standard),
            _ => None,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a user came from; recorded on the user and in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Scim,
    Jit,
    Invitation,
    Admin,
    System,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Scim => "scim",
            Source::Jit => "jit",
            Source::Invitation => "invitation",
            Source::Admin => "admin",
            Source::System => "system",
        }
    }
}

/// Who did it: recorded in the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub source: Source,
}

impl Actor {
    pub fn scim(token_id: &str) -> Actor {
        Actor {
            id: format!("scim-token:{token_id}"),
            source: Source::Scim,
        }
    }
    /// An admin or owner acting through the owner API.
    pub fn admin(user_id: &str) -> Actor {
        Actor {
            id: format!("user:{user_id}"),
            source: Source::Admin,
        }
    }
    pub fn system() -> Actor {
        Actor {
            id: "system".into(),
            source: Source::System,
        }
    }
}

/// A weak entity tag of a resource version (`W/"7"`).
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// `If-Match` / `If-None-Match` preconditions, compared weakly (RFC 7232 §2.3.2).
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
}

fn tag_list_matches(list: &str, version: i64) -> bool {
    let want = version.to_string();
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == want)
}

impl Preconditions {
    /// For writes: `If-Match` must name the current version.
    pub fn check_write(&self, version: i64) -> Result<(), crate::error::Error> {
        if let Some(m) = &self.if_match {
            if !tag_list_matches(m, version) {
                return Err(crate::error::Error::PreconditionFailed);
            }
        }
        Ok(())
    }

    /// For reads: `If-None-Match` naming the current version means 304.
    pub fn check_read(&self, version: i64) -> Result<(), crate::error::Error> {
        if let Some(m) = &self.if_none_match {
            if tag_list_matches(m, version) {
                return Err(crate::error::Error::NotModified);
            }
        }
        self.check_write(version)
    }
}
