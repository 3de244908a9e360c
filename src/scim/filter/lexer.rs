//! Tokens of the filter and PATCH path grammars. Positions are 0-based character offsets so
//! error details can point at the offending spot.

use crate::scim::error::{ScimError, ScimResult};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An attribute path or keyword; which one is decided by the parser from context.
    Word(String),
    Str(String),
    Num(serde_json::Number),
    LParen,
    RParen,
    LBracket,
    RBracket,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

impl Tok {
    /// How the token is quoted back in error messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("'{w}'"),
            Tok::Str(s) => serde_json::Value::String(s.clone()).to_string(),
            Tok::Num(n) => format!("'{n}'"),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::LBracket => "'['".into(),
            Tok::RBracket => "']'".into(),
        }
    }
}

/// Characters of attribute names and URNs (RFC 7643 §2.1 nameChar, plus ':' and '.' for
/// URN prefixes and sub-attributes, and '$' for `$ref`).
pub fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$' | '.' | ':')
}

fn is_number_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')
}

pub fn tokenize(input: &str) -> ScimResult<Vec<Token>> {
    let chars: Vec<char> = input.chars().collect();
    // One rule for every way a string gets in (`scim::limits`): no NUL, raw or escaped.
    if let Some(at) = chars.iter().position(|&c| c == '\0') {
        return Err(ScimError::invalid_value(format!(
            "the filter contains a NUL character (U+0000) at position {at}, which is not \
             accepted in any value"
        )));
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => single(&mut i, Tok::LParen),
            ')' => single(&mut i, Tok::RParen),
            '[' => single(&mut i, Tok::LBracket),
            ']' => single(&mut i, Tok::RBracket),
            '"' => match lex_string(&chars, &mut i)? {
                Tok::Str(s) if s.contains('\0') => {
                    // Name the attribute compared (`attr op "value"`) where there is one.
                    let attr = match out.len().checked_sub(2).and_then(|k| out.get(k)) {
                        Some(Token {
                            tok: Tok::Word(w), ..
                        }) => format!(" compared with '{w}'"),
                        _ => String::new(),
                    };
                    return Err(ScimError::invalid_value(format!(
                        "the value{attr} at position {start} contains a NUL character \
                         (U+0000), which is not accepted in any value"
                    )));
                }
                t => t,
            },
            // ATTRNAME starts with ALPHA (or '$'), so a leading digit or '-' is a number.
            c if c.is_ascii_digit() || c == '-' => lex_number(&chars, &mut i)?,
            c if is_word_char(c) => {
                let text = take_while(&chars, &mut i, is_word_char);
                Tok::Word(text)
            }
            other => {
                return Err(ScimError::invalid_filter(format!(
                    "unexpected character '{other}' at position {start}"
                )))
            }
        };
        out.push(Token { tok, pos: start });
    }
    Ok(out)
}

fn single(i: &mut usize, tok: Tok) -> Tok {
    *i += 1;
    tok
}

fn take_while(chars: &[char], i: &mut usize, pred: fn(char) -> bool) -> String {
    let start = *i;
    while *i < chars.len() && pred(chars[*i]) {
        *i += 1;
    }
    chars[start..*i].iter().collect()
}

/// Finds the closing quote, then lets serde_json decode the escapes so that exactly JSON's
/// string rules apply (RFC 7644: comparison values are JSON literals).
fn lex_string(chars: &[char], i: &mut usize) -> ScimResult<Tok> {
    let start = *i;
    let mut j = start + 1;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 2,
            '"' => {
                let raw: String = chars[start..=j].iter().collect();
                *i = j + 1;
                return serde_json::from_str::<String>(&raw)
                    .map(Tok::Str)
                    .map_err(|_| {
                        ScimError::invalid_filter(format!(
                            "invalid string literal at position {start}"
                        ))
                    });
            }
            _ => j += 1,
        }
    }
    Err(ScimError::invalid_filter(format!(
        "unterminated string starting at position {start}"
    )))
}

fn lex_number(chars: &[char], i: &mut usize) -> ScimResult<Tok> {
    let start = *i;
    let text = take_while(chars, i, is_number_char);
    // serde_json's own parser enforces the JSON number grammar (no leading '+', "1.", …).
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Number(n)) => Ok(Tok::Num(n)),
        _ => Err(ScimError::invalid_filter(format!(
            "invalid number '{text}' at position {start}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn words_strings_numbers_and_brackets() {
        assert_eq!(
            toks(r#"emails[type eq "w\"o\u00e9rk"] (x gt -1.5e3)"#),
            vec![
                Tok::Word("emails".into()),
                Tok::LBracket,
                Tok::Word("type".into()),
                Tok::Word("eq".into()),
                Tok::Str("w\"oérk".into()),
                Tok::RBracket,
                Tok::LParen,
                Tok::Word("x".into()),
                Tok::Word("gt".into()),
                Tok::Num(serde_json::Number::from_f64(-1500.0).unwrap()),
                Tok::RParen,
            ]
        );
    }

    #[test]
    fn urn_paths_are_one_word() {
        assert_eq!(
            toks("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr"),
            vec![
                Tok::Word(
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
                        .into()
                ),
                Tok::Word("pr".into())
            ]
        );
    }

    #[test]
    fn positions_are_character_offsets() {
        let t = tokenize("é eq \"x\"").unwrap_err();
        assert!(t.detail.contains("position 0"), "{}", t.detail);
        let t = tokenize("a eq \"é\" b").unwrap();
        assert_eq!(t[2].pos, 5);
        let e = tokenize("a eq \"é\" ! ").unwrap_err();
        assert!(e.detail.contains("'!' at position 9"), "{}", e.detail);
    }

    #[test]
    fn bad_literals() {
        assert!(tokenize(r#"a eq "abc"#)
            .unwrap_err()
            .detail
            .contains("unterminated"));
        assert!(tokenize(r#"a eq "\q""#)
            .unwrap_err()
            .detail
            .contains("invalid string"));
        assert!(tokenize("a eq 1.")
            .unwrap_err()
            .detail
            .contains("invalid number"));
        assert!(tokenize("a eq 01").is_err());
        assert!(tokenize(r#"a eq "\"#).is_err());
    }
}
