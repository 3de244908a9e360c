//! Seat billing: proration over a one-year term, exact money, minor units.
//!
//! Pure code: no I/O, no clock, no database. Depends only on `std`, `rust_decimal`, `chrono`,
//! `serde`, `thiserror` and the crate's `domain::Tier`.
//!
//! The rules (PRODUCT.md, "Contracts and billing"):
//!
//! * A term runs one year: from `start` to `end = start + 12 months`, end exclusive (the last
//!   day of the contract is `end - 1 day`). It is cut into twelve monthly periods; period `k`
//!   starts on `start + k months` (chrono's clamping month arithmetic, always counted from the
//!   term start, so a term starting on Jan 31 has periods starting Feb 28/29, Mar 31, Apr 30, …).
//! * Months left for a change on day `d`: the whole periods after the one containing `d`, plus
//!   the share of the current period from `d` (charged) to the period's last day, by days.
//!   On a period's first day this is a whole number (March 1 in a January 1 term: 10).
//! * Fraction of the term left = months left / 12.
//! * Added seats: quantity × annual price × fraction left. Upgrades: quantity × (premium −
//!   standard) × fraction left. Renewal: seats in use × full annual price.
//! * Each line is computed as an exact rational and rounded once, half-up (away from zero at
//!   the midpoint), to the currency's minor unit; the total is the sum of the rounded lines.
//!   No intermediate value is ever rounded.

pub mod contracts;
pub mod invoices;
pub mod renewal;
pub mod seat_orders;
pub mod seat_upgrade;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use chrono::{Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

pub use super::Tier;

/// Number of monthly periods in a term.
pub const PERIODS_PER_TERM: u32 = 12;

/// Largest number of minor units `rust_decimal` can represent (its maximum scale).
pub const MAX_MINOR_UNITS: u32 = 28;

/// Everything that can go wrong in billing math. No function in this module panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    /// The day of a change is not within `[start, end)` of the term.
    #[error("{day} is outside the contract term {start} to {last_day}")]
    OutsideTerm {
        day: NaiveDate,
        start: NaiveDate,
        last_day: NaiveDate,
    },
    /// An order (or renewal) with no seats in it.
    #[error("the order contains no seats")]
    EmptyOrder,
    /// A currency code this module does not know the minor units of.
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    /// A tier name other than "standard" or "premium".
    #[error("unknown seat tier {0:?} (expected \"standard\" or \"premium\")")]
    UnknownTier(String),
    /// A price that is negative, or a premium price below the standard price.
    #[error("invalid price: {0}")]
    InvalidPrice(String),
    /// More minor units than a `Decimal` can represent.
    #[error("unsupported number of minor units {0} (at most {MAX_MINOR_UNITS})")]
    InvalidMinorUnits(u32),
    /// An amount or date too large to compute or store (amounts must fit an `i64` of minor units).
    #[error("amount or date out of range")]
    Overflow,
    /// A decimal amount that has more decimal places than the currency's minor unit.
    #[error("{value} is not a whole number of minor units at {minor_units} decimal places")]
    NotRepresentable { value: Decimal, minor_units: u32 },
}

// ---------------------------------------------------------------------------------------------
// Tier

/// Parses a tier name for billing inputs; unknown names are `UnknownTier`.
pub fn parse_tier(s: &str) -> Result<Tier, BillingError> {
    Tier::parse(s).ok_or_else(|| BillingError::UnknownTier(s.to_string()))
}

impl FromStr for Tier {
    type Err = BillingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_tier(s)
    }
}

// ---------------------------------------------------------------------------------------------
// Currency and money

/// ISO 4217 codes this module knows, with their minor units.
const CURRENCIES: &[(&str, u32)] = &[
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("INR", 2),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PLN", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("TND", 3),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

/// A currency: ISO 4217 code and the number of decimal places of its minor unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Currency {
    pub code: String,
    pub minor_units: u32,
}

impl Currency {
    /// Looks up an ISO 4217 code (ASCII case-insensitive; stored upper case).
    /// USD/EUR → 2, JPY → 0, BHD/KWD → 3. Unknown codes are an error.
    pub fn parse(code: &str) -> Result<Currency, BillingError> {
        let upper = code.to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == upper)
            .map(|&(c, minor_units)| Currency {
                code: c.to_string(),
                minor_units,
            })
            .ok_or_else(|| BillingError::UnknownCurrency(code.to_string()))
    }

    fn checked_minor_units(&self) -> Result<u32, BillingError> {
        check_minor_units(self.minor_units)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

fn check_minor_units(minor_units: u32) -> Result<u32, BillingError> {
    if minor_units > MAX_MINOR_UNITS {
        Err(BillingError::InvalidMinorUnits(minor_units))
    } else {
        Ok(minor_units)
    }
}

fn pow10(exp: u32) -> Result<u128, BillingError> {
    10u128.checked_pow(exp).ok_or(BillingError::Overflow)
}

fn pow10_i128(exp: u32) -> Result<i128, BillingError> {
    10i128.checked_pow(exp).ok_or(BillingError::Overflow)
}

/// Converts a decimal amount to an integer number of minor units, exactly:
/// `to_minor(12.34, 2) == 1234`. Amounts with more decimal places than `minor_units`
/// (other than trailing zeros) are `NotRepresentable`; amounts outside `i64` are `Overflow`.
pub fn to_minor(value: Decimal, minor_units: u32) -> Result<i64, BillingError> {
    let minor_units = check_minor_units(minor_units)?;
    let mantissa = value.mantissa();
    let scale = value.scale();
    let minor = if scale <= minor_units {
        mantissa
            .checked_mul(pow10_i128(minor_units - scale)?)
            .ok_or(BillingError::Overflow)?
    } else {
        let divisor = pow10_i128(scale - minor_units)?;
        if mantissa % divisor != 0 {
            return Err(BillingError::NotRepresentable { value, minor_units });
        }
        mantissa / divisor
    };
    i64::try_from(minor).map_err(|_| BillingError::Overflow)
}

/// Converts an integer number of minor units back to a decimal with exactly `minor_units`
/// decimal places: `from_minor(1234, 2) == 12.34`.
pub fn from_minor(minor: i64, minor_units: u32) -> Result<Decimal, BillingError> {
    let minor_units = check_minor_units(minor_units)?;
    Decimal::try_new(minor, minor_units).map_err(|_| BillingError::InvalidMinorUnits(minor_units))
}

/// Rounds to `minor_units` decimal places, half-up (away from zero at the midpoint:
/// 2.345 → 2.35, −2.345 → −2.35). The result carries exactly `minor_units` decimal places
/// when that is representable (2.5 → 2.50).
pub fn round_half_up(value: Decimal, minor_units: u32) -> Decimal {
    let mut rounded =
        value.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointAwayFromZero);
    if rounded.scale() < minor_units && minor_units <= MAX_MINOR_UNITS {
        // Raising the scale never changes the value.
        rounded.rescale(minor_units);
    }
    rounded
}

