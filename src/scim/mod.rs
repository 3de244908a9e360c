//! The SCIM protocol, pure: serde + std, no actix, no diesel. Knows nothing about seats.

pub mod bulk;
pub mod datetime;
pub mod error;
pub mod filter;
pub mod limits;
pub mod list;
pub mod patch;
pub mod path;
pub mod projection;
pub mod resource;
pub mod schema;
