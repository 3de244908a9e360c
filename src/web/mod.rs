//! TEMPORARY until the web foundation is merged: only what sso.rs needs.
pub mod page;
pub mod session;
pub mod sso;
