//! The filter grammar through the real server: every operator, logic, grouping, value
//! filters, sub-attributes, extension URNs, meta dates, caseExact — evaluated in SQL on both
//! backends. Each case states the exact set of userNames it must return.

use serde_json::json;

use crate::helpers::*;

async fn seed(app: &TestApp) {
    let users = [
        json!({"schemas": [CORE_USER, ENTERPRISE], "userName": "alice@example.com", "externalId": "A-1",
               "displayName": "Alice Smith", "title": "Engineer", "active": true,
               "name": {"givenName": "Alice", "familyName": "Smith"},
               "emails": [{"value": "alice@example.com", "type": "work", "primary": true},
                          {"value": "alice@home.org", "type": "home"}],
               "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
               ENTERPRISE: {"department": "R&D", "employeeNumber": "100", "manager": {"value": "m-1"}}}),
        json!({"schemas": [CORE_USER, ENTERPRISE], "userName": "bob@example.com", "externalId": "B-2",
               "displayName": "Bob Jones", "title": "Manager", "active": false,
               "name": {"givenName": "Bob", "familyName": "Jones"},
               "emails": [{"value": "bob@example.com", "type": "work"}],
               ENTERPRISE: {"department": "Sales"}}),
        json!({"schemas": [CORE_USER], "userName": "carol@other.net", "displayName": "Carol_100%",
               "active": true, "emails": [{"value": "Carol@Other.net", "type": "home"}]}),
        json!({"schemas": [CORE_USER], "userName": "dave@example.com", "active": true}),
    ];
    for u in users {
        let r = app.post("/Users", u).await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    }
}

async fn names(app: &TestApp, filter: &str) -> Vec<String> {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                      "filter": filter, "sortBy": "userName"});
    let r = app.post("/Users/.search", body).await;
    assert_eq!(r.status.as_u16(), 200, "filter {filter}: {}", r.body);
    let mut out: Vec<String> = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            u["userName"]
                .as_str()
                .unwrap()
                .split('@')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        r.body["totalResults"],
        out.len(),
        "totalResults matches for {filter}"
    );
    out.sort();
    out
}

