//! Browser sessions, kept on the server. The cookie carries a random secret; the row (keyed by
//! its hash) names the member and holds the session's CSRF token. The member's role is read
//! fresh on every request, so sign-out, a role change or a removal takes effect at once.

use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::members::Member;
use crate::error::Error;
use crate::store::{self, web_sessions::SessionRow, DbConn};

/// A session as it is started: `secret` goes into the cookie and exists nowhere else.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub secret: String,
    pub csrf_token: String,
    pub expires_at: NaiveDateTime,
}

/// A live session with its member, as a request sees it.
#[derive(Debug, Clone)]
pub struct Current {
    pub member: Member,
    pub csrf_token: String,
    pub expires_at: NaiveDateTime,
}

/// 256 random bits, hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Start a session for a member; expired sessions are swept on the way.
pub fn start(
    conn: &mut DbConn,
    member: &Member,
    now: NaiveDateTime,
    ttl: Duration,
) -> Result<NewSession, Error> {
    store::web_sessions::delete_expired(conn, now)?;
    let secret = random_secret();
    let row = SessionRow {
        id: key(&secret),
        org_id: member.org_id.clone(),
        member_id: member.id.clone(),
        csrf_token: random_secret(),
        created_at: now,
        expires_at: now + ttl,
    };
    store::web_sessions::insert(conn, &row)?;
    Ok(NewSession {
        secret,
        csrf_token: row.csrf_token,
        expires_at: row.expires_at,
    })
}

/// The session a cookie secret opens, if it is live and its member still exists.
pub fn current(
    conn: &mut DbConn,
    secret: &str,
    now: NaiveDateTime,
) -> Result<Option<Current>, Error> {
    // A cookie is client input: anything but our 64 hex digits opens nothing.
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some((session, member)) = store::web_sessions::find_live(conn, &key(secret), now)? else {
        return Ok(None);
    };
    Ok(Some(Current {
        member: Member::try_from(member)?,
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
    }))
}

/// Sign out: the row goes, so the cookie opens nothing any more.
pub fn end(conn: &mut DbConn, secret: &str) -> Result<(), Error> {
    store::web_sessions::delete(conn, &key(secret))?;
    Ok(())
}

/// End every session of a member (removed, or its account switched off).
pub fn end_all_for(conn: &mut DbConn, member_id: &str) -> Result<usize, Error> {
    Ok(store::web_sessions::delete_for_member(conn, member_id)?)
}
