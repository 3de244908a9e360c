//! Seat change orders, as in the billing screen: `preview` prices an order with no side
//! effects; `confirm` applies it in ONE transaction — raise the inventory, upgrade, issue the
//! invoice, drain the pending queue — keyed by an `Idempotency-Key` so a retried confirm
//! returns the same invoice instead of charging twice.

use chrono::NaiveDate;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::domain::billing::contracts::{self, Contract};
use crate::domain::billing::invoices::{self, InvoiceView, IssueRequest, KIND_SEAT_CHANGE};
use crate::domain::billing::{self, Quote, SeatOrder};
use crate::domain::{billing::seat_upgrade, seats, seats::inventory, Actor, Tier};
use crate::error::Error;
use crate::store::{self, DbConn};

/// Largest quantity one order may carry (a typo guard, far above any real order).
pub const MAX_QUANTITY: i64 = 1_000_000;
const FIELDS: [&str; 4] = [
    "add_standard",
    "add_premium",
    "upgrade_standard_to_premium",
    "upgrade_members",
];
/// Longest accepted `Idempotency-Key`.
pub const MAX_KEY_LEN: usize = 255;

const NEVER_REMOVED: &str = "seats are never removed mid-term: an order can only add seats or \
    upgrade standard seats to premium (only a renewal lowers seats, to the seats in use)";

/// A validated order request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    pub order: SeatOrder,
    /// Standard members to move up first when upgrading (user ids).
    pub upgrade_members: Vec<String>,
}

impl OrderRequest {
    /// Parse the JSON body of a preview or confirm.
    pub fn from_json(body: &Value) -> Result<OrderRequest, Error> {
        let obj = body
            .as_object()
            .ok_or_else(|| Error::BadRequest("the order must be a JSON object".into()))?;
        if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            let lowered = k.to_ascii_lowercase();
            if ["remove", "reduce", "lower", "decrease", "downgrade"]
                .iter()
                .any(|w| lowered.contains(w))
            {
                return Err(Error::BadRequest(format!(
                    "'{k}' is not possible: {NEVER_REMOVED}"
                )));
            }
            return Err(Error::BadRequest(format!(
                "unknown field '{k}'; an order has {}",
                FIELDS.join(", ")
            )));
        }
        let order = SeatOrder {
            add_standard: quantity(obj, "add_standard")?,
            add_premium: quantity(obj, "add_premium")?,
            upgrade_standard_to_premium: quantity(obj, "upgrade_standard_to_premium")?,
        };
        let upgrade_members = match obj.get("upgrade_members") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        Error::BadRequest("upgrade_members must be a list of user ids".into())
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(Error::BadRequest(
                    "upgrade_members must be a list of user ids".into(),
                ))
            }
        };
        if order.is_empty() {
            return Err(Error::BadRequest(
                "the order is empty: set add_standard, add_premium or upgrade_standard_to_premium above zero"
                    .into(),
            ));
        }
        Ok(OrderRequest {
            order,
            upgrade_members,
        })
    }

    /// Canonical form, stored with the invoice and hashed for idempotency checks.
    pub fn canonical(&self) -> Value {
        let mut members = self.upgrade_members.clone();
        members.sort();
        json!({
            "add_standard": self.order.add_standard,
            "add_premium": self.order.add_premium,
            "upgrade_standard_to_premium": self.order.upgrade_standard_to_premium,
            "upgrade_members": members,
        })
    }

    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical().to_string().as_bytes()))
    }
}

fn quantity(obj: &Map<String, Value>, key: &str) -> Result<u32, Error> {
    let v = match obj.get(key) {
        None | Some(Value::Null) => return Ok(0),
        Some(v) => v,
    };
    match v.as_i64() {
        Some(n) if n < 0 => Err(Error::BadRequest(format!("{key} is {n}: {NEVER_REMOVED}"))),
        Some(n) if n > MAX_QUANTITY => Err(Error::BadRequest(format!(
            "{key} is {n}: at most {MAX_QUANTITY} seats per order"
        ))),
        Some(n) => {
            u32::try_from(n).map_err(|_| Error::BadRequest(format!("{key} is out of range")))
        }
        None if v.as_f64().is_some_and(|f| f < 0.0) => Err(Error::BadRequest(format!(
            "{key} is negative: {NEVER_REMOVED}"
        ))),
        None => Err(Error::BadRequest(format!(
            "{key} must be a whole number of seats"
        ))),
    }
}

/// A priced, checked order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub contract: Contract,
    pub quote: Quote,
    pub day: NaiveDate,
}

