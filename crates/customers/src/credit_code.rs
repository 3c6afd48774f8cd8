//! The unified social credit code (统一社会信用代码, GB 32100-2015): 18
//! characters; position 18 is a check character over the first 17, and
//! positions 9–17 are an organisation code (GB 11714) whose last character is
//! its own check digit. Both are verified.

use crate::ParseError;
use std::fmt;

/// The 31 characters a credit code may use (no I, O, S, V, Z).
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

/// The check character for the first 17 characters.
pub fn check_char(first17: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    let v = (31 - sum % 31) % 31;
    Some(ALPHABET[v as usize])
}

/// The organisation-code check digit for its 8 body characters.
fn org_check(body: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (c, w) in body.iter().zip(ORG_WEIGHTS) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    })
}

impl CreditCode {
    /// Accepts upper or lower case, full-width forms (as a Chinese input
    /// method types them) and surrounding spaces; stores ASCII upper case.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = crate::name::fold_width(raw).trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 {
            return Err(ParseError::new(
                "invalid_length",
                "a unified social credit code has 18 characters",
            ));
        }
        if let Some(bad) = b.iter().find(|c| value(**c).is_none()) {
            return Err(ParseError::new(
                "invalid_format",
                format!("{:?} cannot appear in a credit code", char::from(*bad)),
            ));
        }
        if !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(ParseError::new(
                "invalid_format",
                "characters 3 to 8 of a credit code are the region's digits",
            ));
        }
        if org_check(&b[8..16]) != Some(b[16]) {
            return Err(ParseError::new(
                "invalid_check_digit",
                "the organisation code inside the credit code (characters 9 to 17) fails its check digit",
            ));
        }
        if check_char(&b[..17]) != Some(b[17]) {
            return Err(ParseError::new(
                "invalid_check_digit",
                "the last character of the credit code is not its check character",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds a valid code from 16 characters (registration authority, type,
    /// region, organisation body); for demo data and tests.
    pub fn complete(first16: &str) -> Result<Self, ParseError> {
        let b = first16.as_bytes();
        if b.len() != 16 {
            return Err(ParseError::new(
                "invalid_length",
                "give the first 16 characters",
            ));
        }
        let org = org_check(&b[8..16])
            .ok_or_else(|| ParseError::new("invalid_format", "bad organisation body"))?;
        let mut v = b.to_vec();
        v.push(org);
        let check =
            check_char(&v).ok_or_else(|| ParseError::new("invalid_format", "bad characters"))?;
        v.push(check);
        Self::parse(&String::from_utf8_lossy(&v))
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_cus_01_real_codes_pass_both_check_digits() {
        for code in [
            "91350100M000100Y43",
            "91440300708461136T",
            " 91440300708461136t ",
        ] {
            assert!(CreditCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn r_cus_01_bad_codes_are_refused_with_a_reason() {
        let code = |s: &str| CreditCode::parse(s).err().map(|e| e.code);
        assert_eq!(code("9144030070846113"), Some("invalid_length"));
        assert_eq!(code("91440300708461136I"), Some("invalid_format"));
        assert_eq!(code("9144A300708461136T"), Some("invalid_format"));
        // Last character changed.
        assert_eq!(code("91440300708461136U"), Some("invalid_check_digit"));
        // Organisation check digit changed (and the final one recomputed would not save it).
        assert_eq!(code("91440300708461137T"), Some("invalid_check_digit"));
    }

    #[test]
    fn r_cus_01_a_code_typed_in_full_width_is_the_same_code() {
        let ascii = CreditCode::parse("91350100M000100Y43").map(|c| c.to_string());
        // As a Chinese input method types it, with an ideographic space.
        let full = CreditCode::parse("\u{3000}９１３５０１００ｍ０００１００ｙ４３");
        assert_eq!(full.map(|c| c.to_string()).ok(), ascii.ok());
    }

    #[test]
    fn complete_makes_valid_codes() {
        let c = CreditCode::complete("9111010856789012").map(|c| c.to_string());
        assert!(c.as_ref().is_ok_and(|c| c.len() == 18));
        assert!(CreditCode::parse(&c.unwrap_or_default()).is_ok());
    }
}
