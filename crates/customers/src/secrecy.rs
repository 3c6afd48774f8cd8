//! Secrecy levels (CUS-07) as configuration: ordered codes (`C` < `B` <
//! `A` by default; the lowest is the default for new files and users).
//! Administrators add levels, rename them and renumber them to make room,
//! but a renumbering never changes their order: the order decides who
//! reads which file, and changing it would open or close files to people
//! without anyone deciding about those files.

use crate::ParseError;

/// A level's code: 1–16 upper-case ASCII letters, digits or `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelCode(String);

impl LevelCode {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let ok = (1..=16).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ParseError::new(
                "invalid_format",
                "a level code has 1 to 16 upper-case letters, digits or _",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A level's name (普通, 秘密 …): 1–50 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelName(String);

impl LevelName {
    pub const MAX: usize = 50;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > Self::MAX || name.chars().any(char::is_control)
        {
            return Err(ParseError::new(
                "invalid_length",
                "a level name has 1 to 50 characters and no control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The lowest and highest rank a level may have.
pub const RANKS: std::ops::RangeInclusive<i32> = 1..=1_000_000;

fn check_range(rank: i32) -> Result<(), ParseError> {
    if RANKS.contains(&rank) {
        Ok(())
    } else {
        Err(ParseError::new(
            "out_of_range",
            "a rank is between 1 and 1000000",
        ))
    }
}

/// A new level at `rank` among `levels` (code, rank): its rank is free.
pub fn check_new(levels: &[(&str, i32)], rank: i32) -> Result<(), ParseError> {
    check_range(rank)?;
    if levels.iter().any(|(_, r)| *r == rank) {
        return Err(ParseError::new("rank_taken", "another level has that rank"));
    }
    Ok(())
}

/// Level `code` renumbered to `rank`: free, and between the same
/// neighbours as before, so the order of all levels stays.
pub fn check_renumbering(levels: &[(&str, i32)], code: &str, rank: i32) -> Result<(), ParseError> {
    check_range(rank)?;
    let Some(&(_, old)) = levels.iter().find(|(c, _)| *c == code) else {
        return Ok(());
    };
    for &(other, r) in levels {
        if other == code {
            continue;
        }
        if r == rank {
            return Err(ParseError::new("rank_taken", "another level has that rank"));
        }
        if (r < old) != (r < rank) {
            return Err(ParseError::new(
                "order_changed",
                "a new rank keeps the level between the same neighbours; the order of levels decides who reads which file",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVELS: [(&str, i32); 3] = [("C", 1), ("B", 2), ("A", 3)];

    #[test]
    fn r_cus_07_level_codes_and_names() {
        assert!(LevelCode::parse("TOP_SECRET").is_ok());
        assert!(LevelCode::parse("A1").is_ok());
        for bad in ["", "a", "秘密", "A B", "ABCDEFGHIJKLMNOPQ"] {
            assert!(LevelCode::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            LevelName::parse(" 绝密 ").map(|n| n.0),
            Ok("绝密".to_owned())
        );
        assert!(LevelName::parse("  ").is_err());
        assert!(LevelName::parse(&"密".repeat(51)).is_err());
    }

    #[test]
    fn r_cus_07_levels_are_added_and_renumbered_in_order() {
        assert!(check_new(&LEVELS, 4).is_ok());
        assert!(check_new(&LEVELS, 0).is_err());
        assert_eq!(
            check_new(&LEVELS, 2).err().map(|e| e.code),
            Some("rank_taken")
        );
        // Making room above B: A moves up, keeping its place.
        assert!(check_renumbering(&LEVELS, "A", 30).is_ok());
        assert!(check_renumbering(&LEVELS, "C", 1).is_ok());
        // B above A, or C above B: the order would change.
        assert_eq!(
            check_renumbering(&LEVELS, "B", 4).err().map(|e| e.code),
            Some("order_changed")
        );
        assert_eq!(
            check_renumbering(&LEVELS, "C", 2).err().map(|e| e.code),
            Some("rank_taken")
        );
        let spaced = [("C", 10), ("B", 20), ("A", 30)];
        assert!(check_renumbering(&spaced, "B", 15).is_ok());
        assert_eq!(
            check_renumbering(&spaced, "C", 25).err().map(|e| e.code),
            Some("order_changed")
        );
    }
}
