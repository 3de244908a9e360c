//! Filters as WHERE conditions: `and`/`or`/`not`, comparisons and presence on columns and
//! JSON leaves, and `EXISTS` over the values of multi-valued attributes. Every leaf is
//! two-valued (never SQL NULL), so `not (…)` means what SCIM says.

use super::attrs::{path_name, Elements, Field, Kind};
use super::raw::{Bind, SqlBuf};
use super::{unsupported, Translator};
use crate::error::Error;
use crate::scim::filter::{CompValue, CompareOp, TypedAttr, TypedFilter};
use crate::store::sqlite::fold;
use crate::store::Backend;

impl Translator {
    pub(super) fn filter(&self, f: &TypedFilter, buf: &mut SqlBuf) -> Result<(), Error> {
        match f {
            TypedFilter::And(a, b) | TypedFilter::Or(a, b) => {
                let op = if matches!(f, TypedFilter::And(..)) {
                    " AND "
                } else {
                    " OR "
                };
                buf.sql("(");
                self.filter(a, buf)?;
                buf.sql(op);
                self.filter(b, buf)?;
                buf.sql(")");
            }
            TypedFilter::Not(inner) => {
                buf.sql("(NOT ");
                self.filter(inner, buf)?;
                buf.sql(")");
            }
            TypedFilter::Present(attr) => self.attr_test(attr, None, buf)?,
            TypedFilter::Compare { attr, op, value } => {
                self.attr_test(attr, Some((*op, value)), buf)?
            }
            TypedFilter::ValuePath { attr, filter } => {
                let elements = self.elements_for(attr, Some(filter))?;
                self.exists(&elements, buf, |t, alias, buf| {
                    t.element_filter(&elements, alias, filter, buf)
                })?;
            }
        }
        Ok(())
    }

    /// `pr` when `cmp` is None, else a comparison, on a top-level attribute path.
    pub(super) fn attr_test(
        &self,
        attr: &TypedAttr,
        cmp: Option<(CompareOp, &CompValue)>,
        buf: &mut SqlBuf,
    ) -> Result<(), Error> {
        // "eq null" means "has no value"; "ne null" means "has a value".
        if let Some((op, CompValue::Null)) = cmp {
            let present = TypedFilter::Present(attr.clone());
            return match op {
                CompareOp::Eq => self.filter(&TypedFilter::Not(Box::new(present)), buf),
                CompareOp::Ne => self.filter(&present, buf),
                _ => Err(unsupported("null can only be compared with eq or ne")),
            };
        }
        if attr.attr == "schemas" {
            return Err(unsupported("filtering on 'schemas' is not supported"));
        }
        // Validation marks an attribute multi-valued when it, or the parent of its
        // sub-attribute, is: its values live in rows or a JSON array.
        let top_multi = attr.multi_valued;
        if top_multi {
            let elements = self.elements_for(attr, None)?;
            let sub = attr.sub;
            // "ne": no value is equal — so NOT EXISTS an equal one.
            let (negate, cmp) = match cmp {
                Some((CompareOp::Ne, v)) => (true, Some((CompareOp::Eq, v))),
                other => (false, other),
            };
            if negate {
                buf.sql("(NOT ");
            }
            self.exists(&elements, buf, |t, alias, buf| match sub {
                None => {
                    buf.sql("1 = 1");
                    Ok(())
                }
                Some(sub) => {
                    let field = t.element_field(&elements, alias, sub, attr.ty)?;
                    t.test(&field, attr, cmp, buf)
                }
            })?;
            if negate {
                buf.sql(")");
            }
            return Ok(());
        }
        // Every resource has `meta` and all of its sub-attributes; the stored JSON does not
        // hold them (the server renders them), so `meta pr` must not look there.
        if cmp.is_none() && attr.is_core && attr.attr == "meta" {
            buf.sql("1 = 1");
            return Ok(());
        }
        if let Some(constant) = self.constant(attr) {
            return match cmp {
                None => {
                    buf.sql("1 = 1");
                    Ok(())
                }
                Some((op @ (CompareOp::Eq | CompareOp::Ne), CompValue::Str(s))) => {
                    let equal = s.eq_ignore_ascii_case(constant);
                    buf.sql(if equal == (op == CompareOp::Eq) {
                        "1 = 1"
                    } else {
                        "1 = 0"
                    });
                    Ok(())
                }
                _ => Err(unsupported(format!(
                    "only eq and ne apply to {}",
                    path_name(attr)
                ))),
            };
        }
        let field = self.field(attr)?;
        self.test(&field, attr, cmp, buf)
    }

