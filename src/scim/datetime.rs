//! Date-times as fixed-width text. SCIM's `meta` dates (`api::scim::render`) and the SQLite
//! timestamp columns (`store::sqlite::timestamp`) are both written into fixed layouts with
//! this one digit writer instead of chrono's format-string interpreter.

/// `n` as `width` decimal digits at `buf[at..]`, zero-padded (the caller sizes `buf`).
pub fn put_digits(buf: &mut [u8], at: usize, width: usize, mut n: u32) {
    for b in buf[at..at + width].iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_with_zeros_and_keeps_the_low_digits() {
        let mut buf = *b"xx-----xx";
        put_digits(&mut buf, 2, 5, 42);
        assert_eq!(&buf, b"xx00042xx");
        put_digits(&mut buf, 2, 2, 1234);
        assert_eq!(&buf, b"xx34042xx");
    }
}