/// `num / den` rounded half-up (both non-negative). `None` on division by zero or overflow.
fn div_round_half_up(num: u128, den: u128) -> Option<u128> {
    let quotient = num.checked_div(den)?;
    let remainder = num.checked_rem(den)?;
    // 2 × remainder >= den, written without overflow.
    if remainder >= den - remainder {
        quotient.checked_add(1)
    } else {
        Some(quotient)
    }
}

// ---------------------------------------------------------------------------------------------
// Prices

/// Annual price of one seat per tier, in the contract currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Prices {
    pub standard: Decimal,
    pub premium: Decimal,
}

impl Prices {
    /// Builds validated prices: both >= 0 and premium >= standard.
    pub fn new(standard: Decimal, premium: Decimal) -> Result<Prices, BillingError> {
        let prices = Prices { standard, premium };
        prices.validate()?;
        Ok(prices)
    }

    /// Checks both prices are >= 0 and premium >= standard.
    pub fn validate(&self) -> Result<(), BillingError> {
        if self.standard < Decimal::ZERO {
            return Err(BillingError::InvalidPrice(format!(
                "standard price {} is negative",
                self.standard
            )));
        }
        if self.premium < Decimal::ZERO {
            return Err(BillingError::InvalidPrice(format!(
                "premium price {} is negative",
                self.premium
            )));
        }
        if self.premium < self.standard {
            return Err(BillingError::InvalidPrice(format!(
                "premium price {} is below standard price {}",
                self.premium, self.standard
            )));
        }
        Ok(())
    }

    /// Annual price of a seat of `tier`.
    pub fn of(&self, tier: Tier) -> Decimal {
        match tier {
            Tier::Standard => self.standard,
            Tier::Premium => self.premium,
        }
    }

    /// Annual price of upgrading one seat: premium − standard, computed exactly at the larger
    /// of the two scales (`Overflow` if the exact difference does not fit a `Decimal`).
    pub fn upgrade_price(&self) -> Result<Decimal, BillingError> {
        self.validate()?;
        let scale = self.premium.scale().max(self.standard.scale());
        let premium = self
            .premium
            .mantissa()
            .checked_mul(pow10_i128(scale - self.premium.scale())?)
            .ok_or(BillingError::Overflow)?;
        let standard = self
            .standard
            .mantissa()
            .checked_mul(pow10_i128(scale - self.standard.scale())?)
            .ok_or(BillingError::Overflow)?;
        let diff = premium
            .checked_sub(standard)
            .ok_or(BillingError::Overflow)?;
        // Kept at the larger of the two scales: 1200.00 − 600.00 = 600.00.
        Decimal::try_from_i128_with_scale(diff, scale).map_err(|_| BillingError::Overflow)
    }
}

// ---------------------------------------------------------------------------------------------
// Term and periods

/// A one-year contract term: `[start, end)` with `end = start + 12 months`.
///
/// Built with [`Term::new`], which checks that the end date exists, so every period of a
/// `Term` can be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Term {
    start: NaiveDate,
    end: NaiveDate,
}

/// One of the twelve monthly periods of a term: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Period {
    /// 0 for the first period, 11 for the last.
    pub index: u32,
    pub start: NaiveDate,
    /// Exclusive: the start of the next period (or the term end).
    pub end: NaiveDate,
}

impl Period {
    /// Number of days in the period (28 to 31).
    pub fn days(&self) -> Result<u32, BillingError> {
        days_between(self.start, self.end)
    }

    /// The period's last day (inclusive).
    pub fn last_day(&self) -> NaiveDate {
        // `end > start`, so the day before `end` exists; the fallback is unreachable.
        self.end.pred_opt().unwrap_or(self.start)
    }
}

fn days_between(from: NaiveDate, to: NaiveDate) -> Result<u32, BillingError> {
    u32::try_from(to.signed_duration_since(from).num_days()).map_err(|_| BillingError::Overflow)
}

impl Term {
    /// A term starting on `start`. `Overflow` if `start + 12 months` is past chrono's range.
    pub fn new(start: NaiveDate) -> Result<Term, BillingError> {
        let end = start
            .checked_add_months(Months::new(PERIODS_PER_TERM))
            .ok_or(BillingError::Overflow)?;
        Ok(Term { start, end })
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// Exclusive end: `start + 12 months`, the first day of the next term.
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// The contract's last day, `end - 1 day`.
    pub fn last_day(&self) -> NaiveDate {
        // `end > start`, so the day before `end` exists; the fallback is unreachable.
        self.end.pred_opt().unwrap_or(self.start)
    }

    /// Whether `day` is within `[start, end)`.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day < self.end
    }

    /// Start of period `k` (0..=12; 12 is the term end), always counted from the term start.
    fn period_start(&self, k: u32) -> Result<NaiveDate, BillingError> {
        if k > PERIODS_PER_TERM {
            return Err(BillingError::Overflow);
        }
        self.start
            .checked_add_months(Months::new(k))
            .ok_or(BillingError::Overflow)
    }

    /// Period `k` (0..=11).
    pub fn period(&self, k: u32) -> Result<Period, BillingError> {
        if k >= PERIODS_PER_TERM {
            return Err(BillingError::Overflow);
        }
        Ok(Period {
            index: k,
            start: self.period_start(k)?,
            end: self.period_start(k + 1)?,
        })
    }

    /// The period containing `day`; `OutsideTerm` if `day` is not in the term.
    pub fn period_containing(&self, day: NaiveDate) -> Result<Period, BillingError> {
        if self.contains(day) {
            for k in 0..PERIODS_PER_TERM {
                let period = self.period(k)?;
                if day < period.end {
                    return Ok(period);
                }
            }
        }
        Err(self.outside(day))
    }

    /// The next term, starting on this term's end.
    pub fn renewed(&self) -> Result<Term, BillingError> {
        Term::new(self.end)
    }