/// Check an order against the contract and inventory on `today` and price it.
pub fn plan(
    conn: &mut DbConn,
    org_id: &str,
    req: &OrderRequest,
    today: NaiveDate,
) -> Result<Plan, Error> {
    let contract = contracts::get(conn, org_id).map_err(|e| match e {
        Error::NotFound(_) => Error::Conflict(
            "this organization has no contract; seats cannot be bought without one".into(),
        ),
        e => e,
    })?;
    if let Some(why) = contract.refuse_purchase(today) {
        return Err(Error::Conflict(why));
    }
    seat_upgrade::check(
        conn,
        org_id,
        req.order.upgrade_standard_to_premium,
        &req.upgrade_members,
    )?;
    let quote = billing::quote_order(
        &req.order,
        &contract.prices,
        &contract.term,
        today,
        &contract.currency,
    )?;
    Ok(Plan {
        contract,
        quote,
        day: today,
    })
}

/// Price an order; nothing is written.
pub fn preview(
    conn: &mut DbConn,
    org_id: &str,
    req: &OrderRequest,
    today: NaiveDate,
) -> Result<Plan, Error> {
    plan(conn, org_id, req, today)
}

/// What a confirm returns.
#[derive(Debug, Clone)]
pub struct Confirmed {
    pub invoice: InvoiceView,
    /// True when the key was seen before with the same order: the stored invoice, no charge.
    pub replayed: bool,
    pub activated: Vec<String>,
    /// The activated users' display names (else user names), in queue order.
    pub activated_names: Vec<String>,
    pub upgraded: Vec<String>,
}

/// Apply an order, issue its invoice and drain the queue — one transaction, the caller's.
#[tracing::instrument(skip_all, fields(org = %org_id))]
pub fn confirm(
    conn: &mut DbConn,
    org_id: &str,
    key: &str,
    req: &OrderRequest,
    today: NaiveDate,
    actor: &Actor,
) -> Result<Confirmed, Error> {
    check_key(key)?;
    // The organization lock first: a concurrent retry with the same key waits here, then
    // finds the invoice this one wrote.
    inventory::lock_org(conn, org_id)?;
    let hash = req.hash();
    if let Some(existing) = invoices::by_idempotency_key(conn, org_id, key)? {
        if existing.row.request_hash.as_deref() == Some(hash.as_str()) {
            return Ok(Confirmed {
                invoice: existing,
                replayed: true,
                activated: Vec::new(),
                activated_names: Vec::new(),
                upgraded: Vec::new(),
            });
        }
        return Err(Error::Unprocessable(format!(
            "Idempotency-Key '{key}' was already used for a different order (invoice {}); \
             send a new key for a new order",
            existing.row.number
        )));
    }
    let plan = plan(conn, org_id, req, today)?;
    let org = store::orgs::find(conn, org_id)?.ok_or_else(|| Error::not_found("organization"))?;
    let now = store::now();
    for (tier, n) in [
        (Tier::Standard, req.order.add_standard),
        (Tier::Premium, req.order.add_premium),
    ] {
        if n > 0 {
            store::seats::add_purchased(conn, org_id, tier.as_str(), i64::from(n), now)?;
        }
    }
    let upgraded = seat_upgrade::upgrade(
        conn,
        org_id,
        req.order.upgrade_standard_to_premium,
        &req.upgrade_members,
        actor,
    )?
    .moved;
    // Before the invoice's event: the purchase, then what it is billed as.
    crate::domain::events::emit_json(
        conn,
        org_id,
        crate::domain::events::SEATS_PURCHASED,
        None,
        serde_json::json!({
            "standard": req.order.add_standard,
            "premium": req.order.add_premium,
            "upgraded": req.order.upgrade_standard_to_premium,
        }),
    )?;
    let invoice = invoices::issue(
        conn,
        org_id,
        &org.slug,
        &plan.quote,
        IssueRequest {
            kind: KIND_SEAT_CHANGE,
            issued_on: today,
            term: plan.contract.term,
            idempotency_key: Some(key),
            request_hash: Some(&hash),
            request: req.canonical(),
        },
        actor,
    )?;
    let activated = seats::seats_added(conn, org_id, actor)?;
    let mut by_id: std::collections::HashMap<String, String> =
        store::users::by_ids(conn, org_id, &activated)?
            .into_iter()
            .map(|u| (u.id, u.display_name.unwrap_or(u.user_name)))
            .collect();
    let activated_names = activated.iter().filter_map(|id| by_id.remove(id)).collect();
    Ok(Confirmed {
        invoice,
        replayed: false,
        activated,
        activated_names,
        upgraded,
    })
}

/// `confirm` in its own write transaction. Two retries with one key racing past each other:
/// the loser hits the unique (org, key) index and rolls back; running it again finds the
/// winner's invoice, so the caller sees a replay, never an error.
pub async fn confirm_once(
    db: &store::Db,
    org_id: &str,
    key: &str,
    req: &OrderRequest,
    today: NaiveDate,
    actor: &Actor,
) -> Result<Confirmed, Error> {
    let run = || {
        let (org_id, key, req, actor) = (
            org_id.to_string(),
            key.to_string(),
            req.clone(),
            actor.clone(),
        );
        db.write(move |c| confirm(c, &org_id, &key, &req, today, &actor))
    };
    match run().await {
        Err(Error::Scim(e)) if e.kind == crate::scim::error::ScimErrorKind::Uniqueness => {
            run().await
        }
        other => other,
    }
}

