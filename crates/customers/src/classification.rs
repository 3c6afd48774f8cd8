//! Classification of a file (CUS-02, CUS-03, CUS-06): the closed sets a
//! client chooses from.

use crate::ParseError;

macro_rules! closed_set {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Result<Self, ParseError> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| ParseError::new(
                        "unknown_value",
                        format!("{s:?} is not one of {}", Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")),
                    ))
            }
        }
    };
}

closed_set!(
    /// Nature of the customer (CUS-03).
    Nature {
        Government = "government",
        StateOwned = "state_owned",
        Private = "private",
        Individual = "individual",
        Foreign = "foreign",
        Other = "other",
    }
);

closed_set!(
    /// Customer type (客户类型, CUS-03): how the customer buys from us.
    CustomerType {
        /// Uses what it buys (终端客户).
        EndUser = "end_user",
        /// Buys to resell (经销商).
        Distributor = "distributor",
        /// Sells on our behalf (代理商).
        Agent = "agent",
        /// Works with us on shared business (合作伙伴).
        Partner = "partner",
        Other = "other",
    }
);

closed_set!(
    /// Where the relationship stands.
    Status {
        Prospect = "prospect",
        Active = "active",
        Dormant = "dormant",
        Archived = "archived",
    }
);

closed_set!(
    /// Enterprise size (GB/T classification of enterprises by size).
    Size {
        Micro = "micro",
        Small = "small",
        Medium = "medium",
        Large = "large",
    }
);

closed_set!(
    /// Cross-references between files (CUS-06), read from the `from` side.
    RelationKind {
        /// `from` is the group (parent) of `to`.
        ParentOf = "parent_of",
        /// `from` and `to` belong to the same group.
        SameGroup = "same_group",
        /// Any other relation worth a pointer (litigation, several contracts …).
        Related = "related",
    }
);

impl RelationKind {
    /// The kind as seen from the other side.
    pub fn seen_from_target(self) -> &'static str {
        match self {
            RelationKind::ParentOf => "subsidiary_of",
            RelationKind::SameGroup => "same_group",
            RelationKind::Related => "related",
        }
    }
}

closed_set!(
    /// Categories of document records kept with a file.
    DocumentCategory {
        Sales = "sales",
        Contract = "contract",
        Certificate = "certificate",
        HandOver = "hand_over",
        Maintenance = "maintenance",
        Compensation = "compensation",
        Litigation = "litigation",
        Lease = "lease",
        Other = "other",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_cus_03_closed_sets_parse_and_refuse() {
        assert_eq!(Nature::parse("state_owned").ok(), Some(Nature::StateOwned));
        assert!(Nature::parse("mixed").is_err());
        assert_eq!(CustomerType::parse("agent").ok(), Some(CustomerType::Agent));
        assert!(CustomerType::parse("reseller").is_err());
        assert_eq!(RelationKind::ParentOf.seen_from_target(), "subsidiary_of");
        for c in DocumentCategory::ALL {
            assert_eq!(DocumentCategory::parse(c.as_str()).ok(), Some(*c));
        }
    }
}