    /// `EXISTS (SELECT 1 FROM <elements> WHERE <body>)`.
    pub(super) fn exists(
        &self,
        elements: &Elements,
        buf: &mut SqlBuf,
        body: impl FnOnce(&Self, &str, &mut SqlBuf) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let alias = "el";
        let from = self.element_source(elements, alias, false);
        buf.sql(&format!("EXISTS (SELECT 1 FROM {from} AND ("));
        body(self, alias, buf)?;
        buf.sql("))");
        Ok(())
    }

    /// The inner filter of a value path, on one element.
    pub(super) fn element_filter(
        &self,
        elements: &Elements,
        alias: &str,
        f: &TypedFilter,
        buf: &mut SqlBuf,
    ) -> Result<(), Error> {
        match f {
            TypedFilter::And(a, b) | TypedFilter::Or(a, b) => {
                let op = if matches!(f, TypedFilter::And(..)) {
                    " AND "
                } else {
                    " OR "
                };
                buf.sql("(");
                self.element_filter(elements, alias, a, buf)?;
                buf.sql(op);
                self.element_filter(elements, alias, b, buf)?;
                buf.sql(")");
                Ok(())
            }
            TypedFilter::Not(inner) => {
                buf.sql("(NOT ");
                self.element_filter(elements, alias, inner, buf)?;
                buf.sql(")");
                Ok(())
            }
            TypedFilter::Present(attr) | TypedFilter::Compare { attr, .. } => {
                let sub = attr
                    .sub
                    .ok_or_else(|| unsupported("a value filter compares sub-attributes"))?;
                let field = self.element_field(elements, alias, sub, attr.ty)?;
                let cmp = match f {
                    TypedFilter::Compare { op, value, .. } => Some((*op, value)),
                    _ => None,
                };
                match cmp {
                    Some((CompareOp::Eq, CompValue::Null)) => {
                        buf.sql("(NOT ");
                        self.test(&field, attr, None, buf)?;
                        buf.sql(")");
                        Ok(())
                    }
                    Some((CompareOp::Ne, CompValue::Null)) => self.test(&field, attr, None, buf),
                    _ => self.test(&field, attr, cmp, buf),
                }
            }
            TypedFilter::ValuePath { .. } => Err(unsupported("value filters cannot be nested")),
        }
    }

