//! Filters to SQL predicates. INTERIM: only `attr eq "value"` on indexed columns until the
//! full grammar lands (issue 3); anything else is refused with invalidFilter.

use diesel::prelude::*;

use super::groups::GroupPredicate;
use super::schema::{scim_groups, scim_users};
use super::users::UserPredicate;
use crate::error::Error;
use crate::scim::error::ScimError;

pub struct SimpleEq {
    attr: String,
    value: String,
}

fn parse_eq(f: &str) -> Result<SimpleEq, Error> {
    let bad = || ScimError::invalid_filter(format!("unsupported filter '{f}'"));
    let mut parts = f.trim().splitn(3, ' ');
    let attr = parts.next().ok_or_else(bad)?;
    let op = parts.next().ok_or_else(bad)?;
    let value = parts.next().ok_or_else(bad)?;
    if !op.eq_ignore_ascii_case("eq") {
        return Err(bad().into());
    }
    let value: String = serde_json::from_str(value).map_err(|_| bad())?;
    Ok(SimpleEq {
        attr: attr.to_ascii_lowercase(),
        value,
    })
}

pub fn parse_user_filter(f: &str) -> Result<SimpleEq, Error> {
    parse_eq(f)
}

pub fn parse_group_filter(f: &str) -> Result<SimpleEq, Error> {
    parse_eq(f)
}

pub fn user_predicate(f: &SimpleEq, _org_id: &str) -> Result<UserPredicate, Error> {
    use scim_users::dsl as u;
    Ok(match f.attr.as_str() {
        "username" => Box::new(u::user_name_norm.eq(f.value.to_lowercase())),
        "externalid" => Box::new(u::external_id.assume_not_null().eq(f.value.clone())),
        "displayname" => Box::new(u::display_name.assume_not_null().eq(f.value.clone())),
        "id" => Box::new(u::id.eq(f.value.clone())),
        _ => {
            return Err(
                ScimError::invalid_filter(format!("unsupported attribute '{}'", f.attr)).into(),
            )
        }
    })
}

pub fn group_predicate(f: &SimpleEq, _org_id: &str) -> Result<GroupPredicate, Error> {
    use scim_groups::dsl as g;
    Ok(match f.attr.as_str() {
        "displayname" => Box::new(g::display_name_norm.eq(f.value.to_lowercase())),
        "externalid" => Box::new(g::external_id.assume_not_null().eq(f.value.clone())),
        "id" => Box::new(g::id.eq(f.value.clone())),
        _ => {
            return Err(
                ScimError::invalid_filter(format!("unsupported attribute '{}'", f.attr)).into(),
            )
        }
    })
}
