//! Rules: provisioning, the seat engine, organizations and tokens. Calls `store`, never HTTP.

pub mod audit;
pub mod billing;
pub mod events;
pub mod groups;
pub mod mail;
pub mod members;
pub mod oauth;
pub mod org_settings;
pub mod orgs;
pub mod overview;
pub mod provisioning;
pub mod provisioning_log;
pub mod reassign;
pub mod reports;
pub mod search;
pub mod seat_admin;
pub mod seat_decisions;
pub mod seats;
pub mod sso;
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

/// Who did it: recorded in the audit log. Its journal, when open, keeps the seat decisions
/// taken on its behalf (see `seat_decisions`).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub source: Source,
    pub journal: seat_decisions::Journal,
}

impl Actor {
    pub fn new(id: impl Into<String>, source: Source) -> Actor {
        Actor {
            id: id.into(),
            source,
            journal: seat_decisions::Journal::default(),
        }
    }
    pub fn scim(token_id: &str) -> Actor {
        Actor::new(format!("scim-token:{token_id}"), Source::Scim)
    }
    /// An admin or owner acting through the owner API.
    pub fn admin(user_id: &str) -> Actor {
        Actor::new(format!("user:{user_id}"), Source::Admin)
    }
    pub fn system() -> Actor {
        Actor::new("system", Source::System)
    }

    /// This actor with a fresh journal of its own, open.
    pub fn journaled(mut self) -> Actor {
        self.journal = seat_decisions::Journal::open();
        self
    }

    /// Note a seat decision taken for `user` (kept only when the journal is open).
    pub fn note(&self, user: &crate::store::users::UserRow, what: seat_decisions::Decided) {
        self.journal.note(user, what);
    }
}

/// A resource's version as its entity tag and `meta.version` show it: the row's counter and,
/// for a pending user, its queue position. The position moves whenever someone ahead leaves
/// the queue, which rewrites no row of the users behind; putting it in the tag changes their
/// representation's tag without an O(queue) write per move (RFC 7644 §3.14, RFC 7232 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub counter: i64,
    pub queue_position: Option<i64>,
}

impl Version {
    /// The weak entity tag (`W/"7"`, a pending user's `W/"7.3"`).
    pub fn etag(self) -> String {
        format!("W/\"{self}\"")
    }
}

impl From<i64> for Version {
    fn from(counter: i64) -> Self {
        Version {
            counter,
            queue_position: None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.queue_position {
            Some(pos) => write!(f, "{}.{pos}", self.counter),
            None => write!(f, "{}", self.counter),
        }
    }
}

/// A weak entity tag of a resource version (`W/"7"`).
pub fn etag(version: impl Into<Version>) -> String {
    version.into().etag()
}

/// `If-Match` / `If-None-Match` preconditions, compared weakly (RFC 7232 §2.3.2), evaluated
/// in the order of RFC 7232 §6.
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
}

fn tag_list_matches(list: &str, version: Version) -> bool {
    let want = version.to_string();
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == want)
}

impl Preconditions {
    /// True when the request has neither header: nothing to compare, so a caller need not
    /// work out the version (a pending user's queue position) at all.
    pub fn is_empty(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none()
    }

    /// For writes (PUT, PATCH, DELETE): `If-Match` must name the current version, and
    /// `If-None-Match` must not (RFC 7232 §3.1, §3.2: for a method other than GET or HEAD a
    /// matching `If-None-Match`, `*` included, is 412).
    pub fn check_write(&self, version: Version) -> Result<(), crate::error::Error> {
        self.check_if_match(version)?;
        match &self.if_none_match {
            Some(m) if tag_list_matches(m, version) => Err(crate::error::Error::PreconditionFailed),
            _ => Ok(()),
        }
    }

    /// For reads (GET, HEAD): a failed `If-Match` is 412; then `If-None-Match` naming the
    /// current version is 304, which carries the ETag (RFC 7232 §4.1).
    pub fn check_read(&self, version: Version) -> Result<(), crate::error::Error> {
        self.check_if_match(version)?;
        match &self.if_none_match {
            Some(m) if tag_list_matches(m, version) => {
                Err(crate::error::Error::NotModified(version.etag()))
            }
            _ => Ok(()),
        }
    }

    fn check_if_match(&self, version: Version) -> Result<(), crate::error::Error> {
        match &self.if_match {
            Some(m) if !tag_list_matches(m, version) => {
                Err(crate::error::Error::PreconditionFailed)
            }
            _ => Ok(()),
        }
    }
}

/// The attribute a list is sorted by (`sortBy`, RFC 7644 §3.4.2.3); `None` for the default
/// order, creation time, which `meta.created` also names (the order deep pages seek in).
fn sort_attribute(
    sort_by: Option<&str>,
    rs: &crate::scim::schema::ResourceSchema,
) -> Result<Option<crate::scim::filter::TypedAttr>, crate::error::Error> {
    let Some(name) = sort_by else {
        return Ok(None);
    };
    let attr = crate::scim::filter::resolve_sort(name, rs)?;
    let created = attr.is_core && attr.attr == "meta" && attr.sub == Some("created");
    Ok((!created).then_some(attr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn pre(if_match: Option<&str>, if_none_match: Option<&str>) -> Preconditions {
        Preconditions {
            if_match: if_match.map(str::to_string),
            if_none_match: if_none_match.map(str::to_string),
        }
    }

    #[test]
    fn a_pending_users_tag_holds_its_queue_position() {
        let v = Version {
            counter: 7,
            queue_position: Some(3),
        };
        assert_eq!(v.etag(), "W/\"7.3\"");
        assert_eq!(etag(7), "W/\"7\"");
        assert!(pre(Some("W/\"7.3\""), None).check_write(v).is_ok());
        assert!(matches!(
            pre(Some("W/\"7\""), None).check_write(v),
            Err(Error::PreconditionFailed)
        ));
        assert!(matches!(pre(None, Some("W/\"7.2\"")).check_read(v), Ok(())));
    }

    #[test]
    fn if_none_match_on_a_write_is_412_and_on_a_read_304_with_the_tag() {
        let v = Version::from(4);
        for tag in ["*", "W/\"4\"", "\"4\"", "W/\"1\", W/\"4\""] {
            assert!(matches!(
                pre(None, Some(tag)).check_write(v),
                Err(Error::PreconditionFailed)
            ));
            match pre(None, Some(tag)).check_read(v) {
                Err(Error::NotModified(t)) => assert_eq!(t, "W/\"4\""),
                other => panic!("{tag}: {other:?}"),
            }
        }
        assert!(pre(None, Some("W/\"3\"")).check_write(v).is_ok());
        // If-Match is evaluated first (RFC 7232 §6).
        assert!(matches!(
            pre(Some("W/\"3\""), Some("W/\"4\"")).check_read(v),
            Err(Error::PreconditionFailed)
        ));
        assert!(pre(None, None).is_empty());
    }
}
