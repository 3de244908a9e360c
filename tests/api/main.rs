//! Black-box tests through the real server. One test binary; see helpers.rs.

mod billing;
mod bulk;
mod discovery;
mod etags;
mod filters;
mod fixtures;
mod groups;
mod helpers;
mod lists;
mod owner_auth;
mod patch;
mod seats;
mod security;
mod users;
