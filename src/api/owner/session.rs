//! Session tokens: owner-API JWTs handed out by an invitation acceptance or an SSO login.

use serde_json::{json, Value};

use super::people;
use crate::auth::jwt;
use crate::domain::members::Member;
use crate::domain::users::UserView;
use crate::error::Error;
use crate::state::AppState;

pub fn issue(state: &AppState, member: &Member, account: &UserView) -> Result<Value, Error> {
    let ttl = state.settings.auth.session_ttl;
    let token = jwt::issue_owner(
        &state.settings.auth.jwt,
        &member.org_id,
        &member.id,
        ttl,
        chrono::Utc::now().timestamp(),
    )?;
    Ok(json!({
        "token": token,
        "token_type": "Bearer",
        "expires_in": ttl.as_secs(),
        "member": people::member(member, Some(account)),
    }))
}
