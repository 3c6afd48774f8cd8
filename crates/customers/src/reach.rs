//! How a customer is found by the way one of its contacts is reached: a
//! call comes in and the service desk asks which customer the number
//! belongs to, or a mail arrives from an address (CUS-02's contacts).
//! A number is written in many ways — `010-8888 6666`, `(010)88886666`,
//! `+86 10 8888 6666`; `138 0013 8000`, `+8613800138000`, and as caller
//! display shows a mobile of another city, `013800138000` — and each has
//! one key, the form in which it is stored beside the contact and looked
//! up. An address's key is its lower case.

use crate::ParseError;

/// The fewest digits a looked-up number has: a bank's or carrier's
/// service number (95588, 10086) has five; fewer name no line.
pub const FEWEST_DIGITS: usize = 5;

/// A mainland mobile: 11 digits, `1` then `3` to `9`.
fn mainland_mobile(d: &str) -> bool {
    d.len() == 11 && d.starts_with('1') && matches!(d.as_bytes()[1], b'3'..=b'9')
}

/// The key of a phone or mobile number as written (full-width forms
/// read as ASCII): a mainland mobile is its 11 digits; a mainland
/// landline its digits with the trunk `0` before the area code
/// (`01088886666`); another country's number `+`, its country code and
/// its digits. `+86` or `0086` before a mainland number, `86` before a
/// mobile and the `0` some exchanges show before another city's mobile
/// are dropped.
pub fn number_key(raw: &str) -> String {
    let folded = crate::name::fold_width(raw);
    let digits: String = folded.chars().filter(char::is_ascii_digit).collect();
    let written_abroad = folded
        .trim_start_matches(|c: char| c == '(' || c.is_whitespace())
        .starts_with('+');
    let abroad = if written_abroad {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    let national = match abroad {
        Some(number) => match number.strip_prefix("86") {
            Some(national) => national,
            None => return format!("+{number}"),
        },
        None => match digits.strip_prefix("86") {
            Some(mobile) if mainland_mobile(mobile) => mobile,
            _ => digits.as_str(),
        },
    };
    if mainland_mobile(national) {
        return national.to_owned();
    }
    let line = match national.strip_prefix('0') {
        Some(mobile) if mainland_mobile(mobile) => return mobile.to_owned(),
        Some(_) => national.to_owned(),
        // A number given with +86 drops its trunk 0 (but a 400 or 800
        // number has none); one without a country code is kept as written.
        None if abroad.is_some() && !national.is_empty() && !nationwide(national) => {
            format!("0{national}")
        }
        None => return national.to_owned(),
    };
    without_extension(line, &folded)
}

/// A nationwide service number (400 and 800 numbers, ten digits): one
/// number for the whole country, without an area code or trunk `0`.
fn nationwide(d: &str) -> bool {
    d.len() == 10 && (d.starts_with("400") || d.starts_with("800"))
}

/// A mainland landline with its trunk `0` is 11 digits (`010`, `02x`
/// and an 8-digit number) or 11 to 12 (a 4-digit area code and a 7- or
/// 8-digit number). Digits past that, written as a group of their own
/// (`010-6588 1201-8001`), are an extension: a caller's display never
/// shows one, so the line is the key.
fn without_extension(line: String, written: &str) -> String {
    let longest = if line.starts_with("01") || line.starts_with("02") {
        11
    } else {
        12
    };
    let last_group = written
        .rsplit(|c: char| !c.is_ascii_digit())
        .find(|g| !g.is_empty())
        .unwrap_or_default();
    let kept = line.len().saturating_sub(last_group.len());
    if line.len() > longest && line.ends_with(last_group) && (11..=longest).contains(&kept) {
        line[..kept].to_owned()
    } else {
        line
    }
}

/// The key of an email address: trimmed, full-width forms as ASCII, in
/// lower case (mail systems treat the parts alike in any case).
pub fn email_key(raw: &str) -> String {
    crate::name::fold_width(raw).trim().to_lowercase()
}

/// What a lookup of a contact names: a number or an address, by its key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reach {
    Number(String),
    Email(String),
}