/// An order as typed into the seats form: quantities as text (blank is zero) and the
/// standard members to move up first. The same checks as the owner API's JSON body.
pub fn from_form(
    add_standard: &str,
    add_premium: &str,
    upgrade: &str,
    upgrade_members: &[String],
) -> Result<OrderRequest, Error> {
    let number = |label: &str, s: &str| -> Result<Value, Error> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(json!(0));
        }
        match s.parse::<i64>() {
            Ok(n) if n < 0 => Err(Error::BadRequest(format!(
                "{label} is {n}: {NEVER_REMOVED}"
            ))),
            Ok(n) => Ok(json!(n)),
            Err(_) => Err(Error::BadRequest(format!(
                "{label} must be a whole number of seats, not '{s}'"
            ))),
        }
    };
    let all_blank = [add_standard, add_premium, upgrade]
        .iter()
        .all(|s| s.trim().is_empty() || s.trim() == "0");
    if all_blank {
        return Err(Error::BadRequest(
            "the order is empty: enter seats to add or standard seats to upgrade".into(),
        ));
    }
    OrderRequest::from_json(&json!({
        "add_standard": number("the number of standard seats to add", add_standard)?,
        "add_premium": number("the number of premium seats to add", add_premium)?,
        "upgrade_standard_to_premium": number("the number of seats to upgrade", upgrade)?,
        "upgrade_members": upgrade_members,
    }))
}

/// What the seats page shows before an order: the contract's standing and the members who
/// hold a standard seat (longest-seated first), who may be named to move up.
#[derive(Debug, Clone)]
pub struct Editor {
    pub standing: contracts::Standing,
    pub standard_members: Vec<(String, String)>,
}

/// Members offered for naming on the seats page (the rest move up longest-seated first).
pub const NAMEABLE_MEMBERS: i64 = 200;

pub fn editor(conn: &mut DbConn, org_id: &str, today: NaiveDate) -> Result<Editor, Error> {
    let standing = contracts::standing(conn, org_id, today).map_err(|e| match e {
        Error::NotFound(_) => Error::Conflict(
            "this organization has no contract; seats cannot be bought without one".into(),
        ),
        e => e,
    })?;
    let standard_members =
        store::users::seat_holders(conn, org_id, Tier::Standard.as_str(), NAMEABLE_MEMBERS)?
            .into_iter()
            .map(|u| (u.id, u.display_name.unwrap_or(u.user_name)))
            .collect();
    Ok(Editor {
        standing,
        standard_members,
    })
}

/// A priced order with the standing it was priced against (the Review page).
pub fn review(
    conn: &mut DbConn,
    org_id: &str,
    req: &OrderRequest,
    today: NaiveDate,
) -> Result<(Plan, Editor), Error> {
    let plan = preview(conn, org_id, req, today)?;
    Ok((plan, editor(conn, org_id, today)?))
}

/// Keys are opaque to us, but bounded and printable (they end up in logs and the database).
pub fn check_key(key: &str) -> Result<(), Error> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::BadRequest(format!(
            "the Idempotency-Key header must be 1-{MAX_KEY_LEN} printable ASCII characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: Value) -> String {
        OrderRequest::from_json(&body).unwrap_err().to_string()
    }

    #[test]
    fn orders_are_parsed_strictly() {
        let r =
            OrderRequest::from_json(&json!({"add_standard": 5, "upgrade_standard_to_premium": 10}))
                .expect("valid");
        assert_eq!(r.order.add_standard, 5);
        assert_eq!(r.order.upgrade_standard_to_premium, 10);
        assert!(err(json!({"add_standard": -1})).contains("never removed"));
        assert!(err(json!({"add_premium": -0.5})).contains("never removed"));
        assert!(err(json!({"remove_standard": 3})).contains("never removed"));
        assert!(err(json!({"add_standard": 1.5})).contains("whole number"));
        assert!(err(json!({"add_standard": "3"})).contains("whole number"));
        assert!(err(json!({"bogus": 1})).contains("unknown field"));
        assert!(err(json!({})).contains("empty"));
        assert!(err(json!([1])).contains("object"));
        assert!(err(json!({"add_standard": 2_000_000})).contains("at most"));
    }

    #[test]
    fn hash_ignores_member_order_but_not_quantities() {
        let a = OrderRequest::from_json(
            &json!({"upgrade_standard_to_premium": 2, "upgrade_members": ["x", "y"]}),
        )
        .unwrap();
        let b = OrderRequest::from_json(
            &json!({"upgrade_members": ["y", "x"], "upgrade_standard_to_premium": 2}),
        )
        .unwrap();
        let c = OrderRequest::from_json(&json!({"upgrade_standard_to_premium": 3})).unwrap();
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
    }

    #[test]
    fn keys_are_bounded() {
        assert!(check_key("abc-123").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("has space").is_err());
        assert!(check_key(&"k".repeat(256)).is_err());
    }
}