    /// A two-valued test of one field: presence when `cmp` is None.
    pub(super) fn test(
        &self,
        field: &Field,
        attr: &TypedAttr,
        cmp: Option<(CompareOp, &CompValue)>,
        buf: &mut SqlBuf,
    ) -> Result<(), Error> {
        let guard = |buf: &mut SqlBuf| {
            if field.nullable {
                buf.sql(&format!("{} IS NOT NULL AND ", field.sql));
            }
        };
        let Some((op, value)) = cmp else {
            buf.sql("(");
            match field.kind {
                Kind::Text { .. } if field.nullable => {
                    buf.sql(&format!("{0} IS NOT NULL AND {0} <> ''", field.sql));
                }
                _ if field.nullable => {
                    buf.sql(&format!("{} IS NOT NULL", field.sql));
                }
                _ => {
                    buf.sql("1 = 1");
                }
            }
            buf.sql(")");
            return Ok(());
        };
        if op == CompareOp::Ne {
            // Absent attributes are "ne" anything: not (present and equal).
            buf.sql("(NOT ");
            self.test(field, attr, Some((CompareOp::Eq, value)), buf)?;
            buf.sql(")");
            return Ok(());
        }
        buf.sql("(");
        guard(buf);
        match (field.kind, value) {
            (Kind::Text { lowered }, CompValue::Str(s)) => {
                // caseExact=false: a column stored folded compares with the value folded the
                // same way (in Rust), so its index applies; anything else is folded on both
                // sides by the database's `scim_fold` (see `store::sqlite::fold`).
                let (lhs, rhs) = match (attr.case_exact, lowered) {
                    (true, _) => (field.sql.clone(), Operand::AsIs(s.clone())),
                    (false, true) => (field.sql.clone(), Operand::AsIs(fold::fold(s))),
                    (false, false) => (
                        format!("scim_fold({})", field.sql),
                        Operand::Folded(s.clone()),
                    ),
                };
                self.text_op(&lhs, op, rhs, buf)?;
            }
            (Kind::BoolColumn, CompValue::Bool(b)) if op == CompareOp::Eq => {
                buf.sql(&format!("{} = ", field.sql)).bind(Bind::Bool(*b));
            }
            (Kind::JsonBool, CompValue::Bool(b)) if op == CompareOp::Eq => {
                let literal = match (self.backend, b) {
                    (Backend::Sqlite, true) => "1",
                    (Backend::Sqlite, false) => "0",
                    (Backend::Pg, true) => "'true'",
                    (Backend::Pg, false) => "'false'",
                };
                buf.sql(&format!("{} = {literal}", field.sql));
            }
            (Kind::JsonNumber, CompValue::Num(n)) => {
                // A validated JSON number: digits, sign, dot and exponent only.
                let lit = n.to_string();
                if !lit
                    .chars()
                    .all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
                {
                    return Err(unsupported("malformed number"));
                }
                buf.cacheable = false;
                buf.sql(&format!("{} {} {lit}", field.sql, sql_op(op)?));
            }
            (Kind::Timestamp, CompValue::Str(s)) => {
                let t = chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|_| unsupported(format!("'{s}' is not an RFC 3339 date-time")))?
                    .naive_utc();
                buf.sql(&format!("{} {} ", field.sql, sql_op(op)?))
                    .bind(Bind::Ts(t));
            }
            (Kind::Timestamp, _) => {
                return Err(unsupported("date-times compare with RFC 3339 strings"))
            }
            _ => {
                return Err(unsupported(format!(
                    "'{}' cannot be compared with {} that value",
                    path_name(attr),
                    op.as_str()
                )))
            }
        }
        buf.sql(")");
        Ok(())
    }

    fn text_op(
        &self,
        lhs: &str,
        op: CompareOp,
        rhs: Operand,
        buf: &mut SqlBuf,
    ) -> Result<(), Error> {
        let (v, folded) = match rhs {
            Operand::AsIs(v) => (v, false),
            Operand::Folded(v) => (v, true),
        };
        // The value as SQL after its bind: `?` or `scim_fold(?)`.
        let close = if folded { ")" } else { "" };
        let value = |buf: &mut SqlBuf, v: &str| {
            if folded {
                buf.sql("scim_fold(");
            }
            buf.bind(Bind::Text(v.to_string())).sql(close);
        };
        // The value's length in characters: counted here, or (folded, where folding may
        // change it) by the database, so that both sides agree.
        let length = |buf: &mut SqlBuf, v: &str| {
            if folded {
                buf.sql("length(scim_fold(")
                    .bind(Bind::Text(v.to_string()))
                    .sql("))");
            } else {
                // Cast: PostgreSQL's substr/right take int4, binds are int8.
                buf.sql("CAST(")
                    .bind(Bind::Int(v.chars().count() as i64))
                    .sql(" AS INTEGER)");
            }
        };
        match op {
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew if v.is_empty() => {
                buf.sql("1 = 1");
            }
            CompareOp::Co => {
                // instr/strpos rather than LIKE: no wildcard escaping, and case-exact on SQLite.
                let f = match self.backend {
                    Backend::Sqlite => "instr",
                    Backend::Pg => "strpos",
                };
                buf.sql(&format!("{f}({lhs}, "));
                value(buf, &v);
                buf.sql(") > 0");
            }
            CompareOp::Sw => {
                buf.sql(&format!("substr({lhs}, 1, "));
                length(buf, &v);
                buf.sql(") = ");
                value(buf, &v);
            }
            CompareOp::Ew => {
                match self.backend {
                    Backend::Sqlite => buf.sql(&format!("substr({lhs}, -")),
                    Backend::Pg => buf.sql(&format!("right({lhs}, ")),
                };
                length(buf, &v);
                buf.sql(") = ");
                value(buf, &v);
            }
            _ => {
                buf.sql(&format!("{lhs} {} ", sql_op(op)?));
                value(buf, &v);
            }
        }
        Ok(())
    }
}

/// The right-hand side of a text comparison.
enum Operand {
    /// Bound as it is (case-exact, or already folded in Rust for a `*_norm` column).
    AsIs(String),
    /// Folded by the database's `scim_fold`, like the column it is compared with.
    Folded(String),
}

fn sql_op(op: CompareOp) -> Result<&'static str, Error> {
    Ok(match op {
        CompareOp::Eq => "=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        other => {
            return Err(unsupported(format!(
                "operator {} does not apply here",
                other.as_str()
            )))
        }
    })
}
