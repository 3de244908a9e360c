//! `GET /api/v1/events?after=<event id or seq>&limit=N` (Owner and above): the seat event feed,
//! oldest first, read with a cursor.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::OwnerSession;
use crate::domain::events;
use crate::domain::members::Role;
use crate::error::Error;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    after: Option<String>,
    limit: Option<i64>,
}

pub async fn list(
    session: OwnerSession,
    state: web::Data<AppState>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let org = session.org_id.clone();
    let FeedQuery { after, limit } = query.into_inner();
    let limit = limit.unwrap_or(100);
    let page = state
        .db
        .read(move |c| events::page(c, &org, after.as_deref(), limit))
        .await?;
    // The cursor to pass next: the last event's id (or the one given, when nothing is new).
    let next = page.last().map(|e| e.id.clone());
    Ok(HttpResponse::Ok().json(json!({"events": page, "next_cursor": next})))
}
