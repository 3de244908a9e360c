//! AST + resource schema -> [`TypedFilter`]: every attribute resolved to its registry entry and
//! canonical name, every comparison checked against the attribute's type. Whatever passes
//! here is something the SQL translation and the evaluator can handle without guessing.

use std::cell::Cell;

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::schema::{AttrDef, AttrType, ResourceSchema, Returned};

/// A resolved attribute reference, with canonical names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedAttr {
    /// Schema URN the attribute belongs to.
    pub schema: &'static str,
    /// Core attributes sit at the top level of the JSON, extension ones under `schema`.
    pub is_core: bool,
    /// Top-level attribute name.
    pub attr: &'static str,
    /// Sub-attribute, if the path names one.
    pub sub: Option<&'static str>,
    /// Type of the leaf (the sub-attribute when there is one).
    pub ty: AttrType,
    /// Whether the path can yield several values where it is evaluated: at the top level, if
    /// the attribute (or the parent of the sub-attribute) is multi-valued; inside a value
    /// filter, the sub-attribute's own flag (each element is looked at on its own).
    pub multi_valued: bool,
    /// caseExact of the leaf.
    pub case_exact: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypedFilter {
    And(Box<TypedFilter>, Box<TypedFilter>),
    Or(Box<TypedFilter>, Box<TypedFilter>),
    Not(Box<TypedFilter>),
    Compare {
        attr: TypedAttr,
        op: CompareOp,
        value: CompValue,
    },
    Present(TypedAttr),
    /// `attr` is the multi-valued complex parent (sub `None`); the attributes in `filter` are
    /// that parent's sub-attributes (`attr` = parent name, `sub` = the sub-attribute).
    ValuePath {
        attr: TypedAttr,
        filter: Box<TypedFilter>,
    },
}

pub fn validate(f: &Filter, rs: &ResourceSchema) -> ScimResult<TypedFilter> {
    validate_in(f, rs, None, &Cell::new(0)).map_err(|(e, _)| e)
}

/// `validate`, naming in an error the position of the attribute path it is about, like
/// syntax errors do. `paths`: from [`parse_filter_located`](super::parser::parse_filter_located).
pub fn validate_located(
    f: &Filter,
    rs: &ResourceSchema,
    paths: &[usize],
) -> ScimResult<TypedFilter> {
    validate_in(f, rs, None, &Cell::new(0)).map_err(|(mut e, path)| {
        if let Some(pos) = paths.get(path) {
            e.detail = format!("{} (at position {pos})", e.detail);
        }
        e
    })
}

/// The multi-valued complex attribute whose value filter we are inside, if any.
#[derive(Clone, Copy)]
struct Parent<'a> {
    attr: &'a TypedAttr,
    def: &'a AttrDef,
}

/// An error, and which attribute path of the filter (counting in pre-order) it is about.
type Located<T> = Result<T, (ScimError, usize)>;

fn validate_in(
    f: &Filter,
    rs: &ResourceSchema,
    parent: Option<Parent<'_>>,
    paths: &Cell<usize>,
) -> Located<TypedFilter> {
    let rec = |x: &Filter| validate_in(x, rs, parent, paths).map(Box::new);
    // The index of the attribute path at this node, for its errors.
    let next_path = || {
        let i = paths.get();
        paths.set(i + 1);
        i
    };
    Ok(match f {
        Filter::And(l, r) => TypedFilter::And(rec(l)?, rec(r)?),
        Filter::Or(l, r) => TypedFilter::Or(rec(l)?, rec(r)?),
        Filter::Not(x) => TypedFilter::Not(rec(x)?),
        Filter::Present(path) => {
            let at = next_path();
            TypedFilter::Present(resolve_leaf(path, rs, parent, false).map_err(|e| (e, at))?)
        }
        Filter::Compare { path, op, value } => {
            let at = next_path();
            let attr = resolve_leaf(path, rs, parent, true).map_err(|e| (e, at))?;
            let value = check_value(&attr, path, *op, value).map_err(|e| (e, at))?;
            TypedFilter::Compare {
                attr,
                op: *op,
                value,
            }
        }
        Filter::ValuePath { path, filter } => {
            let at = next_path();
            if parent.is_some() {
                return Err((
                    ScimError::invalid_filter(format!(
                        "value filters cannot be nested ('{path}[…]')"
                    )),
                    at,
                ));
            }
            let (attr, def) = resolve_value_path_parent(path, rs).map_err(|e| (e, at))?;
            let inner = validate_in(filter, rs, Some(Parent { attr: &attr, def }), paths)?;
            TypedFilter::ValuePath {
                attr,
                filter: Box::new(inner),
            }
        }
    })
}

