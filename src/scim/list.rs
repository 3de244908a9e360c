//! List and search parameters (RFC 7644 §3.4.2): parsed once from a query string or a
//! SearchRequest body, clamped, and turned into a ListResponse.

use serde_json::{json, Value};

use super::error::{ScimError, ScimResult};
use super::schema::{LIST_RESPONSE, SEARCH_REQUEST};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: Option<String>,
    /// 1-based; values below 1 are treated as 1 (RFC 7644 §3.4.2.4).
    pub start_index: i64,
    /// Clamped to `0..=max_results`; `None` means the server's default page.
    pub count: i64,
    pub sort_by: Option<String>,
    pub sort_order: SortOrder,
    pub attributes: Vec<String>,
    pub excluded_attributes: Vec<String>,
    /// Group members one page may carry (`limits::MAX_PAGE_MEMBERS` unless the server says
    /// otherwise); not a client parameter.
    pub max_page_members: i64,
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn parse_int(name: &str, s: &str) -> ScimResult<i64> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::invalid_value(format!("'{name}' must be an integer")))
}

fn parse_order(s: &str) -> ScimResult<SortOrder> {
    if s.eq_ignore_ascii_case("ascending") {
        Ok(SortOrder::Ascending)
    } else if s.eq_ignore_ascii_case("descending") {
        Ok(SortOrder::Descending)
    } else {
        Err(ScimError::invalid_value(
            "'sortOrder' must be 'ascending' or 'descending'",
        ))
    }
}

impl ListQuery {
    fn empty(max_results: i64) -> Self {
        ListQuery {
            filter: None,
            start_index: 1,
            count: max_results,
            sort_by: None,
            sort_order: SortOrder::Ascending,
            attributes: Vec::new(),
            excluded_attributes: Vec::new(),
            max_page_members: super::limits::MAX_PAGE_MEMBERS,
        }
    }

    /// From decoded query-string pairs; parameter names are matched case-insensitively.
    pub fn from_pairs(pairs: &[(String, String)], max_results: i64) -> ScimResult<Self> {
        let mut q = Self::empty(max_results);
        for (k, v) in pairs {
            match k.to_ascii_lowercase().as_str() {
                "filter" => q.filter = Some(v.clone()),
                "startindex" => q.start_index = parse_int("startIndex", v)?,
                "count" => q.count = parse_int("count", v)?,
                "sortby" => q.sort_by = Some(v.clone()).filter(|s| !s.is_empty()),
                "sortorder" => q.sort_order = parse_order(v)?,
                "attributes" => q.attributes = split_list(v),
                "excludedattributes" => q.excluded_attributes = split_list(v),
                _ => {}
            }
        }
        Ok(q.clamped(max_results))
    }

    /// From a `POST /.search` body (RFC 7644 §3.4.3).
    pub fn from_search_request(body: &Value, max_results: i64) -> ScimResult<Self> {
        let obj = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("the request body must be a JSON object"))?;
        let schemas_ok = obj
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
            .and_then(|(_, v)| v.as_array())
            .map(|a| {
                a.iter().any(|s| {
                    s.as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(SEARCH_REQUEST))
                })
            })
            .unwrap_or(false);
        if !schemas_ok {
            return Err(ScimError::invalid_syntax(format!(
                "'schemas' must contain '{SEARCH_REQUEST}'"
            )));
        }
        let mut q = Self::empty(max_results);
        for (k, v) in obj {
            let as_str = || {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ScimError::invalid_value(format!("'{k}' must be a string")))
            };
            let as_int = || {
                v.as_i64()
                    .ok_or_else(|| ScimError::invalid_value(format!("'{k}' must be an integer")))
            };
            let as_list = || -> ScimResult<Vec<String>> {
                match v {
                    Value::Array(a) => a
                        .iter()
                        .map(|s| {
                            s.as_str().map(str::to_string).ok_or_else(|| {
                                ScimError::invalid_value(format!("'{k}' must list strings"))
                            })
                        })
                        .collect(),
                    Value::String(s) => Ok(split_list(s)),
                    _ => Err(ScimError::invalid_value(format!("'{k}' must list strings"))),
                }
            };
            match k.to_ascii_lowercase().as_str() {
                "filter" => q.filter = Some(as_str()?),
                "startindex" => q.start_index = as_int()?,
                "count" => q.count = as_int()?,
                "sortby" => q.sort_by = Some(as_str()?),
                "sortorder" => q.sort_order = parse_order(&as_str()?)?,
                "attributes" => q.attributes = as_list()?,
                "excludedattributes" => q.excluded_attributes = as_list()?,
                _ => {}
            }
        }
        Ok(q.clamped(max_results))
    }

    fn clamped(mut self, max_results: i64) -> Self {
        self.start_index = self.start_index.max(1);
        self.count = self.count.clamp(0, max_results);
        self
    }

    pub fn offset(&self) -> i64 {
        self.start_index - 1
    }
}