    fn outside(&self, day: NaiveDate) -> BillingError {
        BillingError::OutsideTerm {
            day,
            start: self.start,
            last_day: self.last_day(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Months left

/// Months left in a term: `whole + days_left / days_in_period`.
///
/// Normalized so that `days_left < days_in_period`: a change on a period's first day gives
/// `days_left == 0` (a whole number of months). `days_in_period` is still the length of the
/// period the change falls in. For a renewal (no partial period) it is
/// [`MonthsLeft::whole_months`]`(12)`, with `days_in_period == 1`.
///
/// Equality and ordering compare the value, not the fields.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MonthsLeft {
    pub whole: u32,
    pub days_left: u32,
    pub days_in_period: u32,
}

impl MonthsLeft {
    /// A whole number of months (`days_left == 0`, `days_in_period == 1`).
    pub fn whole_months(whole: u32) -> MonthsLeft {
        MonthsLeft {
            whole,
            days_left: 0,
            days_in_period: 1,
        }
    }

    /// The exact value as `(numerator, denominator)` months:
    /// `(whole × days_in_period + days_left, days_in_period)`.
    /// A zero `days_in_period` (only possible by hand) counts as a whole number of months.
    pub fn ratio(&self) -> (u128, u128) {
        if self.days_in_period == 0 {
            return (u128::from(self.whole), 1);
        }
        let den = u128::from(self.days_in_period);
        // Cannot overflow: u32 × u32 + u32 < 2^64.
        (
            u128::from(self.whole) * den + u128::from(self.days_left),
            den,
        )
    }

    /// The value rounded half-up to 6 decimal places, for display (9 + 17/31 → 9.548387,
    /// 10 → 10). Never use it to compute money.
    pub fn as_decimal(&self) -> Decimal {
        let (num, den) = self.ratio();
        // num < 2^64, so num × 10^6 / den < 2^84 fits a Decimal (96 bits); no fallback is hit.
        let micro = div_round_half_up(num * 1_000_000, den).unwrap_or(0);
        i128::try_from(micro)
            .ok()
            .and_then(|m| Decimal::try_from_i128_with_scale(m, 6).ok())
            .map(|d| d.normalize())
            .unwrap_or(Decimal::ZERO)
    }

    /// Fraction of the term left, `months / 12`, rounded half-up to 6 decimal places, for
    /// display only.
    pub fn fraction_of_term(&self) -> Decimal {
        let (num, den) = self.ratio();
        let micro =
            div_round_half_up(num * 1_000_000, den * u128::from(PERIODS_PER_TERM)).unwrap_or(0);
        i128::try_from(micro)
            .ok()
            .and_then(|m| Decimal::try_from_i128_with_scale(m, 6).ok())
            .map(|d| d.normalize())
            .unwrap_or(Decimal::ZERO)
    }
}

impl PartialEq for MonthsLeft {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MonthsLeft {}

impl PartialOrd for MonthsLeft {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MonthsLeft {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a_num, a_den) = self.ratio();
        let (b_num, b_den) = other.ratio();
        // Each side < 2^64 × 2^32, well within u128.
        (a_num * b_den).cmp(&(b_num * a_den))
    }
}

impl fmt::Display for MonthsLeft {
    /// "10", "9 + 17/31", "1/31".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.days_left == 0 || self.days_in_period == 0 {
            write!(f, "{}", self.whole)
        } else if self.whole == 0 {
            write!(f, "{}/{}", self.days_left, self.days_in_period)
        } else {
            write!(
                f,
                "{} + {}/{}",
                self.whole, self.days_left, self.days_in_period
            )
        }
    }
}

/// Months left in `term` for a change on `day` (charged): the whole periods after the one
/// containing `day`, plus `(days from day to the period's last day, inclusive) / (days in the
/// period)`. `OutsideTerm` unless `term.start() <= day < term.end()`.
pub fn months_left(term: &Term, day: NaiveDate) -> Result<MonthsLeft, BillingError> {
    let period = term.period_containing(day)?;
    let days_in_period = period.days()?;
    let days_left = days_between(day, period.end)?;
    let after = PERIODS_PER_TERM - 1 - period.index;
    if days_left >= days_in_period {
        // First day of the period: the whole period is left.
        Ok(MonthsLeft {
            whole: after + 1,
            days_left: 0,
            days_in_period,
        })
    } else {
        Ok(MonthsLeft {
            whole: after,
            days_left,
            days_in_period,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Orders and quotes

/// A seat change: seats to add per tier and standard seats to upgrade to premium.
/// Quantities are unsigned: a change can never lower seats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeatOrder {
    pub add_standard: u32,
    pub add_premium: u32,
    pub upgrade_standard_to_premium: u32,
}

impl SeatOrder {
    pub fn is_empty(&self) -> bool {
        self.add_standard == 0 && self.add_premium == 0 && self.upgrade_standard_to_premium == 0
    }
}

/// What an invoice line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", content = "tier", rename_all = "snake_case")]
pub enum LineKind {
    /// Seats of a tier added mid-term (prorated).
    AddSeats(Tier),
    /// Standard seats upgraded to premium mid-term (prorated price difference).
    Upgrade,
    /// Seats of a tier renewed for a full term.
    Renewal(Tier),
}

/// One invoice line: `amount = round_half_up(quantity × unit_price × months_left / 12)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuoteLine {
    pub kind: LineKind,
    pub description: String,
    pub quantity: u32,
    /// Annual price per seat (for upgrades: premium − standard).
    pub unit_price: Decimal,
    /// 12 whole months for a renewal.
    pub months_left: MonthsLeft,
    /// Rounded once, half-up, to the currency's minor unit.
    pub amount: Decimal,
}

impl QuoteLine {
    /// The amount in minor units, as stored.
    pub fn amount_minor(&self, currency: &Currency) -> Result<i64, BillingError> {
        to_minor(self.amount, currency.minor_units)
    }
}

/// A priced change or renewal. Every amount fits an `i64` of minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quote {
    pub currency: Currency,
    pub lines: Vec<QuoteLine>,
    /// Sum of the rounded line amounts.
    pub total: Decimal,
}

impl Quote {
    /// The total in minor units, as stored.
    pub fn total_minor(&self) -> Result<i64, BillingError> {
        to_minor(self.total, self.currency.minor_units)
    }
}

/// `quantity × unit_price × months / 12` in minor units, computed as an exact rational and
/// rounded once, half-up.
fn line_amount_minor(
    quantity: u32,
    unit_price: Decimal,
    months: &MonthsLeft,
    minor_units: u32,
) -> Result<i64, BillingError> {
    let price = unit_price.normalize();
    let mantissa = u128::try_from(price.mantissa())
        .map_err(|_| BillingError::InvalidPrice(format!("price {unit_price} is negative")))?;
    let scale = price.scale();
    let (months_num, months_den) = months.ratio();
    // amount in minor units = q × (mantissa / 10^scale) × (months_num / months_den) / 12 × 10^minor
    let numerator = u128::from(quantity)
        .checked_mul(mantissa)
        .and_then(|v| v.checked_mul(months_num))
        .and_then(|v| v.checked_mul(pow10(minor_units.saturating_sub(scale)).ok()?))
        .ok_or(BillingError::Overflow)?;
    let denominator = u128::from(PERIODS_PER_TERM)
        .checked_mul(months_den)
        .and_then(|v| v.checked_mul(pow10(scale.saturating_sub(minor_units)).ok()?))
        .ok_or(BillingError::Overflow)?;
    let minor = div_round_half_up(numerator, denominator).ok_or(BillingError::Overflow)?;
    i64::try_from(minor).map_err(|_| BillingError::Overflow)
}

fn plural(quantity: u32) -> &'static str {
    if quantity == 1 {
        ""
    } else {
        "s"
    }
}

fn describe(kind: LineKind, quantity: u32, months: &MonthsLeft) -> String {
    let s = plural(quantity);
    match kind {
        LineKind::AddSeats(tier) => {
            format!("Add {quantity} {tier} seat{s}, {months} of 12 months left")
        }
        LineKind::Upgrade => format!(
            "Upgrade {quantity} seat{s} from standard to premium, {months} of 12 months left"
        ),
        LineKind::Renewal(tier) => format!("Renew {quantity} {tier} seat{s} for 12 months"),
    }
}

/// Builds a quote from `(kind, quantity, unit price)` items, skipping zero quantities.
fn build_quote(
    items: &[(LineKind, u32, Decimal)],
    months: MonthsLeft,
    currency: &Currency,
) -> Result<Quote, BillingError> {
    let minor_units = currency.checked_minor_units()?;
    let mut lines = Vec::new();
    let mut total_minor: i64 = 0;
    for &(kind, quantity, unit_price) in items {
        if quantity == 0 {
            continue;
        }
        let amount_minor = line_amount_minor(quantity, unit_price, &months, minor_units)?;
        total_minor = total_minor
            .checked_add(amount_minor)
            .ok_or(BillingError::Overflow)?;
        lines.push(QuoteLine {
            kind,
            description: describe(kind, quantity, &months),
            quantity,
            unit_price,
            months_left: months,
            amount: from_minor(amount_minor, minor_units)?,
        });
    }
    if lines.is_empty() {
        return Err(BillingError::EmptyOrder);
    }
    Ok(Quote {
        currency: currency.clone(),
        lines,
        total: from_minor(total_minor, minor_units)?,
    })
}

/// Prices a mid-term seat change on `day` (charged). Lines, in order: added standard seats,
/// added premium seats, upgrades; zero quantities are omitted. Errors: `EmptyOrder`,
/// `InvalidPrice`, `OutsideTerm`, `InvalidMinorUnits`, `Overflow`.
///
/// Whether there are enough standard seats to upgrade is the caller's check.
pub fn quote_order(
    order: &SeatOrder,
    prices: &Prices,
    term: &Term,
    day: NaiveDate,
    currency: &Currency,
) -> Result<Quote, BillingError> {
    prices.validate()?;
    currency.checked_minor_units()?;
    if order.is_empty() {
        return Err(BillingError::EmptyOrder);
    }
    let months = months_left(term, day)?;
    let upgrade_price = if order.upgrade_standard_to_premium == 0 {
        Decimal::ZERO
    } else {
        prices.upgrade_price()?
    };
    build_quote(
        &[
            (
                LineKind::AddSeats(Tier::Standard),
                order.add_standard,
                prices.standard,
            ),
            (
                LineKind::AddSeats(Tier::Premium),
                order.add_premium,
                prices.premium,
            ),
            (
                LineKind::Upgrade,
                order.upgrade_standard_to_premium,
                upgrade_price,
            ),
        ],
        months,
        currency,
    )
}

/// Prices a renewal: the seats in use per tier at the full annual price (no proration).
/// The new term starts on the old term's end ([`Term::renewed`]). Lines: standard, premium;
/// zero quantities omitted; no seats in use at all is `EmptyOrder` (nothing to invoice).
pub fn quote_renewal(
    in_use_standard: u32,
    in_use_premium: u32,
    prices: &Prices,
    currency: &Currency,
) -> Result<Quote, BillingError> {
    prices.validate()?;
    build_quote(
        &[
            (
                LineKind::Renewal(Tier::Standard),
                in_use_standard,
                prices.standard,
            ),
            (
                LineKind::Renewal(Tier::Premium),
                in_use_premium,
                prices.premium,
            ),
        ],
        MonthsLeft::whole_months(PERIODS_PER_TERM),
        currency,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("valid test decimal")
    }

    fn term(y: i32, m: u32, d: u32) -> Term {
        Term::new(date(y, m, d)).expect("valid term")
    }

    fn usd() -> Currency {
        Currency::parse("USD").expect("USD")
    }

    fn product_prices() -> Prices {
        Prices::new(dec("600.00"), dec("1200.00")).expect("valid prices")
    }

    fn ml(whole: u32, days_left: u32, days_in_period: u32) -> MonthsLeft {
        MonthsLeft {
            whole,
            days_left,
            days_in_period,
        }
    }

    /// Fields, not just the value.
    fn assert_months(actual: MonthsLeft, expected: MonthsLeft) {
        assert_eq!(
            (actual.whole, actual.days_left, actual.days_in_period),
            (expected.whole, expected.days_left, expected.days_in_period)
        );
    }

    fn one_seat(prices: &Prices, t: &Term, day: NaiveDate, currency: &Currency) -> Decimal {
        let order = SeatOrder {
            add_standard: 1,
            ..SeatOrder::default()
        };
        quote_order(&order, prices, t, day, currency)
            .expect("quote")
            .total
    }

    // --- PRODUCT.md worked example ---------------------------------------------------------

    const PRODUCT_ORDER: SeatOrder = SeatOrder {
        add_standard: 5,
        add_premium: 0,
        upgrade_standard_to_premium: 10,
    };

    #[test]
    fn product_example_march_1_is_ten_twelfths() {
        for year in [2026, 2028] {
            let t = term(year, 1, 1);
            let day = date(year, 3, 1);
            let months = months_left(&t, day).unwrap();
            assert_months(months, ml(10, 0, 31));
            assert_eq!(months.to_string(), "10");
            assert_eq!(months.as_decimal(), dec("10"));
            assert_eq!(months.fraction_of_term(), dec("0.833333"));

            let q = quote_order(&PRODUCT_ORDER, &product_prices(), &t, day, &usd()).unwrap();
            assert_eq!(q.lines.len(), 2);
            assert_eq!(q.lines[0].kind, LineKind::AddSeats(Tier::Standard));
            assert_eq!(q.lines[0].quantity, 5);
            assert_eq!(q.lines[0].unit_price, dec("600.00"));
            assert_eq!(q.lines[0].amount.to_string(), "2500.00");
            assert_eq!(q.lines[1].kind, LineKind::Upgrade);
            assert_eq!(q.lines[1].quantity, 10);
            assert_eq!(q.lines[1].unit_price.to_string(), "600.00");
            assert_eq!(q.lines[1].amount.to_string(), "5000.00");
            assert_eq!(q.total.to_string(), "7500.00");
            assert_eq!(q.total_minor().unwrap(), 750_000);
            assert_eq!(q.lines[0].amount_minor(&q.currency).unwrap(), 250_000);
            assert_eq!(
                q.lines[0].description,
                "Add 5 standard seats, 10 of 12 months left"
            );
            assert_eq!(
                q.lines[1].description,
                "Upgrade 10 seats from standard to premium, 10 of 12 months left"
            );
        }
    }

    #[test]
    fn product_example_march_15_is_nine_and_17_31() {
        for year in [2026, 2028] {
            let t = term(year, 1, 1);
            let day = date(year, 3, 15);
            let months = months_left(&t, day).unwrap();
            assert_months(months, ml(9, 17, 31));
            assert_eq!(months.to_string(), "9 + 17/31");
            assert_eq!(months.as_decimal(), dec("9.548387"));

            let q = quote_order(&PRODUCT_ORDER, &product_prices(), &t, day, &usd()).unwrap();
            let amounts: Vec<String> = q.lines.iter().map(|l| l.amount.to_string()).collect();
            assert_eq!(amounts, ["2387.10", "4774.19"]);
            assert_eq!(q.total.to_string(), "7161.29");
            assert!(q.lines.iter().all(|l| l.months_left == months));
        }
    }

    // --- term boundaries --------------------------------------------------------------------

    #[test]
    fn first_day_of_term_is_twelve_months_full_price() {
        let t = term(2026, 1, 1);
        assert_months(months_left(&t, t.start()).unwrap(), ml(12, 0, 31));
        assert_eq!(
            one_seat(&product_prices(), &t, t.start(), &usd()),
            dec("600.00")
        );
    }

    #[test]
    fn last_day_of_term_is_one_day_of_last_period() {
        let t = term(2026, 1, 1);
        assert_eq!(t.end(), date(2027, 1, 1));
        assert_eq!(t.last_day(), date(2026, 12, 31));
        let months = months_left(&t, t.last_day()).unwrap();
        assert_months(months, ml(0, 1, 31));
        assert_eq!(months.to_string(), "1/31");
        // 600 × 1/31 / 12 = 1.6129… → 1.61
        assert_eq!(
            one_seat(&product_prices(), &t, t.last_day(), &usd()),
            dec("1.61")
        );

        // A term whose last period is a 30-day one.
        let t = term(2026, 5, 1);
        assert_months(months_left(&t, date(2027, 4, 30)).unwrap(), ml(0, 1, 30));
    }

    #[test]
    fn days_outside_the_term_are_refused() {
        let t = term(2026, 1, 1);
        for day in [
            date(2027, 1, 1),
            date(2027, 6, 1),
            date(2025, 12, 31),
            date(1990, 1, 1),
        ] {
            let err = months_left(&t, day).unwrap_err();
            assert_eq!(
                err,
                BillingError::OutsideTerm {
                    day,
                    start: date(2026, 1, 1),
                    last_day: date(2026, 12, 31)
                }
            );
            assert!(!t.contains(day));
            assert_eq!(
                quote_order(&PRODUCT_ORDER, &product_prices(), &t, day, &usd()).unwrap_err(),
                err
            );
        }
        assert!(t.contains(t.start()) && t.contains(t.last_day()));
    }

    #[test]
    fn term_near_end_of_calendar_is_an_error_not_a_panic() {
        assert_eq!(Term::new(NaiveDate::MAX), Err(BillingError::Overflow));
        let t = Term::new(NaiveDate::MIN).unwrap();
        assert_months(months_left(&t, NaiveDate::MIN).unwrap(), ml(12, 0, 31));
        assert!(t.period(12).is_err());
    }

    // --- calendars --------------------------------------------------------------------------

    #[test]
    fn leap_year_term_starting_feb_29() {
        let t = term(2028, 2, 29);
        assert_eq!(t.end(), date(2029, 2, 28));
        assert_eq!(t.last_day(), date(2029, 2, 27));
        let starts: Vec<NaiveDate> = (0..12).map(|k| t.period(k).unwrap().start).collect();
        assert_eq!(starts[0], date(2028, 2, 29));
        assert_eq!(starts[1], date(2028, 3, 29));
        assert_eq!(starts[11], date(2029, 1, 29));
        assert_months(months_left(&t, date(2028, 2, 29)).unwrap(), ml(12, 0, 29));
        // Last period: Jan 29 – Feb 27 2029, 30 days.
        assert_months(months_left(&t, date(2029, 2, 27)).unwrap(), ml(0, 1, 30));
        assert!(months_left(&t, date(2029, 2, 28)).is_err());
        assert_eq!(
            one_seat(&product_prices(), &t, t.start(), &usd()),
            dec("600.00")
        );
    }

    #[test]
    fn change_on_feb_29_in_a_january_term() {
        let t = term(2028, 1, 1);
        // Period Feb 1 – Feb 29 (29 days); Feb 29 is its last day.
        let months = months_left(&t, date(2028, 2, 29)).unwrap();
        assert_months(months, ml(10, 1, 29));
        assert_eq!(months.to_string(), "10 + 1/29");
        // 600 × (10 × 29 + 1) / (12 × 29) = 501.7241… → 501.72
        assert_eq!(
            one_seat(&product_prices(), &t, date(2028, 2, 29), &usd()),
            dec("501.72")
        );
        // Same day-of-period in a non-leap year: Feb has 28 days.
        let t = term(2026, 1, 1);
        assert_months(months_left(&t, date(2026, 2, 28)).unwrap(), ml(10, 1, 28));
    }

    #[test]
    fn term_starting_on_the_31st_clamps_and_comes_back() {
        let t = term(2026, 1, 31);
        let starts: Vec<NaiveDate> = (0..12).map(|k| t.period(k).unwrap().start).collect();
        assert_eq!(
            starts,
            [
                date(2026, 1, 31),
                date(2026, 2, 28),
                date(2026, 3, 31),
                date(2026, 4, 30),
                date(2026, 5, 31),
                date(2026, 6, 30),
                date(2026, 7, 31),
                date(2026, 8, 31),
                date(2026, 9, 30),
                date(2026, 10, 31),
                date(2026, 11, 30),
                date(2026, 12, 31),
            ]
        );
        assert_eq!(t.end(), date(2027, 1, 31));
        assert_eq!(t.period(0).unwrap().days().unwrap(), 28);
        assert_eq!(t.period(1).unwrap().days().unwrap(), 31);
        assert_months(months_left(&t, date(2026, 2, 28)).unwrap(), ml(11, 0, 31));
        assert_months(months_left(&t, date(2026, 3, 30)).unwrap(), ml(10, 1, 31));
        assert_months(months_left(&t, date(2026, 3, 31)).unwrap(), ml(10, 0, 30));

        let leap = term(2028, 1, 31);
        assert_eq!(leap.period(1).unwrap().start, date(2028, 2, 29));
        assert_eq!(leap.period(2).unwrap().start, date(2028, 3, 31));
        assert_months(
            months_left(&leap, date(2028, 2, 28)).unwrap(),
            ml(11, 1, 29),
        );
    }

    #[test]
    fn term_starting_dec_15_crosses_the_year() {
        let t = term(2026, 12, 15);
        assert_eq!(t.end(), date(2027, 12, 15));
        assert_eq!(t.period(1).unwrap().start, date(2027, 1, 15));
        // Period Dec 15 – Jan 14 (31 days); Jan 1 leaves 14 days of it.
        let months = months_left(&t, date(2027, 1, 1)).unwrap();
        assert_months(months, ml(11, 14, 31));
        assert_months(months_left(&t, date(2027, 1, 15)).unwrap(), ml(11, 0, 31));
        assert_months(months_left(&t, date(2027, 2, 15)).unwrap(), ml(10, 0, 28));
        assert_months(months_left(&t, date(2027, 12, 14)).unwrap(), ml(0, 1, 30));
        // 5 × 600 × (11 × 31 + 14) / (12 × 31) = 2862.9032… → 2862.90
        let q = quote_order(
            &SeatOrder {
                add_standard: 5,
                ..SeatOrder::default()
            },
            &product_prices(),
            &t,
            date(2027, 1, 1),
            &usd(),
        )
        .unwrap();
        assert_eq!(q.total, dec("2862.90"));
    }

    #[test]
    fn renewed_term_starts_at_old_end() {
        let t = term(2026, 1, 31);
        assert_eq!(t.renewed().unwrap().start(), date(2027, 1, 31));
        let t = term(2028, 2, 29);
        assert_eq!(t.renewed().unwrap().start(), date(2029, 2, 28));
    }

    // --- rounding ---------------------------------------------------------------------------

    #[test]
    fn exact_midpoint_rounds_half_up() {
        // July 1 in a January term: exactly 6 months, 1/2 of the term.
        let t = term(2026, 1, 1);
        let day = date(2026, 7, 1);
        assert_months(months_left(&t, day).unwrap(), ml(6, 0, 31));
        let price = |p: &str| Prices::new(dec(p), dec(p)).unwrap();
        // 1.01 / 2 = 0.505 exactly → 0.51 (banker's rounding would give 0.50).
        assert_eq!(one_seat(&price("1.01"), &t, day, &usd()), dec("0.51"));
        // 0.01 / 2 = 0.005 → 0.01
        assert_eq!(one_seat(&price("0.01"), &t, day, &usd()), dec("0.01"));
        // 1.009 / 2 = 0.5045 → 0.50 (below the midpoint)
        assert_eq!(one_seat(&price("1.009"), &t, day, &usd()), dec("0.50"));
        // JPY: 1001 / 2 = 500.5 → 501; KWD: 1.001 / 2 = 0.5005 → 0.501
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(one_seat(&price("1001"), &t, day, &jpy).to_string(), "501");
        assert_eq!(
            one_seat(&price("1.001"), &t, day, &kwd).to_string(),
            "0.501"
        );
    }

    #[test]
    fn midpoint_through_a_non_decimal_fraction() {
        // 1/31 month left: amount = p × 1 / (12 × 31) = 0.005 exactly when p = 1.86.
        let t = term(2026, 1, 1);
        let day = t.last_day();
        let prices = Prices::new(dec("1.86"), dec("1.86")).unwrap();
        assert_eq!(one_seat(&prices, &t, day, &usd()), dec("0.01"));
        let prices = Prices::new(dec("1.859"), dec("1.859")).unwrap();
        assert_eq!(one_seat(&prices, &t, day, &usd()), dec("0.00"));
    }

    #[test]
    fn lines_are_rounded_separately_and_summed() {
        // Each line 0.505 → 0.51; the total is 1.02, not round(1.01) = 1.01.
        let t = term(2026, 1, 1);
        let prices = Prices::new(dec("1.01"), dec("1.01")).unwrap();
        let order = SeatOrder {
            add_standard: 1,
            add_premium: 1,
            upgrade_standard_to_premium: 0,
        };
        let q = quote_order(&order, &prices, &t, date(2026, 7, 1), &usd()).unwrap();
        assert_eq!(q.lines.len(), 2);
        assert_eq!(q.total, dec("1.02"));
    }

    #[test]
    fn round_half_up_function() {
        assert_eq!(round_half_up(dec("2.345"), 2).to_string(), "2.35");
        assert_eq!(round_half_up(dec("2.3449999"), 2).to_string(), "2.34");
        assert_eq!(round_half_up(dec("-2.345"), 2).to_string(), "-2.35");
        assert_eq!(round_half_up(dec("-2.344"), 2).to_string(), "-2.34");
        assert_eq!(round_half_up(dec("0.5"), 0).to_string(), "1");
        assert_eq!(round_half_up(dec("2.5"), 0).to_string(), "3");
        assert_eq!(round_half_up(dec("1.0005"), 3).to_string(), "1.001");
        assert_eq!(round_half_up(dec("2.5"), 2).to_string(), "2.50");
        assert_eq!(round_half_up(dec("7"), 3).to_string(), "7.000");
        assert_eq!(round_half_up(Decimal::MAX, 28), Decimal::MAX);
        assert_eq!(round_half_up(dec("1.5"), 40), dec("1.5"));
    }

    #[test]
    fn amounts_are_never_negative() {
        let t = term(2026, 1, 1);
        let prices = Prices::new(Decimal::ZERO, Decimal::ZERO).unwrap();
        assert_eq!(one_seat(&prices, &t, t.last_day(), &usd()), dec("0.00"));
        let tiny = Prices::new(dec("0.0001"), dec("0.0001")).unwrap();
        let amount = one_seat(&tiny, &t, t.last_day(), &usd());
        assert_eq!(amount, Decimal::ZERO);
        assert!(!amount.is_sign_negative());
    }

    #[test]
    fn jpy_and_kwd_quotes() {
        let t = term(2026, 1, 1);
        let day = date(2026, 3, 15);
        let jpy = Currency::parse("JPY").unwrap();
        let prices = Prices::new(dec("60000"), dec("120000")).unwrap();
        let q = quote_order(&PRODUCT_ORDER, &prices, &t, day, &jpy).unwrap();
        // 5 × 60000 × 296/372 = 238709.67… → 238710; 10 × 60000 × 296/372 = 477419.35… → 477419
        assert_eq!(q.lines[0].amount.to_string(), "238710");
        assert_eq!(q.lines[1].amount.to_string(), "477419");
        assert_eq!(q.total_minor().unwrap(), 716_129);

        let kwd = Currency::parse("KWD").unwrap();
        let prices = Prices::new(dec("180.000"), dec("360.000")).unwrap();
        let q = quote_order(&PRODUCT_ORDER, &prices, &t, day, &kwd).unwrap();
        // 5 × 180 × 296/372 = 716.1290… → 716.129; 10 × 180 × 296/372 = 1432.2580… → 1432.258
        assert_eq!(q.lines[0].amount.to_string(), "716.129");
        assert_eq!(q.lines[1].amount.to_string(), "1432.258");
        assert_eq!(q.total.to_string(), "2148.387");
    }

    // --- currency and money -----------------------------------------------------------------

    #[test]
    fn currency_parse() {
        assert_eq!(Currency::parse("USD").unwrap().minor_units, 2);
        assert_eq!(Currency::parse("EUR").unwrap().minor_units, 2);
        assert_eq!(Currency::parse("JPY").unwrap().minor_units, 0);
        assert_eq!(Currency::parse("BHD").unwrap().minor_units, 3);
        assert_eq!(Currency::parse("KWD").unwrap().minor_units, 3);
        assert_eq!(Currency::parse("eur").unwrap().code, "EUR");
        for bad in ["XYZ", "", "US", "USDX", " USD"] {
            assert_eq!(
                Currency::parse(bad),
                Err(BillingError::UnknownCurrency(bad.to_string()))
            );
        }
    }

    #[test]
    fn minor_unit_conversions() {
        assert_eq!(to_minor(dec("12.34"), 2), Ok(1234));
        assert_eq!(to_minor(dec("12.3"), 2), Ok(1230));
        assert_eq!(to_minor(dec("12.3400"), 2), Ok(1234));
        assert_eq!(to_minor(dec("-5.00"), 2), Ok(-500));
        assert_eq!(to_minor(dec("1000"), 0), Ok(1000));
        assert_eq!(to_minor(dec("1.234"), 3), Ok(1234));
        assert_eq!(
            to_minor(dec("12.345"), 2),
            Err(BillingError::NotRepresentable {
                value: dec("12.345"),
                minor_units: 2
            })
        );
        assert!(matches!(
            to_minor(dec("1.5"), 0),
            Err(BillingError::NotRepresentable { .. })
        ));
        assert_eq!(to_minor(Decimal::MAX, 2), Err(BillingError::Overflow));
        assert_eq!(
            to_minor(dec("92233720368547758.08"), 2),
            Err(BillingError::Overflow)
        );
        assert_eq!(to_minor(dec("92233720368547758.07"), 2), Ok(i64::MAX));
        assert_eq!(
            to_minor(dec("1"), 29),
            Err(BillingError::InvalidMinorUnits(29))
        );

        assert_eq!(from_minor(1234, 2).unwrap().to_string(), "12.34");
        assert_eq!(from_minor(-500, 2).unwrap().to_string(), "-5.00");
        assert_eq!(from_minor(7, 0).unwrap().to_string(), "7");
        assert_eq!(from_minor(1, 3).unwrap().to_string(), "0.001");
        assert_eq!(
            from_minor(i64::MIN, 2).unwrap().to_string(),
            "-92233720368547758.08"
        );
        assert_eq!(from_minor(1, 29), Err(BillingError::InvalidMinorUnits(29)));
        for v in [0, 1, -1, 999, i64::MAX, i64::MIN] {
            for minor in [0, 2, 3] {
                assert_eq!(to_minor(from_minor(v, minor).unwrap(), minor), Ok(v));
            }
        }
    }

    // --- prices, orders, renewals -----------------------------------------------------------

    #[test]
    fn prices_are_validated() {
        assert!(Prices::new(dec("-1"), dec("10")).is_err());
        assert!(Prices::new(dec("10"), dec("-1")).is_err());
        assert!(matches!(
            Prices::new(dec("10"), dec("9.99")),
            Err(BillingError::InvalidPrice(_))
        ));
        assert!(Prices::new(dec("10"), dec("10")).is_ok());
        // Hand-built invalid prices are refused by the quote functions.
        let bad = Prices {
            standard: dec("10"),
            premium: dec("5"),
        };
        let t = term(2026, 1, 1);
        assert!(matches!(
            quote_order(&PRODUCT_ORDER, &bad, &t, t.start(), &usd()),
            Err(BillingError::InvalidPrice(_))
        ));
        assert!(matches!(
            quote_renewal(1, 1, &bad, &usd()),
            Err(BillingError::InvalidPrice(_))
        ));
    }

    #[test]
    fn upgrade_price_is_exact() {
        let p = Prices::new(dec("600.005"), dec("1200.1")).unwrap();
        assert_eq!(p.upgrade_price().unwrap(), dec("600.095"));
        let p = Prices::new(dec("0.0000000000000000000000000001"), dec("1")).unwrap();
        assert_eq!(
            p.upgrade_price().unwrap(),
            dec("0.9999999999999999999999999999")
        );
        let p = Prices::new(dec("0.1"), Decimal::MAX).unwrap();
        assert_eq!(p.upgrade_price(), Err(BillingError::Overflow));
    }

    #[test]
    fn zero_lines_are_omitted_and_empty_orders_refused() {
        let t = term(2026, 1, 1);
        let only_upgrade = SeatOrder {
            upgrade_standard_to_premium: 3,
            ..SeatOrder::default()
        };
        let q = quote_order(&only_upgrade, &product_prices(), &t, t.start(), &usd()).unwrap();
        assert_eq!(q.lines.len(), 1);
        assert_eq!(q.lines[0].kind, LineKind::Upgrade);
        assert_eq!(q.total, dec("1800.00"));

        let all = SeatOrder {
            add_standard: 1,
            add_premium: 2,
            upgrade_standard_to_premium: 3,
        };
        let q = quote_order(&all, &product_prices(), &t, t.start(), &usd()).unwrap();
        let kinds: Vec<LineKind> = q.lines.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [
                LineKind::AddSeats(Tier::Standard),
                LineKind::AddSeats(Tier::Premium),
                LineKind::Upgrade
            ]
        );
        assert_eq!(q.total, dec("4800.00"));
        assert_eq!(
            q.lines[1].description,
            "Add 2 premium seats, 12 of 12 months left"
        );

        assert_eq!(
            quote_order(
                &SeatOrder::default(),
                &product_prices(),
                &t,
                t.start(),
                &usd()
            ),
            Err(BillingError::EmptyOrder)
        );
        // Empty is reported before the day is checked.
        assert_eq!(
            quote_order(
                &SeatOrder::default(),
                &product_prices(),
                &t,
                t.end(),
                &usd()
            ),
            Err(BillingError::EmptyOrder)
        );
    }