/// Resolves a `sortBy` attribute (RFC 7644 §3.4.2.3): any attribute or sub-attribute with
/// a simple value, core or extension (by URN). A multi-valued complex attribute means its
/// `value` (`emails` is `emails.value`), like in filters; a multi-valued one sorts by its
/// primary value, else its first. Errors are `invalidValue`, as for any bad query parameter.
pub fn resolve_sort(name: &str, rs: &ResourceSchema) -> ScimResult<TypedAttr> {
    let r = rs.resolve(name).ok_or_else(|| {
        ScimError::invalid_value(format!("cannot sort by unknown attribute '{name}'"))
    })?;
    for def in std::iter::once(r.attr).chain(r.sub) {
        if def.returned == Returned::Never {
            return Err(ScimError::invalid_value(format!(
                "cannot sort by '{name}': it is never returned"
            )));
        }
    }
    let mut sub = r.sub;
    if sub.is_none() && r.attr.ty == AttrType::Complex {
        sub = match r.attr.sub("value") {
            Some(v) if r.attr.multi_valued => Some(v),
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "'{name}' is a complex attribute; sort by one of its sub-attributes instead"
                )))
            }
        };
    }
    Ok(typed(r.schema, r.is_core, r.attr, sub))
}

/// Resolves the `attr` of `attr[…]`: it must be a multi-valued complex attribute.
pub(crate) fn resolve_value_path_parent<'r>(
    path: &AttrPath,
    rs: &'r ResourceSchema,
) -> ScimResult<(TypedAttr, &'r AttrDef)> {
    let r = rs.resolve(&path.to_string()).ok_or_else(|| unknown(path))?;
    if r.sub.is_some() || r.attr.ty != AttrType::Complex || !r.attr.multi_valued {
        return Err(ScimError::invalid_filter(format!(
            "'{path}' is not a multi-valued complex attribute, so it cannot take a value filter"
        )));
    }
    check_returnable(path, r.attr)?;
    Ok((typed(r.schema, r.is_core, r.attr, None), r.attr))
}

fn unknown(path: &AttrPath) -> ScimError {
    ScimError::invalid_filter(format!("unknown attribute '{path}'"))
}

fn check_returnable(path: &AttrPath, def: &AttrDef) -> ScimResult<()> {
    if def.returned == Returned::Never {
        return Err(ScimError::invalid_filter(format!(
            "attribute '{path}' is never returned and cannot be used in a filter"
        )));
    }
    Ok(())
}

fn typed(schema: &'static str, is_core: bool, attr: &AttrDef, sub: Option<&AttrDef>) -> TypedAttr {
    let leaf = sub.unwrap_or(attr);
    TypedAttr {
        schema,
        is_core,
        attr: attr.name,
        sub: sub.map(|s| s.name),
        ty: leaf.ty,
        multi_valued: attr.multi_valued || leaf.multi_valued,
        case_exact: leaf.case_exact,
    }
}

/// `schemas` is common to all resources (RFC 7643 §3) but not in the registry; the RFC's own
/// example filters on it, so it resolves to a multi-valued, case-insensitive URI.
fn schemas_attr(path: &AttrPath, rs: &ResourceSchema) -> Option<TypedAttr> {
    let core_or_none = path
        .urn
        .as_deref()
        .is_none_or(|u| u.eq_ignore_ascii_case(rs.core.id));
    (core_or_none && path.sub.is_none() && path.attr.eq_ignore_ascii_case("schemas")).then_some(
        TypedAttr {
            schema: rs.core.id,
            is_core: true,
            attr: "schemas",
            sub: None,
            ty: AttrType::Reference,
            multi_valued: true,
            case_exact: false,
        },
    )
}

