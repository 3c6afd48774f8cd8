//! Who is acting: the authenticated person or service account, with the
//! unit, roles and clearance that every authorization decision reads.

use crate::{Role, SessionId, UnitId, UnitPath, UserId};

/// A person signs in with a password; a service account (ERP, finance) with
/// client credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Person,
    Service,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Person => "person",
            AccountKind::Service => "service",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "person" => Some(AccountKind::Person),
            "service" => Some(AccountKind::Service),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub kind: AccountKind,
    pub unit_id: UnitId,
    pub unit_path: UnitPath,
    pub roles: Vec<Role>,
    pub clearance: String,
    pub clearance_rank: i32,
    pub session_id: SessionId,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }

    /// Admins and auditors read across the whole organisation.
    pub fn reads_everything(&self) -> bool {
        self.has(Role::Admin) || self.has(Role::Auditor)
    }

    /// An auditor reads and never writes, whatever else it holds, unless it
    /// is also an administrator.
    pub fn may_write(&self) -> bool {
        self.is_admin() || !self.has(Role::Auditor)
    }

    /// A unit is in view when it is the principal's own unit or below it.
    pub fn sees_unit(&self, path: &UnitPath) -> bool {
        self.reads_everything() || self.unit_path.contains(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: Vec<Role>, path: UnitPath) -> Principal {
        Principal {
            user_id: UserId::new(),
            username: "u".into(),
            display_name: "U".into(),
            kind: AccountKind::Person,
            unit_id: UnitId::new(),
            unit_path: path,
            roles,
            clearance: "C".into(),
            clearance_rank: 1,
            session_id: SessionId::new(),
        }
    }

    #[test]
    fn r_org_01_units_see_their_subtree_only() {
        let root = UnitPath::root(UnitId::new());
        let branch_a = root.child(UnitId::new());
        let branch_b = root.child(UnitId::new());
        let team = branch_a.child(UnitId::new());
        let p = principal(vec![Role::Manager], branch_a.clone());
        assert!(p.sees_unit(&branch_a));
        assert!(p.sees_unit(&team));
        assert!(!p.sees_unit(&branch_b));
        assert!(!p.sees_unit(&root));
        let auditor = principal(vec![Role::Auditor], team);
        assert!(auditor.sees_unit(&branch_b));
        assert!(!auditor.may_write());
        assert!(p.may_write());
    }
}
