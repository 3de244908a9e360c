//! Contracts: one per organization — the term, auto-renewal, currency and annual prices per
//! seat tier. Created with the organization; owners read it through the owner API.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;

use crate::domain::billing::{self, BillingError, Currency, Prices, Term};
use crate::domain::{audit, Actor, Tier};
use crate::error::Error;
use crate::store::{self, contracts::ContractRow, DbConn};

pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_EXPIRED: &str = "expired";

/// The terms of a new contract.
#[derive(Debug, Clone)]
pub struct NewContract {
    /// `None`: today (UTC).
    pub term_start: Option<NaiveDate>,
    pub currency: String,
    pub standard_price: Decimal,
    pub premium_price: Decimal,
    pub auto_renew: bool,
}

impl Default for NewContract {
    fn default() -> Self {
        NewContract {
            term_start: None,
            currency: "USD".into(),
            standard_price: Decimal::new(60000, 2),
            premium_price: Decimal::new(120000, 2),
            auto_renew: true,
        }
    }
}

/// A contract, validated and typed.
#[derive(Debug, Clone)]
pub struct Contract {
    pub org_id: String,
    pub term: Term,
    pub auto_renew: bool,
    pub currency: Currency,
    pub prices: Prices,
    pub active: bool,
    pub renewed_through: Option<NaiveDate>,
}

impl From<BillingError> for Error {
    fn from(e: BillingError) -> Self {
        match e {
            BillingError::OutsideTerm { .. } => Error::Conflict(e.to_string()),
            BillingError::InvalidMinorUnits(_) => Error::Internal(anyhow::Error::new(e)),
            BillingError::Overflow => {
                Error::BadRequest("the amount is too large to invoice".into())
            }
            _ => Error::BadRequest(e.to_string()),
        }
    }
}

impl Contract {
    pub fn from_row(row: &ContractRow) -> Result<Contract, Error> {
        let corrupt =
            |what: String| Error::Internal(anyhow::anyhow!("contract of {}: {what}", row.org_id));
        let currency = Currency::parse(&row.currency).map_err(|e| corrupt(e.to_string()))?;
        let minor = currency.minor_units;
        let prices = Prices::new(
            billing::from_minor(row.price_standard_minor, minor)
                .map_err(|e| corrupt(e.to_string()))?,
            billing::from_minor(row.price_premium_minor, minor)
                .map_err(|e| corrupt(e.to_string()))?,
        )
        .map_err(|e| corrupt(e.to_string()))?;
        let term = Term::new(row.term_start).map_err(|e| corrupt(e.to_string()))?;
        if term.end() != row.term_end {
            return Err(corrupt(format!(
                "term end {} is not one year after {}",
                row.term_end, row.term_start
            )));
        }
        Ok(Contract {
            org_id: row.org_id.clone(),
            term,
            auto_renew: row.auto_renew,
            currency,
            prices,
            active: row.status == STATUS_ACTIVE,
            renewed_through: row.renewed_through,
        })
    }

    /// Why no seats can be bought on `today`, if so (expired, ended, not started).
    pub fn refuse_purchase(&self, today: NaiveDate) -> Option<String> {
        if !self.active {
            return Some(format!(
                "the contract expired on {}; no seats can be bought on an expired contract",
                self.term.last_day()
            ));
        }
        if today >= self.term.end() {
            return Some(format!(
                "the contract term ended on {} and its renewal has not run yet; try again shortly",
                self.term.last_day()
            ));
        }
        if today < self.term.start() {
            return Some(format!(
                "the contract term starts on {}; seats can be bought from that day",
                self.term.start()
            ));
        }
        None
    }
}

/// Create the contract of a new organization (inside the creating transaction).
pub fn create(
    conn: &mut DbConn,
    org_id: &str,
    new: &NewContract,
    actor: &Actor,
) -> Result<Contract, Error> {
    let currency = Currency::parse(&new.currency)?;
    let prices = Prices::new(new.standard_price, new.premium_price)?;
    let start = new
        .term_start
        .unwrap_or_else(|| crate::clock::Clock::System.today());
    let term = Term::new(start)?;
    let now = store::now();
    let row = ContractRow {
        org_id: org_id.to_string(),
        term_start: term.start(),
        term_end: term.end(),
        auto_renew: new.auto_renew,
        price_standard_minor: billing::to_minor(prices.of(Tier::Standard), currency.minor_units)?,
        price_premium_minor: billing::to_minor(prices.of(Tier::Premium), currency.minor_units)?,
        currency: currency.code.clone(),
        status: STATUS_ACTIVE.into(),
        invoice_counter: 0,
        renewed_through: None,
        created_at: now,
        updated_at: now,
    };
    store::contracts::insert(conn, &row)?;
    audit::record(
        conn,
        org_id,
        actor,
        "contract.created",
        Some(org_id),
        json!({
            "termStart": term.start(), "termEnd": term.end(), "autoRenew": new.auto_renew,
            "currency": currency.code, "standardPrice": prices.standard.to_string(),
            "premiumPrice": prices.premium.to_string(),
        }),
    )?;
    Contract::from_row(&row)
}

/// The organization's contract; 404 when it has none (organizations created before billing).
pub fn get(conn: &mut DbConn, org_id: &str) -> Result<Contract, Error> {
    let row = store::contracts::find(conn, org_id)?
        .ok_or_else(|| Error::not_found("contract of this organization"))?;
    Contract::from_row(&row)
}

/// The contract as an owner reads it on `today`: the organization, its seat inventory, the
/// months left in the term and why a purchase would be refused (the owner API's
/// `GET /contract` and the console's overview and seats pages).
#[derive(Debug, Clone)]
pub struct Standing {
    pub org: store::orgs::OrgRow,
    pub contract: Contract,
    pub pools: Vec<crate::domain::seats::inventory::PoolState>,
    pub months_left: Option<billing::MonthsLeft>,
    pub purchase_refused: Option<String>,
    pub today: NaiveDate,
}

pub fn standing(conn: &mut DbConn, org_id: &str, today: NaiveDate) -> Result<Standing, Error> {
    let org = store::orgs::find(conn, org_id)?.ok_or_else(|| Error::not_found("organization"))?;
    let contract = get(conn, org_id)?;
    let pools = crate::domain::seats::inventory::pools(conn, org_id)?;
    Ok(Standing {
        months_left: billing::months_left(&contract.term, today).ok(),
        purchase_refused: contract.refuse_purchase(today),
        org,
        contract,
        pools,
        today,
    })
}
