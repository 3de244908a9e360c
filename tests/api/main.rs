//! Black-box tests through the real server. One test binary; see helpers.rs.

mod discovery;
mod fixtures;
mod groups;
mod helpers;
mod security;
mod users;
