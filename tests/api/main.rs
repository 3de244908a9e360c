//! Black-box tests through the real server. One test binary; see helpers.rs.

mod billing;
mod audit_api;
mod bulk;
mod discovery;
mod etags;
mod filters;
mod fixtures;
mod groups;
mod helpers;
mod lists;
mod owner_auth;
mod ops;
mod patch;
mod seats;
mod report_page;
mod reports;
mod security;
mod usage_alerts;
mod users;
