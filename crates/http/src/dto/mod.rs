//! Request and response bodies, one module per area. Every type is a
//! `ToSchema`; limits from `#[validate]` are repeated in `#[schema]` because
//! utoipa does not read them.

pub mod approval;
pub mod audit;
pub mod auth;
pub mod org;

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
