//! Smaller value types of a file: administrative region codes, tags and
//! the day trading started.

use crate::ParseError;

/// The province-level divisions of GB/T 2260: code and name.
const PROVINCES: [(&str, &str); 34] = [
    ("11", "北京市"),
    ("12", "天津市"),
    ("13", "河北省"),
    ("14", "山西省"),
    ("15", "内蒙古自治区"),
    ("21", "辽宁省"),
    ("22", "吉林省"),
    ("23", "黑龙江省"),
    ("31", "上海市"),
    ("32", "江苏省"),
    ("33", "浙江省"),
    ("34", "安徽省"),
    ("35", "福建省"),
    ("36", "江西省"),
    ("37", "山东省"),
    ("41", "河南省"),
    ("42", "湖北省"),
    ("43", "湖南省"),
    ("44", "广东省"),
    ("45", "广西壮族自治区"),
    ("46", "海南省"),
    ("50", "重庆市"),
    ("51", "四川省"),
    ("52", "贵州省"),
    ("53", "云南省"),
    ("54", "西藏自治区"),
    ("61", "陕西省"),
    ("62", "甘肃省"),
    ("63", "青海省"),
    ("64", "宁夏回族自治区"),
    ("65", "新疆维吾尔自治区"),
    ("71", "台湾省"),
    ("81", "香港特别行政区"),
    ("82", "澳门特别行政区"),
];

/// The province-level divisions, code and name, in code order.
pub fn provinces() -> impl Iterator<Item = (&'static str, &'static str)> {
    PROVINCES.iter().copied()
}

/// The name of the province-level division a region code lies in
/// (`110105` → 北京市), if its first two digits are one.
pub fn province_of(code: &str) -> Option<&'static str> {
    let prefix = code.get(..2)?;
    PROVINCES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, name)| *name)
}