/// A ListResponse (RFC 7644 §3.4.2).
/// Resources past `limits::MAX_PAGE_BYTES` are left out (at least one is kept): the page
/// is shorter, `itemsPerPage` says by how much, and the client asks for the next page from
/// `startIndex + itemsPerPage` as RFC 7644 §3.4.2.4 lets a server answer fewer than `count`.
pub fn list_response(mut resources: Vec<Value>, total: i64, start_index: i64) -> Value {
    let mut bytes = 0;
    if let Some(cut) = resources.iter().position(|r| {
        bytes += super::limits::json_len(r) + 1;
        bytes > super::limits::MAX_PAGE_BYTES
    }) {
        resources.truncate(cut.max(1));
    }
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// `list_response` as text, keys in the same (sorted) order, each resource written by `write`
/// straight into the answer, which starts with room for `size_hint` bytes of them.
pub fn list_response_text_with<T>(
    items: &[T],
    total: i64,
    start_index: i64,
    size_hint: usize,
    mut write: impl FnMut(&mut String, &T),
) -> String {
    use std::fmt::Write;
    let limit = super::limits::MAX_PAGE_BYTES;
    let mut out = String::with_capacity(size_hint.min(limit) + 160);
    out.push_str("{\"Resources\":[");
    let mut written = 0;
    for item in items {
        // As in `list_response`: a page stops growing at the limit, keeping one at least.
        if written > 0 && out.len() > limit {
            break;
        }
        if written > 0 {
            out.push(',');
        }
        write(&mut out, item);
        written += 1;
    }
    let _ = write!(
        out,
        "],\"itemsPerPage\":{written},\"schemas\":[\"{LIST_RESPONSE}\"],\"startIndex\":{start_index},\"totalResults\":{total}}}",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_text_list_response_is_the_value_one_written_out() {
        let resources = [json!({"id": "a", "userName": "x\"y"}), json!({"id": "b"})];
        let texts: Vec<String> = resources.iter().map(Value::to_string).collect();
        for (n, start, total) in [(0, 1, 0), (1, 3, 7), (2, 1, 2)] {
            assert_eq!(
                list_response_text_with(&texts[..n], total, start, 0, |out, t| out.push_str(t)),
                list_response(resources[..n].to_vec(), total, start).to_string()
            );
        }
    }

    #[test]
    fn clamps_and_reads_names_case_insensitively() {
        let q = ListQuery::from_pairs(
            &pairs(&[
                ("StartIndex", "0"),
                ("COUNT", "5000"),
                ("sortOrder", "Descending"),
            ]),
            200,
        )
        .unwrap();
        assert_eq!(q.start_index, 1);
        assert_eq!(q.count, 200);
        assert_eq!(q.sort_order, SortOrder::Descending);
        let q = ListQuery::from_pairs(&pairs(&[("count", "-3")]), 200).unwrap();
        assert_eq!(q.count, 0);
        assert!(ListQuery::from_pairs(&pairs(&[("count", "x")]), 200).is_err());
    }

    #[test]
    fn search_request_needs_its_schema() {
        let q = ListQuery::from_search_request(
            &json!({"schemas": [SEARCH_REQUEST], "filter": "userName eq \"a\"", "startIndex": 2,
                    "count": 10, "attributes": ["userName"]}),
            100,
        )
        .unwrap();
        assert_eq!(q.filter.as_deref(), Some("userName eq \"a\""));
        assert_eq!(q.start_index, 2);
        assert_eq!(q.attributes, vec!["userName".to_string()]);
        assert!(ListQuery::from_search_request(&json!({"filter": "x"}), 100).is_err());
    }
}
