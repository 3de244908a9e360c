//! Protocol-level errors: what RFC 7644 §3.12 calls `scimType`, plus the HTTP status each one
//! implies. Pure data; the HTTP mapping lives in `crate::error`.

use std::fmt;

/// RFC 7644 §3.12 error kinds the protocol layer can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimErrorKind {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
    Sensitive,
}

impl ScimErrorKind {
    /// The `scimType` string of RFC 7644 Table 9.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::TooMany => "tooMany",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
            Self::InvalidVers => "invalidVers",
            Self::Sensitive => "sensitive",
        }
    }

    /// The HTTP status RFC 7644 Table 9 pairs with the kind.
    pub fn status(self) -> u16 {
        match self {
            Self::Uniqueness => 409,
            Self::Sensitive => 403,
            _ => 400,
        }
    }
}

/// A protocol error with a human-readable detail (safe to show the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub kind: ScimErrorKind,
    pub detail: String,
}

impl ScimError {
    pub fn new(kind: ScimErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(ScimErrorKind::InvalidFilter, detail)
    }
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(ScimErrorKind::InvalidSyntax, detail)
    }
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(ScimErrorKind::InvalidValue, detail)
    }
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(ScimErrorKind::InvalidPath, detail)
    }
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::new(ScimErrorKind::NoTarget, detail)
    }
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(ScimErrorKind::Mutability, detail)
    }
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(ScimErrorKind::Uniqueness, detail)
    }
    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::new(ScimErrorKind::TooMany, detail)
    }
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.detail)
    }
}

impl std::error::Error for ScimError {}

pub type ScimResult<T> = Result<T, ScimError>;
