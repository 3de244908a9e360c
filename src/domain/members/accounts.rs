//! How an organization member relates to a seat. A member (a person with a role, in
//! `org_members`) uses the seat of its **account**: the SCIM user of the same organization whose
//! `userName` or one of whose `emails` equals the member's email (case-insensitive; a userName
//! match wins, then the oldest account). Accepting an invitation or a JIT login creates that
//! account when none exists (a `scim_users` row with source `invitation` / `jit`), which claims
//! the highest free tier (or its group's tier) or joins the pending queue, like any SCIM create.
//! A member with no account holds no seat; an IdP that later pushes a user with that email
//! provides the account.

use std::collections::HashMap;

use serde_json::json;

use crate::domain::members::Member;
use crate::domain::seats::inventory::STATUS_INACTIVE;
use crate::domain::users::{self, CreateOptions, UserView};
use crate::domain::{seat_admin, Actor};
use crate::error::Error;
use crate::store::{self, users::UserRow, DbConn};

/// The account of each email given (lowercased keys).
pub fn for_emails(
    conn: &mut DbConn,
    org_id: &str,
    emails: &[String],
) -> Result<HashMap<String, UserRow>, Error> {
    let norms: Vec<String> = emails.iter().map(|e| e.to_lowercase()).collect();
    let mut out: HashMap<String, UserRow> = HashMap::new();
    // Oldest first; a userName match replaces an emails match.
    for (email, user) in store::users::by_emails(conn, org_id, &norms)? {
        let by_user_name = user.user_name_norm == email;
        match out.get(&email) {
            Some(have) if have.user_name_norm == email || !by_user_name => {}
            _ => {
                out.insert(email, user);
            }
        }
    }
    Ok(out)
}

pub fn for_email(conn: &mut DbConn, org_id: &str, email: &str) -> Result<Option<UserRow>, Error> {
    let norm = email.to_lowercase();
    Ok(for_emails(conn, org_id, std::slice::from_ref(&norm))?.remove(&norm))
}

pub fn of_member(conn: &mut DbConn, m: &Member) -> Result<Option<UserRow>, Error> {
    for_email(conn, &m.org_id, &m.email)
}

/// The SCIM resource of an account made for a member.
fn resource(email: &str, display_name: Option<&str>) -> serde_json::Value {
    let mut r = json!({
        "schemas": [crate::scim::schema::CORE_USER],
        "userName": email,
        "active": true,
        "emails": [{"value": email, "type": "work", "primary": true}],
    });
    if let Some(n) = display_name.filter(|n| !n.trim().is_empty()) {
        r["displayName"] = json!(n.trim());
    }
    r
}

/// What `ensure` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    /// A new account was created (and claimed a seat or queued).
    Created,
    /// An account removed by an admin was given a seat again (or queued).
    Reassigned,
    /// The account existed as it is.
    Existing,
}

/// The account of `email`, created when missing (source from `actor`). With `reassign`, an
/// account an admin had removed gets a seat again or queues (an invitation is an admin's
/// decision to bring the person back); an account the IdP deactivated is left alone.
pub fn ensure(
    conn: &mut DbConn,
    org_id: &str,
    email: &str,
    display_name: Option<&str>,
    reassign: bool,
    actor: &Actor,
) -> Result<(UserView, Ensured), Error> {
    match for_email(conn, org_id, email)? {
        None => {
            let normalized = crate::scim::resource::normalize(
                &resource(email, display_name),
                &crate::scim::schema::Registry::get().user,
            )?;
            let new = users::NewUser::new(&normalized)?;
            let view = users::create(conn, org_id, new, CreateOptions::default(), actor)?;
            Ok((view, Ensured::Created))
        }
        Some(row) if reassign && row.seat_status == STATUS_INACTIVE && row.active => Ok((
            seat_admin::assign_seat(conn, org_id, &row.id, actor)?,
            Ensured::Reassigned,
        )),
        Some(row) => Ok((users::get(conn, org_id, &row.id, false)?, Ensured::Existing)),
    }
}
