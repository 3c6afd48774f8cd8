//! The organisation (ORG-01): units in a tree and the roles people hold.

use crate::{ParseError, UnitId};
use std::fmt;

/// What an organisational unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitKind {
    /// The group / head company; the root of the tree.
    Company,
    /// A head-office or branch department (market, quality, finance, legal, GM office).
    Department,
    /// A branch company (分公司).
    Branch,
    /// A subsidiary (子公司).
    Subsidiary,
    /// A project team (项目部).
    ProjectTeam,
}

impl UnitKind {
    pub const ALL: [UnitKind; 5] = [
        UnitKind::Company,
        UnitKind::Department,
        UnitKind::Branch,
        UnitKind::Subsidiary,
        UnitKind::ProjectTeam,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Company => "company",
            UnitKind::Department => "department",
            UnitKind::Branch => "branch",
            UnitKind::Subsidiary => "subsidiary",
            UnitKind::ProjectTeam => "project_team",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ParseError::new("unknown_unit_kind", format!("unknown unit kind {s:?}")))
    }

    /// Where a unit of this kind may stand in the tree: a company is the root
    /// and nothing else is; departments, branches and subsidiaries hang under
    /// a company, branch or subsidiary; project teams under anything but
    /// another project team.
    pub fn may_have_parent(self, parent: Option<UnitKind>) -> bool {
        use UnitKind::*;
        match (self, parent) {
            (Company, None) => true,
            (_, None) | (Company, Some(_)) => false,
            (Department | Branch | Subsidiary, Some(p)) => {
                matches!(p, Company | Branch | Subsidiary)
            }
            (ProjectTeam, Some(p)) => p != ProjectTeam,
        }
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role a user holds. Roles are additive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Admin,
    Manager,
    AccountManager,
    ServiceAgent,
    Quality,
    Legal,
    Auditor,
    Integration,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Manager,
        Role::AccountManager,
        Role::ServiceAgent,
        Role::Quality,
        Role::Legal,
        Role::Auditor,
        Role::Integration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::AccountManager => "account_manager",
            Role::ServiceAgent => "service_agent",
            Role::Quality => "quality",
            Role::Legal => "legal",
            Role::Auditor => "auditor",
            Role::Integration => "integration",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ParseError::new("unknown_role", format!("unknown role {s:?}")))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A unit's place in the tree: the ids from the root down to the unit,
/// written `/root/child/unit/`. A subtree is every path with this prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitPath(String);

impl UnitPath {
    pub fn root(id: UnitId) -> Self {
        Self(format!("/{id}/"))
    }

    pub fn child(&self, id: UnitId) -> Self {
        Self(format!("{}{id}/", self.0))
    }

    /// Rebuilds a path read from storage; refuses anything that is not a chain of ids.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = s.len() > 2
            && s.starts_with('/')
            && s.ends_with('/')
            && s[1..s.len() - 1]
                .split('/')
                .all(|p| p.parse::<UnitId>().is_ok());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new("invalid_unit_path", "malformed unit path"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `other` is this unit or lies below it.
    pub fn contains(&self, other: &UnitPath) -> bool {
        other.0.starts_with(&self.0)
    }

    pub fn depth(&self) -> usize {
        self.0.matches('/').count().saturating_sub(1)
    }

    /// The ids from the root down to this unit.
    pub fn ids(&self) -> Vec<UnitId> {
        self.0
            .split('/')
            .filter_map(|p| p.parse::<UnitId>().ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_org_01_company_is_the_only_root() {
        assert!(UnitKind::Company.may_have_parent(None));
        assert!(!UnitKind::Branch.may_have_parent(None));
        assert!(!UnitKind::Company.may_have_parent(Some(UnitKind::Company)));
        assert!(UnitKind::Department.may_have_parent(Some(UnitKind::Company)));
        assert!(UnitKind::Subsidiary.may_have_parent(Some(UnitKind::Branch)));
        assert!(UnitKind::ProjectTeam.may_have_parent(Some(UnitKind::Department)));
        assert!(!UnitKind::ProjectTeam.may_have_parent(Some(UnitKind::ProjectTeam)));
        assert!(!UnitKind::Department.may_have_parent(Some(UnitKind::Department)));
    }

    #[test]
    fn r_org_01_subtree_by_path_prefix() {
        let root = UnitPath::root(UnitId::new());
        let branch = root.child(UnitId::new());
        let team = branch.child(UnitId::new());
        let other = root.child(UnitId::new());
        assert!(root.contains(&team));
        assert!(branch.contains(&team));
        assert!(branch.contains(&branch));
        assert!(!branch.contains(&other));
        assert!(!team.contains(&branch));
        assert_eq!(team.depth(), 3);
        assert_eq!(team.ids().len(), 3);
        assert_eq!(UnitPath::parse(team.as_str()).ok(), Some(team));
        assert!(UnitPath::parse("/nope/").is_err());
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).ok(), Some(r));
        }
        assert!(Role::parse("root").is_err());
    }
}
