//! `POST /.search` on the service root: users then groups, paged as one list (RFC 7644 §3.4.3).

use super::groups::{self, GroupView};
use super::users::{self, UserView};
use crate::error::Error;
use crate::scim::filter::{parse_filter, validate};
use crate::scim::list::ListQuery;
use crate::scim::schema::Registry;
use crate::store::DbConn;

pub struct Mixed {
    pub users: Vec<UserView>,
    pub groups: Vec<GroupView>,
    pub total: i64,
}

/// A filter that names attributes only one resource type has simply matches nothing of the
/// other type; a filter valid for neither is an error.
pub fn search_all(conn: &mut DbConn, org_id: &str, q: &ListQuery) -> Result<Mixed, Error> {
    // Per resource type: `None` when the filter does not apply to it, else its checked filter.
    let (user_filter, group_filter) = match &q.filter {
        None => (Some(None), Some(None)),
        Some(f) => {
            let parsed = parse_filter(f)?;
            let reg = Registry::get();
            let u = validate(&parsed, &reg.user);
            let g = validate(&parsed, &reg.group);
            if let (Err(e), Err(_)) = (&u, &g) {
                return Err(e.clone().into());
            }
            (u.ok().map(Some), g.ok().map(Some))
        }
    };
    // Count both first (count=0 queries), then page across the concatenation.
    let counting = ListQuery {
        count: 0,
        ..q.clone()
    };
    let user_total = match &user_filter {
        Some(f) => users::search(conn, org_id, &counting, f.as_ref(), None)?.1,
        None => 0,
    };
    let group_total = match &group_filter {
        Some(f) => groups::search(conn, org_id, &counting, f.as_ref())?.1,
        None => 0,
    };
    let mut out = Mixed {
        users: Vec::new(),
        groups: Vec::new(),
        total: user_total + group_total,
    };
    let offset = q.offset();
    let mut remaining = q.count;
    if let (Some(f), true) = (&user_filter, offset < user_total && remaining > 0) {
        let page = ListQuery {
            count: remaining,
            ..q.clone()
        };
        out.users = users::search(conn, org_id, &page, f.as_ref(), None)?.0;
        remaining -= out.users.len() as i64;
    }
    if let (Some(f), true) = (&group_filter, remaining > 0) {
        let group_offset = (offset - user_total).max(0);
        let page = ListQuery {
            start_index: group_offset + 1,
            count: remaining,
            ..q.clone()
        };
        out.groups = groups::search(conn, org_id, &page, f.as_ref())?.0;
    }
    Ok(out)
}