/// Resolves a path used in an attribute expression. `comparing` applies the RFC's shorthand:
/// a multi-valued complex attribute compared directly means its `value` sub-attribute.
fn resolve_leaf(
    path: &AttrPath,
    rs: &ResourceSchema,
    parent: Option<Parent<'_>>,
    comparing: bool,
) -> ScimResult<TypedAttr> {
    if let Some(p) = parent {
        return resolve_in_parent(path, p);
    }
    if let Some(a) = schemas_attr(path, rs) {
        return Ok(a);
    }
    let r = rs.resolve(&path.to_string()).ok_or_else(|| unknown(path))?;
    check_returnable(path, r.attr)?;
    if let Some(s) = r.sub {
        check_returnable(path, s)?;
    }
    let mut sub = r.sub;
    if comparing && sub.is_none() && r.attr.ty == AttrType::Complex {
        sub = match r.attr.sub("value") {
            Some(v) if r.attr.multi_valued => Some(v),
            _ => {
                return Err(ScimError::invalid_filter(format!(
                    "'{path}' is a complex attribute; compare one of its sub-attributes instead"
                )))
            }
        };
    }
    Ok(typed(r.schema, r.is_core, r.attr, sub))
}

/// Inside `parent[…]`, names are plain sub-attribute names of the parent.
fn resolve_in_parent(path: &AttrPath, p: Parent<'_>) -> ScimResult<TypedAttr> {
    if path.urn.is_some() || path.sub.is_some() {
        return Err(ScimError::invalid_filter(format!(
            "inside '{}[…]' use plain sub-attribute names, not '{path}'",
            p.attr.attr
        )));
    }
    let sub = p.def.sub(&path.attr).ok_or_else(|| {
        ScimError::invalid_filter(format!(
            "unknown sub-attribute '{path}' of '{}'",
            p.attr.attr
        ))
    })?;
    check_returnable(path, sub)?;
    Ok(TypedAttr {
        sub: Some(sub.name),
        ty: sub.ty,
        multi_valued: sub.multi_valued,
        case_exact: sub.case_exact,
        ..p.attr.clone()
    })
}

