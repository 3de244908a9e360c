//! Black-box tests through the real server. One test binary; see helpers.rs.

mod discovery;
mod groups;
mod helpers;
mod seats;
mod security;
mod users;
