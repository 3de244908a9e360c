//! Group → tier mapping set through the owner API and the CLI, acting on IdP traffic shaped
//! like Okta's and Entra's: the user is created first, then group membership is pushed.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn seat_of(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    seat(&r.body).clone()
}

/// Okta's group push: an empty group first, then a PATCH adding members.
async fn okta_group(app: &TestApp, name: &str) -> String {
    create_group_with(app, name, &[]).await
}

async fn add_members(app: &TestApp, group: &str, users: &[&str], entra: bool) {
    let value: Vec<Value> = users.iter().map(|u| json!({"value": u})).collect();
    // Entra writes the op capitalised.
    let op = if entra { "Add" } else { "add" };
    let r = app
        .patch(
            &format!("/Groups/{group}"),
            json!({"schemas": [PATCH_OP], "Operations": [{"op": op, "path": "members", "value": value}]}),
        )
        .await;
    assert!(
        r.status.is_success(),
        "add members: {} {}",
        r.status,
        r.body
    );
}

async fn remove_member(app: &TestApp, group: &str, user: &str) {
    let r = app
        .patch(
            &format!("/Groups/{group}"),
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "remove", "path": format!("members[value eq \"{user}\"]")}]}),
        )
        .await;
    assert!(
        r.status.is_success(),
        "remove member: {} {}",
        r.status,
        r.body
    );
}

