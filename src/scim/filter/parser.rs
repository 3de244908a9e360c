//! Recursive-descent parser for RFC 7644 §3.4.2.2:
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! logExp    = FILTER SP ("and" / "or") SP FILTER        ; "and" binds tighter
//! ```
//!
//! Recursion happens only at '(' and '[', so the nesting cap also bounds the stack.

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use super::lexer::{tokenize, Tok, Token};
use crate::scim::error::{ScimError, ScimResult};

/// Deepest nesting of parentheses, `not (…)` and value filters.
pub const MAX_DEPTH: usize = 32;
/// Most AST nodes one filter may produce; bounds work in validation, SQL and evaluation.
pub const MAX_NODES: usize = 256;

pub fn parse_filter(input: &str) -> ScimResult<Filter> {
    parse_filter_located(input).map(|(f, _)| f)
}

/// `parse_filter`, with the position of every attribute path of the filter in the order
/// [`validate_located`](super::validate::validate_located) meets them (the AST's pre-order,
/// which is the text's order), so errors found after parsing can name a position too.
pub fn parse_filter_located(input: &str) -> ScimResult<(Filter, Vec<usize>)> {
    let mut p = Parser::new(input)?;
    let f = p.parse_or()?;
    p.expect_end()?;
    Ok((f, p.paths))
}

pub(crate) struct Parser {
    toks: Vec<Token>,
    idx: usize,
    end_pos: usize,
    depth: usize,
    nodes: usize,
    in_value_filter: bool,
    /// PATCH paths allow `valuePath.subAttr`; filters do not.
    pub(crate) allow_trailing_sub: bool,
    /// Positions of the attribute paths parsed so far, in order.
    paths: Vec<usize>,
}