    #[test]
    fn renewal_is_full_price_per_tier_in_use() {
        let q = quote_renewal(100, 20, &product_prices(), &usd()).unwrap();
        assert_eq!(q.lines.len(), 2);
        assert_eq!(q.lines[0].kind, LineKind::Renewal(Tier::Standard));
        assert_eq!(q.lines[0].amount.to_string(), "60000.00");
        assert_eq!(q.lines[1].kind, LineKind::Renewal(Tier::Premium));
        assert_eq!(q.lines[1].amount.to_string(), "24000.00");
        assert_eq!(q.total.to_string(), "84000.00");
        assert_months(q.lines[0].months_left, MonthsLeft::whole_months(12));
        assert_eq!(q.lines[0].months_left.to_string(), "12");
        assert_eq!(
            q.lines[0].description,
            "Renew 100 standard seats for 12 months"
        );

        let q = quote_renewal(0, 1, &product_prices(), &usd()).unwrap();
        assert_eq!(q.lines.len(), 1);
        assert_eq!(q.lines[0].description, "Renew 1 premium seat for 12 months");
        assert_eq!(q.total, dec("1200.00"));

        // Sub-minor-unit prices are rounded once per line.
        let p = Prices::new(dec("0.005"), dec("0.005")).unwrap();
        assert_eq!(quote_renewal(1, 0, &p, &usd()).unwrap().total, dec("0.01"));
        assert_eq!(quote_renewal(3, 0, &p, &usd()).unwrap().total, dec("0.02"));

        assert_eq!(
            quote_renewal(0, 0, &product_prices(), &usd()),
            Err(BillingError::EmptyOrder)
        );
    }

