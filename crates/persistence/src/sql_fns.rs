//! SQL helpers that both backends understand (no `ILIKE` through a MultiConnection).

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// A `LIKE` pattern matching `needle` anywhere, case-folded, with `%`, `_`
/// and `\` escaped (use with `.escape('\\')`).
pub fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Shortest part of a name SQLite's trigram search table can find.
pub const TRIGRAM: usize = 3;

/// An FTS5 query for `needle` as a substring (a phrase, quotes doubled),
/// in one column or, without one, in every indexed column.
pub fn fts_phrase(column: Option<&str>, needle: &str) -> String {
    let phrase = format!("\"{}\"", needle.replace('"', "\"\""));
    match column {
        Some(c) => format!("{{{c}}} : {phrase}"),
        None => phrase,
    }
}

/// Longest part of a name the gram tables find: parts of one or two
/// characters (`华`, `华联`), too short for the trigram indexes.
pub const GRAM: usize = 2;

/// A search table is asked for candidates only when it has at most this
/// many for a part; a commoner part is left to the list's ordered scan,
/// which finds a page of it sooner than the index could list them all.
pub const INDEXED_MATCHES_AT_MOST: i64 = 1_000;

diesel::define_sql_function! {
    /// [`search_grams`] for SQLite's triggers (registered on every
    /// connection by [`register_sqlite`]).
    #[sql_name = "clientele_search_grams"]
    fn search_grams_of(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// One character as a word of SQLite's gram table: its code point in hex.
fn gram_char(out: &mut String, c: char) {
    use std::fmt::Write;
    let _ = write!(out, "{:x}", u32::from(c));
}

/// The word SQLite's gram table holds for a part of one or two characters
/// (code points in hex, a pair joined by `x`: `华联` → `534ex8054`), so that
/// any character, punctuation included, is one plain word to FTS5.
pub fn search_gram(part: &str) -> String {
    let mut out = String::with_capacity(10);
    for (i, c) in part.chars().enumerate() {
        if i > 0 {
            out.push('x');
        }
        gram_char(&mut out, c);
    }
    out
}

/// Every part of one or two characters of `text`, each once, as the words
/// of [`search_gram`] separated by spaces.
pub fn search_grams(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut grams: Vec<String> = chars
        .iter()
        .map(|c| c.to_string())
        .chain(chars.windows(2).map(|w| w.iter().collect()))
        .collect();
    grams.sort_unstable();
    grams.dedup();
    grams
        .iter()
        .map(|g| search_gram(g))
        .collect::<Vec<_>>()
        .join(" ")
}

diesel::define_sql_function! {
    /// 1 while [`DeferredSearch`] holds on this thread: SQLite's search
    /// triggers then leave a new file's search rows to the import.
    #[sql_name = "clientele_search_deferred"]
    fn search_deferred() -> diesel::sql_types::Integer;
}

thread_local! {
    static SEARCH_DEFERRED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// While held, new files written on this thread get no search rows from
/// SQLite's insert trigger; whoever holds it writes them
/// ([`NewFiles::write`](crate::new_files::NewFiles::write)) in the same
/// transaction. A flag of the thread, not of the connection: SQLite calls
/// the function on the thread running the statement, and a write runs on
/// one thread with one connection from start to end.
pub struct DeferredSearch(());

impl DeferredSearch {
    pub fn hold() -> Self {
        SEARCH_DEFERRED.with(|d| d.set(true));
        DeferredSearch(())
    }

    /// Whether one is held on this thread: new files written now need
    /// their search rows written by hand.
    pub fn held() -> bool {
        SEARCH_DEFERRED.with(std::cell::Cell::get)
    }
}

impl Drop for DeferredSearch {
    fn drop(&mut self) {
        SEARCH_DEFERRED.with(|d| d.set(false));
    }
}

/// Makes [`search_grams`] and the deferral flag callable on a SQLite
/// connection, as the search tables' triggers need.
pub fn register_sqlite(conn: &mut diesel::SqliteConnection) -> diesel::QueryResult<()> {
    search_grams_of_utils::register_impl(conn, |text: String| search_grams(&text))?;
    search_deferred_utils::register_nondeterministic_impl(
        conn,
        || i32::from(DeferredSearch::held()),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(super::contains_pattern("A_b%"), "%a\\_b\\%%");
    }

    #[test]
    fn grams_are_every_part_of_one_or_two_characters_once() {
        assert_eq!(super::search_gram("华联"), "534ex8054");
        assert_eq!(super::search_gram("a"), "61");
        assert_eq!(
            super::search_grams("华联华"),
            ["534e", "534ex8054", "8054", "8054x534e"].join(" ")
        );
        assert_eq!(super::search_grams("a(b"), "28 28x62 61 61x28 62");
        assert_eq!(super::search_grams(""), "");
    }

    #[test]
    fn fts_phrases_quote_their_text() {
        assert_eq!(super::fts_phrase(None, "华联"), "\"华联\"");
        assert_eq!(
            super::fts_phrase(Some("name_folded"), "a\"b"),
            "{name_folded} : \"a\"\"b\""
        );
    }
}
