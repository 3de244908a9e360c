//! Black-box tests through the real server. One test binary; see helpers.rs.

mod audit_api;
mod billing;
mod bulk;
mod cli;
mod discovery;
mod etags;
mod filters;
mod fixtures;
mod group_tiers;
mod groups;
mod helpers;
mod invitations;
mod jit;
mod lists;
mod oauth;
mod ops;
mod owner_api;
mod owner_auth;
mod patch;
mod report_page;
mod reports;
mod roles;
mod seats;
mod security;
mod usage_alerts;
mod users;
