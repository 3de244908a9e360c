//! The owner API under `/api/v1`: contract, seat orders (preview/confirm) and invoices.
//! Every route takes an `OwnerSession` (owner JWT) and checks the role it needs.

pub mod contract;
pub mod invoices;
pub mod render;
pub mod seats;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/contract", web::get().to(contract::get))
            .route("/seats/preview", web::post().to(seats::preview))
            .route("/seats/confirm", web::post().to(seats::confirm))
            .route("/invoices", web::get().to(invoices::list))
            // Invoice numbers never contain a dot, so the suffix routes cannot be shadowed.
            .route(
                "/invoices/{number:[^/.]+}.html",
                web::get().to(invoices::html),
            )
            .route(
                "/invoices/{number:[^/.]+}.csv",
                web::get().to(invoices::csv),
            )
            .route("/invoices/{number:[^/.]+}", web::get().to(invoices::get)),
    );
}
