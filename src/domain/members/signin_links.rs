//! Sign-in links: a member of an organization without SSO asks for one by mail at `/signin`
//! and signs in by opening it (one use, `VALID_MINUTES`). Only the token's hash is stored.
//! The request never tells whether the address belongs to anybody; a member of an
//! organization that signs in through its identity provider gets a mail pointing there.

use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::mail::{self, Mail};
use crate::domain::members::{self, Member};
use crate::domain::{audit, Actor, Source};
use crate::error::Error;
use crate::store::{self, signin_links::LinkRow, DbConn};

/// Where links are opened (relative to the server's public URL).
pub const LINK_PATH: &str = "/signin/link";
/// How long a link can be used after it was sent.
pub const VALID_MINUTES: i64 = 15;
/// Mails one address gets from sign-in requests per `VALID_MINUTES`: enough for a person who
/// lost one or two, and no way for a stranger to flood somebody's inbox through us. Beyond it
/// requests are answered the same and send nothing.
pub const MAX_MAILS_PER_WINDOW: i64 = 3;
const PREFIX: &str = "scimseats-link";
const MAIL_KIND: &str = "signin_link";

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn token_id(token: &str) -> Option<&str> {
    let rest = token.trim().strip_prefix(PREFIX)?.strip_prefix('_')?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 32 && !secret.is_empty()).then_some(id)
}

/// Mail a link (or, for an organization with SSO, the way to its IdP) to every membership of
/// `email`. Returns how many mails were queued; the caller must not show it.
pub fn request(
    conn: &mut DbConn,
    email: &str,
    now: NaiveDateTime,
    public_url: &str,
) -> Result<usize, Error> {
    let email = members::validate_email(email)?;
    let base = public_url.trim_end_matches('/');
    let mut queued = 0;
    // Old links nobody used are of no further use to anyone.
    store::signin_links::purge(conn, now - Duration::days(1))?;
    for row in store::members::find_all_by_email(conn, &email.to_lowercase())? {
        let Some(org) = store::orgs::find(conn, &row.org_id)? else {
            continue;
        };
        // The outbox stamps rows with the wall clock, so the window is read on it too.
        let window_start = store::now() - Duration::minutes(VALID_MINUTES);
        if store::mail::count_since(conn, &org.id, MAIL_KIND, &row.email, window_start)?
            >= MAX_MAILS_PER_WINDOW
        {
            tracing::info!(org_id = %org.id, member_id = %row.id, "sign-in link request over the mail limit; nothing sent");
            continue;
        }
        let body = if store::sso::find(conn, &org.id)?.is_some() {
            format!(
                "{org} signs in through its identity provider. Sign in here:\n{base}/sso/{slug}\n",
                org = org.name,
                slug = org.slug,
            )
        } else {
            let id = uuid::Uuid::new_v4().simple().to_string();
            let mut secret = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            let token = format!("{PREFIX}_{id}_{}", hex::encode(secret));
            store::signin_links::insert(
                conn,
                &LinkRow {
                    id: id.clone(),
                    org_id: org.id.clone(),
                    member_id: row.id.clone(),
                    token_hash: hash(&token),
                    created_at: now,
                    expires_at: now + Duration::minutes(VALID_MINUTES),
                    used_at: None,
                },
            )?;
            format!(
                "Sign in to {org} on scim-seats within {VALID_MINUTES} minutes (the link works once):\n\
                 {base}{LINK_PATH}?token={token}\n\n\
                 If you did not ask for it, ignore this mail.\n",
                org = org.name,
            )
        };
        mail::enqueue(
            conn,
            &org.id,
            MAIL_KIND,
            Mail {
                to: row.email.clone(),
                subject: format!("Sign in to {} on scim-seats", org.name),
                body,
            },
        )?;
        queued += 1;
    }
    Ok(queued)
}

/// What the link page shows before the person presses the button.
#[derive(Debug, Clone)]
pub struct LinkInfo {
    pub org_name: String,
    pub email: String,
    pub expires_at: NaiveDateTime,
}

/// The link's row if it can still be used at `now`.
fn usable(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<LinkRow, Error> {
    let invalid = || {
        Error::Unauthorized(
            "this sign-in link is not valid: ask for a new one on the sign-in page".into(),
        )
    };
    let id = token_id(token).ok_or_else(invalid)?;
    let row = store::signin_links::find(conn, id)?.ok_or_else(invalid)?;
    let matches: bool = hash(token.trim())
        .as_bytes()
        .ct_eq(row.token_hash.as_bytes())
        .into();
    if !matches {
        return Err(invalid());
    }
    if row.used_at.is_some() {
        return Err(Error::Gone(
            "this sign-in link was already used (each link works once): ask for a new one on the sign-in page".into(),
        ));
    }
    if now >= row.expires_at {
        return Err(Error::Gone(format!(
            "this sign-in link expired ({VALID_MINUTES} minutes after it was sent): ask for a new one on the sign-in page"
        )));
    }
    Ok(row)
}

pub fn peek(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<LinkInfo, Error> {
    let row = usable(conn, token, now)?;
    let org =
        store::orgs::find(conn, &row.org_id)?.ok_or_else(|| Error::not_found("organization"))?;
    let member = store::members::find(conn, &row.org_id, &row.member_id)?
        .ok_or_else(|| Error::Gone("you are no longer a member of this organization".into()))?;
    Ok(LinkInfo {
        org_name: org.name,
        email: member.email,
        expires_at: row.expires_at,
    })
}

/// Use the link (once): the member to start a session for.
pub fn redeem(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<Member, Error> {
    let row = usable(conn, token, now)?;
    if !store::signin_links::mark_used(conn, &row.id, now)? {
        return Err(Error::Gone(
            "this sign-in link was already used (each link works once): ask for a new one on the sign-in page".into(),
        ));
    }
    let member = store::members::find(conn, &row.org_id, &row.member_id)?
        .ok_or_else(|| Error::Gone("you are no longer a member of this organization".into()))?;
    let member = Member::try_from(member)?;
    audit::record(
        conn,
        &row.org_id,
        &Actor::new(format!("member:{}", member.id), Source::System),
        "signin_link.used",
        Some(&row.id),
        json!({"member": member.id}),
    )?;
    Ok(member)
}

#[cfg(test)]
mod tests {
    use super::token_id;

    #[test]
    fn link_ids_parse_only_from_our_shape() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(token_id(&format!("scimseats-link_{id}_ab")), Some(id));
        assert_eq!(token_id(&format!("scimseats-inv_{id}_ab")), None);
        assert_eq!(token_id("x"), None);
    }
}
