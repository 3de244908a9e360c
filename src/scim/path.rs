//! PATCH paths (RFC 7644 §3.5.2): `PATH = attrPath / valuePath [subAttr]`, parsed with the
//! filter lexer and parser and resolved against the resource schema.

use crate::scim::error::{ScimError, ScimErrorKind, ScimResult};
use crate::scim::filter::ast::Filter;
use crate::scim::filter::lexer::Tok;
use crate::scim::filter::parser::{is_attr_name, Parser};
use crate::scim::filter::validate::resolve_value_path_parent;
use crate::scim::filter::{validate, TypedAttr, TypedFilter};
use crate::scim::schema::ResourceSchema;

/// A resolved PATCH target.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The top-level attribute (its `sub` is always `None`).
    pub attr: TypedAttr,
    /// `emails[type eq "work"]`: selects elements of the multi-valued attribute.
    pub filter: Option<TypedFilter>,
    /// `name.familyName` or `emails[…].value`: the sub-attribute targeted.
    pub sub: Option<&'static str>,
}

pub fn parse_path(s: &str, rs: &ResourceSchema) -> ScimResult<PatchPath> {
    parse_path_inner(s, rs).map_err(|e| match e.kind {
        ScimErrorKind::InvalidFilter => ScimError::invalid_path(e.detail),
        _ => e,
    })
}

fn parse_path_inner(s: &str, rs: &ResourceSchema) -> ScimResult<PatchPath> {
    let mut p = Parser::new(s)?;
    p.allow_trailing_sub = true;
    let (path, pos) = p.parse_attr_path_token()?;
    if p.expect_end().is_ok() {
        return resolve_plain(s, rs);
    }
    let open = p.next()?;
    if open.tok != Tok::LBracket {
        return Err(ScimError::invalid_path(format!(
            "unexpected token {} at position {}",
            open.tok.describe(),
            open.pos
        )));
    }
    let Filter::ValuePath { path, filter } = p.parse_value_path(path, pos)? else {
        return Err(ScimError::invalid_path(format!("invalid path '{s}'")));
    };
    let sub_name = trailing_sub(&mut p)?;
    p.expect_end()?;
    let (attr, def) = resolve_value_path_parent(&path, rs)?;
    let typed = validate(&Filter::ValuePath { path, filter }, rs)?;
    let TypedFilter::ValuePath { filter, .. } = typed else {
        return Err(ScimError::invalid_path(format!("invalid path '{s}'")));
    };
    let sub = match sub_name {
        Some(n) => Some(
            def.sub(&n)
                .ok_or_else(|| {
                    ScimError::invalid_path(format!(
                        "unknown sub-attribute '{n}' of '{}'",
                        def.name
                    ))
                })?
                .name,
        ),
        None => None,
    };
    Ok(PatchPath {
        attr,
        filter: Some(*filter),
        sub,
    })
}

/// The `.subAttr` after `]`, lexed as one word starting with '.'.
fn trailing_sub(p: &mut Parser) -> ScimResult<Option<String>> {
    if p.expect_end().is_ok() {
        return Ok(None);
    }
    let t = p.next()?;
    let sub = match &t.tok {
        Tok::Word(w) => w.strip_prefix('.').filter(|s| is_attr_name(s)),
        _ => None,
    };
    sub.map(|s| Some(s.to_string())).ok_or_else(|| {
        ScimError::invalid_path(format!(
            "unexpected token {} at position {}",
            t.tok.describe(),
            t.pos
        ))
    })
}

