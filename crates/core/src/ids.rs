//! Newtype identifiers. Every id is a UUIDv7 made by the application, so ids
//! sort by creation time and can serve as keyset tie-breakers.

use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A fresh time-ordered id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

macro_rules! id_type {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(new_id())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    )*};
}

id_type!(
    /// An organisational unit (company, department, branch, project team).
    UnitId,
    /// A person or a service account.
    UserId,
    /// A login session: the family of refresh tokens and the access tokens issued from it.
    SessionId,
    /// An approval-authority rule.
    RuleId,
    /// An audit-log entry.
    AuditId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered() {
        let a = UserId::new();
        let b = UserId::new();
        assert!(a < b);
        assert_eq!(a.to_string().parse::<UserId>().ok(), Some(a));
    }
}