#[tokio::test]
async fn every_operator_and_combination_runs_in_sql() {
    let app = TestApp::builder().spawn().await;
    seed(&app).await;
    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "ALICE@example.com""#, &["alice"]),
        (
            r#"userName ne "alice@example.com""#,
            &["bob", "carol", "dave"],
        ),
        (r#"userName co "example""#, &["alice", "bob", "dave"]),
        (r#"userName sw "CA""#, &["carol"]),
        (r#"userName ew ".NET""#, &["carol"]),
        (r#"userName gt "bob@example.com""#, &["carol", "dave"]),
        (
            r#"userName ge "bob@example.com""#,
            &["bob", "carol", "dave"],
        ),
        (r#"userName lt "bob@example.com""#, &["alice"]),
        (r#"userName le "bob@example.com""#, &["alice", "bob"]),
        ("title pr", &["alice", "bob"]),
        ("not (title pr)", &["carol", "dave"]),
        (r#"title eq "engineer""#, &["alice"]),
        (r#"externalId eq "A-1""#, &["alice"]),
        (r#"externalId eq "a-1""#, &[]),
        (r#"externalId ne "A-1""#, &["bob", "carol", "dave"]),
        ("externalId pr", &["alice", "bob"]),
        ("active eq true", &["alice", "carol", "dave"]),
        ("active eq false", &["bob"]),
        (r#"active eq "False""#, &["bob"]),
        (r#"name.familyName eq "smith""#, &["alice"]),
        (
            r#"name.givenName sw "B" or name.familyName ew "ith""#,
            &["alice", "bob"],
        ),
        (r#"displayName co "_100%""#, &["carol"]),
        (r#"displayName co "%""#, &["carol"]),
        (r#"displayName co "_""#, &["carol"]),
        (r#"emails.value eq "carol@other.net""#, &["carol"]),
        (r#"emails co "@home.org""#, &["alice"]),
        (
            r#"emails[type eq "work" and value co "@example.com"]"#,
            &["alice", "bob"],
        ),
        (r#"emails[type eq "home" and value ew ".org"]"#, &["alice"]),
        (
            r#"emails[type eq "work"].value eq "bob@example.com""#,
            &["bob"],
        ),
        (r#"emails[primary eq true]"#, &["alice"]),
        ("emails pr", &["alice", "bob", "carol"]),
        (r#"phoneNumbers[type eq "work"]"#, &["alice"]),
        (r#"phoneNumbers.value co "555""#, &["alice"]),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D""#,
            &["alice"],
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m-1""#,
            &["alice"],
        ),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr"#,
            &["alice", "bob"],
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "dave""#,
            &["dave"],
        ),
        (
            r#"(title eq "Engineer" or title eq "Manager") and active eq true"#,
            &["alice"],
        ),
        (
            r#"title eq "Engineer" or title eq "Manager" and active eq true"#,
            &["alice"],
        ),
        (
            r#"not (userName sw "a" or userName sw "b")"#,
            &["carol", "dave"],
        ),
        (
            r#"USERNAME EQ "dave@example.com" AND Active Eq TRUE"#,
            &["dave"],
        ),
        (
            r#"meta.resourceType eq "User""#,
            &["alice", "bob", "carol", "dave"],
        ),
        (
            r#"meta.created gt "2000-01-01T00:00:00Z""#,
            &["alice", "bob", "carol", "dave"],
        ),
        (r#"meta.lastModified lt "2000-01-01T00:00:00Z""#, &[]),
        (
            r#"urn:scim-seats:params:scim:schemas:extension:seat:2.0:User:status eq "active""#,
            &["alice", "carol", "dave"],
        ),
        (
            r#"urn:scim-seats:params:scim:schemas:extension:seat:2.0:User:status eq "inactive""#,
            &["bob"],
        ),
        (r#"title eq null"#, &["carol", "dave"]),
    ];
    for (filter, want) in cases {
        let got = names(&app, filter).await;
        let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "filter: {filter}");
    }
}

#[tokio::test]
async fn meta_last_modified_filters_track_writes() {
    let app = TestApp::builder().spawn().await;
    seed(&app).await;
    let dave = app
        .get("/Users?filter=userName%20eq%20%22dave@example.com%22")
        .await
        .body["Resources"][0]
        .clone();
    let stamp = dave["meta"]["lastModified"].as_str().unwrap().to_string();
    let f = format!("meta.lastModified gt \"{stamp}\"");
    assert_eq!(names(&app, &f).await, Vec::<String>::new());
    let id = dave["id"].as_str().unwrap();
    app.put(
        &format!("/Users/{id}"),
        json!({"schemas": [CORE_USER], "userName": "dave@example.com", "title": "x"}),
    )
    .await;
    assert_eq!(names(&app, &f).await, vec!["dave".to_string()]);
}

#[tokio::test]
async fn invalid_filters_are_400_invalid_filter_with_a_position() {
    let app = TestApp::builder().spawn().await;
    for bad in [
        r#"userName eq"#,
        r#"userName xx "a""#,
        r#"nosuchattr eq "a""#,
        r#"active gt true"#,
        r#"userName eq "a" and"#,
        r#"(userName eq "a""#,
        r#"emails[type eq "work""#,
        r#"password eq "x""#,
        r#"meta.created gt "yesterday""#,
        r#"urn:scim-seats:params:scim:schemas:extension:seat:2.0:User:queuePosition gt 1"#,
    ] {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": bad});
        let r = app.post("/Users/.search", body).await;
        assert_scim_error(&r, 400, Some("invalidFilter"));
    }
    let deep = format!("{}userName pr{}", "(".repeat(40), ")".repeat(40));
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": deep});
    assert_scim_error(
        &app.post("/Users/.search", body).await,
        400,
        Some("invalidFilter"),
    );
    let r = app.get("/Users?filter=userName%20eq%20%22a%22%20foo").await;
    assert_scim_error(&r, 400, Some("invalidFilter"));
    assert!(
        r.body["detail"].as_str().unwrap().contains("position"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn group_filters_on_names_and_members() {
    let app = TestApp::builder().spawn().await;
    let a = app.create_user("a@x.com").await;
    let aid = a["id"].as_str().unwrap();
    for (name, members) in [
        ("Engineering", vec![aid]),
        ("Sales", vec![]),
        ("engineering-leads", vec![aid]),
    ] {
        let m: Vec<_> = members.iter().map(|id| json!({"value": id})).collect();
        let r = app
            .post(
                "/Groups",
                json!({"schemas": [CORE_GROUP], "displayName": name, "members": m}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 201);
    }
    let count = |f: &'static str| {
        let app = &app;
        async move {
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": f});
            let r = app.post("/Groups/.search", body).await;
            assert_eq!(r.status.as_u16(), 200, "{f}: {}", r.body);
            r.body["totalResults"].as_i64().unwrap()
        }
    };
    assert_eq!(count(r#"displayName eq "ENGINEERING""#).await, 1);
    assert_eq!(count(r#"displayName sw "eng""#).await, 2);
    assert_eq!(count(r#"not (displayName sw "eng")"#).await, 1);
    let f = format!(r#"members[value eq "{aid}"]"#);
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": f});
    assert_eq!(
        app.post("/Groups/.search", body).await.body["totalResults"],
        2
    );
    let f = format!(r#"members.value eq "{aid}" and displayName eq "Sales""#);
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": f});
    assert_eq!(
        app.post("/Groups/.search", body).await.body["totalResults"],
        0
    );
    // Users can be found by the groups they are in.
    let g = app
        .get("/Groups?filter=displayName%20eq%20%22Sales%22")
        .await
        .body["Resources"][0]["id"]
        .clone();
    let f = format!(r#"groups.value eq "{}""#, g.as_str().unwrap());
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": f});
    assert_eq!(
        app.post("/Users/.search", body).await.body["totalResults"],
        0
    );
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                      "filter": r#"groups.display eq "engineering""#});
    assert_eq!(
        app.post("/Users/.search", body).await.body["totalResults"],
        1
    );
}

/// `userName eq` and `id eq` alone are answered by a prepared point lookup: the answer must
/// be the one the general search gives, paging, counts and `groups` included.
#[tokio::test]
async fn point_lookups_answer_like_the_general_search() {
    let app = TestApp::builder().spawn().await;
    let alice = app.create_user("Alice@Example.com").await;
    app.create_user("bob@example.com").await;
    let id = alice["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": "Eng", "members": [{"value": id}]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let gid = r.body["id"].as_str().unwrap().to_string();

    let get = |q: String| {
        let app = &app;
        async move {
            let r = app.get(&format!("/Users?{q}")).await;
            assert_eq!(r.status.as_u16(), 200, "{q}: {}", r.body);
            r.body
        }
    };
    let by_name = get("filter=userName%20eq%20%22ALICE%40example.COM%22".into()).await;
    assert_eq!(by_name["totalResults"], 1);
    assert_eq!(by_name["itemsPerPage"], 1);
    assert_eq!(by_name["startIndex"], 1);
    let user = &by_name["Resources"][0];
    assert_eq!(user["id"], id.as_str());
    assert_eq!(user["userName"], "Alice@Example.com");
    assert_eq!(user["groups"][0]["value"], gid.as_str());
    assert_eq!(user["groups"][0]["display"], "Eng");
    // The same resource as a GET by id.
    assert_eq!(*user, app.get(&format!("/Users/{id}")).await.body);

    let by_id = get(format!("filter=id%20eq%20%22{id}%22")).await;
    assert_eq!(by_id["Resources"], by_name["Resources"]);
    assert_eq!(by_id["totalResults"], 1);

    // Paging past the one match, and count=0, still count it.
    let past = get("filter=userName%20eq%20%22alice%40example.com%22&startIndex=2".into()).await;
    assert_eq!(past["totalResults"], 1);
    assert_eq!(past["Resources"].as_array().map_or(0, Vec::len), 0);
    let counted = get("filter=userName%20eq%20%22alice%40example.com%22&count=0".into()).await;
    assert_eq!(counted["totalResults"], 1);
    assert_eq!(counted["Resources"].as_array().map_or(0, Vec::len), 0);

    // No match, and a projection.
    let none = get("filter=userName%20eq%20%22carol%40example.com%22".into()).await;
    assert_eq!(none["totalResults"], 0);
    assert_eq!(none["Resources"].as_array().map_or(0, Vec::len), 0);
    let projected =
        get("filter=userName%20eq%20%22alice%40example.com%22&attributes=userName".into()).await;
    let only = projected["Resources"][0].as_object().unwrap();
    assert_eq!(only["userName"], "Alice@Example.com");
    assert!(!only.contains_key("groups"), "{projected}");
    assert!(!only.contains_key("emails"), "{projected}");
}

/// caseExact=false strings compare case-insensitively for every letter, not only ASCII: the
/// stored JSON (name, title, extension), the displayName column, group names through a
/// user's `groups`, and email rows, with eq/ne/co/sw/ew on both backends.
#[tokio::test]
async fn non_ascii_capitals_compare_case_insensitively() {
    non_ascii_capitals_fold(&TestApp::builder().spawn().await).await;
}

/// The same on a PostgreSQL database whose ctype is "C", where `lower()` folds ASCII only.
#[tokio::test]
async fn non_ascii_capitals_fold_under_a_c_ctype_too() {
    let Some(db) = TestDb::fresh_pg_c_locale() else {
        return; // SQLite: no ctype.
    };
    let seats = Seats {
        standard: 10,
        premium: 0,
    };
    non_ascii_capitals_fold(
        &TestApp::builder()
            .database(db)
            .seats(seats.standard, seats.premium)
            .spawn()
            .await,
    )
    .await;
}

async fn non_ascii_capitals_fold(app: &TestApp) {
    let users = [
        json!({"schemas": [CORE_USER, ENTERPRISE], "userName": "emile@example.com",
               "displayName": "Émile Ölsen", "title": "Über Lead",
               "name": {"givenName": "Émile", "familyName": "Ölsen"},
               "emails": [{"value": "Émile@Exämple.com", "type": "Wörk"}],
               ENTERPRISE: {"department": "Études"}}),
        json!({"schemas": [CORE_USER], "userName": "olsen@example.com",
               "displayName": "Emile Olsen", "title": "Uber Lead",
               "name": {"givenName": "Emile", "familyName": "Olsen"}}),
    ];
    let mut ids = Vec::new();
    for u in users {
        let r = app.post("/Users", u).await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    let r = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": "Équipe Ünited",
                   "members": [{"value": ids[0]}]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let cases: &[(&str, &[&str])] = &[
        (r#"name.familyName eq "Ölsen""#, &["emile"]),
        (r#"name.familyName eq "ölsen""#, &["emile"]),
        (r#"name.familyName eq "ÖLSEN""#, &["emile"]),
        (r#"name.familyName eq "olsen""#, &["olsen"]),
        (r#"name.familyName ne "ÖLSEN""#, &["olsen"]),
        (r#"name.givenName sw "É""#, &["emile"]),
        (r#"name.givenName sw "é""#, &["emile"]),
        (r#"displayName eq "Émile Ölsen""#, &["emile"]),
        (r#"displayName eq "ÉMILE ÖLSEN""#, &["emile"]),
        (r#"displayName sw "É""#, &["emile"]),
        (r#"displayName ew "ölsen""#, &["emile"]),
        (r#"displayName co "LE Ö""#, &["emile"]),
        (r#"displayName co "e o""#, &["olsen"]),
        (r#"title eq "Über Lead""#, &["emile"]),
        (r#"title eq "über lead""#, &["emile"]),
        (r#"title sw "ÜB""#, &["emile"]),
        (r#"title gt "u""#, &["emile", "olsen"]),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "ÉTUDES""#,
            &["emile"],
        ),
        (r#"groups.display eq "Équipe Ünited""#, &["emile"]),
        (r#"groups.display eq "ÉQUIPE ÜNITED""#, &["emile"]),
        (r#"groups[display sw "équipe"]"#, &["emile"]),
        (r#"emails.value eq "ÉMILE@EXÄMPLE.COM""#, &["emile"]),
        (r#"emails[type eq "WÖRK"]"#, &["emile"]),
    ];
    for (filter, want) in cases {
        let got = names(app, filter).await;
        let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "filter: {filter}");
    }
    for f in [
        r#"displayName eq "Équipe Ünited""#,
        r#"displayName eq "ÉQUIPE ÜNITED""#,
        r#"displayName sw "équipe""#,
    ] {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": f});
        let r = app.post("/Groups/.search", body).await;
        assert_eq!(r.status.as_u16(), 200, "{f}: {}", r.body);
        assert_eq!(r.body["totalResults"], 1, "{f}");
    }
}

/// Every resource has `meta` (and all its sub-attributes): `meta pr` matches all of them.
#[tokio::test]
async fn meta_is_present_on_every_resource() {
    let app = TestApp::builder().spawn().await;
    seed(&app).await;
    let all = ["alice", "bob", "carol", "dave"];
    let cases: &[(&str, &[&str])] = &[
        ("meta pr", &all),
        ("not (meta pr)", &[]),
        ("meta.created pr", &all),
        ("meta.location pr", &all),
        ("meta.version pr", &all),
        (r#"meta pr and userName sw "a""#, &["alice"]),
    ];
    for (filter, want) in cases {
        let got = names(&app, filter).await;
        let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "filter: {filter}");
    }
    app.post(
        "/Groups",
        json!({"schemas": [CORE_GROUP], "displayName": "G"}),
    )
    .await;
    for (f, n) in [("meta pr", 1), ("not (meta pr)", 0), ("meta.version pr", 1)] {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": f});
        let r = app.post("/Groups/.search", body).await;
        assert_eq!(r.status.as_u16(), 200, "{f}: {}", r.body);
        assert_eq!(r.body["totalResults"], n, "{f}");
    }
}

/// Errors found after parsing (an unknown attribute, a value of the wrong type) name the
/// position of the attribute path they are about, as syntax errors do.
#[tokio::test]
async fn schema_errors_name_the_position_of_the_attribute() {
    let app = TestApp::builder().spawn().await;
    let cases = [
        ("/Users/.search", r#"nosuch eq "a""#, "position 0"),
        (
            "/Users/.search",
            r#"userName eq "a" or nosuch eq "a""#,
            "position 19",
        ),
        (
            "/Users/.search",
            r#"userName pr and active eq "yes""#,
            "position 16",
        ),
        (
            "/Users/.search",
            r#"emails[type eq "w" or nosuch pr]"#,
            "position 22",
        ),
        ("/Users/.search", r#"not (name.nosuch pr)"#, "position 5"),
        (
            "/Users/.search",
            r#"title pr and meta.created gt "yesterday""#,
            "position 13",
        ),
        (
            "/Groups/.search",
            r#"displayName pr and userName eq "x""#,
            "position 19",
        ),
        ("/.search", r#"userName pr or nosuch eq "x""#, "position 15"),
    ];
    for (path, filter, want) in cases {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter});
        let r = app.post(path, body).await;
        assert_scim_error(&r, 400, Some("invalidFilter"));
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(want), "{path} {filter}: {detail}");
    }
}
