//! Sorting, attribute projection, count=0, maximum page size, and POST /.search.

use serde_json::{json, Value};

use crate::helpers::*;

const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

#[tokio::test]
async fn sorting_paging_and_projection() {
    let app = TestApp::builder()
        .seats(10, 0)
        .settings(|s| s.scim.max_results = 3)
        .spawn()
        .await;
    for n in ["delta", "alpha", "charlie", "bravo"] {
        app.post(
            "/Users",
            json!({"schemas": [CORE_USER], "userName": format!("{n}@x.com"),
            "displayName": n.to_uppercase(), "name": {"givenName": n}}),
        )
        .await;
    }
    let r = app
        .get("/Users?sortBy=userName&sortOrder=descending&count=10")
        .await;
    assert_eq!(r.body["itemsPerPage"], 3, "count is clamped to maxResults");
    assert_eq!(r.body["totalResults"], 4);
    let got: Vec<&str> = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["delta@x.com", "charlie@x.com", "bravo@x.com"]);
    let r = app.get("/Users?sortBy=userName&startIndex=4").await;
    assert_eq!(r.body["Resources"][0]["userName"], "delta@x.com");
    let r = app.get("/Users?sortBy=nosuch").await;
    assert_scim_error(&r, 400, Some("invalidValue"));

    let r = app
        .get("/Users?attributes=userName,name.givenName&sortBy=userName")
        .await;
    let first = &r.body["Resources"][0];
    assert_eq!(first["userName"], "alpha@x.com");
    assert_eq!(first["name"], json!({"givenName": "alpha"}));
    assert!(first.get("id").is_some(), "id is always returned");
    assert!(first.get("displayName").is_none());
    assert!(first.get("meta").is_none());
    let r = app
        .get("/Users?excludedAttributes=displayName,meta&sortBy=userName")
        .await;
    let first = &r.body["Resources"][0];
    assert!(first.get("displayName").is_none() && first.get("meta").is_none());
    assert_eq!(first["userName"], "alpha@x.com");
    let id = first["id"].as_str().unwrap();
    let one = app
        .get(&format!("/Users/{id}?attributes=displayName"))
        .await;
    assert_eq!(one.body["displayName"], "ALPHA");
    assert!(one.body.get("userName").is_none());

    let r = app.get("/Users?count=0").await;
    assert_eq!(r.body["totalResults"], 4);
    assert_eq!(r.body["itemsPerPage"], 0);
}

#[tokio::test]
async fn root_search_spans_users_and_groups() {
    let app = TestApp::builder().spawn().await;
    app.create_user("s1@x.com").await;
    app.create_user("s2@x.com").await;
    app.post(
        "/Groups",
        json!({"schemas": [CORE_GROUP], "displayName": "S"}),
    )
    .await;
    let r = app
        .post(
            "/.search",
            json!({"schemas": [SEARCH], "startIndex": 2, "count": 2}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["totalResults"], 3);
    let kinds: Vec<&str> = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["User", "Group"]);
    let r = app
        .post(
            "/.search",
            json!({"schemas": [SEARCH], "filter": "displayName eq \"S\""}),
        )
        .await;
    assert_eq!(r.body["totalResults"], 1);
    let r = app
        .post(
            "/.search",
            json!({"schemas": [SEARCH], "filter": "userName sw \"s\""}),
        )
        .await;
    assert_eq!(
        r.body["totalResults"], 2,
        "a user-only attribute matches no group"
    );
    let r = app
        .post(
            "/.search",
            json!({"schemas": [SEARCH], "filter": "nosuch eq 1"}),
        )
        .await;
    assert_scim_error(&r, 400, Some("invalidFilter"));
    let r = app.post("/Users/.search", json!({"filter": "x"})).await;
    assert_scim_error(&r, 400, Some("invalidSyntax"));
}

