//! `GET /reports`: the pending-user report is a page of the owner console now. A browser
//! opening the old address (or an old bookmark) is sent to `/console/pending`, which asks it
//! to sign in first when it has no session. The old `?token=<owner JWT>` log-in is gone on
//! purpose: a bearer token in an address ends up in the history, in proxy logs and in
//! Referer headers. Programs keep `/api/v1/reports/pending` and `.csv` with a bearer token.

use actix_web::HttpResponse;

/// Where the report lives now.
pub const CONSOLE_PENDING: &str = "/console/pending";

pub async fn show() -> HttpResponse {
    // Any `?token=` is dropped, never stored.
    super::page::see_other(CONSOLE_PENDING)
}
