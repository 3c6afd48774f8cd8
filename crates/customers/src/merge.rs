//! Merging duplicates (CUS-01, CUS-05): the absorbed file is kept,
//! archived and pointing at the survivor; everything it held moves over.

use crate::{ParseError, Status};

/// The state of one side of a merge.
#[derive(Debug, Clone)]
pub struct MergeSide<'a> {
    pub id: &'a str,
    pub status: Status,
    pub merged_into: Option<&'a str>,
    pub credit_code: Option<&'a str>,
    pub external_id: Option<&'a str>,
    /// The rank of the file's secrecy level (higher is more secret).
    pub secrecy_rank: i32,
}

/// Which identifiers of the absorbed file the survivor takes over: those
/// it lacks. A credit code or ERP id is unique among all files, absorbed
/// ones included, so left behind it could never be set on the survivor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TakenOver {
    pub credit_code: bool,
    pub external_id: bool,
}

/// What the survivor takes over from the absorbed file.
pub fn taken_over(survivor: &MergeSide<'_>, absorbed: &MergeSide<'_>) -> TakenOver {
    TakenOver {
        credit_code: survivor.credit_code.is_none() && absorbed.credit_code.is_some(),
        external_id: survivor.external_id.is_none() && absorbed.external_id.is_some(),
    }
}

/// Whether `absorbed` may be merged into `survivor`.
pub fn check(survivor: &MergeSide<'_>, absorbed: &MergeSide<'_>) -> Result<(), ParseError> {
    if survivor.id == absorbed.id {
        return Err(ParseError::new(
            "merge_into_itself",
            "a file cannot be merged into itself",
        ));
    }
    if survivor.merged_into.is_some() {
        return Err(ParseError::new(
            "survivor_merged",
            "the surviving file was itself merged away; merge into the file it points at",
        ));
    }
    if absorbed.merged_into.is_some() {
        return Err(ParseError::new(
            "already_merged",
            "that file was already merged",
        ));
    }
    if let (Some(kept), Some(gone)) = (survivor.credit_code, absorbed.credit_code) {
        if kept != gone {
            return Err(ParseError::new(
                "different_credit_codes",
                "the files carry different credit codes, so they are different legal entities; \
                 correct the wrong code before merging",
            ));
        }
    }
    // What the absorbed file holds moves to the survivor: it must not
    // become readable to people not cleared for it (CUS-07).
    if absorbed.secrecy_rank > survivor.secrecy_rank {
        return Err(ParseError::new(
            "secrecy_mismatch",
            "the file to absorb is more secret than the surviving file; raise the survivor's secrecy level first",
        ));
    }
    if survivor.status == Status::Archived {
        return Err(ParseError::new(
            "survivor_archived",
            "reactivate the surviving file before merging into it",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_cus_01_merge_rules() {
        let a = MergeSide {
            id: "a",
            status: Status::Active,
            merged_into: None,
            credit_code: None,
            external_id: None,
            secrecy_rank: 1,
        };
        let b = MergeSide {
            id: "b",
            status: Status::Prospect,
            merged_into: None,
            credit_code: None,
            external_id: None,
            secrecy_rank: 1,
        };
        assert!(check(&a, &b).is_ok());
        assert_eq!(
            check(&a, &a).err().map(|e| e.code),
            Some("merge_into_itself")
        );
        let gone = MergeSide {
            id: "c",
            status: Status::Archived,
            merged_into: Some("a"),
            credit_code: None,
            external_id: None,
            secrecy_rank: 1,
        };
        assert_eq!(
            check(&a, &gone).err().map(|e| e.code),
            Some("already_merged")
        );
        assert_eq!(
            check(&gone, &b).err().map(|e| e.code),
            Some("survivor_merged")
        );
        let archived = MergeSide {
            id: "d",
            status: Status::Archived,
            merged_into: None,
            credit_code: None,
            external_id: None,
            secrecy_rank: 1,
        };
        assert_eq!(
            check(&archived, &b).err().map(|e| e.code),
            Some("survivor_archived")
        );
    }

    #[test]
    fn r_cus_01_a_merge_keeps_one_credit_code_on_the_living_file() {
        let side = |id, credit_code, external_id| MergeSide {
            id,
            status: Status::Active,
            merged_into: None,
            credit_code,
            external_id,
            secrecy_rank: 1,
        };
        let bare = side("a", None, None);
        let coded = side("b", Some("91110105500000131X"), Some("ERP-9"));
        assert_eq!(
            taken_over(&bare, &coded),
            TakenOver {
                credit_code: true,
                external_id: true
            }
        );
        assert_eq!(
            taken_over(&coded, &bare),
            TakenOver {
                credit_code: false,
                external_id: false
            }
        );
        let same = side("c", Some("91110105500000131X"), Some("ERP-7"));
        assert!(check(&coded, &same).is_ok());
        assert!(!taken_over(&coded, &same).external_id);
        let secret = MergeSide {
            secrecy_rank: 2,
            ..side("e", None, None)
        };
        assert_eq!(
            check(&bare, &secret).err().map(|e| e.code),
            Some("secrecy_mismatch"),
            "a secret file's contents do not move to a file read more widely"
        );
        assert!(check(&secret, &bare).is_ok());
        let other = side("d", Some("91110105500000140E"), None);
        assert_eq!(
            check(&coded, &other).err().map(|e| e.code),
            Some("different_credit_codes")
        );
    }
}