#[tokio::test]
async fn excluded_members_are_not_returned() {
    let app = TestApp::builder().spawn().await;
    let u = app.create_user("m@x.com").await;
    let r = app
        .post(
            "/Groups",
            json!({"schemas": [CORE_GROUP], "displayName": "M",
        "members": [{"value": u["id"]}]}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap();
    let one = app
        .get(&format!("/Groups/{id}?excludedAttributes=members"))
        .await;
    assert!(one.body.get("members").is_none());
    assert_eq!(one.body["displayName"], "M");
    let all = app.get("/Groups?excludedAttributes=members").await;
    assert!(all.body["Resources"][0].get("members").is_none());
    let with = app.get(&format!("/Groups/{id}")).await;
    assert_eq!(with.body["members"].as_array().unwrap().len(), 1);
}

/// An unfiltered list's totalResults comes from a counter the writes keep: it must track
/// creates, deletes, a refused duplicate, and a Bulk request whose failed operation rolled back.
#[tokio::test]
async fn unfiltered_total_follows_creates_deletes_and_failures() {
    let app = TestApp::builder().spawn().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.create_user(&format!("count{i}@x.com")).await["id"].clone());
    }
    assert_eq!(app.get("/Users?count=1").await.body["totalResults"], 5);

    for id in &ids[..2] {
        assert_eq!(
            app.delete(&format!("/Users/{}", id.as_str().unwrap()))
                .await
                .status,
            204
        );
    }
    let dup = app.post("/Users", user("count4@x.com")).await;
    assert_scim_error(&dup, 409, Some("uniqueness"));
    let gone = app
        .delete(&format!("/Users/{}", ids[0].as_str().unwrap()))
        .await;
    assert_eq!(
        gone.status, 404,
        "a second delete finds nothing and counts nothing"
    );
    let bulk = app
        .post(
            "/Bulk",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                   "Operations": [
                       {"method": "POST", "path": "/Users", "bulkId": "a",
                        "data": user("count-bulk@x.com")},
                       {"method": "POST", "path": "/Users", "bulkId": "b",
                        "data": user("count2@x.com")}]}),
        )
        .await;
    assert_eq!(bulk.status, 200);
    assert_eq!(bulk.body["Operations"][1]["status"], "409");

    let r = app.get("/Users?count=1").await;
    assert_eq!(r.body["totalResults"], 4, "3 left + 1 from Bulk");
    let all = app.get("/Users?count=100").await;
    assert_eq!(all.body["Resources"].as_array().unwrap().len(), 4);
    let filtered = app
        .get("/Users?count=1&filter=userName%20sw%20%22count%22")
        .await;
    assert_eq!(filtered.body["totalResults"], 4);
}

/// The ids of one page, and its totalResults.
async fn page_ids(app: &TestApp, query: &str) -> (Vec<String>, i64) {
    let r = app.get(&format!("/Users?{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    let ids = r.body["Resources"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    (ids, r.body["totalResults"].as_i64().unwrap_or(-1))
}

/// Deep unfiltered pages seek from remembered positions (every 256th user); a filter that
/// every user matches takes the plain OFFSET path over the same order, so the two must give
/// the same pages, before and after users join and leave in between.
#[tokio::test]
async fn deep_pages_are_the_pages_an_offset_scan_gives() {
    let app = TestApp::builder().seats(1000, 0).spawn().await;
    let ops: Vec<_> = (0..700)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                   "data": user(&format!("deep{i:04}@x.com"))})
        })
        .collect();
    for chunk in ops.chunks(350) {
        let r = app
            .post(
                "/Bulk",
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                       "Operations": chunk}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let starts = [
        1, 200, 256, 257, 300, 511, 512, 513, 520, 650, 700, 701, 900,
    ];
    let check = |round: &'static str| {
        let app = &app;
        async move {
            let mut pages = 0;
            for start in starts {
                for count in [1, 100] {
                    let q = format!("startIndex={start}&count={count}");
                    let (seek, seek_total) = page_ids(app, &q).await;
                    let (scan, scan_total) =
                        page_ids(app, &format!("{q}&filter=userName%20pr")).await;
                    assert_eq!(seek, scan, "{round}: {q}");
                    assert_eq!(seek_total, scan_total, "{round}: {q}");
                    pages += usize::from(!seek.is_empty());
                }
            }
            pages
        }
    };
    assert_eq!(
        check("as created").await,
        2 * 11,
        "pages past the end are empty"
    );

    // Users leave before and between the remembered positions, and new ones join.
    let (early, _) = page_ids(&app, "startIndex=10&count=1").await;
    let (middle, _) = page_ids(&app, "startIndex=400&count=1").await;
    for id in early.iter().chain(&middle) {
        assert_eq!(app.delete(&format!("/Users/{id}")).await.status, 204);
    }
    check("after deletes").await;
    app.create_user("deep-late@x.com").await;
    check("after a create").await;
    let (last, total) = page_ids(&app, "startIndex=699&count=5").await;
    assert_eq!(total, 699);
    assert_eq!(last.len(), 1, "699 users: the 699th is the last");
}