impl Parser {
    pub(crate) fn new(input: &str) -> ScimResult<Self> {
        Ok(Self {
            toks: tokenize(input)?,
            idx: 0,
            end_pos: input.chars().count(),
            depth: 0,
            nodes: 0,
            in_value_filter: false,
            allow_trailing_sub: false,
            paths: Vec::new(),
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.idx)
    }

    fn peek_tok(&self, ahead: usize) -> Option<&Tok> {
        self.toks.get(self.idx + ahead).map(|t| &t.tok)
    }

    pub(crate) fn next(&mut self) -> ScimResult<Token> {
        match self.toks.get(self.idx) {
            Some(t) => {
                self.idx += 1;
                Ok(t.clone())
            }
            None => Err(self.end_error()),
        }
    }

    fn end_error(&self) -> ScimError {
        ScimError::invalid_filter(format!(
            "unexpected end of input at position {}",
            self.end_pos
        ))
    }

    pub(crate) fn expect_end(&self) -> ScimResult<()> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(unexpected(t)),
        }
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek_tok(0), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn count_node(&mut self, pos: usize) -> ScimResult<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(ScimError::invalid_filter(format!(
                "filter has more than {MAX_NODES} expressions (at position {pos})"
            )));
        }
        Ok(())
    }

    fn enter(&mut self, pos: usize) -> ScimResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ScimError::invalid_filter(format!(
                "filter is nested deeper than {MAX_DEPTH} levels at position {pos}"
            )));
        }
        Ok(())
    }

    fn expect(&mut self, want: Tok) -> ScimResult<Token> {
        let t = self.next()?;
        if t.tok == want {
            Ok(t)
        } else {
            Err(ScimError::invalid_filter(format!(
                "expected {} but found {} at position {}",
                want.describe(),
                t.tok.describe(),
                t.pos
            )))
        }
    }

    pub(crate) fn parse_or(&mut self) -> ScimResult<Filter> {
        let mut left = self.parse_and()?;
        while self.peek_keyword("or") {
            let pos = self.next()?.pos;
            let right = self.parse_and()?;
            self.count_node(pos)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> ScimResult<Filter> {
        let mut left = self.parse_unary()?;
        while self.peek_keyword("and") {
            let pos = self.next()?.pos;
            let right = self.parse_unary()?;
            self.count_node(pos)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_unary(&mut self) -> ScimResult<Filter> {
        // `not` is a keyword only in front of '('; otherwise it could be an attribute name.
        if self.peek_keyword("not") && self.peek_tok(1) == Some(&Tok::LParen) {
            let pos = self.next()?.pos;
            let inner = self.parse_group()?;
            self.count_node(pos)?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek_tok(0) == Some(&Tok::LParen) {
            return self.parse_group();
        }
        self.parse_attr_exp()
    }

    /// `"(" FILTER ")"`
    fn parse_group(&mut self) -> ScimResult<Filter> {
        let open = self.expect(Tok::LParen)?;
        self.enter(open.pos)?;
        let inner = self.parse_or()?;
        self.expect(Tok::RParen)?;
        self.depth -= 1;
        Ok(inner)
    }

    fn parse_attr_exp(&mut self) -> ScimResult<Filter> {
        let (path, pos) = self.parse_attr_path_token()?;
        self.count_node(pos)?;
        self.paths.push(pos);
        match self.next()? {
            Token {
                tok: Tok::LBracket,
                pos,
            } => self.parse_value_path(path, pos),
            Token {
                tok: Tok::Word(w),
                pos,
            } => {
                if w.eq_ignore_ascii_case("pr") {
                    return Ok(Filter::Present(path));
                }
                let op = CompareOp::from_keyword(&w).ok_or_else(|| {
                    ScimError::invalid_filter(format!(
                        "unknown operator '{w}' at position {pos} (expected eq, ne, co, sw, ew, gt, ge, lt, le or pr)"
                    ))
                })?;
                let value = self.parse_comp_value()?;
                Ok(Filter::Compare { path, op, value })
            }
            t => Err(unexpected(&t)),
        }
    }

    /// The '[' has been consumed.
    pub(crate) fn parse_value_path(&mut self, path: AttrPath, pos: usize) -> ScimResult<Filter> {
        if self.in_value_filter {
            return Err(ScimError::invalid_filter(format!(
                "value filters cannot be nested (position {pos})"
            )));
        }
        if path.sub.is_some() {
            return Err(ScimError::invalid_filter(format!(
                "a value filter applies to an attribute, not to the sub-attribute '{path}' (position {pos})"
            )));
        }
        self.enter(pos)?;
        self.in_value_filter = true;
        let filter = self.parse_or()?;
        self.expect(Tok::RBracket)?;
        self.in_value_filter = false;
        self.depth -= 1;
        // `emails[type eq "work"].value eq "x"`: not RFC grammar, but Entra sends it. It means
        // one element with type work whose value is x, so it becomes
        // `emails[type eq "work" and value eq "x"]`.
        let trailing = match self.peek() {
            Some(Token {
                tok: Tok::Word(w),
                pos,
            }) if w.starts_with('.') && !self.allow_trailing_sub => Some((w.clone(), *pos)),
            _ => None,
        };
        if let Some((w, sub_pos)) = trailing {
            self.next()?;
            let sub = &w[1..];
            if sub.is_empty()
                || !sub
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '-')
            {
                return Err(ScimError::invalid_filter(format!(
                    "invalid sub-attribute '{w}' at position {sub_pos}"
                )));
            }
            let sub_path = AttrPath::new(sub);
            self.count_node(sub_pos)?;
            self.paths.push(sub_pos);
            let extra = match self.next()? {
                Token {
                    tok: Tok::Word(op),
                    pos,
                } => {
                    if op.eq_ignore_ascii_case("pr") {
                        Filter::Present(sub_path)
                    } else {
                        let op = CompareOp::from_keyword(&op).ok_or_else(|| {
                            ScimError::invalid_filter(format!(
                                "unknown operator '{op}' at position {pos}"
                            ))
                        })?;
                        let value = self.parse_comp_value()?;
                        Filter::Compare {
                            path: sub_path,
                            op,
                            value,
                        }
                    }
                }
                t => return Err(unexpected(&t)),
            };
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(Filter::And(Box::new(filter), Box::new(extra))),
            });
        }
        Ok(Filter::ValuePath {
            path,
            filter: Box::new(filter),
        })
    }

    pub(crate) fn parse_attr_path_token(&mut self) -> ScimResult<(AttrPath, usize)> {
        let t = self.next()?;
        match &t.tok {
            Tok::Word(w) => Ok((parse_attr_path(w, t.pos)?, t.pos)),
            _ => Err(ScimError::invalid_filter(format!(
                "expected an attribute name but found {} at position {}",
                t.tok.describe(),
                t.pos
            ))),
        }
    }

    fn parse_comp_value(&mut self) -> ScimResult<CompValue> {
        let t = self.next()?;
        match t.tok {
            Tok::Str(s) => Ok(CompValue::Str(s)),
            Tok::Num(n) => Ok(CompValue::Num(n)),
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => Ok(CompValue::Bool(true)),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => Ok(CompValue::Bool(false)),
            Tok::Word(w) if w.eq_ignore_ascii_case("null") => Ok(CompValue::Null),
            tok => Err(ScimError::invalid_filter(format!(
                "expected a value (string, number, true, false or null) but found {} at position {}",
                tok.describe(),
                t.pos
            ))),
        }
    }
}

fn unexpected(t: &Token) -> ScimError {
    ScimError::invalid_filter(format!(
        "unexpected token {} at position {}",
        t.tok.describe(),
        t.pos
    ))
}

/// Splits `[URI ":"] ATTRNAME ["." ATTRNAME]`. URNs contain dots and colons, so the attribute
/// starts after the URN's last ':'; only a dot after that separates a sub-attribute.
pub(crate) fn parse_attr_path(word: &str, pos: usize) -> ScimResult<AttrPath> {
    let bad =
        || ScimError::invalid_filter(format!("invalid attribute path '{word}' at position {pos}"));
    // Words are ASCII (see `is_word_char`), so byte slicing below is on char boundaries.
    let is_urn = word
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    let (urn, rest) = if is_urn && word.len() > 4 {
        let cut = word.rfind(':').ok_or_else(bad)?;
        (Some(word[..cut].to_string()), &word[cut + 1..])
    } else {
        (None, word)
    };
    if urn
        .as_deref()
        .is_some_and(|u| u.len() <= 4 || u.ends_with(':'))
    {
        return Err(bad());
    }
    let (attr, sub) = match rest.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (rest, None),
    };
    if !is_attr_name(attr) || !sub.is_none_or(is_attr_name) {
        return Err(bad());
    }
    Ok(AttrPath {
        urn,
        attr: attr.to_string(),
        sub: sub.map(str::to_string),
    })
}

