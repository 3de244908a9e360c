//! What the PostgreSQL backend needs beyond diesel's own `PgConnection`.
//!
//! - `group_commit`: the SCIM write use cases of a process committed together, a batch per
//!   transaction, so that an organization's lock and a commit's WAL flush are paid once for
//!   many requests (`Db::write_for_org` on PostgreSQL).
//! - `reused_savepoint`: one savepoint name for a run of all-or-nothing units (a batch's use
//!   cases, a Bulk's steps), one round trip between two of them.

pub mod group_commit;
pub mod reused_savepoint;
