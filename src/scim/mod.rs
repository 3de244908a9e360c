//! The SCIM protocol, pure: serde + std, no actix, no diesel. Knows nothing about seats.

pub mod error;
pub mod list;
pub mod resource;
pub mod schema;
