//! TEMPORARY stand-in for the foundation's PageError.
use actix_web::{HttpResponse, ResponseError};

use crate::error::Error;

#[derive(Debug)]
pub struct PageError(pub Error);

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError(e)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.0.status_code()
    }
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!doctype html><html><body><p>{}</p></body></html>",
                self.0
            ))
    }
}
