//! Login names, client ids and passwords, each parsed once at the edge.

use crate::ParseError;

/// A login name: 3 to 64 characters of `a-z 0-9 . _ -`, stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim().to_lowercase();
        let len = s.chars().count();
        if !(3..=64).contains(&len) {
            return Err(ParseError::new(
                "invalid_length",
                "a username has 3 to 64 characters",
            ));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(ParseError::new(
                "invalid_format",
                "a username may hold only letters a-z, digits, '.', '_' and '-'",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A service account's client id: same alphabet as a username.
pub type ClientId = Username;

/// A new password chosen by a person or generated for a service account.
/// Length is what protects it (NIST SP 800-63B): at least 10 characters,
/// at most 256, not a single repeated character.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(ParseError::new(
                "too_short",
                format!("a password has at least {} characters", Self::MIN_CHARS),
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(ParseError::new(
                "too_long",
                format!("a password has at most {} characters", Self::MAX_CHARS),
            ));
        }
        let mut chars = raw.chars();
        if let Some(first) = chars.next() {
            if chars.all(|c| c == first) {
                return Err(ParseError::new(
                    "too_weak",
                    "a password cannot be one character repeated",
                ));
            }
        }
        Ok(Self(raw.to_owned()))
    }

    /// [`Password::parse`] for the account `username`, which the password
    /// may not contain (NIST SP 800-63B: context-specific words; it is the
    /// first thing guessed).
    pub fn for_account(raw: &str, username: &Username) -> Result<Self, ParseError> {
        let password = Self::parse(raw)?;
        if raw.to_lowercase().contains(username.as_str()) {
            return Err(ParseError::new(
                "too_weak",
                "a password cannot contain the username",
            ));
        }
        Ok(password)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(
            Username::parse(" Demo.Admin ").map(|u| u.0).ok(),
            Some("demo.admin".into())
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("张三").is_err());
        assert!(Username::parse("a b c").is_err());
    }

    #[test]
    fn a_password_does_not_hold_its_username() {
        let user = Username::parse("zhang.san").unwrap_or_else(|e| panic!("{e}"));
        for weak in ["zhang.san-2026", "ZHANG.SAN.pass", "my-zhang.san"] {
            let e = Password::for_account(weak, &user).err();
            assert_eq!(e.map(|e| e.code), Some("too_weak"), "{weak}");
        }
        assert!(Password::for_account("zhang-san-2026!", &user).is_ok());
        assert_eq!(
            Password::for_account("short", &user).err().map(|e| e.code),
            Some("too_short")
        );
    }

    #[test]
    fn passwords_need_length() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("aaaaaaaaaaaa").is_err());
        assert!(Password::parse("clientele-demo").is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("clientele-demo").ok()),
            "Some(Password(***))"
        );
    }
}
