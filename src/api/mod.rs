//! HTTP handlers: extract, convert, run one domain function, render.

pub mod body;
pub mod owner;
pub mod respond;
pub mod scim;
