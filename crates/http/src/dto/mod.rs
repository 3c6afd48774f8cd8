//! Request and response bodies, one module per area. Every type is a
//! `ToSchema`; limits from `#[validate]` are repeated in `#[schema]` because
//! utoipa does not read them.

pub mod approval;
pub mod audit;
pub mod auth;
pub mod customers;
pub mod export_requests;
pub mod org;
pub mod regions;
pub mod webhooks;

use chrono::{DateTime, NaiveDateTime, Utc};

/// Stored naive UTC → RFC 3339 UTC.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

/// A value the history or the audit log keeps as JSON text, as the API
/// shows it: moments in it (a record's `created_at`, `updated_at`, any
/// `…_at`; or the value itself where `field` is one) were written
/// without their zone, and are UTC, so they are shown as RFC 3339 UTC
/// (`…Z`) like every other time of the API. Other text is left alone.
pub fn stored_json(text: Option<String>, field: Option<&str>) -> Option<serde_json::Value> {
    let mut value: serde_json::Value = serde_json::from_str(&text?).ok()?;
    if field.is_some_and(is_moment_name) {
        mark_utc(&mut value);
    }
    mark_utc_within(&mut value);
    Some(value)
}

fn is_moment_name(name: &str) -> bool {
    name.ends_with("_at")
}

/// Marks the moments under `…_at` keys, at any depth.
fn mark_utc_within(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(fields) => {
            for (name, v) in fields.iter_mut() {
                if is_moment_name(name) {
                    mark_utc(v);
                } else {
                    mark_utc_within(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mark_utc_within),
        _ => {}
    }
}

/// A moment written without its zone, as UTC; anything else as it is.
fn mark_utc(value: &mut serde_json::Value) {
    let Some(text) = value.as_str() else {
        return;
    };
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        *value =
            serde_json::Value::String(utc(t).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
    }
}

/// A moment in a query string (RFC 3339 with its offset). A `+` before the
/// offset written as it is in a URL arrives as a space (form encoding
/// reads `+` so): `…T20:00:00 08:00` is read as `…T20:00:00+08:00`, the
/// only thing it can mean, rather than refused.
pub fn query_time<'de, D>(d: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let Some(text) = <Option<String> as serde::Deserialize>::deserialize(d)? else {
        return Ok(None);
    };
    let read = |t: &str| DateTime::parse_from_rfc3339(t).map(|t| t.with_timezone(&Utc));
    read(&text)
        .or_else(|e| {
            let offset = text.len().checked_sub(6).and_then(|at| text.get(at..));
            match offset {
                Some(o)
                    if o.starts_with(' ')
                        && o[1..].bytes().filter(u8::is_ascii_digit).count() == 4 =>
                {
                    read(&format!("{}+{}", &text[..text.len() - 6], &o[1..])).map_err(|_| e)
                }
                _ => Err(e),
            }
        })
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// For clearable fields: absent → `None`, `null` → `Some(None)`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// For fields a change may leave out but not clear (a name, a status):
/// absent → `None`; `null` is refused, naming the field, rather than
/// taken for absent (a client that sends it means to clear the field, and
/// would otherwise be told it succeeded).
pub fn present<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    match <Option<T> as serde::Deserialize>::deserialize(d)? {
        Some(v) => Ok(Some(v)),
        None => Err(serde::de::Error::custom(NOT_CLEARABLE)),
    }
}

/// How [`present`] refuses a `null`; `crate::extract` knows it by these words.
pub const NOT_CLEARABLE: &str =
    "null does not clear this field: leave the field out to keep its value";

/// An optional whole number that JSON may write as `445` or `445.0`
/// (JSON Schema counts both as integers).
pub fn whole_number<'de, D>(d: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    let n = <Option<serde_json::Number> as serde::Deserialize>::deserialize(d)?;
    match n {
        None => Ok(None),
        Some(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(Some(i));
            }
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
                _ => Err(D::Error::custom(format!(
                    "invalid type: {n} is not a whole number in range"
                ))),
            }
        }
    }
}

/// Declares a page type: `items` and the cursor of the next page.
macro_rules! page_of {
    ($name:ident, $item:ty) => {
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` for the next page; `null` on the last page.
            pub next_cursor: Option<String>,
        }

        impl $name {
            pub fn from_page<R>(
                page: clientele_persistence::Page<R>,
                f: impl FnMut(R) -> $item,
            ) -> Self {
                let next_cursor = page.next.as_ref().map(clientele_core::Cursor::encode);
                Self {
                    items: page.items.into_iter().map(f).collect(),
                    next_cursor,
                }
            }
        }
    };
}
pub(crate) use page_of;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn moments_kept_without_a_zone_are_shown_as_utc() {
        let snapshot = r#"{"created_at":"2026-12-07T12:00:19.948629","name":"2026-12-07T12:00:19",
            "contacts":[{"updated_at":"2026-12-07T12:00:00"}],"trading_since":"2018-09-03",
            "decided_at":null}"#;
        assert_eq!(
            stored_json(Some(snapshot.to_owned()), Some("*")),
            Some(json!({
                "created_at": "2026-12-07T12:00:19.948629Z",
                // Text that looks like a moment is not one.
                "name": "2026-12-07T12:00:19",
                "contacts": [{"updated_at": "2026-12-07T12:00:00Z"}],
                "trading_since": "2018-09-03",
                "decided_at": null,
            }))
        );
        // The value of a moment's own field; already marked ones stay.
        let at = Some(r#""2026-01-01T08:00:00""#.to_owned());
        assert_eq!(
            stored_json(at.clone(), Some("expires_at")),
            Some(json!("2026-01-01T08:00:00Z"))
        );
        assert_eq!(
            stored_json(at, Some("note")),
            Some(json!("2026-01-01T08:00:00"))
        );
        let marked = Some(r#"{"updated_at":"2026-01-01T08:00:00Z"}"#.to_owned());
        assert_eq!(
            stored_json(marked, None),
            Some(json!({"updated_at": "2026-01-01T08:00:00Z"}))
        );
        assert_eq!(stored_json(None, None), None);
    }
}

#[cfg(test)]
mod query_time_tests {
    #[derive(Debug, serde::Deserialize)]
    struct Q {
        #[serde(default, deserialize_with = "super::query_time")]
        since: Option<chrono::DateTime<chrono::Utc>>,
    }

    #[test]
    fn a_plus_before_the_offset_sent_unencoded_is_read() {
        let read = |q: &str| {
            crate::extract::parse_query::<Q>(q)
                .ok()
                .and_then(|q| q.since)
        };
        let noon = chrono::DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z").ok();
        let noon = noon.map(|t| t.with_timezone(&chrono::Utc));
        assert_eq!(read("since=2026-12-07T20:00:00+08:00"), noon);
        assert_eq!(read("since=2026-12-07T20:00:00%2B08:00"), noon);
        assert_eq!(read("since=2026-12-07T12:00:00Z"), noon);
        assert_eq!(read("since=2026-12-07T04:00:00-08:00"), noon);
        assert_eq!(read(""), None);
        assert!(crate::extract::parse_query::<Q>("since=2026-12-07 08:00").is_err());
        assert!(crate::extract::parse_query::<Q>("since=2026-12-07T20:00:00+0800").is_err());
    }
}
