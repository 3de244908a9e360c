//! The console's overview of an organization for one member: a view over the members, the
//! seat usage report and the contract, kept apart from each so that none of them needs the
//! others (`member_admin` uses `reports` for the pending list it offers).

use chrono::NaiveDate;

use super::members::member_admin::{self, MemberView};
use super::{billing::contracts, reports};
use crate::error::Error;
use crate::store::{self, DbConn};

/// The console's overview: who is asking, the organization's seat usage and, when there is
/// a contract, its standing on `today`.
#[derive(Debug, Clone)]
pub struct Overview {
    pub org_name: String,
    pub me: MemberView,
    pub usage: reports::Usage,
    pub standing: Option<contracts::Standing>,
}

pub fn get(
    conn: &mut DbConn,
    org_id: &str,
    member_id: &str,
    today: NaiveDate,
) -> Result<Overview, Error> {
    let me = member_admin::get(conn, org_id, member_id)?;
    let usage = reports::usage(conn, org_id)?;
    let standing = match contracts::standing(conn, org_id, today) {
        Ok(s) => Some(s),
        Err(Error::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let org_name = store::orgs::find(conn, org_id)?
        .ok_or_else(|| Error::not_found("organization"))?
        .name;
    Ok(Overview {
        org_name,
        me,
        usage,
        standing,
    })
}
