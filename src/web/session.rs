//! TEMPORARY stand-in for the foundation's sessions.
use actix_web::http::header;
use actix_web::HttpResponse;

use crate::domain::members::Member;
use crate::error::Error;
use crate::startup::AppState;

pub async fn sign_in_response(
    _state: &AppState,
    _member: &Member,
    next: &str,
) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, next.to_string()))
        .finish())
}
