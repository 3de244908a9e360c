//! Requests that actix-http's own parser refuses — a control byte in a header value, a
//! malformed request line, a head past the codec's limits (96 headers, 128 KiB), a head that
//! does not arrive in time — are answered by actix-http itself with a bare 400/431/408 and an
//! empty body, before any of our code runs, and actix-http has no hook for them. An IdP
//! should still meet a SCIM error there (RFC 7644 §3.12), so every connection's writes pass
//! through `ScimRefusals`, which recognises that one response and writes it again with a
//! SCIM error body.
//!
//! It is recognisable without doubt: the codec's refusal is the last thing written on a
//! connection (actix closes it after), it carries `content-length: 0` and no
//! `content-type`, and every answer of ours carries a body with a content type.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::scim::schema::ERROR as ERROR_URN;

/// A connection whose refusals by the HTTP codec go out as SCIM errors.
pub struct ScimRefusals<T> {
    io: T,
    /// A rewritten refusal still to be written, and how much of it is out.
    pending: Vec<u8>,
    written: usize,
}

impl<T> ScimRefusals<T> {
    pub fn new(io: T) -> Self {
        ScimRefusals {
            io,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<T: AsyncWrite + Unpin> ScimRefusals<T> {
    /// Writes what is left of a rewritten refusal.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ScimRefusals<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ScimRefusals<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(rewritten) = rewrite(buf) {
            // The whole buffer counts as written; what the socket did not take yet goes out
            // with the next flush or shutdown, which actix calls before it closes.
            this.pending = rewritten;
            this.written = 0;
            if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

/// The codec's refusals: their status lines and what the SCIM error says of each.
const REFUSALS: [(&[u8], u16, &str); 3] = [
    (
        b"400 Bad Request\r\n",
        400,
        "the request could not be read as HTTP/1.1: a malformed request line, a header \
         name or value with a control character, or a malformed body framing",
    ),
    (
        b"431 Request Header Fields Too Large\r\n",
        431,
        "the request head is over the limit (at most 64 headers and 32768 bytes)",
    ),
    (
        b"408 Request Timeout\r\n",
        408,
        "the request head did not arrive in time",
    ),
];

/// `buf` with the codec's refusal at its end written again with a SCIM error body, or `None`
/// when `buf` ends with anything else (which then passes untouched).
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    // The refusal is a whole head at the very end of what is written.
    if !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let head_end = buf.len() - 2;
    let start = find_last(&buf[..head_end], b"HTTP/1.")?;
    let head = &buf[start..head_end];
    let status_line_end = find(head, b"\r\n")? + 2;
    let (_, status, detail) = REFUSALS
        .iter()
        .find(|(line, _, _)| head[..status_line_end].ends_with(line))?;
    let lower = head.to_ascii_lowercase();
    if find(&lower, b"\r\ncontent-length: 0\r\n").is_none()
        || find(&lower, b"\r\ncontent-type:").is_some()
    {
        return None;
    }
    let body = serde_json::json!({
        "schemas": [ERROR_URN],
        "status": status.to_string(),
        "detail": detail,
    })
    .to_string();
    let mut out = Vec::with_capacity(start + head.len() + body.len() + 64);
    out.extend_from_slice(&buf[..start]);
    out.extend_from_slice(&head[..status_line_end]);
    for line in head[status_line_end..].split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.to_ascii_lowercase().starts_with(b"content-length:") {
            continue;
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"content-type: application/scim+json\r\n");
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(out: &[u8]) -> (String, serde_json::Value) {
        let text = String::from_utf8(out.to_vec()).expect("utf-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head");
        (head.to_string(), serde_json::from_str(body).expect("json"))
    }

    #[test]
    fn the_codecs_bare_refusals_get_a_scim_error_body() {
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: Mon, 07 Dec 2026 10:00:00 GMT\r\n\r\n";
        let (head, body) = split(&rewrite(bare).expect("rewritten"));
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(head.contains("connection: close"), "{head}");
        assert!(head.contains("date: Mon"), "{head}");
        assert!(
            head.contains("content-type: application/scim+json"),
            "{head}"
        );
        assert!(!head.contains("content-length: 0"), "{head}");
        assert_eq!(body["status"], "400");
        assert_eq!(body["schemas"][0], ERROR_URN);

        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        let (_, body) = split(&rewrite(bare).expect("rewritten"));
        assert_eq!(body["status"], "431");
    }

    #[test]
    fn an_earlier_answer_on_the_connection_is_kept_as_it_was() {
        let earlier = b"HTTP/1.1 200 OK\r\ncontent-type: application/scim+json\r\ncontent-length: 2\r\n\r\n{}";
        let mut buf = earlier.to_vec();
        buf.extend_from_slice(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        let out = rewrite(&buf).expect("rewritten");
        assert!(out.starts_with(earlier));
        let (_, body) = split(&out[earlier.len()..]);
        assert_eq!(body["status"], "400");
    }

    #[test]
    fn our_own_answers_pass_untouched() {
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/scim+json\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(rewrite(ours), None);
        let not_modified = b"HTTP/1.1 304 Not Modified\r\netag: W/\"1\"\r\n\r\n";
        assert_eq!(rewrite(not_modified), None);
        let body_after = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nx";
        assert_eq!(rewrite(body_after), None);
        let no_content = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(rewrite(no_content), None);
    }
}