async fn deactivate(app: &TestApp, id: &str) {
    let r = app
        .patch(
            &format!("/Users/{id}"),
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn map(app: &TestApp, owner: &str, group: &str, tier: &str) -> Resp {
    app.api(
        owner,
        Method::PUT,
        &format!("/group-tiers/{group}"),
        Some(json!({"tier": tier})),
        &[],
    )
    .await
}

async fn policy(app: &TestApp, owner: &str) -> Value {
    let r = app.api(owner, Method::GET, "/group-tiers", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

async fn pending_report(app: &TestApp, owner: &str) -> Value {
    let r = app
        .api(owner, Method::GET, "/reports/pending", None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

async fn audit_kinds(app: &TestApp, owner: &str, user: &str) -> Vec<String> {
    let r = app
        .api(
            owner,
            Method::GET,
            &format!("/audit?user={user}&per_page=100"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn okta_push_moves_a_member_to_premium_or_records_the_wait_and_serves_it_first_come() {
    let app = TestApp::builder().seats(3, 1).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let eng = okta_group(&app, "Engineering").await;
    let r = map(&app, &owner, &eng, "premium").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["rule"]["group"], "Engineering");
    assert_eq!(r.body["rule"]["tier"], "premium");

    // Carl takes the only premium seat; Ada and Bob get standard ones.
    let carl = id_of(&app.create_user("carl@acme.example.com").await);
    let ada = id_of(&app.create_user("ada@acme.example.com").await);
    let bob = id_of(&app.create_user("bob@acme.example.com").await);
    assert_eq!(seat_of(&app, &carl).await["tier"], "premium");
    assert_eq!(seat_of(&app, &ada).await["tier"], "standard");

    // Group push: no premium seat is free, so Ada keeps standard and waits for premium.
    add_members(&app, &eng, &[&ada], false).await;
    assert_eq!(seat_of(&app, &ada).await["tier"], "standard");
    let p = policy(&app, &owner).await;
    assert_eq!(p["precedence"], json!(["premium", "standard"]));
    assert_eq!(p["rules"][0]["members"], 1);
    assert_eq!(p["waits"].as_array().expect("waits").len(), 1, "{p}");
    assert_eq!(p["waits"][0]["user_id"], ada.as_str());
    assert_eq!(p["waits"][0]["holding"], "standard");
    assert_eq!(p["waits"][0]["waiting_for"], "premium");
    let rep = pending_report(&app, &owner).await;
    assert_eq!(rep["tier_waits"], json!({"premium": 1, "standard": 0}));
    // One premium seat serves Ada and frees her standard seat: nothing else is needed.
    assert_eq!(rep["seats_needed"], json!({"premium": 1, "standard": 0}));

    // Bob joins later (Entra-style op): he waits behind Ada.
    add_members(&app, &eng, &[&bob], true).await;
    assert_eq!(
        policy(&app, &owner).await["waits"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Carl leaves: his premium seat goes to the first waiter, Ada.
    deactivate(&app, &carl).await;
    assert_eq!(seat_of(&app, &ada).await["tier"], "premium");
    assert_eq!(seat_of(&app, &bob).await["tier"], "standard");
    assert_eq!(app.pool("premium"), (1, 1));
    assert_eq!(app.pool("standard"), (3, 1));
    let kinds = audit_kinds(&app, &owner, &ada).await;
    assert!(kinds.iter().any(|k| k == "user.tier_changed"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "tier.wait_started"), "{kinds:?}");
    app.assert_seat_invariants();

    // A purchase of premium serves Bob.
    let r = app
        .confirm(&owner, "premium-for-bob", json!({"add_premium": 1}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(seat_of(&app, &bob).await["tier"], "premium");
    assert!(policy(&app, &owner).await["waits"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(app.pool("premium"), (2, 2));
    app.assert_seat_invariants();

    // A free premium seat: joining moves the member at once.
    app.confirm(&owner, "one-more", json!({"add_premium": 1}))
        .await;
    let dan = id_of(&app.create_user("dan@acme.example.com").await);
    assert_eq!(
        seat_of(&app, &dan).await["tier"],
        "premium",
        "highest free tier"
    );
    let eve = id_of(&app.create_user("eve@acme.example.com").await);
    assert_eq!(seat_of(&app, &eve).await["tier"], "standard");
    deactivate(&app, &dan).await;
    add_members(&app, &eng, &[&eve], false).await;
    assert_eq!(seat_of(&app, &eve).await["tier"], "premium");
    app.assert_seat_invariants();
}

#[tokio::test]
async fn a_pending_user_pushed_into_a_premium_group_waits_for_premium_and_the_report_says_so() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let eng = okta_group(&app, "Engineering").await;
    assert_eq!(
        map(&app, &owner, &eng, "premium").await.status,
        StatusCode::OK
    );
    app.create_user("first@acme.example.com").await;
    let ada = id_of(&app.create_user("ada@acme.example.com").await);
    assert_eq!(seat_of(&app, &ada).await["status"], "pending");
    add_members(&app, &eng, &[&ada], false).await;

    let rep = pending_report(&app, &owner).await;
    assert_eq!(rep["users"][0]["id"], ada.as_str());
    assert_eq!(rep["users"][0]["requested_tier"], "premium");
    assert_eq!(rep["users"][0]["groups"], json!(["Engineering"]));
    assert_eq!(rep["seats_needed"], json!({"premium": 1, "standard": 0}));

    // A standard seat bought is not what she waits for, but a seat beats none: she takes it
    // and keeps waiting for premium, in her place.
    app.confirm(&owner, "std", json!({"add_standard": 1})).await;
    assert_eq!(seat_of(&app, &ada).await["tier"], "standard");
    let p = policy(&app, &owner).await;
    assert_eq!(p["waits"][0]["user_id"], ada.as_str(), "{p}");
    app.confirm(&owner, "prem", json!({"add_premium": 1})).await;
    assert_eq!(seat_of(&app, &ada).await["tier"], "premium");
    assert_eq!(app.pool("standard"), (2, 1));
    app.assert_seat_invariants();
}

#[tokio::test]
async fn leaving_the_group_removing_the_rule_or_deleting_the_group_strands_nobody() {
    let app = TestApp::builder().seats(2, 1).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let eng = okta_group(&app, "Engineering").await;
    map(&app, &owner, &eng, "premium").await;
    let carl = id_of(&app.create_user("carl@acme.example.com").await);
    let ada = id_of(&app.create_user("ada@acme.example.com").await);
    let waits = |p: Value| p["waits"].as_array().map_or(0, Vec::len);

    // Leaving the group ends the wait; the seat stays.
    add_members(&app, &eng, &[&ada], false).await;
    assert_eq!(waits(policy(&app, &owner).await), 1);
    remove_member(&app, &eng, &ada).await;
    assert_eq!(waits(policy(&app, &owner).await), 0);
    assert_eq!(seat_of(&app, &ada).await["tier"], "standard");

    // Removing the rule ends the wait.
    add_members(&app, &eng, &[&ada], false).await;
    let r = app
        .api(
            &owner,
            Method::DELETE,
            &format!("/group-tiers/{eng}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(waits(policy(&app, &owner).await), 0);
    assert_eq!(seat_of(&app, &ada).await["status"], "active");
    // ...so a freed premium seat no longer goes to her.
    deactivate(&app, &carl).await;
    assert_eq!(seat_of(&app, &ada).await["tier"], "standard");

    // Deleting the group: members already moved keep their tier, waits end.
    map(&app, &owner, &eng, "premium").await;
    assert_eq!(
        seat_of(&app, &ada).await["tier"],
        "premium",
        "the free seat is taken at once"
    );
    let bob = id_of(&app.create_user("bob@acme.example.com").await);
    add_members(&app, &eng, &[&bob], false).await;
    assert_eq!(waits(policy(&app, &owner).await), 1);
    assert_eq!(
        app.delete(&format!("/Groups/{eng}")).await.status,
        StatusCode::NO_CONTENT
    );
    let p = policy(&app, &owner).await;
    assert_eq!(waits(p.clone()), 0, "{p}");
    assert!(p["rules"].as_array().unwrap().is_empty());
    assert_eq!(seat_of(&app, &ada).await["tier"], "premium");
    assert_eq!(seat_of(&app, &bob).await["tier"], "standard");
    app.assert_seat_invariants();
}

#[tokio::test]
async fn precedence_premium_over_standard_and_opposite_waits_swap() {
    let app = TestApp::builder().seats(1, 1).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let eng = okta_group(&app, "Engineering").await;
    let staff = okta_group(&app, "Staff").await;
    map(&app, &owner, &eng, "premium").await;
    map(&app, &owner, &staff, "standard").await;
    let pat = id_of(&app.create_user("pat@acme.example.com").await);
    let sam = id_of(&app.create_user("sam@acme.example.com").await);
    assert_eq!(seat_of(&app, &pat).await["tier"], "premium");
    // Pat is only staff: wants standard, none free, waits.
    add_members(&app, &staff, &[&pat], false).await;
    assert_eq!(seat_of(&app, &pat).await["tier"], "premium");
    // Sam is in both groups: premium wins; Pat waits for Sam's tier, so they swap.
    add_members(&app, &staff, &[&sam], false).await;
    add_members(&app, &eng, &[&sam], false).await;
    assert_eq!(seat_of(&app, &sam).await["tier"], "premium");
    assert_eq!(seat_of(&app, &pat).await["tier"], "standard");
    assert!(policy(&app, &owner).await["waits"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(app.pool("premium"), (1, 1));
    app.assert_seat_invariants();
}

#[tokio::test]
async fn concurrent_group_pushes_and_releases_keep_the_seat_invariant() {
    let app = TestApp::builder().seats(8, 3).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let eng = okta_group(&app, "Engineering").await;
    map(&app, &owner, &eng, "premium").await;
    let mut others = Vec::new();
    for i in 0..3 {
        others.push(id_of(
            &app.create_user(&format!("o{i}@acme.example.com")).await,
        ));
    }
    let mut engs = Vec::new();
    for i in 0..8 {
        engs.push(id_of(
            &app.create_user(&format!("e{i}@acme.example.com")).await,
        ));
    }
    // Eight pushes and three releases at once.
    let (app_ref, eng_ref) = (&app, &eng);
    let pushes = engs
        .iter()
        .map(|e| async move { add_members(app_ref, eng_ref, &[e.as_str()], false).await });
    let releases = others.iter().map(|o| deactivate(&app, o));
    futures_util::future::join(
        futures_util::future::join_all(pushes),
        futures_util::future::join_all(releases),
    )
    .await;
    let mut premium = 0;
    for e in &engs {
        let s = seat_of(&app, e).await;
        assert_eq!(s["status"], "active");
        if s["tier"] == "premium" {
            premium += 1;
        }
    }
    assert_eq!(premium, 3, "every freed premium seat went to a waiter");
    assert_eq!(
        policy(&app, &owner).await["waits"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(app.pool("premium"), (3, 3));
    app.assert_seat_invariants();
}

#[tokio::test]
async fn rules_are_checked_and_owners_only() {
    let app = TestApp::builder().seats(1, 0).manual_jobs().spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let admin = owner_token(&app, Role::Admin);
    let eng = okta_group(&app, "Engineering").await;
    let r = map(&app, &owner, &eng, "platinum").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("platinum"),
        "{}",
        r.body
    );
    assert_eq!(
        map(&app, &owner, "no-such-group", "premium").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        map(&app, &admin, &eng, "premium").await.status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .api(
            &owner,
            Method::PUT,
            &format!("/group-tiers/{eng}"),
            Some(json!({"tear": 1})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = app
        .api(
            &owner,
            Method::DELETE,
            &format!("/group-tiers/{eng}"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "no rule to remove: {}",
        r.body
    );
    assert!(policy(&app, &owner).await["rules"]
        .as_array()
        .unwrap()
        .is_empty());

    // Another organization's group is not found, and its rules are not listed.
    let (other_org, other_token) = new_org(
        &app.db,
        "globex",
        Seats {
            standard: 1,
            premium: 0,
        },
    );
    let r = app
        .scim_as(
            &other_token,
            Method::POST,
            "/Groups",
            Some(json!({"schemas": [CORE_GROUP], "displayName": "Globex Eng"})),
            &[],
        )
        .await;
    let theirs = id_of(&r.body);
    assert_eq!(
        map(&app, &owner, &theirs, "premium").await.status,
        StatusCode::NOT_FOUND
    );
    let their_owner = owner_token_for(&app, &other_org, &add_member(&app, &other_org, Role::Owner));
    map(&app, &their_owner, &theirs, "premium").await;
    assert!(policy(&app, &owner).await["rules"]
        .as_array()
        .unwrap()
        .is_empty());

    let doc = call(
        &app.client,
        &app.addr,
        None,
        Method::GET,
        "/api/v1/openapi.json",
        None,
    )
    .await;
    assert!(doc.body["paths"]["/api/v1/group-tiers/{group_id}"]["put"].is_object());
}

#[tokio::test]
async fn operators_map_groups_by_name_from_the_cli() {
    let app = TestApp::builder().seats(1, 1).spawn().await;
    let db = app.test_db.url().to_string();
    let eng = okta_group(&app, "Engineering").await;
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_scim-seats"))
            .args(args)
            .env("DATABASE_URL", &db)
            .output()
            .expect("run scim-seats");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = cli(&[
        "group-tier",
        "set",
        "engineering",
        "premium",
        "--org",
        "acme",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains(&eng) && out.contains("premium"), "{out}");
    let (ok, out, _) = cli(&["group-tier", "list", "--org", "acme"]);
    assert!(ok && out.contains("Engineering\tpremium"), "{out}");
    let (ok, _, err) = cli(&["group-tier", "set", "Engineering", "gold", "--org", "acme"]);
    assert!(!ok && err.contains("unknown tier"), "{err}");
    let (ok, _, err) = cli(&["group-tier", "set", "Nobody", "premium", "--org", "acme"]);
    assert!(!ok && err.to_lowercase().contains("not found"), "{err}");
    // The rule acts on the server sharing the database.
    let carl = id_of(&app.create_user("carl@acme.example.com").await);
    let ada = id_of(&app.create_user("ada@acme.example.com").await);
    add_members(&app, &eng, &[&ada], false).await;
    deactivate(&app, &carl).await;
    assert_eq!(seat_of(&app, &ada).await["tier"], "premium");
    let (ok, out, err) = cli(&["group-tier", "remove", &eng, "--org", "acme"]);
    assert!(ok && out.contains("removed"), "{out}{err}");
    let (ok, out, _) = cli(&["group-tier", "list", "--org", "acme"]);
    assert!(ok && out.trim().is_empty(), "{out}");
}
