//! The application error: every layer's failure ends here and is mapped to HTTP once.
//! On SCIM routes the body is a SCIM error (RFC 7644 §3.12); the owner API uses the same
//! shape without `scimType`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::scim::error::ScimError;
use crate::scim::schema::ERROR as ERROR_URN;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A protocol error with its `scimType`.
    #[error("{}", .0.detail)]
    Scim(ScimError),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    /// Well-formed but refused as it stands (e.g. an idempotency key reused for another body).
    #[error("{0}")]
    Unprocessable(String),
    /// A precondition (`If-Match`, or `If-None-Match` on a write) does not hold: 412, with no
    /// `scimType` (RFC 7644 §3.14; Table 9's `invalidVers` is an unsupported protocol version).
    #[error("precondition failed: the resource's current version does not satisfy If-Match or If-None-Match")]
    PreconditionFailed,
    /// 304, with the resource's current entity tag (RFC 7232 §4.1).
    #[error("not modified")]
    NotModified(String),
    #[error("{0}")]
    Unauthorized(String),
    /// Existed once, no longer usable (an expired, voided or used invitation).
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 431: too many or too large request headers.
    #[error("{0}")]
    HeadTooLarge(String),
    /// 429: this organization already runs as many expensive reads as it may at once, or
    /// a write found the database too busy to run within its time budget.
    #[error("{0}")]
    TooManyRequests(String),
    /// Database work stopped by its time budget (`store::budget`): a read answers
    /// `400 tooMany` (a filter too costly to run; sent again it would cost the same, so not
    /// a 5xx an IdP retries in a loop); the store turns a write's into `TooManyRequests`.
    #[error(
        "the request's database work went over its time budget; narrow the filter or ask \
         for fewer results"
    )]
    OverBudget,
    /// 405, with the methods the resource allows (the `Allow` header, RFC 9110 §15.5.6).
    #[error("{detail}")]
    MethodNotAllowed { detail: String, allow: &'static str },
    #[error("the service is busy; try again later")]
    Unavailable,
    /// A server we depend on (an identity provider) could not be reached or answered badly.
    #[error("{0}")]
    BadGateway(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound(what.into())
    }

    fn scim_type(&self) -> Option<&'static str> {
        match self {
            Error::Scim(e) => Some(e.kind.as_str()),
            Error::OverBudget => Some(crate::scim::error::ScimErrorKind::TooMany.as_str()),
            _ => None,
        }
    }
}

impl From<ScimError> for Error {
    fn from(e: ScimError) -> Self {
        Error::Scim(e)
    }
}

/// Whether a database error is a statement stopped by the read budget (`store::budget`):
/// SQLite's interrupt from the progress handler, PostgreSQL's `statement_timeout`. Here
/// rather than in the store so that the error type depends on no layer.
fn is_over_budget(message: &str) -> bool {
    message == "interrupted" || message.contains("statement timeout")
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as D};
        match e {
            D::NotFound => Error::NotFound("resource".into()),
            D::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Error::Scim(
                ScimError::uniqueness("a resource with that unique attribute already exists"),
            ),
            D::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => Error::Unavailable,
            // PostgreSQL broke a lock cycle by aborting this transaction (SQLSTATE 40P01,
            // which diesel does not name): nothing was written, and the request may be sent
            // again. A group PATCH that touches pending users' rows while a seat change
            // activates them can meet one.
            D::DatabaseError(_, ref info) if info.message() == "deadlock detected" => {
                Error::Unavailable
            }
            D::DatabaseError(_, ref info) if is_over_budget(info.message()) => Error::OverBudget,
            // The database dropped the connection (a restart): the request may be sent again.
            D::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => Error::Unavailable,
            other => Error::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<r2d2_error::PoolError> for Error {
    fn from(_: r2d2_error::PoolError) -> Self {
        Error::Unavailable
    }
}

/// The r2d2 pool error type, named once here.
mod r2d2_error {
    pub type PoolError = diesel::r2d2::PoolError;
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    schemas: [&'static str; 1],
    status: String,
    #[serde(rename = "scimType", skip_serializing_if = "Option::is_none")]
    scim_type: Option<&'static str>,
    detail: &'a str,
}

impl Error {
    /// The SCIM error body (also used inside `/Bulk` responses).
    pub fn body(&self) -> serde_json::Value {
        let detail = match self {
            Error::Internal(e) => {
                // Logged once here with its cause chain; the client sees a generic detail.
                tracing::error!(error = ?e, "internal error");
                "internal error".to_string()
            }
            e => e.to_string(),
        };
        let body = ErrorBody {
            schemas: [ERROR_URN],
            status: self.status_code().as_u16().to_string(),
            scim_type: self.scim_type(),
            detail: &detail,
        };
        serde_json::to_value(body).unwrap_or(serde_json::Value::Null)
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::Scim(e) => {
                StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Error::NotModified(_) => StatusCode::NOT_MODIFIED,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Gone(_) => StatusCode::GONE,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::HeadTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Error::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::OverBudget => StatusCode::BAD_REQUEST,
            Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Error::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Error::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let Error::NotModified(etag) = self {
            return HttpResponse::NotModified()
                .insert_header((header::ETAG, etag.as_str()))
                .finish();
        }
        let body = self.body();
        let mut resp = HttpResponse::build(status);
        resp.content_type("application/scim+json");
        if status == StatusCode::UNAUTHORIZED {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"scim-seats\""));
        }
        if let Error::MethodNotAllowed { allow, .. } = self {
            resp.insert_header((header::ALLOW, *allow));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            resp.insert_header((header::RETRY_AFTER, "1"));
        }
        resp.json(body)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as D};

    use super::Error;

    struct Info(&'static str);

    impl DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn from(kind: DatabaseErrorKind, message: &'static str) -> Error {
        Error::from(D::DatabaseError(kind, Box::new(Info(message))))
    }

    #[test]
    fn aborted_transactions_may_be_sent_again_other_database_errors_are_internal() {
        // What PostgreSQL's deadlock (40P01) looks like through diesel: kind Unknown.
        assert!(matches!(
            from(DatabaseErrorKind::Unknown, "deadlock detected"),
            Error::Unavailable
        ));
        assert!(matches!(
            from(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize access"
            ),
            Error::Unavailable
        ));
        assert!(matches!(
            from(DatabaseErrorKind::Unknown, "division by zero"),
            Error::Internal(_)
        ));
    }

    #[test]
    fn work_stopped_by_the_budget_is_over_budget_on_both_backends() {
        // SQLite's progress handler; PostgreSQL's statement_timeout (SQLSTATE 57014).
        for message in [
            "interrupted",
            "canceling statement due to statement timeout",
        ] {
            let e = from(DatabaseErrorKind::Unknown, message);
            assert!(matches!(e, Error::OverBudget), "{message}");
            assert_eq!(e.body()["scimType"], "tooMany");
            assert_eq!(e.body()["status"], "400");
        }
    }
}
