//! Fuzz targets, driven by proptest (cargo-fuzz needs a nightly toolchain CI does not have):
//! the filter parser and validator, the PATCH path parser, PATCH requests applied to a
//! resource, resource normalization, Bulk parsing and the body check. Each asserts "no
//! panic, and a refusal is a proper SCIM error" (a known scimType, a 4xx status, a detail).
//!
//! `cargo test --test fuzz` runs a bounded number of cases (`FUZZ_CASES`, default 256 per
//! target); `.ci/run` runs a longer bounded pass with a larger `FUZZ_CASES`.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

use scim_seats::scim::error::ScimError;
use scim_seats::scim::schema::{group_resource, user_resource};
use scim_seats::scim::{bulk, filter, limits, patch, path, resource};

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        // Failures are shrunk; nothing is written next to the sources.
        failure_persistence: None,
        ..Config::default()
    })
}

/// A refusal must be something a client can act on.
fn proper(e: &ScimError) {
    let status = e.kind.status();
    assert!((400..500).contains(&status), "{e:?}");
    assert!(!e.kind.as_str().is_empty());
    assert!(!e.detail.trim().is_empty(), "{e:?}");
}

/// Pieces of the filter and path grammars, and things that are not.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("userName".to_string()),
        Just("emails".to_string()),
        Just("emails.value".to_string()),
        Just("name.givenName".to_string()),
        Just("meta.lastModified".to_string()),
        Just("members".to_string()),
        Just(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".to_string()
        ),
        Just("urn:scim-seats:params:scim:schemas:extension:seat:2.0:User:status".to_string()),
        Just("active".to_string()),
        prop_oneof![
            Just("eq"),
            Just("ne"),
            Just("co"),
            Just("sw"),
            Just("ew"),
            Just("pr"),
            Just("gt"),
            Just("ge"),
            Just("lt"),
            Just("le"),
            Just("and"),
            Just("or"),
            Just("not"),
            Just("AND"),
            Just("("),
            Just(")"),
            Just("["),
            Just("]"),
            Just("\""),
            Just("."),
            Just("true"),
            Just("null"),
            Just("\\u0000"),
            Just("\u{0}"),
            Just("\\"),
        ]
        .prop_map(str::to_string),
        any::<i64>().prop_map(|n| n.to_string()),
        "\"[^\"]{0,12}\"",
        "\\PC{0,8}",
    ]
}

fn sentence() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(token(), 0..24).prop_map(|t| t.join(" ")),
        prop::collection::vec(token(), 0..24).prop_map(|t| t.join("")),
        ".{0,64}",
    ]
}

#[test]
fn filter_parser_and_validator() {
    let (users, groups) = (user_resource(), group_resource());
    runner()
        .run(&sentence(), |s| {
            match filter::parse_filter(&s) {
                Ok(f) => {
                    for rs in [&users, &groups] {
                        if let Err(e) = filter::validate(&f, rs) {
                            proper(&e);
                        }
                    }
                }
                Err(e) => proper(&e),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn patch_path_parser() {
    let (users, groups) = (user_resource(), group_resource());
    runner()
        .run(&sentence(), |s| {
            for rs in [&users, &groups] {
                if let Err(e) = path::parse_path(&s, rs) {
                    proper(&e);
                }
            }
            Ok(())
        })
        .unwrap();
}

/// Arbitrary JSON, keys drawn mostly from real attribute names.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("userName".to_string()),
        Just("schemas".to_string()),
        Just("name".to_string()),
        Just("givenName".to_string()),
        Just("emails".to_string()),
        Just("value".to_string()),
        Just("primary".to_string()),
        Just("type".to_string()),
        Just("active".to_string()),
        Just("members".to_string()),
        Just("displayName".to_string()),
        Just("externalId".to_string()),
        Just("x509Certificates".to_string()),
        Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_string()),
        Just("manager".to_string()),
        Just("op".to_string()),
        Just("path".to_string()),
        Just("Operations".to_string()),
        Just("method".to_string()),
        Just("bulkId".to_string()),
        Just("data".to_string()),
        "[a-zA-Z$.:\u{0}]{0,10}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!("urn:ietf:params:scim:schemas:core:2.0:User")),
        Just(json!("urn:ietf:params:scim:schemas:core:2.0:Group")),
        Just(json!("urn:ietf:params:scim:api:messages:2.0:PatchOp")),
        Just(json!("urn:ietf:params:scim:api:messages:2.0:BulkRequest")),
        Just(json!("add")),
        Just(json!("replace")),
        Just(json!("remove")),
        Just(json!("POST")),
        Just(json!("/Users")),
        sentence().prop_map(Value::String),
        "\\PC{0,16}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

#[test]
fn resource_normalization_and_the_body_check() {
    let (users, groups) = (user_resource(), group_resource());
    runner()
        .run(&json_value(), |v| {
            if let Err(e) = limits::check_body(&v) {
                proper(&e);
            }
            for rs in [&users, &groups] {
                match resource::normalize(&v, rs) {
                    // What normalization keeps is within the limits.
                    Ok(out) => assert!(limits::check_resource(&out).is_ok()),
                    Err(e) => proper(&e),
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn patch_requests_applied_to_a_user() {
    let users = user_resource();
    let current = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u1",
        "userName": "ada@example.com",
        "name": {"givenName": "Ada"},
        "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
        "active": true
    });
    let ops = prop::collection::vec(
        (
            prop_oneof![
                Just("add"),
                Just("replace"),
                Just("remove"),
                Just("Add"),
                Just("x")
            ],
            prop::option::of(sentence()),
            prop::option::of(json_value()),
        ),
        0..4,
    )
    .prop_map(|ops| {
        let ops: Vec<Value> = ops
            .into_iter()
            .map(|(op, path, value)| {
                let mut m = Map::new();
                m.insert("op".into(), json!(op));
                if let Some(p) = path {
                    m.insert("path".into(), json!(p));
                }
                if let Some(v) = value {
                    m.insert("value".into(), v);
                }
                Value::Object(m)
            })
            .collect();
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
    });
    runner()
        .run(&ops, |body| {
            match patch::parse_patch_request(&body) {
                Ok(parsed) => {
                    let mut doc = current.clone();
                    match patch::apply(&mut doc, &parsed, &users) {
                        // As the server does: the result is normalized again.
                        Ok(_) => {
                            if let Err(e) = resource::normalize(&doc, &users) {
                                proper(&e);
                            }
                        }
                        Err(e) => proper(&e),
                    }
                }
                Err(e) => proper(&e),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn bulk_parsing() {
    let body = prop_oneof![
        json_value(),
        prop::collection::vec(json_value(), 0..8).prop_map(|ops| {
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                   "Operations": ops})
        }),
    ];
    runner()
        .run(&body, |v| {
            match bulk::parse_bulk_request(&v, 1000) {
                Ok(req) => {
                    // Each operation is parsed or refused on its own.
                    let _ = format!("{req:?}");
                }
                Err(e) => proper(&e),
            }
            Ok(())
        })
        .unwrap();
}
