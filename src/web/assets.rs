//! The one stylesheet, compiled into the binary (no build step, no second file to deploy).

use actix_web::{http::header, HttpResponse};

const APP_CSS: &str = include_str!("../../assets/app.css");

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(APP_CSS)
}
