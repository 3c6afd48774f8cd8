//! A file's contacts (CUS-02): a contact's name, that a contact can be
//! reached, and which of a file's contacts a row of a contacts import means.

use crate::name::{fold_width, is_invisible};
use clientele_core::ParseError;

/// Most characters of a contact's name, as the API takes it.
pub const MAX_NAME_CHARS: usize = 100;

/// A contact's name as kept: trimmed, invisible characters dropped; it must
/// keep a character to show (a name of spaces would list as nobody).
pub fn contact_name(raw: &str) -> Result<String, ParseError> {
    let kept: String = raw.chars().filter(|c| !is_invisible(*c)).collect();
    let name = kept.trim();
    if name.is_empty() {
        return Err(ParseError::new("required", "a contact needs a name"));
    }
    if name.chars().any(char::is_control) {
        return Err(ParseError::new(
            "invalid_format",
            "a contact's name holds no control characters",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ParseError::new(
            "too_long",
            format!("a contact's name is at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// A contact is kept to be reached: it needs a phone, a mobile or an email
/// address, when added and after every change.
pub fn reachable(phone: Option<&str>, mobile: Option<&str>, email: Option<&str>) -> bool {
    [phone, mobile, email]
        .into_iter()
        .any(|v| v.is_some_and(|v| !v.trim().is_empty()))
}

/// The form two names of contacts are compared in: width folded, lower
/// case, runs of spaces as one (`张 伟` and `张　伟` are one person; `张伟`
/// and `张 伟` are not, since a space may part a given name).
pub fn name_key(name: &str) -> String {
    fold_width(name)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A contact of the file as an import meets it.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    pub name: &'a str,
    pub external_id: Option<&'a str>,
    pub active: bool,
}

/// Which contact a row means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowMatch {
    /// This one (its place in the list given).
    Existing(usize),
    /// None: the row adds a contact.
    New,
    /// Several could be meant; the row must name one by its ERP id.
    Ambiguous,
    /// Only a removed contact has the row's ERP id: it is not brought back
    /// by an import.
    Removed(usize),
}

/// Which of `known` a row of `name` and ERP id `external_id` means.
///
/// By ERP id first: the active contact holding it. A row whose ERP id no
/// contact holds yet takes the active contact of the same name that has
/// no ERP id (one entered by hand before the ERP sent its contacts), or
/// adds one. A row without an ERP id means the active contact of its name.
/// Two candidates make the row ambiguous, never a guess.
pub fn match_row(known: &[Known<'_>], name: &str, external_id: Option<&str>) -> RowMatch {
    let one = |hits: Vec<usize>| match hits.as_slice() {
        [] => None,
        [i] => Some(RowMatch::Existing(*i)),
        _ => Some(RowMatch::Ambiguous),
    };
    let key = name_key(name);
    let by_name = |unclaimed_only: bool| -> Vec<usize> {
        known
            .iter()
            .enumerate()
            .filter(|(_, k)| k.active && name_key(k.name) == key)
            .filter(|(_, k)| !unclaimed_only || k.external_id.is_none())
            .map(|(i, _)| i)
            .collect()
    };
    match external_id {
        Some(ext) => {
            let holders: Vec<usize> = known
                .iter()
                .enumerate()
                .filter(|(_, k)| k.external_id == Some(ext))
                .map(|(i, _)| i)
                .collect();
            let active: Vec<usize> = holders
                .iter()
                .copied()
                .filter(|&i| known[i].active)
                .collect();
            if let Some(m) = one(active) {
                return m;
            }
            if let Some(&removed) = holders.first() {
                return RowMatch::Removed(removed);
            }
            one(by_name(true)).unwrap_or(RowMatch::New)
        }
        None => one(by_name(false)).unwrap_or(RowMatch::New),
    }
}

/// A yes-or-no cell of a spreadsheet: `true`/`false`, `1`/`0`, `yes`/`no`,
/// `y`/`n`, `是`/`否`; an empty cell is no.
pub fn yes_no(cell: &str) -> Result<bool, ParseError> {
    match fold_width(cell).trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "是" => Ok(true),
        "false" | "0" | "no" | "n" | "否" | "" => Ok(false),
        _ => Err(ParseError::new(
            "invalid_boolean",
            "give true or false (1/0, yes/no, 是/否)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal<T>(r: Result<T, ParseError>) -> Option<&'static str> {
        r.err().map(|e| e.code)
    }

    fn known<'a>(rows: &[(&'a str, Option<&'a str>, bool)]) -> Vec<Known<'a>> {
        rows.iter()
            .map(|&(name, external_id, active)| Known {
                name,
                external_id,
                active,
            })
            .collect()
    }

    #[test]
    fn a_name_keeps_a_character_to_show() {
        assert_eq!(contact_name("  张伟 ").as_deref(), Ok("张伟"));
        assert_eq!(contact_name("张\u{200B}伟").as_deref(), Ok("张伟"));
        assert_eq!(refusal(contact_name("   ")), Some("required"));
        assert_eq!(refusal(contact_name("\u{3000}")), Some("required"));
        assert_eq!(refusal(contact_name("\u{200B}")), Some("required"));
        assert_eq!(refusal(contact_name("张\n伟")), Some("invalid_format"));
        assert!(contact_name(&"张".repeat(100)).is_ok());
        assert_eq!(refusal(contact_name(&"张".repeat(101))), Some("too_long"));
    }

    #[test]
    fn a_contact_needs_one_way_to_reach_it() {
        assert!(reachable(None, Some("13901086621"), None));
        assert!(reachable(None, None, Some("a@b.cn")));
        assert!(!reachable(None, None, None));
        assert!(!reachable(Some(" "), None, Some("")));
    }

    #[test]
    fn names_compare_across_widths_cases_and_spaces() {
        assert_eq!(name_key("ＬＩ　Ｌｅｉ"), name_key("li  lei"));
        assert_eq!(name_key(" 张伟 "), name_key("张伟"));
        assert_ne!(name_key("张 伟"), name_key("张伟"));
    }

    #[test]
    fn an_erp_id_names_its_contact_first() {
        let k = known(&[("张伟", Some("E1"), true), ("李娜", Some("E2"), true)]);
        assert_eq!(match_row(&k, "张伟", Some("E2")), RowMatch::Existing(1));
        assert_eq!(match_row(&k, "王芳", Some("E1")), RowMatch::Existing(0));
    }

    #[test]
    fn a_new_erp_id_claims_the_one_unclaimed_contact_of_its_name() {
        let k = known(&[("张伟", None, true), ("李娜", Some("E2"), true)]);
        assert_eq!(match_row(&k, "张伟", Some("E9")), RowMatch::Existing(0));
        // 李娜 belongs to another ERP record: a new contact of the same name.
        assert_eq!(match_row(&k, "李娜", Some("E9")), RowMatch::New);
        assert_eq!(match_row(&k, "王芳", Some("E9")), RowMatch::New);
        let twins = known(&[("张伟", None, true), ("张伟", None, true)]);
        assert_eq!(match_row(&twins, "张伟", Some("E9")), RowMatch::Ambiguous);
    }

    #[test]
    fn without_an_erp_id_the_name_decides() {
        let k = known(&[
            ("张伟", Some("E1"), true),
            ("李娜", None, false),
            ("王芳", None, true),
            ("王芳", None, true),
        ]);
        assert_eq!(match_row(&k, "张伟", None), RowMatch::Existing(0));
        // A removed contact is not met by name: the row adds one.
        assert_eq!(match_row(&k, "李娜", None), RowMatch::New);
        assert_eq!(match_row(&k, "王芳", None), RowMatch::Ambiguous);
    }

    #[test]
    fn a_removed_contact_is_not_brought_back() {
        let k = known(&[("张伟", Some("E1"), false)]);
        assert_eq!(match_row(&k, "张伟", Some("E1")), RowMatch::Removed(0));
        let both = known(&[("张伟", Some("E1"), false), ("张伟", Some("E1"), true)]);
        assert_eq!(match_row(&both, "张伟", Some("E1")), RowMatch::Existing(1));
        let merged = known(&[("张伟", Some("E1"), true), ("张伟", Some("E1"), true)]);
        assert_eq!(match_row(&merged, "张伟", Some("E1")), RowMatch::Ambiguous);
    }

    #[test]
    fn spreadsheet_booleans() {
        for yes in ["true", "TRUE", "1", "yes", "Y", "是", "ｔｒｕｅ"] {
            assert_eq!(yes_no(yes), Ok(true), "{yes}");
        }
        for no in ["false", "0", "no", "否", "", " "] {
            assert_eq!(yes_no(no), Ok(false), "{no}");
        }
        assert_eq!(refusal(yes_no("maybe")), Some("invalid_boolean"));
    }
}
