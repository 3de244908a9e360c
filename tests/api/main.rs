//! Black-box tests through the real server. One test binary; see helpers.rs.

mod billing;
mod discovery;
mod groups;
mod helpers;
mod owner_auth;
mod security;
mod users;
