//! Query planning: which reads find their rows through an index whatever the table's size.
//! Those are the lookups identity providers send before every create and update (Okta's
//! `userName eq`, Entra's `externalId eq` and `displayName eq`), and `Db::query` runs them
//! as point reads (`Access::Point`); anything else may scan, and runs as a pooled read.

use super::query::Resource;
use crate::scim::filter::{CompValue, CompareOp, TypedFilter};

/// How a read reaches its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A handful of rows through an index: microseconds.
    Point,
    /// Possibly many rows (a page, a count, a group's members).
    Scan,
}

impl Access {
    fn point_if(point: bool) -> Access {
        if point {
            Access::Point
        } else {
            Access::Scan
        }
    }
}

/// A User list with this filter.
pub fn user_list(filter: Option<&TypedFilter>) -> Access {
    Access::point_if(filter.is_some_and(|f| is_index_lookup(f, Resource::User)))
}

/// A Group list with this filter; members can number 100,000, so a list returning them
/// never is a point read.
pub fn group_list(filter: Option<&TypedFilter>, with_members: bool) -> Access {
    Access::point_if(!with_members && filter.is_some_and(|f| is_index_lookup(f, Resource::Group)))
}

/// One group by id.
pub fn group_get(with_members: bool) -> Access {
    Access::point_if(!with_members)
}

/// The one user a filter can match when it is `id eq "…"` or `userName eq "…"` alone:
/// answered by a prepared statement instead of a list query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKey<'a> {
    Id(&'a str),
    /// As the client wrote it; `userName` is compared case-insensitively.
    UserName(&'a str),
}

pub fn user_key(f: &TypedFilter) -> Option<UserKey<'_>> {
    match f {
        TypedFilter::Compare {
            attr,
            op: CompareOp::Eq,
            value: CompValue::Str(s),
        } if attr.is_core && attr.sub.is_none() && !attr.multi_valued => match attr.attr {
            "id" => Some(UserKey::Id(s)),
            "userName" if !attr.case_exact => Some(UserKey::UserName(s)),
            _ => None,
        },
        _ => None,
    }
}

/// True when a filter finds its rows through an index: an `eq` on `id`, `externalId`,
/// `userName` (Users) or `displayName` (Groups), or an `and` with such a side.
fn is_index_lookup(f: &TypedFilter, resource: Resource) -> bool {
    match f {
        TypedFilter::And(a, b) => is_index_lookup(a, resource) || is_index_lookup(b, resource),
        TypedFilter::Compare {
            attr,
            op: CompareOp::Eq,
            value: CompValue::Str(_),
        } if attr.is_core && attr.sub.is_none() && !attr.multi_valued => {
            match (resource, attr.attr) {
                (_, "id") => true,
                // caseExact: compared on the column as it is, so its index applies.
                (_, "externalId") => attr.case_exact,
                (Resource::User, "userName") | (Resource::Group, "displayName") => true,
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::parse_for;
    use crate::scim::schema::Registry;

    fn user(f: &str) -> TypedFilter {
        parse_for(f, &Registry::get().user).expect("a valid User filter")
    }

    fn group(f: &str) -> TypedFilter {
        parse_for(f, &Registry::get().group).expect("a valid Group filter")
    }

    #[test]
    fn the_idp_lookups_are_point_reads() {
        for f in [
            r#"userName eq "bjensen@example.com""#,
            r#"externalId eq "AlexW""#,
            r#"id eq "2819c223""#,
            r#"userName eq "a" and active eq true"#,
        ] {
            assert_eq!(user_list(Some(&user(f))), Access::Point, "{f}");
        }
        let by_name = group(r#"displayName eq "Sales""#);
        assert_eq!(group_list(Some(&by_name), false), Access::Point);
        assert_eq!(group_list(Some(&by_name), true), Access::Scan);
    }

    #[test]
    fn anything_else_may_scan() {
        for f in [
            r#"userName co "a""#,
            r#"userName eq "a" or externalId eq "b""#,
            r#"not (userName eq "a")"#,
            r#"emails[type eq "work"].value eq "a@example.com""#,
            r#"displayName eq "Barbara""#,
            r#"meta.lastModified gt "2026-01-01T00:00:00Z""#,
        ] {
            assert_eq!(user_list(Some(&user(f))), Access::Scan, "{f}");
        }
        assert_eq!(user_list(None), Access::Scan);
        assert_eq!(group_list(None, false), Access::Scan);
    }

    #[test]
    fn only_id_and_user_name_alone_are_keys() {
        assert_eq!(
            user_key(&user(r#"userName eq "Bjensen""#)),
            Some(UserKey::UserName("Bjensen"))
        );
        assert_eq!(user_key(&user(r#"id eq "x""#)), Some(UserKey::Id("x")));
        assert_eq!(user_key(&user(r#"externalId eq "x""#)), None);
        assert_eq!(
            user_key(&user(r#"userName eq "a" and active eq true"#)),
            None
        );
    }
}
