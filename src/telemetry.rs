//! Structured logs with `tracing`: pretty for people, JSON for machines.

use tracing_subscriber::{fmt, EnvFilter};

/// Install the global subscriber. `RUST_LOG` overrides the default filter.
pub fn init(default_filter: &str, json: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // Colours only for a person at a terminal: in a log file the escape codes are noise, and
    // styling every field of every request span cost as much as formatting it.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    // try_init: tests may install a subscriber more than once per process.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The request span: like tracing-actix-web's default, but `http.target` is the path alone,
/// and without the OpenTelemetry-only fields (every field is formatted on every request).
/// Query strings carry what must never reach a log: SCIM filters name userNames and emails
/// (`filter=userName eq "…"`), and the report page takes an owner token as `?token=`.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.path(),
            http.client_ip = %request.connection_info().realip_remote_addr().unwrap_or(""),
            http.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
        )
    }

    /// Records the status; for an error, logs one line (WARN for 4xx, ERROR for 5xx) whose
    /// text has every quoted part of the error's detail redacted: details quote what the
    /// client sent (a filter's `"carol@…"`, an attribute's value), and logs must not carry
    /// personal data. Positions and the error's shape stay.
    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let (status, error) = match outcome {
            Ok(res) => (res.status(), res.response().error()),
            Err(e) => (e.as_response_error().status_code(), Some(e)),
        };
        span.record("http.status_code", status.as_u16());
        let Some(error) = error else {
            return;
        };
        let message = redact(&error.to_string());
        span.record("exception.message", message.as_str());
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = %message, "request failed");
        } else {
            tracing::warn!(status = status.as_u16(), error = %message, "request refused");
        }
    }
}

/// `text` with the inside of every '…' or "…" replaced by `…` (an unterminated quote runs to
/// the end). What is left: the error's words and positions.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
            }
        }
    }
    if quote.is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn quoted_request_values_are_redacted_positions_kept() {
        assert_eq!(
            redact(r#"unexpected "carol.private@example.com" at position 10"#),
            "unexpected \"…\" at position 10"
        );
        assert_eq!(redact("'x' is required"), "'…' is required");
        assert_eq!(redact("open 'quote at 3"), "open '…");
        assert_eq!(redact("no quotes at 4"), "no quotes at 4");
    }
}
