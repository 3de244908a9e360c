//! The owner console under `/console`: pages over the same domain functions and role checks
//! as the owner API.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::layout::Layout;
use super::page::{self, PageError};
use super::session::SignedIn;
use crate::domain::orgs;
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    layout: Layout,
    org_name: String,
}

/// `GET /console`
pub async fn overview(
    state: web::Data<AppState>,
    who: SignedIn,
) -> Result<HttpResponse, PageError> {
    let org_id = who.session.org_id.clone();
    let org = state.db.read(move |c| orgs::by_id(c, &org_id)).await?;
    page::render(&OverviewPage {
        layout: Layout::signed_in("Overview", &who, "/console"),
        org_name: org.name,
    })
}
