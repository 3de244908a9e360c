//! Snapshots of the SQL each filter shape, sort key and root search produces, on each
//! backend: the shapes Okta and Entra send (scim-fixtures/) and the rest of the grammar.
//! The snapshot files are under `snapshots/`; `.config/insta.yaml` sets `update: "no"`,
//! so a change fails the test instead of writing a file. To accept a change on purpose:
//! `INSTA_UPDATE=always cargo test --lib store::filter_sql`, then read the diff in git.

use super::raw::SqlBuf;
use super::*;
use crate::scim::filter::{parse_for, resolve_sort};
use crate::scim::schema::{Registry, ResourceSchema};

const BACKENDS: [(Backend, &str); 2] = [(Backend::Sqlite, "sqlite"), (Backend::Pg, "pg")];

const USER_FILTERS: &[&str] = &[
    // Okta: the lookup before every create.
    r#"userName eq "bjensen@example.com""#,
    // Entra: its lookups, the work email, and deltas by modification time.
    r#"externalId eq "AlexW""#,
    r#"displayName eq "Alex Wilber""#,
    r#"emails[type eq "work"].value eq "AlexW@contoso.com""#,
    r#"emails[type eq "work" and value co "@example.com"]"#,
    r#"meta.lastModified gt "2026-01-01T00:00:00Z""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
    // Logic.
    r#"userName eq "a" and active eq true"#,
    r#"userName eq "a" or externalId eq "b""#,
    r#"not (userName co "test")"#,
    // Substrings and presence.
    r#"userName co "smith""#,
    r#"name.familyName sw "Jen""#,
    r#"userName ew "@example.com""#,
    r#"title pr"#,
    r#"emails pr"#,
    r#"externalId eq null"#,
    r#"userName ne "a""#,
    // The seat extension and the enterprise manager.
    r#"urn:scim-seats:params:scim:schemas:extension:seat:2.0:User:status eq "pending""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1""#,
    r#"groups[value eq "g1"]"#,
];

const GROUP_FILTERS: &[&str] = &[
    // Okta and Entra: a group by name, by externalId, and a member check.
    r#"displayName eq "Sales & Marketing EMEA""#,
    r#"externalId eq "g-1""#,
    r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
    r#"displayName sw "Eng" and meta.lastModified ge "2026-01-01T00:00:00Z""#,
    r#"members pr"#,
    r#"meta.resourceType eq "Group""#,
];

const USER_SORTS: &[&str] = &[
    "userName",
    "name.familyName",
    "emails",
    "emails.value",
    "meta.lastModified",
    "externalId",
    "id",
    "urn:scim-seats:params:scim:schemas:extension:seat:2.0:User:queuePosition",
];

const GROUP_SORTS: &[&str] = &["displayName", "members", "meta.created"];

/// The SQL of each filter on one backend, one after the other.
fn predicates(resource: Resource, rs: &ResourceSchema, filters: &[&str], b: Backend) -> String {
    let mut out = String::new();
    for f in filters {
        let typed = parse_for(f, rs).unwrap_or_else(|e| panic!("{f}: {e:?}"));
        let mut buf = SqlBuf::default();
        Translator {
            resource,
            backend: b,
        }
        .filter(&typed, &mut buf)
        .unwrap_or_else(|e| panic!("{f}: {e}"));
        out.push_str(&format!("{f}\n  {}\n\n", buf.into_predicate().render(b)));
    }
    out
}

/// The ORDER BY of each sortBy attribute on one backend, both directions.
fn sorts(resource: Resource, rs: &ResourceSchema, attrs: &[&str], b: Backend) -> String {
    let mut out = String::new();
    for name in attrs {
        let attr = resolve_sort(name, rs).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let key = sort_key(resource, &attr, b).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push_str(&format!(
            "{name}\n  ascending: {}\n  descending: {}\n\n",
            key.order_by(false),
            key.order_by(true)
        ));
    }
    out
}

#[test]
fn user_filters() {
    let rs = &Registry::get().user;
    for (b, name) in BACKENDS {
        let sql = predicates(Resource::User, rs, USER_FILTERS, b);
        insta::assert_snapshot!(format!("user_filters_{name}"), sql);
    }
}

#[test]
fn group_filters() {
    let rs = &Registry::get().group;
    for (b, name) in BACKENDS {
        let sql = predicates(Resource::Group, rs, GROUP_FILTERS, b);
        insta::assert_snapshot!(format!("group_filters_{name}"), sql);
    }
}

#[test]
fn sort_keys() {
    let reg = Registry::get();
    for (b, name) in BACKENDS {
        let mut sql = sorts(Resource::User, &reg.user, USER_SORTS, b);
        sql.push_str(&sorts(Resource::Group, &reg.group, GROUP_SORTS, b));
        insta::assert_snapshot!(format!("sort_keys_{name}"), sql);
    }
}

#[test]
fn root_search() {
    let reg = Registry::get();
    let users = parse_for(r#"userName sw "a""#, &reg.user).expect("user filter");
    let groups = parse_for(r#"displayName sw "a""#, &reg.group).expect("group filter");
    let by_name = resolve_sort("displayName", &reg.user).expect("user sort");
    let by_group_name = resolve_sort("displayName", &reg.group).expect("group sort");
    for (b, name) in BACKENDS {
        let both = mixed_page(
            "org-1",
            Some(MixedPart {
                filter: Some(&users),
                sort: Some(&by_name),
            }),
            Some(MixedPart {
                filter: Some(&groups),
                sort: Some(&by_group_name),
            }),
            false,
            200,
            100,
            b,
        )
        .expect("a root page");
        // Users only, every one of them, sorted by an attribute groups lack.
        let user_name = resolve_sort("userName", &reg.user).expect("user sort");
        let users_only = mixed_page(
            "org-1",
            Some(MixedPart {
                filter: None,
                sort: Some(&user_name),
            }),
            Some(MixedPart {
                filter: None,
                sort: None,
            }),
            true,
            0,
            10,
            b,
        )
        .expect("a root page");
        let nothing = mixed_page("org-1", None, None, false, 0, 10, b).expect("no page");
        let sql = [both, users_only, nothing]
            .iter()
            .map(|q| q.0.render(b))
            .collect::<Vec<_>>()
            .join("\n\n");
        insta::assert_snapshot!(format!("root_search_{name}"), sql);
    }
}

/// Shapes the translation refuses rather than guess at: `invalidFilter`, never a query.
#[test]
fn refuses_what_it_cannot_translate() {
    let rs = &Registry::get().user;
    for f in [
        r#"schemas eq "urn:x""#,
        r#"meta.location eq "https://x""#,
        r#"meta.resourceType gt "User""#,
    ] {
        let typed = parse_for(f, rs).unwrap_or_else(|e| panic!("{f}: {e:?}"));
        for (b, _) in BACKENDS {
            let out =
                predicate::<crate::store::schema::scim_users::table>(Resource::User, &typed, b);
            assert!(out.is_err(), "{f} on {b:?}");
        }
    }
}
