//! Renewals at term end. An auto-renewing contract renews for a year with, per tier, the seats
//! in use (claimed) at the end of the term, invoiced at the full annual price; unclaimed seats
//! lapse (purchased = claimed) and pending users stay queued. A contract that does not
//! auto-renew expires. A renewal with no seat in use renews with zero seats and issues no
//! invoice (there is nothing to bill).
//!
//! Idempotent under concurrency: each term is handled by one conditional UPDATE on
//! `(status = 'active', term_end = <the end read>)` inside the write transaction, so two
//! processes running at once renew a term once; a partial unique index on renewal invoices
//! per (org, term start) backs it up.

use chrono::NaiveDate;
use serde_json::json;

use crate::domain::billing::contracts::Contract;
use crate::domain::billing::invoices::{self, IssueRequest, KIND_RENEWAL};
use crate::domain::billing::{self, BillingError};
use crate::domain::{audit, seats, seats::inventory, Actor, Tier};
use crate::error::Error;
use crate::store::{self, Db, DbConn};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Renewed {
        org_id: String,
        term_start: NaiveDate,
        standard: i64,
        premium: i64,
        invoice: Option<String>,
    },
    Expired {
        org_id: String,
        last_day: NaiveDate,
    },
    /// Not due (or already handled by another process).
    NotDue,
}

/// Renew or expire one organization's contract if its term ended by `today` — one term per
/// call, in the caller's write transaction.
#[tracing::instrument(skip_all, fields(org = %org_id, %today))]
pub fn renew_one(conn: &mut DbConn, org_id: &str, today: NaiveDate) -> Result<Outcome, Error> {
    inventory::lock_org(conn, org_id)?;
    let Some(row) = store::contracts::find(conn, org_id)? else {
        return Ok(Outcome::NotDue);
    };
    let contract = Contract::from_row(&row)?;
    if !contract.active || contract.term.end() > today {
        return Ok(Outcome::NotDue);
    }
    let actor = Actor::system();
    let now = store::now();
    let term = contract.term;
    if !contract.auto_renew {
        if !store::contracts::expire(conn, org_id, term.end(), now)? {
            return Ok(Outcome::NotDue);
        }
        audit::record(
            conn,
            org_id,
            &actor,
            "contract.expired",
            Some(org_id),
            json!({"lastDay": term.last_day()}),
        )?;
        return Ok(Outcome::Expired {
            org_id: org_id.to_string(),
            last_day: term.last_day(),
        });
    }
    let next = term.renewed()?;
    if !store::contracts::advance_term(conn, org_id, term.end(), next.end(), now)? {
        return Ok(Outcome::NotDue);
    }
    let pools = store::seats::for_org(conn, org_id)?;
    let in_use = |tier: Tier| {
        pools
            .iter()
            .find(|p| p.tier == tier.as_str())
            .map_or(0, |p| p.claimed)
    };
    let lapsed: Vec<_> = pools
        .iter()
        .map(|p| json!({"tier": p.tier, "lapsed": p.purchased - p.claimed}))
        .collect();
    let (standard, premium) = (in_use(Tier::Standard), in_use(Tier::Premium));
    store::seat_changes::lapse_unclaimed(conn, org_id, now)?;
    let to_u32 = |n: i64| u32::try_from(n).map_err(|_| Error::BadRequest("too many seats".into()));
    let invoice = match billing::quote_renewal(
        to_u32(standard)?,
        to_u32(premium)?,
        &contract.prices,
        &contract.currency,
    ) {
        Ok(quote) => {
            let org =
                store::orgs::find(conn, org_id)?.ok_or_else(|| Error::not_found("organization"))?;
            let inv = invoices::issue(
                conn,
                org_id,
                &org.slug,
                &quote,
                IssueRequest {
                    kind: KIND_RENEWAL,
                    issued_on: next.start(),
                    term: next,
                    idempotency_key: None,
                    request_hash: None,
                    request: json!({"renewal": {"standard": standard, "premium": premium}}),
                },
                &actor,
            )?;
            Some(inv.row.number)
        }
        // No seat in use: the contract renews with zero seats and nothing is invoiced.
        Err(BillingError::EmptyOrder) => None,
        Err(e) => return Err(e.into()),
    };
    audit::record(
        conn,
        org_id,
        &actor,
        "contract.renewed",
        Some(org_id),
        json!({
            "termStart": next.start(), "termEnd": next.end(),
            "standard": standard, "premium": premium, "lapsed": lapsed, "invoice": invoice,
        }),
    )?;
    // Nothing is free after a lapse, but this is the one entry point after a renewal.
    seats::seats_added(conn, org_id, &actor)?;
    Ok(Outcome::Renewed {
        org_id: org_id.to_string(),
        term_start: next.start(),
        standard,
        premium,
        invoice,
    })
}

/// Renew or expire every contract due on `today`, one transaction per term; a contract
/// several terms behind (a server that was off) catches up term by term. Errors of one
/// organization are logged and do not stop the others.
pub fn renew_due(db: &Db, today: NaiveDate) -> Result<Vec<Outcome>, Error> {
    let due = db.read_sync(|c| Ok(store::contracts::due(c, today)?))?;
    let mut outcomes = Vec::new();
    for org_id in due {
        loop {
            match db.write_sync(|c| renew_one(c, &org_id, today)) {
                Ok(Outcome::NotDue) => break,
                Ok(o) => {
                    tracing::info!(org = %org_id, outcome = ?o, "contract renewal");
                    let expired = matches!(o, Outcome::Expired { .. });
                    outcomes.push(o);
                    if expired {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(org = %org_id, error = %e, "renewal failed");
                    break;
                }
            }
        }
    }
    Ok(outcomes)
}

/// The background renewal task of `serve`: every `every`, renew what is due today.
pub struct Job {
    db: Db,
    clock: crate::clock::Clock,
    every: std::time::Duration,
}

impl Job {
    pub fn new(db: Db, clock: crate::clock::Clock, every: std::time::Duration) -> Job {
        Job { db, clock, every }
    }

    pub async fn run(self) {
        let (db, clock) = (self.db, self.clock);
        crate::jobs::every(self.every, "renewals", move || {
            renew_due(&db, clock.today())
        })
        .await
    }
}
