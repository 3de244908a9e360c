//! Every CSV the server writes (the pending-user report, invoices) goes through this
//! writer, so no cell can run as a spreadsheet formula: a cell that starts with `=`, `+`,
//! `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's advice), which
//! spreadsheets show as text. A plain number (`-12.50`) is left as it is: it cannot run.

use std::borrow::Cow;

use crate::error::Error;

/// The cell as written: neutralised when a spreadsheet could read it as a formula.
pub fn cell(s: &str) -> Cow<'_, str> {
    let risky = s
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if risky && !is_plain_number(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// `-12`, `-12.50`: digits with one optional point after a leading minus.
fn is_plain_number(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('-') else {
        return false;
    };
    let (int, frac) = rest.split_once('.').unwrap_or((rest, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// A CSV writer into memory whose every cell passes `cell`.
pub struct Writer(csv::Writer<Vec<u8>>);

impl Writer {
    pub fn with_capacity(bytes: usize) -> Writer {
        Writer(csv::Writer::from_writer(Vec::with_capacity(bytes)))
    }

    pub fn record<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> Result<(), Error> {
        self.0
            .write_record(cells.into_iter().map(|c| cell(c).into_owned()))
            .map_err(|e| Error::Internal(anyhow::anyhow!("writing CSV: {e}")))
    }

    pub fn into_bytes(self) -> Result<Vec<u8>, Error> {
        self.0
            .into_inner()
            .map_err(|e| Error::Internal(anyhow::anyhow!("writing CSV: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralised_numbers_are_not() {
        for (input, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-", "'-"),
            ("-12.50", "-12.50"),
            ("-7", "-7"),
            ("ada@example.com", "ada@example.com"),
            ("", ""),
        ] {
            assert_eq!(cell(input), want, "{input:?}");
        }
    }
}
