//! HTTP handlers: extract, convert, run one domain function, render.

pub mod body;
pub mod codec_refusals;
pub mod csv;
pub mod guard;
pub mod oauth;
pub mod openapi;
pub mod owner;
pub mod reports;
pub mod respond;
pub mod route_doc;
pub mod scim;
