//! Who may see a file (CUS-07, CUS-10, GRD-06): the file's unit subtree,
//! within clearance; files marked shared by every unit; administrators and
//! auditors across units; a time-limited outside-access grant for one file.
//! Anything else is indistinguishable from a file that does not exist.

use clientele_core::{ParseError, Principal, Role, UnitPath};

/// The facts about a file that decide who sees it.
#[derive(Debug, Clone)]
pub struct FileScope<'a> {
    pub owner_unit_path: &'a UnitPath,
    pub secrecy_rank: i32,
    pub shared: bool,
}

/// What the principal may do with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Hidden,
    Read,
    ReadWrite,
}

/// Roles that may see a file's financial fields (registered capital, credit
/// standing, trading terms).
pub fn sees_financials(p: &Principal) -> bool {
    [
        Role::Admin,
        Role::Manager,
        Role::AccountManager,
        Role::Legal,
        Role::Auditor,
        Role::Integration,
    ]
    .iter()
    .any(|r| p.has(*r))
}

/// Roles that may act on files as their manager, beyond editing one: hand
/// the files a person keeps over to another and move a unit's files to
/// another unit (CUS-10: the files stay with the unit when its people
/// change), and merge a duplicate into a file (CUS-01).
pub fn manages_files(p: &Principal) -> bool {
    p.may_write() && (p.is_admin() || p.has(Role::Manager))
}

/// Roles that may take files out of the archive in bulk (CUS-08: files
/// never leave the archive without permission; CUS-10: the data stays with
/// the unit, never with a person). Managers answer for their units' files,
/// auditors check them, service accounts carry them to the ERP; the people
/// who work single files read them in the archive, where every read is
/// registered, and do not take the list home.
pub fn exports_files(p: &Principal) -> bool {
    [Role::Admin, Role::Manager, Role::Auditor, Role::Integration]
        .iter()
        .any(|r| p.has(*r))
}

/// Who decides and ends outside access (CUS-09): the legal office. A
/// decision is a write, so an auditor who also holds the legal role does
/// not decide (auditors write nothing unless also administrators).
pub fn decides_outside_access(p: &Principal) -> bool {
    p.may_write() && p.has(Role::Legal)
}

/// Roles that may create and edit files.
pub fn edits_files(p: &Principal) -> bool {
    p.may_write()
        && [
            Role::Admin,
            Role::Manager,
            Role::AccountManager,
            Role::Integration,
        ]
        .iter()
        .any(|r| p.has(*r))
}

/// The decision for one file; `granted` is an active outside-access grant.
pub fn decide(p: &Principal, file: &FileScope<'_>, granted: bool) -> Visibility {
    let cleared = p.clearance_rank >= file.secrecy_rank;
    let in_scope =
        p.reads_everything() || file.shared || p.unit_path.contains(file.owner_unit_path);
    if !(cleared && in_scope) {
        // An outside-access grant opens the file for reading only (CUS-09).
        return if granted {
            Visibility::Read
        } else {
            Visibility::Hidden
        };
    }
    // Writing needs the file in the principal's own subtree (or admin);
    // shared files are read by everyone but worked by their unit (GRD-06).
    let own = p.is_admin() || p.unit_path.contains(file.owner_unit_path);
    if own && edits_files(p) {
        Visibility::ReadWrite
    } else {
        Visibility::Read
    }
}

