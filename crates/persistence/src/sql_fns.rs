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

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(super::contains_pattern("A_b%"), "%a\\_b\\%%");
    }
}
