//! Black-box tests through the real server. One test binary; see helpers.rs.

mod audit_api;
mod billing;
mod bulk;
mod discovery;
mod etags;
mod filters;
mod fixtures;
mod groups;
mod helpers;
mod lists;
mod ops;
mod owner_auth;
mod patch;
mod report_page;
mod reports;
mod seats;
mod security;
mod usage_alerts;
mod users;