/// Whether a person may keep a file (CUS-10): the keeper answers for it,
/// so must be able to read and work it — the file's unit lies in the
/// keeper's unit subtree (shared or not: a shared file is worked by its
/// unit, GRD-06) and its secrecy level within the keeper's clearance
/// (CUS-07).
pub fn check_keeper(
    keeper_unit: &UnitPath,
    keeper_rank: i32,
    file: &FileScope<'_>,
) -> Result<(), ParseError> {
    if keeper_rank < file.secrecy_rank {
        return Err(ParseError::new(
            "keeper_not_cleared",
            "the keeper's clearance is below the file's secrecy level",
        ));
    }
    if !keeper_unit.contains(file.owner_unit_path) {
        return Err(ParseError::new(
            "keeper_outside_unit",
            "the keeper belongs to no unit that holds the file's unit; name a person of that unit or above it",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_core::{AccountKind, SessionId, UnitId, UserId};

    fn who(roles: &[Role], unit: &UnitPath, rank: i32) -> Principal {
        Principal {
            user_id: UserId::new(),
            username: "u".into(),
            display_name: "u".into(),
            kind: AccountKind::Person,
            unit_id: UnitId::new(),
            unit_path: unit.clone(),
            roles: roles.to_vec(),
            clearance: "C".into(),
            clearance_rank: rank,
            session_id: SessionId::new(),
        }
    }

    #[test]
    fn r_cus_10_only_managers_and_admins_manage_files() {
        let bj = UnitPath::root(UnitId::new());
        assert!(manages_files(&who(&[Role::Manager], &bj, 1)));
        assert!(manages_files(&who(&[Role::Admin], &bj, 1)));
        for role in [Role::AccountManager, Role::Integration, Role::Auditor] {
            assert!(!manages_files(&who(&[role], &bj, 3)), "{role:?}");
        }
        // An auditor who is also a manager writes nothing.
        assert!(!manages_files(&who(
            &[Role::Manager, Role::Auditor],
            &bj,
            3
        )));
    }

    #[test]
    fn r_cus_08_only_managers_auditors_and_integrations_export() {
        let bj = UnitPath::root(UnitId::new());
        for role in [Role::Admin, Role::Manager, Role::Auditor, Role::Integration] {
            assert!(exports_files(&who(&[role], &bj, 1)), "{role:?}");
        }
        for role in [
            Role::AccountManager,
            Role::ServiceAgent,
            Role::Quality,
            Role::Legal,
        ] {
            assert!(!exports_files(&who(&[role], &bj, 3)), "{role:?}");
        }
        // A second role that exports is enough.
        assert!(exports_files(&who(
            &[Role::AccountManager, Role::Manager],
            &bj,
            1
        )));
    }

    #[test]
    fn r_cus_09_the_legal_office_decides_unless_auditing() {
        let hq = UnitPath::root(UnitId::new());
        assert!(decides_outside_access(&who(&[Role::Legal], &hq, 1)));
        assert!(!decides_outside_access(&who(&[Role::Manager], &hq, 3)));
        assert!(!decides_outside_access(&who(
            &[Role::Legal, Role::Auditor],
            &hq,
            1
        )));
    }

    #[test]
    fn r_cus_07_unit_subtree_and_clearance_decide() {
        let root = UnitPath::root(UnitId::new());
        let bj = root.child(UnitId::new());
        let sh = root.child(UnitId::new());
        let team = bj.child(UnitId::new());
        let file = FileScope {
            owner_unit_path: &team,
            secrecy_rank: 1,
            shared: false,
        };
        let secret = FileScope {
            owner_unit_path: &team,
            secrecy_rank: 3,
            shared: false,
        };
        let am_bj = who(&[Role::AccountManager], &bj, 1);
        assert_eq!(decide(&am_bj, &file, false), Visibility::ReadWrite);
        assert_eq!(
            decide(&am_bj, &secret, false),
            Visibility::Hidden,
            "clearance too low"
        );
        let am_sh = who(&[Role::AccountManager], &sh, 3);
        assert_eq!(
            decide(&am_sh, &file, false),
            Visibility::Hidden,
            "other unit"
        );
        let shared = FileScope {
            owner_unit_path: &team,
            secrecy_rank: 1,
            shared: true,
        };
        assert_eq!(
            decide(&am_sh, &shared, false),
            Visibility::Read,
            "shared files are read, not worked"
        );
        let agent_team = who(&[Role::ServiceAgent], &team, 1);
        assert_eq!(
            decide(&agent_team, &file, false),
            Visibility::Read,
            "agents read, do not edit"
        );
        let auditor = who(&[Role::Auditor], &sh, 3);
        assert_eq!(decide(&auditor, &secret, false), Visibility::Read);
        let low_auditor = who(&[Role::Auditor], &sh, 1);
        assert_eq!(decide(&low_auditor, &secret, false), Visibility::Hidden);
        // An outside-access grant opens one file for reading.
        let legal_other = who(&[Role::Legal], &sh, 1);
        assert_eq!(decide(&legal_other, &secret, true), Visibility::Read);
        // Only for reading, even to someone who works the file's unit.
        assert_eq!(
            decide(&am_bj, &secret, true),
            Visibility::Read,
            "a grant above one's clearance does not let one edit"
        );
        assert_eq!(decide(&am_bj, &file, true), Visibility::ReadWrite);
        assert!(sees_financials(&am_bj));
        assert!(!sees_financials(&agent_team));
    }

    #[test]
    fn r_cus_10_a_keeper_can_read_and_work_the_file() {
        let hq = UnitPath::root(UnitId::new());
        let bj = hq.child(UnitId::new());
        let sh = hq.child(UnitId::new());
        let file = |rank| FileScope {
            owner_unit_path: &bj,
            secrecy_rank: rank,
            shared: true,
        };
        assert!(check_keeper(&bj, 1, &file(1)).is_ok());
        assert!(
            check_keeper(&hq, 3, &file(2)).is_ok(),
            "a unit above holds it"
        );
        assert_eq!(
            check_keeper(&bj, 1, &file(2)).err().map(|e| e.code),
            Some("keeper_not_cleared")
        );
        assert_eq!(
            check_keeper(&sh, 3, &file(1)).err().map(|e| e.code),
            Some("keeper_outside_unit"),
            "shared files too are kept by their unit"
        );
    }
}
