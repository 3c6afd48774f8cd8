//! Smaller value types of a file: administrative region codes and tags.

use crate::ParseError;

/// An administrative division code (GB/T 2260): six digits, the first two a
/// province-level code from 11 (Beijing) to 82 (Macao).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(
                "invalid_format",
                "a region code is six digits (GB/T 2260)",
            ));
        }
        let province: u32 = s[..2].parse().unwrap_or(0);
        if !(11..=82).contains(&province) {
            return Err(ParseError::new(
                "invalid_format",
                "a region code starts with a province code from 11 to 82",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Filters use prefixes: "11" (Beijing), "1101" (its districts) …
    pub fn parse_prefix(raw: &str) -> Result<String, ParseError> {
        let s = raw.trim();
        if (1..=6).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(s.to_owned())
        } else {
            Err(ParseError::new(
                "invalid_format",
                "a region prefix is 1 to 6 digits",
            ))
        }
    }
}

/// A label: 1 to 32 characters, no commas, stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim().to_lowercase();
        let n = s.chars().count();
        if n == 0 || n > 32 {
            return Err(ParseError::new(
                "invalid_length",
                "a tag has 1 to 32 characters",
            ));
        }
        if s.chars().any(|c| c == ',' || c.is_control()) {
            return Err(ParseError::new(
                "invalid_format",
                "a tag cannot hold commas or control characters",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At most 20 distinct tags, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<Tag>);

impl Tags {
    pub const MAX: usize = 20;

    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, ParseError> {
        let mut tags = raw
            .iter()
            .map(|t| Tag::parse(t.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        tags.sort();
        tags.dedup();
        if tags.len() > Self::MAX {
            return Err(ParseError::new(
                "too_long",
                format!("a file has at most {} tags", Self::MAX),
            ));
        }
        Ok(Self(tags))
    }

    pub fn as_strs(&self) -> Vec<String> {
        self.0.iter().map(|t| t.0.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes() {
        assert!(RegionCode::parse("110105").is_ok());
        assert!(RegionCode::parse("990000").is_err());
        assert!(RegionCode::parse("11010").is_err());
        assert!(RegionCode::parse_prefix("44").is_ok());
        assert!(RegionCode::parse_prefix("44a").is_err());
    }

    #[test]
    fn tags_are_normalised_and_bounded() {
        let t = Tags::parse(&["VIP", "vip", " 重点 "])
            .map(|t| t.as_strs())
            .ok();
        assert_eq!(t, Some(vec!["vip".to_owned(), "重点".to_owned()]));
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&many).is_err());
        assert!(Tags::parse(&["a,b"]).is_err());
    }
}
