//! `GET /api/v1/audit`: newest first, paged, filtered by subject, kind and time; Owners only.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn audit(app: &TestApp, token: &str, query: &str) -> Resp {
    app.api(token, Method::GET, &format!("/audit{query}"), None, &[])
        .await
}

fn kinds(r: &Resp) -> Vec<String> {
    r.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn audit_is_newest_first_paged_and_filtered() {
    let app = TestApp::builder().seats(1, 0).spawn().await;
    let owner = owner_token(&app, Role::Owner);
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    let a = app.create_user("alice").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.create_user("bob").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.delete(&format!("/Users/{a}")).await.status,
        StatusCode::NO_CONTENT
    );

    let all = audit(&app, &owner, "?per_page=200").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let events = all.body["events"].as_array().unwrap();
    assert_eq!(all.body["total"], events.len());
    let stamps: Vec<i64> = events
        .iter()
        .map(|e| e["at_micros"].as_i64().unwrap())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "newest first");
    // The last thing that happened: bob got alice's seat from the queue.
    let newest_bob = events
        .iter()
        .find(|e| e["subject_id"] == b.as_str())
        .unwrap();
    assert_eq!(newest_bob["kind"], "queue.activated");
    assert_eq!(newest_bob["detail"]["tier"], "standard");
    assert!(newest_bob["at"].as_str().unwrap().ends_with('Z'));

    // By subject.
    let r = audit(&app, &owner, &format!("?user={b}")).await;
    let mut got = kinds(&r);
    assert_eq!(got[0], "queue.activated", "{}", r.body);
    // Queued and created are written in the same transaction, microseconds apart.
    got.sort();
    assert_eq!(got, ["queue.activated", "user.created", "user.queued"]);
    assert!(r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["subject_id"] == b.as_str()));
    // By kind.
    let r = audit(&app, &owner, "?kind=seat.released").await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["events"][0]["subject_id"], a.as_str());
    assert_eq!(r.body["events"][0]["source"], "scim");
    // By time.
    let since = (before).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let r = audit(&app, &owner, &format!("?since={since}&per_page=200")).await;
    assert_eq!(r.body["total"], all.body["total"]);
    let r = audit(&app, &owner, &format!("?until={since}")).await;
    assert!(kinds(&r).iter().all(|k| k != "user.created"));
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let r = audit(&app, &owner, &format!("?since={tomorrow}")).await;
    assert_eq!(r.body["total"], 0);
    // Paging.
    let p = audit(&app, &owner, "?per_page=2&page=2").await;
    assert_eq!(p.body["per_page"], 2);
    assert_eq!(p.body["events"].as_array().unwrap().len(), 2);
    assert_eq!(p.body["events"][0], all.body["events"][2]);
    // Bad input.
    for q in [
        "?since=yesterday",
        "?until=2026-13-01",
        "?since=2026-02-01&until=2026-01-01",
    ] {
        let r = audit(&app, &owner, q).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
    }
}

#[tokio::test]
async fn audit_is_for_owners_and_their_organization_only() {
    let app = TestApp::builder().spawn().await;
    app.create_user("ours").await;
    let (other, other_token) = new_org(
        &app.db,
        "other",
        Seats {
            standard: 5,
            premium: 0,
        },
    );
    let theirs = app
        .scim_as(
            &other_token,
            Method::POST,
            "/Users",
            Some(user("theirs")),
            &[],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    let their_id = theirs.body["id"].as_str().unwrap().to_string();

    for role in [Role::Member, Role::Admin] {
        let t = owner_token(&app, role);
        let r = audit(&app, &t, "").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?}");
    }
    let primary = owner_token(&app, Role::PrimaryOwner);
    let r = audit(&app, &primary, "?per_page=200").await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.body.to_string();
    assert!(!text.contains(&their_id), "another org's event leaked");
    assert!(!text.contains(&other));
    let r = audit(&app, &primary, &format!("?user={their_id}")).await;
    assert_eq!(
        r.body,
        json!({"events": [], "page": 1, "per_page": 50, "total": 0})
    );
    let _: Value = r.body;
}
