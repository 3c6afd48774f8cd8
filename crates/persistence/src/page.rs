//! A page of rows and where the next one starts.

use clientele_core::Cursor;

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says
    /// that there is more; the cursor points after the last row kept.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> Cursor) -> Self {
        let limit = limit as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more {
            rows.last().map(cursor_of)
        } else {
            None
        };
        Self { items: rows, next }
    }

    /// Like `from_overfetch`, for rows paged by id alone (newest first by a
    /// time-ordered id): the cursor carries only the last id.
    pub fn by_id(rows: Vec<T>, limit: u32, id_of: impl Fn(&T) -> &str) -> Self {
        Self::from_overfetch(rows, limit, |r| Cursor {
            key: String::new(),
            id: id_of(r).to_owned(),
        })
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}
