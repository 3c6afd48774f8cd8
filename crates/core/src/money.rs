//! Money, counted exactly in the minor unit (fen for CNY).

use crate::ParseError;
use std::fmt;

/// ISO 4217 currency code, three upper-case letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const CNY: Currency = Currency(*b"CNY");

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let b = s.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Currency([b[0], b[1], b[2]]))
        } else {
            Err(ParseError::new(
                "invalid_currency",
                "a currency is three upper-case letters (ISO 4217), e.g. CNY",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in minor units (fen) of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn cny_fen(fen: i64) -> Self {
        Self {
            minor: fen,
            currency: Currency::CNY,
        }
    }

    /// Amounts that are recorded (limits, remedies) are never negative.
    pub fn non_negative(minor: i64, currency: Currency) -> Result<Self, ParseError> {
        if minor < 0 {
            return Err(ParseError::new(
                "negative_amount",
                "an amount cannot be negative",
            ));
        }
        Ok(Self { minor, currency })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_prints_exactly() {
        assert_eq!(Money::cny_fen(400_001).to_string(), "4000.01 CNY");
        assert_eq!(Money::cny_fen(-5).to_string(), "-0.05 CNY");
    }

    #[test]
    fn currency_is_three_capitals() {
        assert!(Currency::parse("CNY").is_ok());
        assert!(Currency::parse("cny").is_err());
        assert!(Currency::parse("CNYY").is_err());
    }

    #[test]
    fn limits_are_not_negative() {
        assert!(Money::non_negative(-1, Currency::CNY).is_err());
    }
}
