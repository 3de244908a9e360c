//! The browser layer: server-rendered pages (askama templates in `templates/`) over the same
//! domain functions and role checks as the owner API. A page handler extracts the session
//! (and its form), makes one domain call and renders; every action is a POST that answers
//! with a redirect (Post/Redirect/Get), so a reload never repeats it.

pub mod assets;
pub mod console;
pub mod csrf;
pub mod invitations;
pub mod layout;
pub mod old_report;
pub mod page;
pub mod session;
pub mod signin;
pub mod sso;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // A form body that cannot be read is a page, like every other browser error.
    let forms = web::FormConfig::default().error_handler(|e, _| {
        page::PageError::from(crate::error::Error::BadRequest(format!(
            "the form could not be read: {e}"
        )))
        .into()
    });
    cfg.app_data(forms)
        .route("/assets/app.css", web::get().to(assets::stylesheet))
        .route("/invitations/accept", web::get().to(invitations::show))
        .route("/invitations/accept", web::post().to(invitations::accept))
        .route("/signin", web::get().to(signin::show))
        .route("/signin", web::post().to(signin::request_link))
        .route("/signin/sent", web::get().to(signin::sent))
        .route("/signin/link", web::get().to(signin::show_link))
        .route("/signin/link", web::post().to(signin::use_link))
        .route("/sso", web::get().to(sso::choose))
        .route("/sso/{org}", web::get().to(sso::start))
        .route("/sso/{org}/callback", web::get().to(sso::callback))
        .route("/signout", web::post().to(signin::sign_out))
        // The old report page's address, for browsers and bookmarks.
        .route("/reports", web::get().to(old_report::show))
        .configure(console::configure);
}