    #[test]
    fn huge_inputs_overflow_without_panicking() {
        let t = term(2026, 1, 1);
        let max = SeatOrder {
            add_standard: u32::MAX,
            add_premium: u32::MAX,
            upgrade_standard_to_premium: u32::MAX,
        };
        let huge = Prices::new(Decimal::MAX, Decimal::MAX).unwrap();
        assert_eq!(
            quote_order(&max, &huge, &t, date(2026, 3, 15), &usd()),
            Err(BillingError::Overflow)
        );
        assert_eq!(
            quote_renewal(u32::MAX, u32::MAX, &huge, &usd()),
            Err(BillingError::Overflow)
        );
        // Fits u128 but not an i64 of minor units.
        let big = Prices::new(dec("1000000000000"), dec("1000000000000")).unwrap();
        assert_eq!(
            quote_renewal(u32::MAX, 0, &big, &usd()),
            Err(BillingError::Overflow)
        );
        // Each line fits but the total does not.
        let jpy = Currency::parse("JPY").unwrap();
        let p = Prices::new(dec("5000000000"), dec("5000000000")).unwrap();
        let one_line = quote_renewal(1_000_000_000, 0, &p, &jpy).unwrap();
        assert_eq!(one_line.total_minor(), Ok(5_000_000_000_000_000_000));
        let two_lines = quote_renewal(1_000_000_000, 1_000_000_000, &p, &jpy);
        assert_eq!(two_lines, Err(BillingError::Overflow));
        // Minor units beyond what a Decimal can hold.
        let odd = Currency {
            code: "XXX".to_string(),
            minor_units: 40,
        };
        assert_eq!(
            quote_renewal(1, 1, &product_prices(), &odd),
            Err(BillingError::InvalidMinorUnits(40))
        );
    }

