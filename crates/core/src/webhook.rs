//! Webhooks: which events a subscription receives (topic patterns), where
//! it may point (an http(s) address), and when a failed delivery is tried
//! again. The delivery itself lives with the HTTP crate.

use crate::ParseError;
use std::time::Duration;

/// A topic is `<entity>.<action>`, e.g. `customer.created`. A subscription
/// names topics exactly, all actions of an entity (`customer.*`) or all
/// (`*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicPattern(String);

fn is_word(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl TopicPattern {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let bad = || {
            ParseError::new(
                "invalid_format",
                format!("{raw:?} is not a topic: `*`, `entity.*` or `entity.action` (lower case)"),
            )
        };
        if raw.len() > Self::MAX_LEN {
            return Err(ParseError::new(
                "too_long",
                format!("a topic has at most {} characters", Self::MAX_LEN),
            ));
        }
        if raw == "*" {
            return Ok(Self(raw.to_owned()));
        }
        let (entity, action) = raw.split_once('.').ok_or_else(bad)?;
        if !is_word(entity) || !(action == "*" || is_word(action)) {
            return Err(bad());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, topic: &str) -> bool {
        match self.0.strip_suffix(".*") {
            _ if self.0 == "*" => true,
            Some(entity) => topic
                .strip_prefix(entity)
                .is_some_and(|rest| rest.starts_with('.')),
            None => self.0 == topic,
        }
    }
}

/// Whether any of `patterns` takes `topic`.
pub fn subscribed(patterns: &[TopicPattern], topic: &str) -> bool {
    patterns.iter().any(|p| p.matches(topic))
}

/// Where deliveries go: an absolute `http` or `https` address with a host,
/// without credentials (they would be stored and shown) or a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub const MAX_LEN: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let raw = raw.trim();
        if raw.len() > Self::MAX_LEN {
            return Err(ParseError::new(
                "too_long",
                format!("at most {} characters", Self::MAX_LEN),
            ));
        }
        let rest = raw
            .strip_prefix("https://")
            .or_else(|| raw.strip_prefix("http://"))
            .ok_or_else(|| {
                ParseError::new(
                    "invalid_scheme",
                    "the address starts with https:// or http://",
                )
            })?;
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(ParseError::new(
                "invalid_format",
                "credentials do not belong in the address; deliveries are signed instead",
            ));
        }
        let host = authority
            .strip_prefix('[')
            .and_then(|a| a.split_once(']').map(|(h, _)| h))
            .unwrap_or_else(|| authority.rsplit_once(':').map_or(authority, |(h, _)| h));
        if host.is_empty() {
            return Err(ParseError::new("invalid_format", "the address has no host"));
        }
        if let Some((_, port)) = authority
            .rsplit_once(':')
            .filter(|_| !authority.ends_with(']'))
        {
            if !port.is_empty() && port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(ParseError::new(
                    "invalid_format",
                    "the port is not a number",
                ));
            }
        }
        if raw.contains('#') || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ParseError::new(
                "invalid_format",
                "the address has a fragment, spaces or control characters",
            ));
        }
        // What is left must be an address a client can call: a host name
        // of allowed characters or a well-formed IP address (WHATWG URL).
        let parsed = url::Url::parse(raw)
            .map_err(|e| ParseError::new("invalid_format", format!("not a valid address: {e}")))?;
        if parsed.host().is_none() {
            return Err(ParseError::new("invalid_format", "the address has no host"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Attempts before a delivery is given up as failed.
pub const MAX_ATTEMPTS: i32 = 8;

/// How long to wait after the `attempts`-th failed attempt: 30 s, growing
/// fourfold up to six hours (30 s, 2 min, 8 min, 32 min, ~2 h, 6 h, 6 h);
/// `None` once `MAX_ATTEMPTS` have failed.
pub fn retry_after(attempts: i32) -> Option<Duration> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let exp = u32::try_from(attempts.max(1) - 1).unwrap_or(0);
    let secs = 30u64.saturating_mul(4u64.saturating_pow(exp));
    Some(Duration::from_secs(secs.min(6 * 3600)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_match_exactly_by_entity_or_all() {
        let p = |s: &str| TopicPattern::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(p("*").matches("customer.created"));
        assert!(p("customer.*").matches("customer.updated"));
        assert!(!p("customer.*").matches("customer_tag.updated"));
        assert!(!p("customer.*").matches("customers.updated"));
        assert!(p("customer.created").matches("customer.created"));
        assert!(!p("customer.created").matches("customer.updated"));
        assert!(subscribed(
            &[p("user.*"), p("customer.absorbed")],
            "customer.absorbed"
        ));
        assert!(!subscribed(&[], "customer.absorbed"));
    }

    #[test]
    fn bad_topics_are_refused() {
        for bad in [
            "",
            "customer",
            "Customer.created",
            "customer.",
            ".created",
            "a.b.c",
            "*.created",
            "customer.cre ated",
        ] {
            assert!(TopicPattern::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            TopicPattern::parse(&"a".repeat(70)).map_err(|e| e.code),
            Err("too_long")
        );
    }

    #[test]
    fn addresses_are_absolute_http_without_credentials() {
        for good in [
            "https://erp.example.com/hooks/clientele",
            "http://10.0.0.5:8080/in",
            "http://[::1]:9000/x?y=1",
            "https://erp.example.com",
            "https://erp.example.com/in/[batch]",
            "https://客户.example.cn/hook",
        ] {
            assert!(WebhookUrl::parse(good).is_ok(), "{good}");
        }
        for (bad, code) in [
            ("ftp://x.example.com/", "invalid_scheme"),
            ("erp.example.com/hook", "invalid_scheme"),
            ("https://user:pw@erp.example.com/", "invalid_format"),
            ("https:///path", "invalid_format"),
            ("https://erp.example.com/a#b", "invalid_format"),
            ("https://erp.example.com/a b", "invalid_format"),
            ("http://host:99999/", "invalid_format"),
            ("http://host:0/", "invalid_format"),
            ("http://[abc", "invalid_format"),
            ("http://[::1/x", "invalid_format"),
            ("http://a[b/", "invalid_format"),
            ("http://exa mple.com/", "invalid_format"),
            ("http://a<b>.example.com/", "invalid_format"),
        ] {
            assert_eq!(
                WebhookUrl::parse(bad).map_err(|e| e.code),
                Err(code),
                "{bad}"
            );
        }
    }

    #[test]
    fn retries_back_off_then_stop() {
        let secs = |n| retry_after(n).map(|d| d.as_secs());
        assert_eq!(secs(1), Some(30));
        assert_eq!(secs(2), Some(120));
        assert_eq!(secs(3), Some(480));
        assert_eq!(secs(7), Some(6 * 3600));
        assert_eq!(secs(MAX_ATTEMPTS), None);
    }
}
