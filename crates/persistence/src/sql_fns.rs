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

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(super::contains_pattern("A_b%"), "%a\\_b\\%%");
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