    #[test]
    fn tier_names() {
        assert_eq!(parse_tier("premium"), Ok(Tier::Premium));
        assert_eq!("standard".parse::<Tier>(), Ok(Tier::Standard));
        assert_eq!(Tier::Premium.as_str(), "premium");
        assert_eq!(Tier::Standard.to_string(), "standard");
        assert_eq!(
            parse_tier("Gold"),
            Err(BillingError::UnknownTier("Gold".to_string()))
        );
    }

    #[test]
    fn months_left_compares_by_value_and_displays() {
        assert_eq!(ml(12, 0, 31), MonthsLeft::whole_months(12));
        assert_eq!(ml(0, 15, 30), ml(0, 14, 28));
        assert!(ml(9, 17, 31) < ml(10, 0, 31));
        assert!(ml(0, 1, 31) < ml(0, 1, 30));
        assert_eq!(ml(0, 1, 31).as_decimal(), dec("0.032258"));
        assert_eq!(ml(3, 0, 0).to_string(), "3");
        assert_eq!(ml(3, 0, 0).as_decimal(), dec("3"));
        assert_eq!(
            ml(u32::MAX, u32::MAX, u32::MAX).ratio().1,
            u128::from(u32::MAX)
        );
        assert_eq!(ml(6, 0, 31).fraction_of_term(), dec("0.5"));
    }

