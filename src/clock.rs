//! "Today" for billing: the system date (UTC) by default, a fixed date when the settings say
//! so (tests on March 1 run any day; operators can replay a day with `renew-due --today`).

use chrono::NaiveDate;

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
}
