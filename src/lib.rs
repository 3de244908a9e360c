//! scim-seats: a SCIM 2.0 provisioning server that sells seats.

// Every unsafe block says why it is sound, and an unsafe fn's body marks each unsafe
// operation with a block of its own (the SQLite engine, `store::sqlite`, and the read
// budget's progress handler are the only places with FFI).
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod api;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod event_hooks;
pub mod fair;
pub mod jobs;
pub mod metrics;
pub mod migrate;
pub mod oidc;
pub mod outbound;
pub mod provisioning_log;
pub mod scim;
pub mod smtp;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod webhooks;