/// Checks operator and value against the leaf type; returns the value normalised
/// (`"true"`/`"false"` strings become booleans, since Okta sends them that way).
fn check_value(
    attr: &TypedAttr,
    path: &AttrPath,
    op: CompareOp,
    value: &CompValue,
) -> ScimResult<CompValue> {
    let ty = attr.ty;
    let op_error = || {
        ScimError::invalid_filter(format!(
            "operator '{op}' is not defined for {} attribute '{path}'",
            ty.as_str()
        ))
    };
    let value_error = |want: &str| {
        ScimError::invalid_filter(format!(
            "'{path}' is {} {}; expected {want}, not {value}",
            article(ty),
            ty.as_str()
        ))
    };
    if *value == CompValue::Null {
        return match op {
            CompareOp::Eq | CompareOp::Ne => Ok(CompValue::Null),
            _ => Err(ScimError::invalid_filter(format!(
                "operator '{op}' cannot compare '{path}' with null"
            ))),
        };
    }
    let is_string = matches!(ty, AttrType::String | AttrType::Reference);
    if op.is_substring() && !is_string {
        return Err(op_error());
    }
    match ty {
        AttrType::Boolean => {
            if op.is_ordering() {
                return Err(op_error());
            }
            match value {
                CompValue::Bool(b) => Ok(CompValue::Bool(*b)),
                CompValue::Str(s) if s.eq_ignore_ascii_case("true") => Ok(CompValue::Bool(true)),
                CompValue::Str(s) if s.eq_ignore_ascii_case("false") => Ok(CompValue::Bool(false)),
                _ => Err(value_error("true or false")),
            }
        }
        AttrType::Binary if op.is_ordering() => Err(op_error()),
        AttrType::String | AttrType::Reference | AttrType::Binary => match value {
            CompValue::Str(_) => Ok(value.clone()),
            _ => Err(value_error("a string")),
        },
        AttrType::Integer => match value {
            CompValue::Num(n) if n.is_i64() || n.is_u64() => Ok(value.clone()),
            _ => Err(value_error("an integer")),
        },
        AttrType::Decimal => match value {
            CompValue::Num(_) => Ok(value.clone()),
            _ => Err(value_error("a number")),
        },
        AttrType::DateTime => match value {
            CompValue::Str(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => {
                Ok(value.clone())
            }
            _ => Err(value_error("an RFC 3339 date-time string")),
        },
        AttrType::Complex => Err(op_error()),
    }
}

fn article(ty: AttrType) -> &'static str {
    match ty {
        AttrType::Integer => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::parse_filter;
    use crate::scim::schema::{Registry, CORE_GROUP, CORE_USER, ENTERPRISE_USER};

    fn user(s: &str) -> ScimResult<TypedFilter> {
        validate(&parse_filter(s).unwrap(), &Registry::get().user)
    }

    fn ok(s: &str) -> TypedFilter {
        user(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn bad(s: &str) -> String {
        let e = user(s).unwrap_err();
        assert_eq!(
            e.kind,
            crate::scim::error::ScimErrorKind::InvalidFilter,
            "{s}"
        );
        e.detail
    }

    fn attr_of(f: &TypedFilter) -> &TypedAttr {
        match f {
            TypedFilter::Compare { attr, .. } | TypedFilter::Present(attr) => attr,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rfc_examples_validate_against_user() {
        for ex in crate::scim::filter::parser::tests::RFC_EXAMPLES {
            if ex.starts_with("members") {
                validate(&parse_filter(ex).unwrap(), &Registry::get().group).unwrap();
            } else {
                ok(ex);
            }
        }
    }

    #[test]
    fn resolves_to_canonical_names() {
        let f = ok(r#"USERNAME eq "x""#);
        let a = attr_of(&f);
        assert_eq!(
            (a.schema, a.is_core, a.attr, a.sub),
            (CORE_USER, true, "userName", None)
        );
        assert!(!a.case_exact && !a.multi_valued);
        assert_eq!(a.ty, AttrType::String);

        let f = ok(r#"name.FAMILYNAME co "O""#);
        assert_eq!(attr_of(&f).sub, Some("familyName"));

        let f = ok(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:Manager.Value eq "m""#,
        );
        let a = attr_of(&f);
        assert_eq!(
            (a.schema, a.is_core, a.attr, a.sub),
            (ENTERPRISE_USER, false, "manager", Some("value"))
        );

        let f = ok(r#"urn:ietf:params:scim:schemas:core:2.0:User:emails.value eq "a""#);
        assert!(attr_of(&f).multi_valued);

        let f = ok(r#"id eq "abc""#);
        assert!(attr_of(&f).case_exact);

        let f = validate(
            &parse_filter("displayName pr").unwrap(),
            &Registry::get().group,
        )
        .unwrap();
        assert_eq!(attr_of(&f).schema, CORE_GROUP);
    }

    #[test]
    fn multi_valued_complex_compare_means_value() {
        let f = ok(r#"emails co "example.com""#);
        let a = attr_of(&f);
        assert_eq!((a.attr, a.sub), ("emails", Some("value")));
        // `pr` on the complex attribute itself is fine and stays on the attribute.
        let f = ok("emails pr");
        assert_eq!(attr_of(&f).sub, None);
        let f = ok("name pr");
        assert_eq!(attr_of(&f).sub, None);
    }

    #[test]
    fn value_path_resolves_inside_parent() {
        let f = ok(r#"emails[TYPE eq "work" and value co "@example.com"]"#);
        let TypedFilter::ValuePath { attr, filter } = f else {
            panic!()
        };
        assert_eq!(
            (attr.attr, attr.sub, attr.multi_valued),
            ("emails", None, true)
        );
        let TypedFilter::And(l, _) = *filter else {
            panic!()
        };
        let a = attr_of(&l);
        assert_eq!(
            (a.attr, a.sub, a.multi_valued),
            ("emails", Some("type"), false)
        );
    }

    #[test]
    fn unknown_attributes() {
        assert!(bad(r#"nope eq "x""#).contains("unknown attribute 'nope'"));
        assert!(bad(r#"name.nope eq "x""#).contains("unknown attribute"));
        assert!(bad(r#"urn:x:y:z:attr eq "x""#).contains("unknown attribute"));
        assert!(bad(r#"emails[nope eq "x"]"#).contains("unknown sub-attribute 'nope'"));
        assert!(bad(r#"emails[emails.value eq "x"]"#).contains("plain sub-attribute"));
        assert!(bad(r#"name[givenName eq "x"]"#).contains("not a multi-valued complex"));
        assert!(bad(r#"userName[givenName eq "x"]"#).contains("not a multi-valued complex"));
        // Group attributes are not User attributes.
        assert!(bad(r#"members[value eq "x"]"#).contains("unknown attribute"));
    }

    #[test]
    fn operator_type_rules() {
        for op in ["gt", "ge", "lt", "le"] {
            assert!(bad(&format!("active {op} true")).contains("not defined for boolean"));
            assert!(bad(&format!("x509Certificates.value {op} \"AA\"")).contains("binary"));
        }
        for op in ["co", "sw", "ew"] {
            assert!(bad(&format!("active {op} true")).contains("not defined for boolean"));
            assert!(
                bad(&format!("meta.created {op} \"2020\"")).contains("not defined for dateTime")
            );
            assert!(bad(&format!(
                "urn:scim-seats:params:scim:schemas:extension:seat:2.0:User:queuePosition {op} 1"
            ))
            .contains("integer"));
        }
        ok(r#"userName gt "a""#);
        ok(r#"profileUrl co "example""#);
    }

    #[test]
    fn complex_without_sub_attribute() {
        assert!(bad(r#"name eq "x""#).contains("complex attribute"));
        assert!(bad(r#"meta eq "x""#).contains("complex attribute"));
        assert!(bad(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "x""#
        )
        .contains("complex attribute"));
    }

    #[test]
    fn value_types() {
        assert!(bad(r#"active eq "yes""#).contains("true or false"));
        assert!(bad("active eq 1").contains("true or false"));
        for s in ["true", "TRUE", "False"] {
            let f = ok(&format!("active eq \"{s}\""));
            assert!(matches!(
                f,
                TypedFilter::Compare {
                    value: CompValue::Bool(_),
                    ..
                }
            ));
        }
        assert!(bad("userName eq 42").contains("a string"));
        assert!(bad("userName eq true").contains("a string"));
        assert!(bad(r#"meta.lastModified gt "yesterday""#).contains("RFC 3339"));
        assert!(bad("meta.lastModified gt 5").contains("RFC 3339"));
        ok(r#"meta.lastModified gt "2011-05-13T04:42:34+02:00""#);
        let q = "urn:scim-seats:params:scim:schemas:extension:seat:2.0:User:queuePosition";
        ok(&format!("{q} le 3"));
        assert!(bad(&format!("{q} le 3.5")).contains("an integer"));
        assert!(bad(&format!("{q} le \"3\"")).contains("an integer"));
        ok("title eq null");
        assert!(bad("title gt null").contains("null"));
    }

    #[test]
    fn password_is_never_filterable() {
        assert!(bad(r#"password eq "x""#).contains("never returned"));
        assert!(bad("PASSWORD pr").contains("never returned"));
        assert!(bad(r#"userName eq "x" or not (password pr)"#).contains("never returned"));
    }

    #[test]
    fn nested_value_filter_in_hand_built_ast_is_rejected() {
        let inner = Filter::ValuePath {
            path: AttrPath::new("emails"),
            filter: Box::new(Filter::Present(AttrPath::new("type"))),
        };
        let f = Filter::ValuePath {
            path: AttrPath::new("emails"),
            filter: Box::new(inner),
        };
        let e = validate(&f, &Registry::get().user).unwrap_err();
        assert!(e.detail.contains("cannot be nested"));
    }

    #[test]
    fn sort_attributes_resolve_like_filter_paths() {
        let reg = Registry::get();
        let a = resolve_sort("name.GIVENNAME", &reg.user).unwrap();
        assert_eq!(
            (a.attr, a.sub, a.multi_valued),
            ("name", Some("givenName"), false)
        );
        let a = resolve_sort("emails", &reg.user).unwrap();
        assert_eq!(
            (a.attr, a.sub, a.multi_valued),
            ("emails", Some("value"), true)
        );
        let a = resolve_sort(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            &reg.user,
        )
        .unwrap();
        assert_eq!(
            (a.schema, a.attr, a.is_core),
            (ENTERPRISE_USER, "department", false)
        );
        let a = resolve_sort("members.value", &reg.group).unwrap();
        assert_eq!((a.attr, a.sub), ("members", Some("value")));
        for bad in [
            "nosuch",
            "name",
            "meta",
            "password",
            "name.nosuch",
            "addresses",
        ] {
            let e = resolve_sort(bad, &reg.user).unwrap_err();
            assert_eq!(
                e.kind,
                crate::scim::error::ScimErrorKind::InvalidValue,
                "{bad}"
            );
        }
    }

    #[test]
    fn schemas_attribute() {
        let f = ok(r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#);
        assert_eq!(attr_of(&f).attr, "schemas");
        assert!(attr_of(&f).multi_valued);
    }
}