/// An administrative division code (GB/T 2260): six digits, the first two a
/// province-level division's (11 Beijing … 65 Xinjiang, 71 Taiwan, 81 Hong
/// Kong, 82 Macao).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(
                "invalid_format",
                "a region code is six digits (GB/T 2260)",
            ));
        }
        if province_of(s).is_none() {
            return Err(ParseError::new(
                "unknown_province",
                "a region code starts with a province-level code (GB/T 2260: 11 Beijing … 65 Xinjiang, 71, 81, 82)",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Filters use prefixes: "11" (Beijing), "1101" (its districts) …
    /// A whole province or prefecture code stands for the divisions in it
    /// (`440000` → `44`, `440300` → `4403`), so a picker's code filters
    /// as a person means it.
    pub fn parse_prefix(raw: &str) -> Result<String, ParseError> {
        let s = raw.trim();
        if (1..=6).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            let whole = s.len() == 6;
            let prefix = if whole && s.ends_with("0000") {
                &s[..2]
            } else if whole && s.ends_with("00") {
                &s[..4]
            } else {
                s
            };
            Ok(prefix.to_owned())
        } else {
            Err(ParseError::new(
                "invalid_format",
                "a region prefix is 1 to 6 digits",
            ))
        }
    }
}

/// A label: 1 to 32 characters, no commas, stored in its folded form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

impl Tag {
    /// The form a tag is stored and looked for in: a name's search form
    /// ([`crate::name::search_form`]: full-width forms as ASCII, so ＶＩＰ is
    /// vip; lower case; traditional characters as simplified, so 重點客戶 is
    /// 重点客户), trimmed, inner runs of white space as one space. A branch
    /// in Hong Kong and one in Beijing tag one kind of customer alike.
    pub fn fold(raw: &str) -> String {
        crate::name::search_form(raw)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = Self::fold(raw);
        let n = s.chars().count();
        if n == 0 || n > 32 {
            return Err(ParseError::new(
                "invalid_length",
                "a tag has 1 to 32 characters",
            ));
        }
        if s.chars().any(|c| c == ',' || c.is_control()) {
            return Err(ParseError::new(
                "invalid_format",
                "a tag cannot hold commas or control characters",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At most 20 distinct tags, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<Tag>);

impl Tags {
    pub const MAX: usize = 20;

    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, ParseError> {
        let mut tags = raw
            .iter()
            .map(|t| Tag::parse(t.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        tags.sort();
        tags.dedup();
        if tags.len() > Self::MAX {
            return Err(ParseError::new(
                "too_long",
                format!("a file has at most {} tags", Self::MAX),
            ));
        }
        Ok(Self(tags))
    }

    pub fn as_strs(&self) -> Vec<String> {
        self.0.iter().map(|t| t.0.clone()).collect()
    }
}

/// The day a moment (in UTC) falls on in China, whose one time zone is
/// UTC+8.
pub fn day_in_china(utc: chrono::NaiveDateTime) -> chrono::NaiveDate {
    (utc + chrono::Duration::hours(8)).date()
}

/// The day trading with the customer started (CUS-02): one that has come,
/// in China's time. A day ahead is a slip of the keyboard (2062 for 2026),
/// and a file would call a prospect a customer of years' standing.
pub fn trading_since(
    day: chrono::NaiveDate,
    now_utc: chrono::NaiveDateTime,
) -> Result<chrono::NaiveDate, ParseError> {
    let today = day_in_china(now_utc);
    if day > today {
        return Err(ParseError::new(
            "out_of_range",
            format!("trading_since is a day that has come: {today} at the latest (China time)"),
        ));
    }
    Ok(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_cus_03_region_codes_name_their_province() {
        assert!(RegionCode::parse("110105").is_ok());
        assert!(RegionCode::parse(" 440305 ").is_ok());
        assert!(RegionCode::parse("990000").is_err());
        // Between 11 and 82 but no province: 16, 20, 24, 55, 66, 80.
        for code in ["160000", "200000", "240101", "550000", "660000", "800000"] {
            assert_eq!(
                RegionCode::parse(code).map_err(|e| e.code),
                Err("unknown_province"),
                "{code}"
            );
        }
        assert_eq!(province_of("110105"), Some("北京市"));
        assert_eq!(province_of("650102"), Some("新疆维吾尔自治区"));
        assert_eq!(province_of("820000"), Some("澳门特别行政区"));
        assert_eq!(province_of("16"), None);
        assert_eq!(province_of("1"), None);
        assert!(RegionCode::parse("11010").is_err());
        assert!(RegionCode::parse_prefix("44").is_ok());
        assert_eq!(
            RegionCode::parse_prefix("440000").ok().as_deref(),
            Some("44")
        );
        assert_eq!(
            RegionCode::parse_prefix("440300").ok().as_deref(),
            Some("4403")
        );
        assert_eq!(
            RegionCode::parse_prefix("440305").ok().as_deref(),
            Some("440305")
        );
        assert_eq!(
            RegionCode::parse_prefix("4403").ok().as_deref(),
            Some("4403")
        );
        assert!(RegionCode::parse_prefix("44a").is_err());
    }

    #[test]
    fn tags_are_normalised_and_bounded() {
        let t = Tags::parse(&["VIP", "vip", " 重点 ", "ＶＩＰ", "\u{3000}重点"])
            .map(|t| t.as_strs())
            .ok();
        assert_eq!(t, Some(vec!["vip".to_owned(), "重点".to_owned()]));
        assert_eq!(Tag::fold(" 重点\u{200B}  客户 "), "重点 客户");
    }

    #[test]
    fn r_cus_03_a_tag_in_traditional_characters_is_the_same_tag() {
        let t = Tags::parse(&["重點客戶", "重点客户", "戰略合作"]).map(|t| t.as_strs());
        assert_eq!(
            t.ok(),
            Some(vec!["战略合作".to_owned(), "重点客户".to_owned()])
        );
        assert_eq!(Tag::fold("ＶＩＰ客戶"), Tag::fold("vip客户"));
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&many).is_err());
        assert!(Tags::parse(&["a,b"]).is_err());
    }
}

/// A contact's phone or mobile number: 3 to 32 digits, spaces, `+`, `-`
/// and brackets, kept in ASCII. Full-width forms, as a Chinese input
/// method types them (１３８－００１３－８０００, ＋８６), read as their ASCII ones.
pub fn phone_number(raw: &str) -> Result<String, ParseError> {
    let folded = crate::name::fold_width(raw);
    let s = folded.trim();
    let ok = (3..=32).contains(&s.chars().count())
        && s.chars().all(|c| c.is_ascii_digit() || "+() -".contains(c));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(ParseError::new(
            "invalid_format",
            "a phone number is 3 to 32 digits, spaces, +, - and brackets",
        ))
    }
}

/// A contact's mobile number (CUS-02), as [`phone_number`] keeps it, that
/// is one: a mainland mobile — 11 digits, `1` then `3` to `9` — with or
/// without `+86` (or `0086`) before it; or another country's, written
/// with `+` (or `00`) and its country code, 8 to 15 digits in all (ITU-T
/// E.164). A landline or a number cut short (`12345`) is refused.
pub fn mobile_number(raw: &str) -> Result<String, ParseError> {
    let refused = || {
        ParseError::new(
            "invalid_mobile",
            "a mobile number is a mainland one, 11 digits starting 13 to 19 (+86 before it \
             or not), or another country's, starting with + and its country code",
        )
    };
    let kept = phone_number(raw).map_err(|_| refused())?;
    let digits: String = kept.chars().filter(char::is_ascii_digit).collect();
    let lead = kept.trim_start_matches(['(', ' ']);
    let abroad = if lead.starts_with('+') {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    let mainland =
        |d: &str| d.len() == 11 && d.starts_with('1') && matches!(d.as_bytes()[1], b'3'..=b'9');
    let ok = match abroad {
        Some(number) => match number.strip_prefix("86") {
            Some(national) => mainland(national),
            None => (8..=15).contains(&number.len()),
        },
        None => mainland(&digits),
    };
    if ok {
        Ok(kept)
    } else {
        Err(refused())
    }
}

#[cfg(test)]
mod phone_tests {
    use super::{mobile_number, phone_number};

    #[test]
    fn r_cus_02_a_mobile_number_is_one() {
        for good in [
            "13800138000",
            "138 0013 8000",
            "138-0013-8000",
            "１３８００１３８０００",
            "+86 13800138000",
            "+86-199-0000-0000",
            "0086 13800138000",
            "(+86) 13800138000",
            // Hong Kong, Germany, the United States.
            "+852 9123 4567",
            "+49 151 23456789",
            "+1 (415) 555-0123",
        ] {
            assert!(mobile_number(good).is_ok(), "{good}");
        }
        assert_eq!(
            mobile_number("＋８６　１３８００１３８０００")
                .ok()
                .as_deref(),
            Some("+86 13800138000")
        );
        for bad in [
            "12345",
            "12800138000",
            "1380013800",
            "138001380001",
            "010-88886666",
            "8613800138000",
            "+86 010 8888 6666",
            "+1 555",
            "+1234567890123456",
            "138-0013-800x",
        ] {
            let e = mobile_number(bad).err();
            assert_eq!(e.map(|e| e.code), Some("invalid_mobile"), "{bad}");
        }
    }

    #[test]
    fn r_cus_02_phone_numbers_typed_in_full_width_are_kept_in_ascii() {
        assert_eq!(
            phone_number("（０１０）８８８８－６６６６").ok().as_deref(),
            Some("(010)8888-6666")
        );
        assert_eq!(
            phone_number("＋８６　１３８００１３８０００")
                .ok()
                .as_deref(),
            Some("+86 13800138000")
        );
        assert_eq!(
            phone_number(" 13800138000 ").ok().as_deref(),
            Some("13800138000")
        );
        assert!(phone_number("12").is_err());
        assert!(phone_number("138-0013-800x").is_err());
        assert!(phone_number(&"1".repeat(33)).is_err());
    }
}

/// A document record's link to where the document is kept (a document
/// system, an archive's web front): an absolute `http` or `https` address
/// with a host, trimmed. Front-ends show it to be followed, so other
/// schemes (`javascript:`, `data:`, `file:`) are refused.
pub fn document_link(raw: &str) -> Result<String, ParseError> {
    let raw = raw.trim();
    let invalid = |why: String| ParseError::new("invalid_url", why);
    let url = url::Url::parse(raw).map_err(|e| invalid(format!("not an address: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("a link starts with https:// or http://".into()));
    }
    if url.host().is_none() {
        return Err(invalid("the link has no host".into()));
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod link_tests {
    use super::document_link;

    #[test]
    fn document_links_are_web_addresses() {
        for good in [
            "https://dms.example.cn/doc/2024-001",
            " http://10.1.2.3:8080/archive?id=7 ",
            "https://档案.example.cn/合同/1",
        ] {
            assert_eq!(
                document_link(good).ok().as_deref(),
                Some(good.trim()),
                "{good}"
            );
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "smb://fileserver/a.pdf",
            "not a link",
            "http://[abc",
            "https://",
        ] {
            assert_eq!(
                document_link(bad).map_err(|e| e.code),
                Err("invalid_url"),
                "{bad}"
            );
        }
    }

    #[test]
    fn r_cus_02_trading_started_on_a_day_that_has_come_in_china() {
        use super::{day_in_china, trading_since};
        let at = |s: &str| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
        };
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        // 17:00 UTC on the 7th is 01:00 on the 8th in Beijing.
        assert_eq!(day_in_china(at("2026-12-07 17:00")), day("2026-12-08"));
        assert_eq!(day_in_china(at("2026-12-07 15:59")), day("2026-12-07"));
        let now = at("2026-12-07 17:00");
        assert!(trading_since(day("2026-12-08"), now).is_ok());
        assert!(trading_since(day("1998-03-01"), now).is_ok());
        let ahead = trading_since(day("2026-12-09"), now).err();
        assert_eq!(ahead.as_ref().map(|e| e.code), Some("out_of_range"));
        assert!(
            ahead.is_some_and(|e| e.message.contains("2026-12-08")),
            "names the latest day"
        );
    }
}
