//! CSV (RFC 4180) for ERP exchange: a reader that reports where a row went
//! wrong, and a writer that quotes as needed and neutralises cells a
//! spreadsheet would run as formulas (OWASP CSV injection).

/// The text of an uploaded CSV. UTF-8 unless `charset` names the Chinese
/// national encoding (GB 18030, or its subsets GBK and GB 2312): what
/// Excel and Chinese ERPs save on Chinese Windows. Refusals are a problem
/// code and a message.
pub fn decode<'a>(
    bytes: &'a [u8],
    charset: Option<&str>,
) -> Result<std::borrow::Cow<'a, str>, (&'static str, String)> {
    let charset = charset.map(str::to_ascii_lowercase);
    match charset.as_deref() {
        None | Some("utf-8" | "utf8") => std::str::from_utf8(bytes)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|e| {
                (
                    "invalid_encoding",
                    format!(
                        "the CSV is not UTF-8 (byte {}); a file saved by Excel on Chinese \
                         Windows is GBK: send it as `text/csv; charset=gb18030`",
                        e.valid_up_to() + 1
                    ),
                )
            }),
        Some("gb18030" | "gbk" | "gb2312" | "cp936" | "x-gbk") => encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .ok_or_else(|| {
                (
                    "invalid_encoding",
                    "the CSV is not valid GB 18030 / GBK".to_owned(),
                )
            }),
        Some(other) => Err((
            "unsupported_charset",
            format!("charset {other:?} is not read: send UTF-8 or GB 18030 (GBK)"),
        )),
    }
}

/// Splits CSV text into records of fields. Quoted fields may hold commas,
/// doubled quotes and line breaks. Errors name the 1-based line.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1usize;
    let mut chars = text.chars().peekable();
    let mut field_started_quoted = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !field_started_quoted => {
                in_quotes = true;
                field_started_quoted = true;
            }
            '"' => return Err((line, "a quote inside an unquoted field".into())),
            ',' => {
                record.push(std::mem::take(&mut field));
                field_started_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                field_started_quoted = false;
                if !(record.len() == 1 && record[0].is_empty()) {
                    records.push(std::mem::take(&mut record));
                } else {
                    record.clear();
                }
                line += 1;
            }
            _ if field_started_quoted => return Err((line, "text after a closing quote".into())),
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err((line, "a quoted field is not closed".into()));
    }
    if !field.is_empty() || !record.is_empty() || field_started_quoted {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// A cell as [`cell`] wrote it: a value it neutralised (`'=…`) without
/// the quote it put before it, so an export read back is what was
/// exported; any other text as it is.
pub fn plain(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(NEUTRALISED) => rest,
        _ => cell,
    }
}

/// What a cell may not start with: spreadsheets evaluate such a cell.
const NEUTRALISED: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One CSV cell.
pub fn cell(value: &str) -> String {
    // A leading =, +, -, @, tab or CR makes spreadsheets evaluate the cell.
    let safe = if value.starts_with(NEUTRALISED) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

/// One CSV line, CRLF-terminated.
pub fn line<I: IntoIterator<Item = S>, S: AsRef<str>>(cells: I) -> String {
    let mut out = cells
        .into_iter()
        .map(|c| cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_in_utf8_or_the_national_encoding_is_read() {
        let text = "name\n北京导入有限公司\n";
        let gbk = encoding_rs::GBK.encode(text).0;
        assert_eq!(decode(text.as_bytes(), None).as_deref(), Ok(text));
        assert_eq!(decode(text.as_bytes(), Some("UTF-8")).as_deref(), Ok(text));
        for name in ["gb18030", "GBK", "gb2312"] {
            assert_eq!(decode(&gbk, Some(name)).as_deref(), Ok(text), "{name}");
        }
        // GBK sent as UTF-8 is refused, naming the way to send it.
        let refused = decode(&gbk, None).err();
        assert_eq!(refused.as_ref().map(|e| e.0), Some("invalid_encoding"));
        assert!(refused.is_some_and(|e| e.1.contains("charset=gb18030")));
        assert_eq!(
            decode(&[0x81, 0x20], Some("gbk")).err().map(|e| e.0),
            Some("invalid_encoding")
        );
        assert_eq!(
            decode(text.as_bytes(), Some("latin1")).err().map(|e| e.0),
            Some("unsupported_charset")
        );
    }

    #[test]
    fn a_neutralised_cell_reads_back_as_written() {
        for value in ["=SUM(A1)", "+86 138", "-5", "@x", "'quoted", "plain", ""] {
            let written = cell(value);
            let read = parse(&written).unwrap_or_default();
            let back = read
                .first()
                .and_then(|r| r.first())
                .map_or("", String::as_str);
            assert_eq!(plain(back), value, "{written}");
        }
        assert_eq!(plain("'x"), "'x");
    }

    #[test]
    fn parses_quotes_commas_and_line_breaks() {
        let text = "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\n1,,3";
        let r = parse(text).unwrap_or_default();
        assert_eq!(r.len(), 3);
        assert_eq!(r[1], vec!["x, y", "say \"hi\"", "two\nlines"]);
        assert_eq!(r[2], vec!["1", "", "3"]);
        assert_eq!(parse("a,\"b").err().map(|e| e.0), Some(1));
        assert!(parse("a,b\"c").is_err());
        assert_eq!(
            parse("\u{feff}h\n").unwrap_or_default(),
            vec![vec!["h".to_owned()]]
        );
    }

    #[test]
    fn writes_safely() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(line(["a", "b"]), "a,b\r\n");
        let round = parse(&line(["x, y", "z\"q"])).unwrap_or_default();
        assert_eq!(round[0], vec!["x, y", "z\"q"]);
    }
}
