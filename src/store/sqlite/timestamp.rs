//! Timestamps of the hot rows as SQLite stores them, without chrono's general-purpose
//! machinery: diesel reads a SQLite timestamp by trying up to 18 formats in turn and writes
//! one through chrono's format-string interpreter, thousands of instructions each, three
//! per user row (`docs/benchmarks.md`, "Measurements behind the code"). The user, group, token and audit rows read theirs
//! here; user rows (`users::UserWrite`), audit rows and the seat claim write theirs here.
//! The text is byte-for-byte what diesel writes (`%F %T%.f`), so rows written either way
//! sort and compare alike in SQL; anything else falls back to diesel. On PostgreSQL both
//! directions delegate to diesel's own binary conversion.
//!
//! Row structs keep `NaiveDateTime` fields and name these types with
//! `#[diesel(deserialize_as = …)]` (and `serialize_as = Ts` where an insert passes the row
//! by value); a write that borrows its row binds `Ts(t)` or `Option<Ts>` itself.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::Sqlite;

use crate::scim::datetime::put_digits;
use crate::store::MultiBackend;

/// A `NOT NULL` timestamp column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow, AsExpression)]
#[diesel(sql_type = Timestamp)]
pub struct Ts(pub NaiveDateTime);

/// A nullable timestamp column (read only: written as `Option<NaiveDateTime>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct MaybeTs(pub Option<NaiveDateTime>);

impl From<Ts> for NaiveDateTime {
    fn from(t: Ts) -> NaiveDateTime {
        t.0
    }
}

impl From<NaiveDateTime> for Ts {
    fn from(t: NaiveDateTime) -> Ts {
        Ts(t)
    }
}

impl From<MaybeTs> for Option<NaiveDateTime> {
    fn from(t: MaybeTs) -> Option<NaiveDateTime> {
        t.0
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of 1 to 9 digits; `None` for anything
/// else (other layouts, years outside 0..=9999), which the caller hands to diesel.
pub fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = num(20, b.len())?;
            n * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let time = NaiveTime::from_hms_nano_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?, nanos)?;
    Some(date.and_time(time))
}

/// chrono's `%F %T%.f` for years 0..=9999 and no leap second: the fraction has 0, 3, 6 or 9
/// digits, the fewest that hold it exactly. `None` otherwise (the caller asks chrono).
pub fn format(t: NaiveDateTime) -> Option<String> {
    let nanos = t.nanosecond();
    if !(0..=9999).contains(&t.year()) || nanos >= 1_000_000_000 {
        return None;
    }
    let mut buf = *b"0000-00-00 00:00:00.000000000";
    put_digits(&mut buf, 0, 4, t.year() as u32);
    put_digits(&mut buf, 5, 2, t.month());
    put_digits(&mut buf, 8, 2, t.day());
    put_digits(&mut buf, 11, 2, t.hour());
    put_digits(&mut buf, 14, 2, t.minute());
    put_digits(&mut buf, 17, 2, t.second());
    put_digits(&mut buf, 20, 9, nanos);
    let len = match nanos {
        0 => 19,
        n if n % 1_000_000 == 0 => 23,
        n if n % 1_000 == 0 => 26,
        _ => 29,
    };
    std::str::from_utf8(&buf[..len]).ok().map(str::to_owned)
}

fn from_sqlite(
    mut value: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
) -> deserialize::Result<NaiveDateTime> {
    if let Some(t) = parse(value.read_text()) {
        return Ok(t);
    }
    <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value)
}

impl FromSql<Timestamp, Sqlite> for Ts {
    fn from_sql(
        value: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        from_sqlite(value).map(Ts)
    }
}

impl FromSql<Timestamp, Pg> for Ts {
    fn from_sql(
        value: <Pg as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Ts)
    }
}

impl FromSql<Timestamp, MultiBackend> for Ts {
    fn from_sql(
        value: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

/// `MaybeTs` from a nullable timestamp column of `$backend`: NULL is `None`, and `$present`
/// reads a value that is there.
macro_rules! maybe_ts_from_sql {
    ($backend:ty, |$value:ident| $present:expr) => {
        impl FromSql<Nullable<Timestamp>, $backend> for MaybeTs {
            fn from_sql(
                $value: <$backend as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                $present.map(|t| MaybeTs(Some(t)))
            }

            fn from_nullable_sql(
                value: Option<<$backend as diesel::backend::Backend>::RawValue<'_>>,
            ) -> deserialize::Result<Self> {
                value.map_or(
                    Ok(MaybeTs(None)),
                    <Self as FromSql<Nullable<Timestamp>, $backend>>::from_sql,
                )
            }
        }
    };
}

maybe_ts_from_sql!(Sqlite, |value| from_sqlite(value));
maybe_ts_from_sql!(Pg, |value| {
    <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value)
});
maybe_ts_from_sql!(MultiBackend, |value| value
    .from_sql::<Ts, Timestamp>()
    .map(NaiveDateTime::from));

impl ToSql<Timestamp, Sqlite> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        match format(self.0) {
            Some(text) => {
                out.set_value(text);
                Ok(IsNull::No)
            }
            None => <NaiveDateTime as ToSql<Timestamp, Sqlite>>::to_sql(&self.0, out),
        }
    }
}

impl ToSql<Timestamp, Pg> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, Pg>>::to_sql(&self.0, out)
    }
}

impl ToSql<Timestamp, MultiBackend> for Ts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Timestamp, self));
        Ok(IsNull::No)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono_text(t: NaiveDateTime) -> String {
        t.format("%F %T%.f").to_string()
    }

    fn instants() -> impl Iterator<Item = NaiveDateTime> {
        let base = NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("epoch");
        // Seconds and fractions of every width, across years, month ends and leap days.
        (0..20_000i64).map(move |i| {
            let secs = i.wrapping_mul(7_919_993_117) % 8_000_000_000;
            let nanos = match i % 5 {
                0 => 0,
                1 => (i as u32 % 1000) * 1_000_000,
                2 => (i as u32 % 1_000_000) * 1_000,
                3 => (i as u32).wrapping_mul(48_271) % 1_000_000_000,
                _ => 1,
            };
            base + chrono::Duration::seconds(secs) + chrono::Duration::nanoseconds(nanos.into())
        })
    }

    #[test]
    fn formats_exactly_as_diesel_and_chrono_do() {
        for t in instants() {
            assert_eq!(format(t).as_deref(), Some(chrono_text(t).as_str()), "{t:?}");
        }
    }

    #[test]
    fn reads_back_what_it_and_chrono_write() {
        for t in instants() {
            assert_eq!(parse(&chrono_text(t)), Some(t), "{t:?}");
        }
        let t = parse("2026-11-22 04:10:15.5").expect("one digit of fraction");
        assert_eq!(t.nanosecond(), 500_000_000);
    }

    #[test]
    fn leaves_other_layouts_to_diesel() {
        for text in [
            "",
            "2026-11-22",
            "2026-11-22T04:10:15",
            "2026-11-22 04:10:15Z",
            "2026-11-22 04:10:15.",
            "2026-11-22 04:10:15.1234567890",
            "2026-13-22 04:10:15",
            "2026-02-30 04:10:15",
            "2026-11-22 24:00:00",
            "+2026-11-22 04:10:1",
            "2026-11-22 04:1a:15",
            "2459905.5",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn leaves_leap_seconds_and_far_years_to_chrono() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .expect("leap second");
        assert_eq!(format(leap), None);
        let far = NaiveDate::from_ymd_opt(12_000, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("far year");
        assert_eq!(format(far), None);
    }
}
