//! "Today" for billing: the system date (UTC) by default, a fixed date when the settings say
//! so (tests on March 1 run any day; operators can replay a day with `renew-due --today`).

use chrono::{NaiveDate, NaiveDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    System,
    Fixed(NaiveDate),
}

impl Clock {
    pub fn from_override(day: Option<NaiveDate>) -> Clock {
        day.map_or(Clock::System, Clock::Fixed)
    }

    /// Today's date in UTC (contracts and invoices are dated in UTC).
    pub fn today(&self) -> NaiveDate {
        match self {
            Clock::System => chrono::Utc::now().date_naive(),
            Clock::Fixed(d) => *d,
        }
    }

    /// Now in UTC, on `today()`'s date: a fixed clock keeps the real time of day, so events
    /// still order, while expiry rules (invitations: 21 days) can be tested on any day.
    pub fn now(&self) -> NaiveDateTime {
        let real = crate::store::now();
        match self {
            Clock::System => real,
            Clock::Fixed(d) => d.and_time(real.time()),
        }
    }
}
