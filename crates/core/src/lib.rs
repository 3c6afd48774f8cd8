//! Shared vocabulary of Clientele: identifiers, money, the organisation
//! (units, roles, clearance), who is acting (`Principal`), approval authority,
//! keyset paging, the clock and webhook rules. No IO, no framework types.

pub mod approval;
pub mod clock;
pub mod identity;
pub mod ids;
pub mod money;
pub mod org;
pub mod paging;
pub mod principal;
pub mod webhook;

pub use approval::{ApprovalRule, ApprovalSubject};
pub use clock::{Clock, FixedClock, SystemClock};
pub use identity::{ClientId, Password, Username};
pub use ids::{new_id, AuditId, RuleId, SessionId, UnitId, UserId};
pub use money::{Currency, Money};
pub use org::{Role, UnitKind, UnitPath};
pub use paging::{Cursor, PageLimit};
pub use principal::{AccountKind, Principal};

/// A value that could not be built from its raw form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Stable machine code, e.g. `too_short`, `invalid_format`.
    pub code: &'static str,
    /// English explanation for people.
    pub message: String,
}

impl ParseError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
