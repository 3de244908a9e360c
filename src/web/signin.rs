//! `GET /signin`: where a person without a session is sent.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::layout::Layout;
use super::page::{self, PageError};

#[derive(Deserialize)]
pub struct SignInQuery {
    signed_out: Option<String>,
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    layout: Layout,
    signed_out: bool,
}

pub async fn show(query: web::Query<SignInQuery>) -> Result<HttpResponse, PageError> {
    page::render(&SignInPage {
        layout: Layout::public("Sign in"),
        signed_out: query.signed_out.is_some(),
    })
}
