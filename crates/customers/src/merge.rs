//! Merging duplicates (CUS-01, CUS-05): the absorbed file is kept,
//! archived and pointing at the survivor; everything it held moves over.

use crate::{ParseError, Status};

/// The state of one side of a merge.
#[derive(Debug, Clone)]
pub struct MergeSide<'a> {
    pub id: &'a str,
    pub status: Status,
    pub merged_into: Option<&'a str>,
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
        };
        let b = MergeSide {
            id: "b",
            status: Status::Prospect,
            merged_into: None,
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
        };
        assert_eq!(
            check(&archived, &b).err().map(|e| e.code),
            Some("survivor_archived")
        );
    }
}