/// RFC 7643 §2.1: `ATTRNAME = ALPHA *(nameChar)`, plus `$ref`.
pub(crate) fn is_attr_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '$' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn p(s: &str) -> Filter {
        parse_filter(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> String {
        let e = parse_filter(s).unwrap_err();
        assert_eq!(e.kind, crate::scim::error::ScimErrorKind::InvalidFilter);
        e.detail
    }

    fn cmp(path: AttrPath, op: CompareOp, v: &str) -> Filter {
        Filter::Compare {
            path,
            op,
            value: CompValue::Str(v.into()),
        }
    }

    fn sub(a: &str, s: &str) -> AttrPath {
        AttrPath {
            urn: None,
            attr: a.into(),
            sub: Some(s.into()),
        }
    }

    /// Every example filter of RFC 7644 §3.4.2.2 (Figure 2 and the text around it).
    pub(crate) const RFC_EXAMPLES: &[&str] = &[
        r#"userName eq "bjensen""#,
        r#"name.familyName co "O'Malley""#,
        r#"userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        r#"title pr"#,
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        r#"title pr and userType eq "Employee""#,
        r#"title pr or userType eq "Intern""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        // §3.4.2.2 text: names and operators are case-insensitive.
        r#"userName Eq "john""#,
        r#"Username eq "john""#,
        // Value filters as used elsewhere in RFC 7644 (§3.5.2 PATCH examples).
        r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
        r#"emails[type eq "work"]"#,
    ];

    #[test]
    fn all_rfc_examples_parse_and_round_trip() {
        for ex in RFC_EXAMPLES {
            let f = p(ex);
            let printed = f.to_string();
            assert_eq!(p(&printed), f, "{ex} -> {printed}");
        }
    }

    #[test]
    fn rfc_example_shapes() {
        assert_eq!(
            p(r#"name.familyName co "O'Malley""#),
            cmp(sub("name", "familyName"), CompareOp::Co, "O'Malley")
        );
        assert_eq!(p("title pr"), Filter::Present(AttrPath::new("title")));
        match p(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#) {
            Filter::Compare { path, .. } => {
                assert_eq!(
                    path.urn.as_deref(),
                    Some("urn:ietf:params:scim:schemas:core:2.0:User")
                );
                assert_eq!(path.attr, "userName");
            }
            other => panic!("{other:?}"),
        }
        match p(
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        ) {
            Filter::And(_, r) => {
                assert!(matches!(*r, Filter::Not(ref i) if matches!(**i, Filter::Or(..))))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn enterprise_urn_paths_split_after_last_colon() {
        match p(&format!("{ENT}:manager.value eq \"m1\"")) {
            Filter::Compare { path, .. } => {
                assert_eq!(path.urn.as_deref(), Some(ENT));
                assert_eq!(path.attr, "manager");
                assert_eq!(path.sub.as_deref(), Some("value"));
            }
            other => panic!("{other:?}"),
        }
        match p(&format!("{ENT}:department eq \"Sales\"")) {
            Filter::Compare { path, .. } => {
                assert_eq!(path.attr, "department");
                assert_eq!(path.sub, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keywords_and_operators_are_case_insensitive() {
        let a = p(r#"userName Eq "x" AND title PR oR NOT (active eq TRUE)"#);
        let b = p(r#"userName eq "x" and title pr or not (active eq true)"#);
        assert_eq!(a, b);
        for op in ["EQ", "Ne", "cO", "SW", "eW", "GT", "gE", "LT", "Le"] {
            p(&format!("userName {op} \"x\""));
        }
    }

    #[test]
    fn and_binds_tighter_than_or_and_is_left_associative() {
        let f = p("a pr or b pr and c pr");
        assert!(matches!(f, Filter::Or(_, ref r) if matches!(**r, Filter::And(..))));
        let f = p("a pr and b pr or c pr");
        assert!(matches!(f, Filter::Or(ref l, _) if matches!(**l, Filter::And(..))));
        let f = p("a pr and b pr and c pr");
        assert!(matches!(f, Filter::And(ref l, _) if matches!(**l, Filter::And(..))));
        let f = p("a pr and (b pr or c pr)");
        assert!(matches!(f, Filter::And(_, ref r) if matches!(**r, Filter::Or(..))));
    }

    #[test]
    fn display_is_canonical_and_round_trips_tricky_trees() {
        let cases = [
            "a pr and (b pr and c pr)",
            "(a pr or b pr) and c pr",
            "a pr or (b pr or c pr)",
            "not (not (a pr))",
            r#"x eq "q\"uo\\te\n" and y eq 1.5 or z eq null and w ne false"#,
            r#"emails[not (type eq "work") or value ew ".org"]"#,
            "n gt -3 and n le 10000000000000000000",
        ];
        for c in cases {
            let f = p(c);
            assert_eq!(p(&f.to_string()), f, "{c} -> {f}");
        }
        assert_eq!(p("a PR AND (b Pr)").to_string(), "a pr and b pr");
        assert_eq!(
            p("a pr and (b pr and c pr)").to_string(),
            "a pr and (b pr and c pr)"
        );
    }

    #[test]
    fn value_literals() {
        assert!(matches!(
            p("a eq true"),
            Filter::Compare {
                value: CompValue::Bool(true),
                ..
            }
        ));
        assert!(matches!(
            p("a eq False"),
            Filter::Compare {
                value: CompValue::Bool(false),
                ..
            }
        ));
        assert!(matches!(
            p("a eq null"),
            Filter::Compare {
                value: CompValue::Null,
                ..
            }
        ));
        assert!(matches!(
            p("a gt 42"),
            Filter::Compare {
                value: CompValue::Num(_),
                ..
            }
        ));
        assert!(
            matches!(p(r#"a eq "\u0041""#), Filter::Compare { value: CompValue::Str(ref s), .. } if s == "A")
        );
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(
            err(r#"userName eq "x" foo"#),
            "unexpected token 'foo' at position 16"
        );
        assert!(err("userName foo \"x\"").contains("unknown operator 'foo' at position 9"));
        assert!(err("userName eq").contains("end of input at position 11"));
        assert!(err("userName eq bjensen").contains("found 'bjensen' at position 12"));
        assert!(err("(userName pr").contains("end of input at position 12"));
        assert!(err("userName pr)").contains("')' at position 11"));
        assert!(err("").contains("position 0"));
        assert!(err("1abc pr").contains("position 0"));
        assert!(err("name..x pr").contains("invalid attribute path 'name..x' at position 0"));
        assert!(err("a.b.c pr").contains("invalid attribute path"));
        assert!(err("foo:bar pr").contains("invalid attribute path"));
        assert!(err("urn:x: pr").contains("invalid attribute path"));
        assert!(err("a pr and").contains("end of input"));
        assert!(err("a pr or or b pr").contains("position"));
    }

    #[test]
    fn value_path_rules() {
        // Entra's `valuePath.sub op value` is read as one element matching both.
        assert_eq!(
            p(r#"emails[type eq "work"].value eq "x""#),
            p(r#"emails[type eq "work" and value eq "x"]"#)
        );
        assert!(err(r#"emails[type eq "work"].value"#).contains("end of input"));
        assert!(err(r#"emails[type eq "work"].value foo "x""#).contains("unknown operator"));
        assert!(err(r#"emails[type eq "work" and x[y pr]]"#).contains("cannot be nested"));
        assert!(err(r#"emails.value[type eq "work"]"#).contains("sub-attribute"));
        assert!(err(r#"emails[type eq "work""#).contains("end of input"));
    }

    #[test]
    fn depth_limit() {
        let ok = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        p(&ok);
        let deep = format!(
            "{}a pr{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(err(&deep).contains("nested deeper than 32"));
        let nots = format!("{}a pr{}", "not (".repeat(40), ")".repeat(40));
        assert!(err(&nots).contains("nested deeper"));
        // Very deep input must fail cleanly, not overflow the stack.
        let huge = "(".repeat(100_000);
        assert!(err(&huge).contains("nested deeper"));
    }

    #[test]
    fn node_limit() {
        let terms: Vec<String> = (0..128).map(|i| format!("a{i} pr")).collect();
        p(&terms.join(" and ")); // 128 leaves + 127 ands = 255 nodes
        let terms: Vec<String> = (0..129).map(|i| format!("a{i} pr")).collect();
        assert!(err(&terms.join(" or ")).contains("more than 256"));
    }

    #[test]
    fn not_without_paren_is_an_attribute_name() {
        assert_eq!(p("not pr"), Filter::Present(AttrPath::new("not")));
    }
}
