//! Black-box tests through the real server. One test binary; see helpers.rs.

mod billing;
mod bulk;
mod cli;
mod discovery;
mod etags;
mod filters;
mod fixtures;
mod groups;
mod helpers;
mod invitations;
mod jit;
mod lists;
mod owner_api;
mod owner_auth;
mod patch;
mod roles;
mod seats;
mod security;
mod users;
