//! Numbers, money and dates as the console shows them. Money is formatted for the contract's
//! currency: its symbol where one is unambiguous, else its ISO code, the currency's number of
//! decimals, and thousands separated by commas.

use rust_decimal::Decimal;

use crate::domain::billing::Currency;

fn symbol(code: &str) -> Option<&'static str> {
    Some(match code {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "INR" => "₹",
        _ => return None,
    })
}

/// `-1234567` → `"-1,234,567"` for the integer part.
fn group(int: &str) -> String {
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", int),
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// An exact amount in `currency`: `$7,500.00`, `¥120,000`, `KWD 1,200.500`.
pub fn money(amount: Decimal, currency: &Currency) -> String {
    let dp = currency.minor_units;
    let fixed = format!("{:.*}", dp as usize, amount.round_dp(dp));
    let (int, frac) = match fixed.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (fixed.clone(), None),
    };
    let number = match frac {
        Some(f) => format!("{}.{f}", group(&int)),
        None => group(&int),
    };
    match symbol(&currency.code) {
        Some(s) if number.starts_with('-') => format!("-{s}{}", &number[1..]),
        Some(s) => format!("{s}{number}"),
        None => format!("{} {number}", currency.code),
    }
}

/// An amount in minor units.
pub fn money_minor(minor: i64, currency: &Currency) -> String {
    money(Decimal::new(minor, currency.minor_units), currency)
}

/// A whole number with thousands separators.
pub fn count(n: i64) -> String {
    group(&n.to_string())
}

pub fn date(d: chrono::NaiveDate) -> String {
    d.format("%B %-d, %Y").to_string()
}

pub fn time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A ratio as a whole percentage.
pub fn percent(ratio: f64) -> String {
    format!("{:.0}%", (ratio * 100.0).clamp(0.0, 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).expect("known currency")
    }

    #[test]
    fn money_follows_the_currency() {
        assert_eq!(money(Decimal::new(750000, 2), &cur("USD")), "$7,500.00");
        assert_eq!(money(Decimal::new(238710, 2), &cur("EUR")), "€2,387.10");
        assert_eq!(money(Decimal::new(120000, 0), &cur("JPY")), "¥120,000");
        assert_eq!(
            money(Decimal::new(1200500, 3), &cur("KWD")),
            "KWD 1,200.500"
        );
        assert_eq!(money_minor(123, &cur("USD")), "$1.23");
        assert_eq!(money_minor(-100000, &cur("USD")), "-$1,000.00");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(999), "999");
    }
}
