//! The pending-user report (Admin and above): JSON pages and a streamed CSV.

use actix_web::{http::header, web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::owner::render;
use crate::auth::OwnerSession;
use crate::domain::members::Role;
use crate::domain::reports::{self, PendingEntry, PendingSummary};
use crate::error::Error;
use crate::state::AppState;
use crate::store::{self, reports::From};

pub const MAX_PER_PAGE: i64 = 500;
/// Rows per database read while streaming the CSV.
pub const CSV_PAGE: i64 = 1000;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
    per_page: Option<i64>,
}

/// A timestamp as RFC 3339 UTC.
pub fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn entry_json(e: &PendingEntry) -> Value {
    json!({
        "queue_position": e.queue_position,
        "id": e.id,
        "display_name": e.display_name,
        "user_name": e.user_name,
        "email": e.email,
        "source": e.source,
        "external_id": e.external_id,
        "groups": e.groups,
        "requested_tier": e.requested_tier,
        "pending_since": e.pending_since.map(rfc3339),
        "days_waiting": e.days_waiting,
    })
}

pub fn summary_json(s: &PendingSummary) -> Value {
    let by_source: serde_json::Map<String, Value> = s
        .by_source
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({
        "total": s.total,
        "by_source": by_source,
        "requested_tiers": {
            "premium": s.requested_premium,
            "standard": s.requested_standard,
            "none": s.total - s.requested_premium - s.requested_standard,
        },
        "tier_waits": s.tier_waits,
        "seats_needed": s.needed,
        "quote": s.quote.as_ref().map(|q| {
            let mut v = render::quote(q);
            v["date"] = json!(s.today);
            v
        }),
        "quote_unavailable": s.quote_unavailable,
    })
}

pub async fn json(
    session: OwnerSession,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let page = query.page.unwrap_or(1).max(1);
    let per_page = query.per_page.unwrap_or(100).clamp(1, MAX_PER_PAGE);
    let offset = (page - 1).saturating_mul(per_page);
    let today = state.clock.today();
    let org_id = session.org_id.clone();
    let (summary, entries) = state
        .db
        .read(move |c| {
            let summary = reports::pending_summary(c, &org_id, today)?;
            let entries = reports::pending_entries(
                c,
                &org_id,
                From::Offset(offset),
                per_page,
                offset + 1,
                store::now(),
            )?;
            Ok((summary, entries))
        })
        .await?;
    let mut body = summary_json(&summary);
    body["generated_at"] = json!(rfc3339(store::now()));
    body["page"] = json!(page);
    body["per_page"] = json!(per_page);
    body["pages"] = json!((summary.total + per_page - 1) / per_page);
    body["users"] = json!(entries.iter().map(entry_json).collect::<Vec<_>>());
    Ok(HttpResponse::Ok().json(body))
}

pub const CSV_HEADER: [&str; 11] = [
    "queue_position",
    "display_name",
    "user_name",
    "email",
    "source",
    "external_id",
    "groups",
    "requested_tier",
    "pending_since",
    "days_waiting",
    "id",
];

/// Rows as CSV text (quoted by the `csv` crate), with the header first when asked.
fn csv_chunk(entries: &[PendingEntry], header: bool) -> Result<web::Bytes, Error> {
    let mut w = crate::api::csv::Writer::with_capacity(entries.len() * 160 + 128);
    if header {
        w.record(CSV_HEADER)?;
    }
    for e in entries {
        w.record([
            e.queue_position.to_string().as_str(),
            &e.display_name,
            &e.user_name,
            e.email.as_deref().unwrap_or(""),
            &e.source,
            e.external_id.as_deref().unwrap_or(""),
            &e.groups.join("; "),
            e.requested_tier.map(|t| t.as_str()).unwrap_or(""),
            &e.pending_since.map(rfc3339).unwrap_or_default(),
            &e.days_waiting.to_string(),
            &e.id,
        ])?;
    }
    let bytes = w.into_bytes()?;
    Ok(web::Bytes::from(bytes))
}

/// Where the stream stands between pages.
struct Cursor {
    after: Option<i64>,
    position: i64,
    first: bool,
    done: bool,
}

/// `GET /api/v1/reports/pending.csv`: the whole queue, streamed a page of rows at a time
/// (chunked), so 100,000 pending users never sit in memory together. Pages follow
/// `queue_seq` (keyset), so each read is an index range, not an ever-growing OFFSET. The
/// stream is not one snapshot: a user activated while it runs may be missing, one queued
/// meanwhile may appear at the end.
pub async fn csv(session: OwnerSession, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    Ok(csv_response(state, session.org_id))
}

/// The streamed CSV of an organization's queue (the caller has checked the role); the
/// console's download uses it too.
pub fn csv_response(state: web::Data<AppState>, org_id: String) -> HttpResponse {
    let start = Cursor {
        after: None,
        position: 1,
        first: true,
        done: false,
    };
    let stream = futures_util::stream::unfold(start, move |cur| {
        let (state, org_id) = (state.clone(), org_id.clone());
        async move {
            if cur.done {
                return None;
            }
            let from = cur.after.map_or(From::Offset(0), From::AfterSeq);
            let position = cur.position;
            let read = state
                .db
                .read(move |c| {
                    reports::pending_entries(c, &org_id, from, CSV_PAGE, position, store::now())
                })
                .await;
            let entries = match read {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "streaming the pending CSV");
                    let stop = Cursor { done: true, ..cur };
                    return Some((Err(e), stop));
                }
            };
            let next = Cursor {
                after: entries.last().map(|e| e.queue_seq).or(cur.after),
                position: cur.position + entries.len() as i64,
                first: false,
                done: (entries.len() as i64) < CSV_PAGE,
            };
            Some((csv_chunk(&entries, cur.first), next))
        }
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"pending-users.csv\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(stream)
}
