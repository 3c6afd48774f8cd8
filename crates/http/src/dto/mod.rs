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
