//! Remembered positions in an organization's users, in the default order (`meta.created`,
//! then id), so a list page deep into them seeks instead of stepping over every user before
//! it. Neither database can jump to the n-th row of an index: `OFFSET 90000` reads 90,000
//! index entries, on every page, and an IdP importing a million users a page at a time
//! would read half a billion. The key of every `STRIDE`-th user is kept, found once by a
//! scan of `STRIDE` entries from the previous one (from the second page that sees the same
//! users on), and a page then starts at the nearest one before it and steps over fewer than
//! `STRIDE` users.
//!
//! The positions hold for one `users_version` of the organization, which moves whenever a
//! user joins or leaves: a deleted user shifts everyone behind it, and a created one is not
//! sure to sort last (a clock can step back; PostgreSQL transactions commit out of order).
//! The version and the page are read in one snapshot, so the page is read at the version
//! its positions were taken for: the positions are the store's own business, handed to
//! `users::list` only inside `Db::read` (`Using`, `in_use`), whose reads are snapshots.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::scim_users;
use super::{DbConn, Q};

/// Users between two remembered positions.
pub const STRIDE: i64 = 256;

/// Organizations whose positions are kept at once; past that the map starts over. An
/// organization of a million users holds ~4,000 keys (~300 KB).
const MAX_ORGS: usize = 16;

/// A user's place in the default order.
pub type Key = (NaiveDateTime, String);

thread_local! {
    /// The positions of the `Db` whose snapshot read runs on this thread, if any.
    static IN_USE: RefCell<Option<Arc<PageMarks>>> = const { RefCell::new(None) };
}

/// While alive, `in_use` on this thread answers `marks` (set by `Db::read` around a read).
pub(super) struct Using {
    previous: Option<Arc<PageMarks>>,
}

impl Using {
    pub(super) fn start(marks: Arc<PageMarks>) -> Using {
        let previous = IN_USE.with(|m| m.replace(Some(marks)));
        Using { previous }
    }
}

impl Drop for Using {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = IN_USE.try_with(|m| m.replace(previous));
    }
}

/// The positions a list may seek from: `Some` only inside a snapshot read of `Db::read`.
pub(super) fn in_use() -> Option<Arc<PageMarks>> {
    IN_USE.try_with(|m| m.borrow().clone()).ok().flatten()
}

#[derive(Default)]
pub struct PageMarks {
    orgs: Mutex<HashMap<String, OrgMarks>>,
}

struct OrgMarks {
    version: i64,
    /// `keys[i]` is the key of the user at 0-based position `(i + 1) * STRIDE`.
    keys: Vec<Key>,
}

impl PageMarks {
    /// The remembered position nearest at or before `offset` (a multiple of `STRIDE`, at
    /// least one) and the key of the user there, finding the positions up to it that are
    /// not known yet. `None` when `offset` is before the first one, when no earlier page saw
    /// this `version`, or when there are no users that far.
    /// Every read here must be checked against `version` by the caller afterwards.
    pub fn seek(
        &self,
        conn: &mut DbConn,
        org_id: &str,
        version: i64,
        offset: i64,
    ) -> Q<Option<(i64, Key)>> {
        let wanted = usize::try_from(offset / STRIDE).unwrap_or(0);
        if wanted == 0 {
            return Ok(None);
        }
        let (known, mut last) = {
            let mut orgs = self.lock();
            let marks = orgs.get(org_id).filter(|m| m.version == version);
            match marks {
                Some(m) if m.keys.len() >= wanted => {
                    let at = wanted as i64 * STRIDE;
                    return Ok(Some((at, m.keys[wanted - 1].clone())));
                }
                Some(m) => (m.keys.len(), m.keys.last().cloned()),
                None => {
                    // Users changed since the positions were found (or none were): note this
                    // version, and find positions only when a later page sees it again. While
                    // users keep joining, a page would otherwise pay for positions that are
                    // stale before the next page asks.
                    if orgs.len() >= MAX_ORGS {
                        orgs.clear();
                    }
                    orgs.insert(
                        org_id.to_string(),
                        OrgMarks {
                            version,
                            keys: Vec::new(),
                        },
                    );
                    return Ok(None);
                }
            }
        };
        let mut found = Vec::new();
        while known + found.len() < wanted {
            match next_mark(conn, org_id, last.as_ref())? {
                Some(key) => {
                    found.push(key.clone());
                    last = Some(key);
                }
                None => break,
            }
        }
        let reached = known + found.len();
        {
            let mut orgs = self.lock();
            // Another request may have extended them meanwhile: keep what is there then.
            if let Some(m) = orgs.get_mut(org_id) {
                if m.version == version && m.keys.len() == known {
                    m.keys.extend(found);
                }
            }
        }
        // `last` is the key at position `reached * STRIDE` (none when nothing was reached).
        Ok(last.map(|key| (reached as i64 * STRIDE, key)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, OrgMarks>> {
        // The map holds no invariant a panicking holder could break half-way.
        self.orgs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The key `STRIDE` users after `after` (or after the start), reading index entries only.
fn next_mark(conn: &mut DbConn, org_id: &str, after: Option<&Key>) -> Q<Option<Key>> {
    use scim_users::dsl as u;
    let mut q = u::scim_users
        .filter(u::org_id.eq(org_id))
        .select((u::created_at, u::id))
        .order((u::created_at.asc(), u::id.asc()))
        .into_boxed();
    if let Some((at, id)) = after {
        q = q.filter(from_key(*at, id));
    }
    q.offset(STRIDE).limit(1).get_result(conn).optional()
}

/// Users at or after `(at, id)` in the default order. Written so the `(org_id, created_at,
/// id)` index seeks to `at` on both backends.
pub fn from_key<'a>(
    at: NaiveDateTime,
    id: &'a str,
) -> Box<
    dyn BoxableExpression<scim_users::table, super::MultiBackend, SqlType = diesel::sql_types::Bool>
        + 'a,
> {
    use scim_users::dsl as u;
    Box::new(
        u::created_at
            .ge(at)
            .and(u::created_at.gt(at).or(u::id.ge(id))),
    )
}