fn resolve_plain(s: &str, rs: &ResourceSchema) -> ScimResult<PatchPath> {
    let r = rs
        .resolve(s.trim())
        .ok_or_else(|| ScimError::invalid_path(format!("unknown attribute '{}'", s.trim())))?;
    let attr = TypedAttr {
        schema: r.schema,
        is_core: r.is_core,
        attr: r.attr.name,
        sub: None,
        ty: r.attr.ty,
        multi_valued: r.attr.multi_valued,
        case_exact: r.attr.case_exact,
    };
    Ok(PatchPath {
        attr,
        filter: None,
        sub: r.sub.map(|d| d.name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{AttrType, Registry, CORE_USER, ENTERPRISE_USER};

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn u(s: &str) -> PatchPath {
        parse_path(s, &Registry::get().user).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn bad(s: &str) -> String {
        let e = parse_path(s, &Registry::get().user).unwrap_err();
        assert_eq!(e.kind, ScimErrorKind::InvalidPath, "{s}: {e}");
        e.detail
    }

    #[test]
    fn plain_and_sub_attribute_paths() {
        let p = u("userName");
        assert_eq!(
            (p.attr.attr, p.attr.schema, p.sub),
            ("userName", CORE_USER, None)
        );
        assert!(p.filter.is_none());
        let p = u("NAME.familyname");
        assert_eq!(
            (p.attr.attr, p.attr.sub, p.sub),
            ("name", None, Some("familyName"))
        );
        assert_eq!(p.attr.ty, AttrType::Complex);
        let p = u("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName");
        assert_eq!(
            (p.attr.attr, p.sub, p.attr.is_core),
            ("name", Some("givenName"), true)
        );
    }

    #[test]
    fn enterprise_paths() {
        let p = u(&format!("{ENT}:manager"));
        assert_eq!(
            (p.attr.schema, p.attr.attr, p.sub, p.attr.is_core),
            (ENTERPRISE_USER, "manager", None, false)
        );
        let p = u(&format!("{ENT}:manager.value"));
        assert_eq!((p.attr.attr, p.sub), ("manager", Some("value")));
        let p = u(&format!("{ENT}:department"));
        assert_eq!(p.attr.attr, "department");
    }

    #[test]
    fn value_filter_paths() {
        let p = u(r#"emails[type eq "work"]"#);
        assert_eq!((p.attr.attr, p.sub), ("emails", None));
        let Some(TypedFilter::Compare { attr, .. }) = &p.filter else {
            panic!()
        };
        assert_eq!((attr.attr, attr.sub), ("emails", Some("type")));
        let p = u(r#"emails[type eq "work"].value"#);
        assert_eq!(p.sub, Some("value"));
        let p = u(r#"addresses[type eq "work"].streetAddress"#);
        assert_eq!(p.sub, Some("streetAddress"));
        let p = parse_path(r#"members[value eq "abc"]"#, &Registry::get().group).unwrap();
        assert_eq!(p.attr.attr, "members");
        assert!(p.filter.is_some());
        let p = u(r#"emails[type eq "work" and primary eq "True"]"#);
        assert!(matches!(p.filter, Some(TypedFilter::And(..))));
    }

    #[test]
    fn errors_are_invalid_path() {
        assert!(bad("nope").contains("unknown attribute"));
        assert!(bad("name.nope").contains("unknown attribute"));
        assert!(bad("").contains("end of input"));
        assert!(bad(r#"emails[type eq "work"].nope"#).contains("unknown sub-attribute 'nope'"));
        assert!(bad(r#"emails[type eq "work"]value"#).contains("unexpected token"));
        assert!(bad(r#"emails[type eq "work"].value.x"#).contains("unexpected token"));
        assert!(bad(r#"emails[type eq "work"].value extra"#).contains("unexpected token 'extra'"));
        assert!(bad(r#"emails[type eq "work""#).contains("end of input"));
        assert!(bad(r#"emails[nope eq "work"]"#).contains("unknown sub-attribute"));
        assert!(bad(r#"name[givenName eq "x"]"#).contains("not a multi-valued complex"));
        assert!(bad(r#"userName eq "x""#).contains("unexpected token"));
        assert!(bad(r#"emails[type eq "work"][type pr]"#).contains("unexpected token"));
        assert!(bad("urn:unknown:x:attr").contains("unknown attribute"));
    }
}
