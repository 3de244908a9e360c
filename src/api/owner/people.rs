//! Owner-API representations of members, accounts, invitations and tokens.

use chrono::NaiveDateTime;
use serde_json::{json, Value};

use crate::domain::members::invitations;
use crate::domain::members::member_admin::MemberView;
use crate::domain::members::Member;
use crate::domain::users::UserView;
use crate::store::{invitations::InvitationRow, tokens::TokenRow};

/// The account (SCIM user) a member's seat belongs to.
pub fn account(v: &UserView) -> Value {
    let r = &v.row;
    json!({
        "id": r.id,
        "userName": r.user_name,
        "active": r.active,
        "status": r.seat_status,
        "tier": r.seat_tier,
        "source": r.source,
        "seated_at": r.seated_at,
        "pending_since": r.pending_since,
        "queue_position": v.queue_position,
        "groups": v.groups.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
    })
}

pub fn member(m: &Member, acct: Option<&UserView>) -> Value {
    json!({
        "id": m.id,
        "email": m.email,
        "role": m.role.as_str(),
        "role_label": m.role.label(),
        "account": acct.map(account),
    })
}

pub fn member_view(v: &MemberView) -> Value {
    member(&v.member, v.account.as_ref())
}

pub fn invitation(r: &InvitationRow, now: NaiveDateTime) -> Value {
    json!({
        "id": r.id,
        "email": r.email,
        "role": r.role,
        "status": invitations::effective_status(r, now),
        "sent_at": r.sent_at,
        "expires_at": r.expires_at,
        "accepted_at": r.accepted_at,
        "voided_at": r.voided_at,
        "invited_by": r.invited_by,
    })
}

pub fn token(t: &TokenRow) -> Value {
    json!({
        "id": t.id,
        "prefix": crate::domain::tokens::display_prefix(&t.id),
        "description": t.description,
        "created_at": t.created_at,
        "last_used_at": t.last_used_at,
        "revoked_at": t.revoked_at,
        "status": if t.revoked_at.is_some() { "revoked" } else { "active" },
    })
}