impl Reach {
    /// A number (digits, spaces, `+`, `-` and brackets, with at least
    /// [`FEWEST_DIGITS`] digits) or an address (anything with an `@`
    /// between two parts).
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let folded = crate::name::fold_width(raw);
        let s = folded.trim();
        if let Some((local, domain)) = s.split_once('@') {
            if !local.is_empty() && !domain.is_empty() && !s.chars().any(char::is_whitespace) {
                return Ok(Self::Email(email_key(s)));
            }
        } else if s.chars().all(|c| c.is_ascii_digit() || "+() -".contains(c))
            && s.chars().filter(char::is_ascii_digit).count() >= FEWEST_DIGITS
        {
            return Ok(Self::Number(number_key(s)));
        }
        Err(ParseError::new(
            "invalid_contact",
            format!(
                "contact is a phone or mobile number (at least {FEWEST_DIGITS} digits, with \
                 spaces, +, - and brackets) or an email address"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_cus_02_one_mobile_written_every_way_has_one_key() {
        for written in [
            "13800138000",
            "138 0013 8000",
            "138-0013-8000",
            "１３８－００１３－８０００",
            "+86 138 0013 8000",
            "+8613800138000",
            "(+86) 13800138000",
            "0086 13800138000",
            "8613800138000",
            "013800138000",
        ] {
            assert_eq!(number_key(written), "13800138000", "{written}");
        }
    }

    #[test]
    fn r_cus_02_one_landline_written_every_way_has_one_key() {
        for written in [
            "010-88886666",
            "(010) 8888 6666",
            "（０１０）８８８８－６６６６",
            "01088886666",
            "+86 10 8888 6666",
            "+86 (0)10 8888 6666",
            "0086-10-88886666",
        ] {
            assert_eq!(number_key(written), "01088886666", "{written}");
        }
        // An extension written after the line is not part of it.
        for written in [
            "010-8888 6666-8001",
            "(010)88886666 801",
            "+86 10 8888 6666-12",
        ] {
            assert_eq!(number_key(written), "01088886666", "{written}");
        }
        assert_eq!(number_key("0755-8888 1234-6"), "075588881234");
        assert_eq!(number_key("0571-888 8123-45"), "05718888123");
        // Groups of the line itself are no extension.
        assert_eq!(number_key("0755-8888-1234"), "075588881234");
        assert_eq!(number_key("010-8888-6666"), "01088886666");
        // Without its area code a landline is another key: it names no
        // one line across the country.
        assert_eq!(number_key("8888 6666"), "88886666");
        assert_eq!(number_key("95588"), "95588");
        // A company's nationwide number has no area code.
        for written in [
            "400-810-8888",
            "400 810 8888",
            "+86 400 810 8888",
            "0086-4008108888",
        ] {
            assert_eq!(number_key(written), "4008108888", "{written}");
        }
    }

    /// Many numbers, each written in every usual way, have one key each:
    /// the number's own digits, so no two numbers share one.
    #[test]
    fn r_cus_02_every_written_form_of_many_numbers_keeps_them_apart() {
        let mut seed: u64 = 0x2026_1207;
        let mut next = |below: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % below
        };
        for _ in 0..2_000 {
            let (national, forms) = if next(2) == 0 {
                // A mobile: 1, 3 to 9, nine more digits.
                let d = format!("1{}{:09}", 3 + next(7), next(1_000_000_000));
                let spaced = format!("{} {} {}", &d[..3], &d[3..7], &d[7..]);
                let forms = vec![
                    d.clone(),
                    spaced.clone(),
                    d.replace(' ', "-"),
                    format!("+86 {spaced}"),
                    format!("+86{d}"),
                    format!("0086-{d}"),
                    format!("86{d}"),
                    format!("0{d}"),
                ];
                (d, forms)
            } else {
                // A landline: 010 or 02x and eight digits, or a
                // three-digit area code after the 0 and eight digits.
                let (area, local) = if next(2) == 0 {
                    let area = if next(2) == 0 {
                        "10".to_owned()
                    } else {
                        format!("2{}", next(10))
                    };
                    (area, format!("{:08}", 20_000_000 + next(79_999_999)))
                } else {
                    (
                        format!("{}", 311 + next(600)),
                        format!("{:08}", 20_000_000 + next(79_999_999)),
                    )
                };
                let d = format!("0{area}{local}");
                let forms = vec![
                    d.clone(),
                    format!("0{area}-{local}"),
                    format!("(0{area}) {} {}", &local[..4], &local[4..]),
                    format!("+86 {area} {local}"),
                    format!("+86 (0){area} {local}"),
                    format!("0086-{area}-{local}"),
                    format!("0{area}-{local}-{}", 1 + next(9_999)),
                ];
                (d, forms)
            };
            for form in &forms {
                assert_eq!(number_key(form), national, "{form}");
            }
        }
    }

    #[test]
    fn r_cus_02_a_number_abroad_keeps_its_country_code() {
        assert_eq!(number_key("+852 9123 4567"), "+85291234567");
        assert_eq!(number_key("00852-9123-4567"), "+85291234567");
        assert_eq!(number_key("+1 (415) 555-0123"), "+14155550123");
        // The same digits at home are another number.
        assert_eq!(number_key("91234567"), "91234567");
    }

    #[test]
    fn r_cus_02_an_address_is_found_in_any_case() {
        assert_eq!(email_key(" Li.Wei@Example.COM "), "li.wei@example.com");
        assert_eq!(
            Reach::parse("ＬＩ＠example.com").ok(),
            Some(Reach::Email("li@example.com".into()))
        );
    }

    #[test]
    fn r_cus_02_a_lookup_names_a_number_or_an_address() {
        assert_eq!(
            Reach::parse(" +86 138-0013-8000 ").ok(),
            Some(Reach::Number("13800138000".into()))
        );
        assert_eq!(
            Reach::parse("10086").ok(),
            Some(Reach::Number("10086".into()))
        );
        for bad in [
            "1008",
            "abc",
            "138x0013",
            "@example.com",
            "li@",
            "li wei@x.cn",
            "",
        ] {
            let e = Reach::parse(bad).err();
            assert_eq!(e.map(|e| e.code), Some("invalid_contact"), "{bad:?}");
        }
    }
}