    #[test]
    fn errors_read_well() {
        let t = term(2026, 1, 1);
        let err = months_left(&t, date(2027, 1, 1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "2027-01-01 is outside the contract term 2026-01-01 to 2026-12-31"
        );
        assert_eq!(
            to_minor(dec("1.005"), 2).unwrap_err().to_string(),
            "1.005 is not a whole number of minor units at 2 decimal places"
        );
    }

    // --- properties -------------------------------------------------------------------------

    /// Term starts from 1999-01-01 over ~150 years.
    fn any_start() -> impl Strategy<Value = NaiveDate> {
        (0u64..55_000).prop_map(|offset| date(1999, 1, 1) + chrono::Days::new(offset))
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        prop_oneof![Just("USD"), Just("JPY"), Just("KWD")]
            .prop_map(|c| Currency::parse(c).expect("known currency"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Buying one seat on any day costs at most the full annual price, at least zero, and
        /// is the exact prorated value rounded (within half a minor unit); later purchases
        /// never cost more.
        #[test]
        fn one_seat_never_costs_more_than_a_year(
            start in any_start(),
            offsets in proptest::collection::vec(0u64..366, 1..20),
            price_minor in 0i64..100_000_000,
            currency in any_currency(),
        ) {
            let t = Term::new(start).unwrap();
            let minor = currency.minor_units;
            let price = from_minor(price_minor, minor).unwrap();
            let prices = Prices::new(price, price).unwrap();
            let half_unit = from_minor(1, minor).unwrap() / Decimal::TWO;
            let mut days: Vec<NaiveDate> = offsets
                .iter()
                .map(|&o| start + chrono::Days::new(o))
                .filter(|d| t.contains(*d))
                .collect();
            days.sort();
            let mut previous: Option<Decimal> = None;
            let mut sum = Decimal::ZERO;
            for day in &days {
                let amount = one_seat(&prices, &t, *day, &currency);
                prop_assert!(amount >= Decimal::ZERO);
                prop_assert!(amount <= price, "{} > {} on {}", amount, price, day);
                prop_assert_eq!(amount.scale(), minor);
                // Exact value: price × (whole × dip + days_left) / (12 × dip).
                let m = months_left(&t, *day).unwrap();
                let (num, den) = m.ratio();
                let exact_times_den = price * Decimal::from(num as u64);
                let got_times_den = amount * Decimal::from((den * 12) as u64);
                let diff = (got_times_den - exact_times_den).abs();
                prop_assert!(diff <= half_unit * Decimal::from((den * 12) as u64));
                if let Some(prev) = previous {
                    prop_assert!(amount <= prev);
                }
                previous = Some(amount);
                sum += amount;
            }
            // Also as one sum: n one-seat lines cost at most n full prices.
            prop_assert!(sum <= price * Decimal::from(days.len() as u64));
            // The first day costs exactly the full price.
            prop_assert_eq!(one_seat(&prices, &t, start, &currency), price);
        }

        /// Walking every day of a term: months left starts at exactly 12, strictly decreases,
        /// stays in (0, 12], and ends at 1/days of the last period.
        #[test]
        fn months_left_decreases_through_the_term(start in any_start()) {
            let t = Term::new(start).unwrap();
            let twelve = MonthsLeft::whole_months(12);
            let zero = MonthsLeft::whole_months(0);
            let mut day = start;
            let mut previous: Option<MonthsLeft> = None;
            while t.contains(day) {
                let m = months_left(&t, day).unwrap();
                prop_assert!(m > zero && m <= twelve);
                prop_assert!(m.days_left < m.days_in_period);
                prop_assert!((28..=31).contains(&m.days_in_period));
                prop_assert!(m.as_decimal() > Decimal::ZERO && m.as_decimal() <= dec("12"));
                if let Some(prev) = previous {
                    prop_assert!(m < prev, "{} then {} on {}", prev, m, day);
                }
                previous = Some(m);
                day = day.succ_opt().unwrap();
            }
            prop_assert_eq!(day, t.end());
            let last = previous.unwrap();
            prop_assert_eq!((last.whole, last.days_left), (0, 1));
            prop_assert!(months_left(&t, t.end()).is_err());
            prop_assert!(months_left(&t, start.pred_opt().unwrap()).is_err());
        }

        /// A change on period k's first day is exactly 12 − k months; periods tile the term.
        #[test]
        fn period_first_day_is_whole_months(start in any_start(), k in 0u32..12) {
            let t = Term::new(start).unwrap();
            let period = t.period(k).unwrap();
            prop_assert_eq!(
                Some(period.start),
                start.checked_add_months(Months::new(k))
            );
            let m = months_left(&t, period.start).unwrap();
            prop_assert_eq!((m.whole, m.days_left), (12 - k, 0));
            prop_assert_eq!(m.to_string(), (12 - k).to_string());
            prop_assert_eq!(t.period_containing(period.start).unwrap(), period);
            prop_assert_eq!(t.period_containing(period.last_day()).unwrap(), period);
            if k < 11 {
                prop_assert_eq!(period.end, t.period(k + 1).unwrap().start);
            } else {
                prop_assert_eq!(period.end, t.end());
            }
            // The last day of the period before k is 12 − k + 1/dip months.
            if k > 0 {
                let m = months_left(&t, period.start.pred_opt().unwrap()).unwrap();
                prop_assert_eq!((m.whole, m.days_left), (12 - k, 1));
            }
        }
    }
}
