//! A filter of a search across resource types (`POST /.search` on the root, RFC 7644 §3.4.3),
//! narrowed to one type: a comparison on an attribute the type does not have is false for
//! every resource of that type, so `X or <that>` is `X`, `X and <that>` matches nothing of the
//! type, and `not <that>` matches all of it. What remains names only the type's own
//! attributes and is checked by [`validate`](super::validate) like any other filter.

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::schema::ResourceSchema;

/// A filter narrowed to one resource type.
#[derive(Debug, Clone, PartialEq)]
pub enum Scoped {
    /// Matches every resource of the type.
    All,
    /// Matches none of them.
    Nothing,
    /// Matches what this filter (on the type's own attributes only) matches.
    Filter(Filter),
}

/// Narrows `f` to the resource type `rs` describes.
pub fn scope(f: &Filter, rs: &ResourceSchema) -> Scoped {
    use Scoped::{All, Nothing};
    match f {
        Filter::And(a, b) => match (scope(a, rs), scope(b, rs)) {
            (Nothing, _) | (_, Nothing) => Nothing,
            (All, x) | (x, All) => x,
            (Scoped::Filter(a), Scoped::Filter(b)) => {
                Scoped::Filter(Filter::And(Box::new(a), Box::new(b)))
            }
        },
        Filter::Or(a, b) => match (scope(a, rs), scope(b, rs)) {
            (All, _) | (_, All) => All,
            (Nothing, x) | (x, Nothing) => x,
            (Scoped::Filter(a), Scoped::Filter(b)) => {
                Scoped::Filter(Filter::Or(Box::new(a), Box::new(b)))
            }
        },
        Filter::Not(x) => match scope(x, rs) {
            All => Nothing,
            Nothing => All,
            Scoped::Filter(x) => Scoped::Filter(Filter::Not(Box::new(x))),
        },
        Filter::Present(path) | Filter::ValuePath { path, .. } => {
            if has_attribute(path, rs) {
                Scoped::Filter(f.clone())
            } else {
                Nothing
            }
        }
        Filter::Compare { path, op, value } => {
            if has_attribute(path, rs) {
                Scoped::Filter(f.clone())
            } else {
                // "eq null" means "has no value", which is true of an attribute the type lacks.
                match (op, value) {
                    (CompareOp::Eq, CompValue::Null) => All,
                    _ => Nothing,
                }
            }
        }
    }
}

/// The first attribute path of `f` that none of the resource types has (such a filter is an
/// error, not a search that finds nothing), with its index among the filter's attribute
/// paths in pre-order (the order `parse_filter_located` gives their positions in).
pub fn unknown_everywhere<'f>(
    f: &'f Filter,
    types: &[&ResourceSchema],
) -> Option<(usize, &'f AttrPath)> {
    fn walk<'f>(
        f: &'f Filter,
        types: &[&ResourceSchema],
        seen: &mut usize,
    ) -> Option<(usize, &'f AttrPath)> {
        match f {
            Filter::And(a, b) | Filter::Or(a, b) => {
                walk(a, types, seen).or_else(|| walk(b, types, seen))
            }
            Filter::Not(x) => walk(x, types, seen),
            Filter::Present(path)
            | Filter::Compare { path, .. }
            | Filter::ValuePath { path, .. } => {
                let at = *seen;
                *seen += 1;
                if !types.iter().any(|rs| has_attribute(path, rs)) {
                    return Some((at, path));
                }
                match f {
                    // Its sub-attributes are checked by validate, against the types that have it.
                    Filter::ValuePath { filter, .. } => {
                        *seen += count_paths(filter);
                        None
                    }
                    _ => None,
                }
            }
        }
    }
    walk(f, types, &mut 0)
}

fn count_paths(f: &Filter) -> usize {
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => count_paths(a) + count_paths(b),
        Filter::Not(x) => count_paths(x),
        Filter::Present(_) | Filter::Compare { .. } => 1,
        Filter::ValuePath { filter, .. } => 1 + count_paths(filter),
    }
}

/// Whether the type has the path's top-level attribute (a sub-attribute it lacks is an
/// error for that type, left to `validate`). `schemas` belongs to every resource.
fn has_attribute(path: &AttrPath, rs: &ResourceSchema) -> bool {
    let top = AttrPath {
        urn: path.urn.clone(),
        attr: path.attr.clone(),
        sub: None,
    };
    let is_schemas = path.attr.eq_ignore_ascii_case("schemas")
        && path
            .urn
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(rs.core.id));
    is_schemas || rs.resolve(&top.to_string()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::parse_filter;
    use crate::scim::schema::Registry;

    fn scoped(f: &str, group: bool) -> Scoped {
        let reg = Registry::get();
        let rs = if group { &reg.group } else { &reg.user };
        scope(&parse_filter(f).expect("parses"), rs)
    }

    fn filter(f: &str) -> Scoped {
        Scoped::Filter(parse_filter(f).expect("parses"))
    }

    #[test]
    fn attributes_a_type_lacks_are_false_for_it() {
        let f = r#"displayName eq "Sales" or userName eq "alice@example.com""#;
        assert_eq!(scoped(f, false), filter(f));
        assert_eq!(scoped(f, true), filter(r#"displayName eq "Sales""#));
        assert_eq!(
            scoped(r#"members pr or userName eq "x""#, true),
            filter("members pr")
        );
        assert_eq!(
            scoped(r#"members pr or userName eq "x""#, false),
            filter(r#"userName eq "x""#)
        );
        assert_eq!(
            scoped(r#"userName eq "x" and displayName pr"#, true),
            Scoped::Nothing
        );
        assert_eq!(scoped(r#"not (userName eq "x")"#, true), Scoped::All);
        assert_eq!(scoped("title eq null", true), Scoped::All);
        assert_eq!(scoped("title ne null", true), Scoped::Nothing);
        assert_eq!(scoped(r#"emails[type eq "work"]"#, true), Scoped::Nothing);
        // The type's own attributes stay, even with a sub-attribute it lacks (validate's job).
        assert_eq!(
            scoped(r#"name.nosuch eq "x""#, false),
            filter(r#"name.nosuch eq "x""#)
        );
        assert_eq!(scoped("schemas pr", true), filter("schemas pr"));
    }

    #[test]
    fn an_attribute_no_type_has_is_reported() {
        let reg = Registry::get();
        let types = [&reg.user, &reg.group];
        let f = parse_filter(r#"userName pr or nosuch eq 1"#).expect("parses");
        assert_eq!(
            unknown_everywhere(&f, &types).map(|(i, p)| (i, p.attr.as_str())),
            Some((1, "nosuch"))
        );
        let f = parse_filter(r#"emails[type eq "w" or value pr] and nosuch pr"#).expect("parses");
        assert_eq!(unknown_everywhere(&f, &types).map(|(i, _)| i), Some(3));
        let f = parse_filter(r#"userName pr or members pr"#).expect("parses");
        assert_eq!(unknown_everywhere(&f, &types), None);
    }
}
