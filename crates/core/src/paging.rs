//! Keyset paging: a page size within bounds and an opaque cursor that names
//! the last row seen by its sort key and id.

use crate::ParseError;

/// Rows a page may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    pub const DEFAULT: u32 = 50;
    pub const MAX: u32 = 200;

    /// Most parts of one file (its contacts, relations, document records)
    /// a page holds, and how many when not asked: a file's parts were
    /// one answer of up to this many before they were paged.
    pub const PARTS: u32 = 500;

    pub fn parse(raw: Option<i64>) -> Result<Self, ParseError> {
        Self::parse_within(raw, Self::DEFAULT, Self::MAX)
    }

    /// A page of a file's parts: 1 to [`Self::PARTS`], all of them by default.
    pub fn parse_parts(raw: Option<i64>) -> Result<Self, ParseError> {
        Self::parse_within(raw, Self::PARTS, Self::PARTS)
    }

    fn parse_within(raw: Option<i64>, default: u32, max: u32) -> Result<Self, ParseError> {
        match raw {
            None => Ok(Self(default)),
            Some(n) if (1..=i64::from(max)).contains(&n) => Ok(Self(n as u32)),
            Some(_) => Err(ParseError::new(
                "out_of_range",
                format!("limit must be between 1 and {max}"),
            )),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// The position after the last row of a page: its sort key and its id.
/// Encoded as unpadded base64url of `key \u{1f} id` so clients treat it as opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: String,
}

const SEP: char = '\u{1f}';

impl Cursor {
    /// The position after a row of a list ordered by a unique key alone (a
    /// region's code, a duplicate group's name): the id is the nil id.
    pub fn after_key(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            id: uuid::Uuid::nil().to_string(),
        }
    }

    pub fn encode(&self) -> String {
        b64::encode(format!("{}{SEP}{}", self.key, self.id).as_bytes())
    }

    pub fn decode(raw: &str) -> Result<Self, ParseError> {
        let bad = || ParseError::new("invalid_cursor", "the cursor is not one this API issued");
        if raw.len() > 1024 {
            return Err(bad());
        }
        let bytes = b64::decode(raw).ok_or_else(bad)?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (key, id) = text.split_once(SEP).ok_or_else(bad)?;
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(bad());
        }
        Ok(Self {
            key: key.to_owned(),
            id: id.to_owned(),
        })
    }
}

/// Minimal unpadded base64url, so the core crate needs no codec dependency.
mod b64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub fn encode(input: &[u8]) -> String {
        let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
        for chunk in input.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    pub fn decode(input: &str) -> Option<Vec<u8>> {
        if input.len() % 4 == 1 {
            return None;
        }
        let mut out = Vec::with_capacity(input.len() * 3 / 4);
        for chunk in input.as_bytes().chunks(4) {
            let mut n = 0u32;
            for (i, c) in chunk.iter().enumerate() {
                let v = ALPHABET.iter().position(|a| a == c)? as u32;
                n |= v << (18 - 6 * i);
            }
            for i in 0..chunk.len() - 1 {
                out.push((n >> (16 - 8 * i)) as u8);
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        for key in [
            "",
            "a",
            "ab",
            "abc",
            "名字 with spaces",
            "2026-11-22T10:00:00Z",
        ] {
            let c = Cursor {
                key: key.into(),
                id: uuid::Uuid::now_v7().to_string(),
            };
            assert_eq!(Cursor::decode(&c.encode()).ok(), Some(c));
            let by_key = Cursor::after_key(key);
            assert_eq!(Cursor::decode(&by_key.encode()).ok(), Some(by_key));
        }
    }

    #[test]
    fn bad_cursors_are_refused() {
        for raw in ["", "x", "!!!!", "YWJj", &"A".repeat(2000)] {
            assert!(Cursor::decode(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageLimit::parse(None).map(PageLimit::get).ok(), Some(50));
        assert!(PageLimit::parse(Some(0)).is_err());
        assert!(PageLimit::parse(Some(201)).is_err());
        assert_eq!(
            PageLimit::parse(Some(200)).map(PageLimit::get).ok(),
            Some(200)
        );
    }
}
