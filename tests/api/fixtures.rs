//! Replays every conversation in `scim-fixtures/` (Okta, Entra, RFC 7643) against a fresh
//! server and organization per file. Format and matching rules: scim-fixtures/README.md.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

fn fixture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scim-fixtures");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&root).expect("scim-fixtures/") {
        let dir = dir.expect("entry").path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir).expect("idp folder") {
                let f = f.expect("entry").path();
                if f.extension().is_some_and(|e| e == "json") {
                    files.push(f);
                }
            }
        }
    }
    files.sort();
    files
}

fn substitute(s: &str, vars: &HashMap<String, String>) -> String {
    let mut out = s.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}

fn substitute_json(v: &Value, vars: &HashMap<String, String>) -> Value {
    match v {
        Value::String(s) if s == "{{any}}" || s == "{{absent}}" => v.clone(),
        Value::String(s) => Value::String(substitute(s, vars)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute_json(x, vars)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (substitute(k, vars), substitute_json(x, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Subset matching, as scim-fixtures/README.md defines it.
fn matches(exp: &Value, act: &Value) -> bool {
    match exp {
        Value::String(s) if s == "{{any}}" => !act.is_null(),
        Value::Object(e) => {
            let Some(a) = act.as_object() else {
                return false;
            };
            e.iter().all(|(k, v)| {
                if v == "{{absent}}" {
                    !a.contains_key(k)
                } else {
                    a.get(k).is_some_and(|x| matches(v, x))
                }
            })
        }
        Value::Array(e) => {
            let Some(a) = act.as_array() else {
                return false;
            };
            fn assign(i: usize, e: &[Value], a: &[Value], used: &mut Vec<bool>) -> bool {
                if i == e.len() {
                    return true;
                }
                for j in 0..a.len() {
                    if !used[j] && matches(&e[i], &a[j]) {
                        used[j] = true;
                        if assign(i + 1, e, a, used) {
                            return true;
                        }
                        used[j] = false;
                    }
                }
                false
            }
            e.len() == a.len() && assign(0, e, a, &mut vec![false; a.len()])
        }
        Value::Number(n) => act.as_f64().is_some_and(|x| Some(x) == n.as_f64()),
        Value::Null => act.is_null(),
        other => other == act,
    }
}

async fn replay(file: &Path) {
    let text = std::fs::read_to_string(file).expect("read fixture");
    let conv: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let seats = Seats {
        standard: conv["seats"]["standard"].as_i64().unwrap_or(100),
        premium: conv["seats"]["premium"].as_i64().unwrap_or(0),
    };
    let app = TestApp::builder()
        .seats(seats.standard, seats.premium)
        .spawn()
        .await;
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("base".into(), app.base.clone());
    let name = file.display().to_string();
    for (i, step) in conv["steps"].as_array().expect("steps").iter().enumerate() {
        let label = format!("{name} step {i} ({})", step["name"].as_str().unwrap_or(""));
        let method = Method::from_bytes(step["method"].as_str().expect("method").as_bytes())
            .expect("method");
        let path = substitute(step["path"].as_str().expect("path"), &vars);
        let mut req = app
            .client
            .request(method, format!("{}{}", app.base, path))
            .header("authorization", format!("Bearer {}", app.token))
            .header("accept", "application/scim+json");
        if let Some(h) = step["headers"].as_object() {
            for (k, v) in h {
                req = req.header(k.as_str(), substitute(v.as_str().unwrap_or(""), &vars));
            }
        }
        // A header named in the step replaces the default of the same name.
        let mut built = req.build().expect("request");
        if let Some(h) = step["headers"].as_object() {
            for (k, v) in h {
                let v = substitute(v.as_str().unwrap_or(""), &vars);
                built.headers_mut().insert(
                    reqwest::header::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                    v.parse().expect("header value"),
                );
            }
        }
        if !step["request"].is_null() {
            let body = substitute_json(&step["request"], &vars);
            built
                .headers_mut()
                .insert("content-type", "application/scim+json".parse().expect("ct"));
            *built.body_mut() = Some(body.to_string().into());
        }
        let resp = into_resp(app.client.execute(built).await.expect("send")).await;
        let (status, actual) = (resp.status.as_u16(), resp.body);
        let want = step["status"].as_u64().expect("status") as u16;
        assert_eq!(status, want, "{label}: status; body {actual}");
        if !step["response"].is_null() {
            let exp = substitute_json(&step["response"], &vars);
            assert!(
                matches(&exp, &actual),
                "{label}: body mismatch\nexpected ⊆ {exp:#}\nactual   {actual:#}"
            );
        }
        if let Some(cap) = step["capture"].as_object() {
            for (k, ptr) in cap {
                let v = actual
                    .pointer(ptr.as_str().expect("pointer"))
                    .unwrap_or_else(|| panic!("{label}: capture {k} at {ptr} missing in {actual}"));
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                vars.insert(k.clone(), s);
            }
        }
    }
    app.assert_seat_invariants();
}

#[tokio::test]
async fn replay_okta_conversations() {
    for f in fixture_files()
        .iter()
        .filter(|f| f.to_string_lossy().contains("/okta/"))
    {
        replay(f).await;
    }
}

#[tokio::test]
async fn replay_entra_conversations() {
    for f in fixture_files()
        .iter()
        .filter(|f| f.to_string_lossy().contains("/entra/"))
    {
        replay(f).await;
    }
}

#[tokio::test]
async fn replay_rfc7643_examples() {
    for f in fixture_files()
        .iter()
        .filter(|f| f.to_string_lossy().contains("/rfc7643/"))
    {
        replay(f).await;
    }
}

#[tokio::test]
async fn every_fixture_folder_is_replayed() {
    let files = fixture_files();
    assert!(files.len() >= 10, "fixtures present: {}", files.len());
    for f in &files {
        let s = f.to_string_lossy();
        assert!(
            ["/okta/", "/entra/", "/rfc7643/"]
                .iter()
                .any(|d| s.contains(d)),
            "{s} is in a folder no test replays"
        );
    }
}