/// Every statement of one read sees the same moment: a domain added (and committed) by
/// another connection between the read's two statements is in neither. Without the read
/// transaction the second statement saw it (READ COMMITTED on PostgreSQL, a fresh snapshot
/// per statement on SQLite), which is how a page's `totalResults` disagreed with its rows.
#[tokio::test]
async fn a_read_sees_one_snapshot_while_writes_commit() {
    use scim_seats::store::orgs;
    let app = TestApp::builder().spawn().await;
    let (writer, org) = (app.db.clone(), app.org_id.clone());
    let (before, after) = app
        .db
        .read(move |c| {
            let before = orgs::domains(c, &org)?;
            writer.write_sync(|w| {
                Ok(orgs::add_domain(
                    w,
                    &org,
                    "late.example.com",
                    scim_seats::store::now(),
                )?)
            })?;
            let after = orgs::domains(c, &org)?;
            Ok((before, after))
        })
        .await
        .expect("read");
    assert_eq!(before, after, "one read, one snapshot");
    assert!(!before.iter().any(|d| d == "late.example.com"));
    let org = app.org_id.clone();
    let now = app
        .db
        .read(move |c| Ok(orgs::domains(c, &org)?))
        .await
        .expect("read");
    assert!(
        now.iter().any(|d| d == "late.example.com"),
        "the write committed: {now:?}"
    );
}

/// The userName before '@' of each user on one page, in order.
async fn sorted_users(app: &TestApp, query: &str) -> Vec<String> {
    let r = app.get(&format!("/Users?{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    r.body["Resources"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u["userName"].as_str())
                .map(|n| n.split('@').next().unwrap_or(n).to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn seed_sortable_users(app: &TestApp) {
    let users = [
        json!({"schemas": [CORE_USER, ENTERPRISE], "userName": "alice@x.com",
               "displayName": "heidi hall", "externalId": "e-2", "title": "b", "active": true,
               "name": {"givenName": "Alice", "familyName": "Éclair"},
               "emails": [{"value": "zz@x.com", "type": "work"},
                          {"value": "aa@x.com", "type": "home", "primary": true}],
               ENTERPRISE: {"department": "Sales"}}),
        json!({"schemas": [CORE_USER, ENTERPRISE], "userName": "bob@x.com",
               "displayName": "Anna Adams", "externalId": "E-1", "title": "A", "active": false,
               "name": {"familyName": "écho"},
               "emails": [{"value": "mm@x.com", "type": "work"}],
               ENTERPRISE: {"department": "r&d"}}),
        json!({"schemas": [CORE_USER], "userName": "carol@x.com",
               "displayName": "Zed Zulu", "externalId": "e-3", "active": true}),
        json!({"schemas": [CORE_USER, ENTERPRISE], "userName": "dave@x.com", "title": "c",
               "active": true, "name": {"familyName": "Ölsen"},
               "emails": [{"value": "BB@x.com"}],
               ENTERPRISE: {"department": "legal"}}),
    ];
    for u in users {
        let r = app.post("/Users", u).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

/// RFC 7644 §3.4.2.3: resources without a value for sortBy come last ascending and first
/// descending, whatever the backend does with NULLs; caseExact=false strings (displayName)
/// sort case-insensitively, caseExact ones (externalId) as they are.
#[tokio::test]
async fn missing_values_sort_last_ascending_and_first_descending() {
    let app = TestApp::builder().spawn().await;
    seed_sortable_users(&app).await;
    let cases: &[(&str, &[&str])] = &[
        ("sortBy=externalId", &["bob", "alice", "carol", "dave"]),
        (
            "sortBy=externalId&sortOrder=descending",
            &["dave", "carol", "alice", "bob"],
        ),
        ("sortBy=displayName", &["bob", "alice", "carol", "dave"]),
        (
            "sortBy=displayName&sortOrder=descending",
            &["dave", "carol", "alice", "bob"],
        ),
        ("sortBy=userName", &["alice", "bob", "carol", "dave"]),
        ("sortBy=meta.created", &["alice", "bob", "carol", "dave"]),
        (
            "sortBy=meta.lastModified&sortOrder=descending",
            &["dave", "carol", "bob", "alice"],
        ),
    ];
    for (query, want) in cases {
        assert_eq!(sorted_users(&app, query).await, *want, "{query}");
    }
}

/// sortBy takes any attribute with a simple value (RFC 7644 §3.4.2.3): sub-attributes,
/// extension attributes by URN, booleans, and multi-valued attributes by their primary
/// value, else their first; non-ASCII capitals fold like ASCII ones.
#[tokio::test]
async fn sort_by_sub_extension_and_multi_valued_attributes() {
    let app = TestApp::builder().spawn().await;
    seed_sortable_users(&app).await;
    let dept = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
    let cases: Vec<(String, &[&str])> = vec![
        (
            "sortBy=name.familyName".into(),
            &["bob", "alice", "dave", "carol"],
        ),
        (
            "sortBy=NAME.FAMILYNAME&sortOrder=descending".into(),
            &["carol", "dave", "alice", "bob"],
        ),
        ("sortBy=title".into(), &["bob", "alice", "dave", "carol"]),
        (format!("sortBy={dept}"), &["dave", "bob", "alice", "carol"]),
        (
            format!("sortBy={dept}&sortOrder=descending"),
            &["carol", "alice", "bob", "dave"],
        ),
        ("sortBy=emails".into(), &["alice", "dave", "bob", "carol"]),
        (
            "sortBy=emails.value".into(),
            &["alice", "dave", "bob", "carol"],
        ),
        (
            "sortBy=emails.value&sortOrder=descending".into(),
            &["carol", "bob", "dave", "alice"],
        ),
        (
            "sortBy=emails.value&filter=title%20pr&count=2".into(),
            &["alice", "dave"],
        ),
        (
            "sortBy=emails.value&filter=title%20pr&startIndex=3".into(),
            &["bob"],
        ),
    ];
    for (query, want) in &cases {
        assert_eq!(sorted_users(&app, query).await, *want, "{query}");
    }
    // The primary email's type, else the first email's; dave's email has none.
    let by_type = sorted_users(&app, "sortBy=emails.type").await;
    assert_eq!(by_type[..2], ["alice", "bob"], "{by_type:?}");
    // Booleans: false before true.
    let active = sorted_users(&app, "sortBy=active").await;
    assert_eq!(active[0], "bob", "{active:?}");
    let active = sorted_users(&app, "sortBy=active&sortOrder=descending").await;
    assert_eq!(active[3], "bob", "{active:?}");
    // Ties are broken by id, so the order is the same on every request.
    let by_active = app.get("/Users?sortBy=active").await.body;
    let trues: Vec<&str> = by_active["Resources"]
        .as_array()
        .map(|a| a[1..].iter().filter_map(|u| u["id"].as_str()).collect())
        .unwrap_or_default();
    let mut sorted = trues.clone();
    sorted.sort_unstable();
    assert_eq!(trues, sorted, "ties in id order");

    for bad in [
        "nosuch",
        "name",
        "meta",
        "password",
        "addresses",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nosuch",
    ] {
        let r = app.get(&format!("/Users?sortBy={bad}")).await;
        assert_scim_error(&r, 400, Some("invalidValue"));
    }
}

#[tokio::test]
async fn groups_sort_by_any_attribute_with_missing_values_at_the_end() {
    let app = TestApp::builder().spawn().await;
    let alice = app.create_user("alice@x.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = app.create_user("bob@x.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (name, external, members) in [
        ("Admins", Some("g-2"), vec![alice.clone()]),
        ("Engineering", None, vec![]),
        ("sales", Some("G-1"), vec![bob.clone(), alice.clone()]),
    ] {
        let mut g = json!({"schemas": [CORE_GROUP], "displayName": name,
                           "members": members.iter().map(|m| json!({"value": m})).collect::<Vec<_>>()});
        if let Some(e) = external {
            g["externalId"] = json!(e);
        }
        let r = app.post("/Groups", g).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let order = |query: &'static str| {
        let app = &app;
        async move {
            let r = app
                .get(&format!("/Groups?excludedAttributes=members&{query}"))
                .await;
            assert_eq!(r.status, 200, "{query}: {}", r.body);
            r.body["Resources"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|g| g["displayName"].as_str().map(str::to_string))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    assert_eq!(
        order("sortBy=displayName").await,
        ["Admins", "Engineering", "sales"]
    );
    assert_eq!(
        order("sortBy=externalId").await,
        ["sales", "Admins", "Engineering"]
    );
    assert_eq!(
        order("sortBy=externalId&sortOrder=descending").await,
        ["Engineering", "Admins", "sales"]
    );
    // The first member: Admins' is alice, sales' is bob; Engineering has none.
    let want = if alice < bob {
        ["Admins", "sales", "Engineering"]
    } else {
        ["sales", "Admins", "Engineering"]
    };
    assert_eq!(order("sortBy=members").await, want);
    assert_eq!(order("sortBy=members.value").await, want);
    for bad in ["userName", "members.display", "nosuch"] {
        let r = app.get(&format!("/Groups?sortBy={bad}")).await;
        assert_scim_error(&r, 400, Some("invalidValue"));
    }
}

/// `POST /.search` at the root (RFC 7644 §3.4.3): a filter that names an attribute one type
/// lacks still finds the other type (that attribute matches nothing there), and sortBy
/// orders users and groups as one list, missing values last.
#[tokio::test]
async fn root_search_filters_and_sorts_across_users_and_groups() {
    let app = TestApp::builder().spawn().await;
    let mut ids = Vec::new();
    for (name, display) in [
        ("alice@example.com", Some("Bravo")),
        ("bob@example.com", Some("délta")),
        ("carol@example.com", None),
    ] {
        let mut u = json!({"schemas": [CORE_USER], "userName": name});
        if let Some(d) = display {
            u["displayName"] = json!(d);
        }
        let r = app.post("/Users", u).await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    for (name, members) in [
        ("alpha", vec![ids[0].clone()]),
        ("Charlie", vec![]),
        ("Sales", vec![]),
    ] {
        let m: Vec<_> = members.iter().map(|id| json!({"value": id})).collect();
        let r = app
            .post(
                "/Groups",
                json!({"schemas": [CORE_GROUP], "displayName": name, "members": m}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let search = |body: Value| {
        let app = &app;
        async move {
            let r = app.post("/.search", body.clone()).await;
            assert_eq!(r.status, 200, "{body}: {}", r.body);
            let names: Vec<String> = r.body["Resources"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            x["displayName"]
                                .as_str()
                                .or(x["userName"].as_str())
                                .unwrap_or("?")
                                .to_string()
                        })
                        .collect()
                })
                .unwrap_or_default();
            (names, r.body["totalResults"].as_i64().unwrap_or(-1))
        }
    };
    let (found, total) = search(json!({"schemas": [SEARCH],
        "filter": r#"displayName eq "Sales" or userName eq "alice@example.com""#}))
    .await;
    assert_eq!(total, 2);
    assert_eq!(found, ["Bravo", "Sales"]);
    let (found, total) = search(
        json!({"schemas": [SEARCH], "filter": r#"members pr or userName eq "bob@example.com""#}),
    )
    .await;
    assert_eq!(
        (found, total),
        (vec!["délta".to_string(), "alpha".to_string()], 2)
    );
    let (_, total) = search(json!({"schemas": [SEARCH], "filter": "not (userName pr)"})).await;
    assert_eq!(total, 3, "every group, no user");

    let (found, total) = search(json!({"schemas": [SEARCH], "sortBy": "displayName"})).await;
    assert_eq!(total, 6);
    assert_eq!(
        found,
        [
            "alpha",
            "Bravo",
            "Charlie",
            "délta",
            "Sales",
            "carol@example.com"
        ]
    );
    let (found, _) = search(json!({"schemas": [SEARCH], "sortBy": "displayName",
                                   "sortOrder": "descending", "startIndex": 1, "count": 3}))
    .await;
    assert_eq!(found, ["carol@example.com", "Sales", "délta"]);
    let (found, total) = search(json!({"schemas": [SEARCH], "sortBy": "displayName",
                                       "startIndex": 3, "count": 2}))
    .await;
    assert_eq!(
        (found, total),
        (vec!["Charlie".to_string(), "délta".to_string()], 6)
    );
    // userName only users have: the groups have no value and come last.
    let (found, _) = search(json!({"schemas": [SEARCH], "sortBy": "userName",
                                   "filter": r#"userName sw "a" or displayName sw "s""#}))
    .await;
    assert_eq!(found, ["Bravo", "Sales"]);
    let (found, _) = search(json!({"schemas": [SEARCH], "sortBy": "userName",
                                   "sortOrder": "descending",
                                   "filter": r#"userName sw "a" or displayName sw "s""#}))
    .await;
    assert_eq!(found, ["Sales", "Bravo"]);
    // Keys of every kind, where only one type has the attribute or both do.
    for sort_by in [
        "emails",
        "members",
        "active",
        "meta.created",
        "meta.lastModified",
        "externalId",
        "id",
        "name.familyName",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    ] {
        for order in ["ascending", "descending"] {
            let (found, total) = search(
                json!({"schemas": [SEARCH], "sortBy": sort_by, "sortOrder": order, "count": 4}),
            )
            .await;
            assert_eq!((found.len(), total), (4, 6), "{sort_by} {order}");
        }
    }
    // One type only: the other's part of the filter matches nothing.
    let (found, total) = search(json!({"schemas": [SEARCH], "sortBy": "displayName",
                                       "filter": "userName pr", "sortOrder": "descending"}))
    .await;
    assert_eq!(total, 3);
    assert_eq!(found, ["carol@example.com", "délta", "Bravo"]);
    let (found, total) =
        search(json!({"schemas": [SEARCH], "sortBy": "userName", "filter": "members pr"})).await;
    assert_eq!((found, total), (vec!["alpha".to_string()], 1));
    let (found, total) = search(json!({"schemas": [SEARCH], "sortBy": "userName",
                                       "filter": r#"userName pr and displayName eq "x""#}))
    .await;
    assert_eq!((found.len(), total), (0, 0));
    let (found, total) = search(json!({"schemas": [SEARCH], "sortBy": "userName",
                                       "filter": "userName pr and members pr"}))
    .await;
    assert_eq!((found.len(), total), (0, 0), "no resource has both");
    let (found, _) = search(json!({"schemas": [SEARCH], "sortBy": "meta.resourceType",
                                   "sortOrder": "descending", "count": 3}))
    .await;
    // "User" > "Group": descending, the three users come first.
    let mut first = found.clone();
    first.sort();
    assert_eq!(first, ["Bravo", "carol@example.com", "délta"]);
    let (found, _) = search(json!({"schemas": [SEARCH], "sortBy": "members"})).await;
    assert_eq!(
        found[0], "alpha",
        "the one resource with a member comes first"
    );
    let r = app
        .post("/.search", json!({"schemas": [SEARCH], "sortBy": "nosuch"}))
        .await;
    assert_scim_error(&r, 400, Some("invalidValue"));
}
