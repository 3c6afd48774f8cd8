//! Customer names, and the normal form duplicates are found by (CUS-01):
//! full-width forms folded, traditional characters read as simplified, case
//! and spaces dropped, company-form suffixes (有限公司, 股份有限公司, Co.,
//! Ltd. …) removed.

use crate::ParseError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerName(String);

impl CustomerName {
    pub const MAX_CHARS: usize = 200;

    /// Drops invisible characters ([`is_invisible`]), trims and folds
    /// inner runs of white space; 1 to 200 characters.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let visible: String = raw.chars().filter(|c| !is_invisible(*c)).collect();
        let s: String = visible.split_whitespace().collect::<Vec<_>>().join(" ");
        let n = s.chars().count();
        if n == 0 {
            return Err(ParseError::new(
                "too_short",
                "a customer name cannot be empty",
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(ParseError::new(
                "too_long",
                format!("a customer name has at most {} characters", Self::MAX_CHARS),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(ParseError::new(
                "invalid_format",
                "a name cannot hold control characters",
            ));
        }
        if is_company_form(&s) {
            return Err(ParseError::new(
                "company_form_only",
                "a customer name is more than its company form (有限公司, Co., Ltd.)",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn normalised(&self) -> String {
        normalise_name(&self.0)
    }

    /// Every form the name is stored in beside itself.
    pub fn forms(&self) -> NameForms {
        NameForms::of(&self.0)
    }
}

/// The forms a name is stored in beside itself, each computed here only:
/// normalised for duplicates ([`normalise_name`]), folded for search
/// ([`name_search_form`]), keyed for pinyin order ([`sort_key`]) and as a
/// mnemonic code ([`mnemonic`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameForms {
    pub normalised: String,
    pub folded: String,
    pub sort_key: String,
    pub mnemonic: String,
}

impl NameForms {
    pub fn of(name: &str) -> Self {
        Self {
            normalised: normalise_name(name),
            folded: name_search_form(name),
            sort_key: sort_key(name),
            mnemonic: mnemonic(name),
        }
    }
}

/// Readings of characters that the per-character table gets wrong in words
/// common in company and place names (银行 is `yin hang`, not `yin xing`).
const PHRASES: &[(&str, &str)] = &[
    ("银行", "yin hang"),
    ("分行", "fen hang"),
    ("支行", "zhi hang"),
    ("总行", "zong hang"),
    ("商行", "shang hang"),
    ("车行", "che hang"),
    ("行业", "hang ye"),
    ("重庆", "chong qing"),
    ("厦门", "xia men"),
    ("长沙", "chang sha"),
    ("长春", "chang chun"),
    ("长江", "chang jiang"),
    ("长安", "chang an"),
    ("长城", "chang cheng"),
    ("长治", "chang zhi"),
    ("长兴", "chang xing"),
    ("长寿", "chang shou"),
    ("蚌埠", "beng bu"),
    ("六安", "lu an"),
    ("番禺", "pan yu"),
    ("单县", "shan xian"),
    ("音乐", "yin yue"),
    ("乐器", "yue qi"),
    ("成都", "cheng du"),
    ("首都", "shou du"),
    ("都市", "du shi"),
];

/// One piece of a name read aloud: a Chinese syllable in toneless pinyin,
/// a letter or digit (half-width, lower case), or anything else.
enum Piece<'a> {
    Syllable(&'a str),
    Char(char),
    Gap,
}

/// Reads `folded` (width-folded, lower case) piece by piece: Chinese
/// characters by their most common reading, except in the words of
/// [`PHRASES`].
fn read_aloud(folded: &str, mut each: impl FnMut(Piece<'_>)) {
    use pinyin::ToPinyin;
    let mut rest = folded;
    while let Some(c) = rest.chars().next() {
        if let Some((word, reading)) = PHRASES.iter().find(|(w, _)| rest.starts_with(w)) {
            reading.split(' ').for_each(|s| each(Piece::Syllable(s)));
            rest = &rest[word.len()..];
            continue;
        }
        if let Some(p) = c.to_pinyin() {
            each(Piece::Syllable(p.plain()));
        } else if c.is_alphanumeric() {
            each(Piece::Char(c));
        } else {
            each(Piece::Gap);
        }
        rest = &rest[c.len_utf8()..];
    }
}

/// The key a name sorts by, the same on every backend: Chinese characters
/// by their pinyin without tones, each syllable followed by a space; letters
/// and digits as they are, half-width and lower case; anything else a
/// space. So 阿里巴巴 < 北京 < IBM < 中国, and 西安 (`xi an `) < 先锋
/// (`xian feng `). A character with several readings takes its most common
/// one, as Excel's and ICU's pinyin orders do, except in the words of
/// [`PHRASES`] (银行 sorts as `yin hang`, 重庆 as `chong qing`).
///
/// Stored keys are not recomputed when this changes: a change needs a
/// migration that blanks `name_sort`, which the migration run then fills.
pub fn sort_key(name: &str) -> String {
    let folded = fold_width(name).to_lowercase();
    let mut key = String::with_capacity(folded.len() * 2);
    let spaced = |key: &String| key.chars().last().is_some_and(|l| l != ' ');
    read_aloud(&folded, |piece| match piece {
        Piece::Syllable(s) => {
            if spaced(&key) {
                key.push(' ');
            }
            key.push_str(s);
            key.push(' ');
        }
        Piece::Char(c) => key.push(c),
        Piece::Gap => {
            if spaced(&key) {
                key.push(' ');
            }
        }
    });
    if key.is_empty() {
        folded
    } else {
        key
    }
}

/// The name's mnemonic code (助记码), as Chinese finance and ERP systems
/// give every customer: the first letter of each Chinese syllable, letters
/// and digits as they are (half-width, lower case), nothing else — 北京华联
/// 商贸有限公司 is `bjhlsmyxgs`, 重庆银行 `cqyh`, IBM中国 `ibmzg`. Typed into
/// a search box it finds the file without a Chinese input method. A name
/// with none of these has its folded form as mnemonic, so none is empty.
///
/// Stored mnemonics are not recomputed when this changes: a change needs a
/// migration that blanks `name_mnemonic`, which the migration run then fills.
pub fn mnemonic(name: &str) -> String {
    let folded = fold_width(name).to_lowercase();
    let mut code = String::new();
    read_aloud(&folded, |piece| match piece {
        Piece::Syllable(s) => code.extend(s.chars().next()),
        Piece::Char(c) => code.push(c),
        Piece::Gap => {}
    });
    if code.is_empty() {
        folded
    } else {
        code
    }
}

/// Characters that show nothing but split a name for a machine: zero-width
/// spaces and joiners, the soft hyphen, the byte-order mark, and the
/// direction marks, embeddings, overrides and isolates of bidirectional
/// text. A name copied from a web page or a document often carries one
/// (北京燕京\u{200B}建设 looks like 北京燕京建设 and was another name to the
/// duplicate check and to search), and a direction override makes a name
/// show in another order than it is stored (a spoofed name). No company
/// name needs them.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Full-width ASCII (U+FF01–U+FF5E) and the ideographic space to their
/// ASCII forms; 【】《》（） to plain brackets; invisible characters
/// ([`is_invisible`]) dropped, so a search part pasted with one still finds.
pub fn fold_width(s: &str) -> String {
    s.chars()
        .filter(|c| !is_invisible(*c))
        .map(|c| match c {
            '\u{3000}' => ' ',
            '【' | '《' => '(',
            '】' | '》' => ')',
            // Full-width ASCII, （） among them.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The form a name is searched in, and a search part with it: width folded
/// ([`fold_width`]), lower case, and traditional characters as their
/// simplified forms. A file of a Hong Kong, Macao or Taiwan company is often
/// filed under its registered name in traditional characters (臺灣積體電路製造),
/// while staff on the mainland type simplified ones (台湾积体电路制造): both
/// are one name to search and to the duplicate check. Characters are
/// converted one by one, never by the word they stand in (乾 stays 乾, as in
/// 乾隆), so a part found in a name is found in its search form too.
pub fn search_form(s: &str) -> String {
    let folded = fold_width(s).to_lowercase();
    let mut form = String::with_capacity(folded.len());
    let mut buf = [0; 4];
    for c in folded.chars() {
        if c.is_ascii() {
            form.push(c);
        } else {
            form.push_str(&simplet2s::convert(c.encode_utf8(&mut buf)));
        }
    }
    form
}

/// The form a name is searched in, and a part of a name searched for:
/// [`search_form`] without white space. Names keep the spaces they were
/// written with (深圳市 ABC 科技有限公司, as ERPs often send them), while
/// staff type a part with spaces or without (ABC科技, abc 科技): either
/// finds the name. Dropping spaces on both sides keeps "a part found in a
/// name is found in its search form".
pub fn name_search_form(s: &str) -> String {
    let mut form = search_form(s);
    form.retain(|c| !c.is_whitespace());
    form
}

/// A search part as the words a name must each hold, each in its search
/// form ([`name_search_form`]), separated by single spaces: `燕京 集团`
/// finds 北京燕京建设集团 and `集团 燕京` does too, while `燕京集团` stays one
/// word. A part of no word is the empty one, which every name holds.
pub fn search_words(s: &str) -> String {
    s.split_whitespace()
        .map(name_search_form)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

const SUFFIXES: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "总公司",
    "公司",
    "co.,ltd.",
    "co.,ltd",
    "co.ltd.",
    "co.ltd",
    "company limited",
    "limited",
    "ltd.",
    "ltd",
    "inc.",
    "inc",
    "corporation",
    "corp.",
    "corp",
    "llc",
];

/// Whether `name` is a company form and nothing else (`有限公司`,
/// `（股份有限公司）`, `Co., Ltd.`), however written.
fn is_company_form(name: &str) -> bool {
    let folded = name_search_form(name);
    let bare = folded.trim_matches([',', '.', '(', ')', '-']);
    SUFFIXES
        .iter()
        .any(|suf| suf.chars().filter(|c| !c.is_whitespace()).eq(bare.chars()))
}

/// The places a company's name may carry (GB/T 2260): province-level
/// divisions, prefecture-level and county-level cities, autonomous
/// prefectures, leagues and areas, counties and autonomous counties, as
/// written in full (`北京市`, `新疆维吾尔自治区`, `深圳市`, `昆山市`,
/// `延边朝鲜族自治州`, `安吉县`, `长阳土家族自治县`) and as names use them
/// (`北京`, `新疆`, `深圳`, `昆山`, `延边`, `安吉`, `长阳`).
static PLACE_NAMES: std::sync::LazyLock<Places> = std::sync::LazyLock::new(|| {
    let names = crate::provinces()
        .map(|(_, full)| {
            let short = [
                "壮族自治区",
                "回族自治区",
                "维吾尔自治区",
                "自治区",
                "特别行政区",
                "省",
                "市",
            ]
            .iter()
            .find_map(|end| full.strip_suffix(end))
            .unwrap_or(full);
            (full, short)
        })
        .chain(crate::places::PLACES);
    let mut places = Places::default();
    for (full, short) in names {
        if let Some(first) = full.chars().next() {
            places
                .by_first
                .entry(first)
                .or_default()
                .push((full, short));
        }
        places.short.insert(full, short);
    }
    for list in places.by_first.values_mut() {
        list.sort_by_key(|(full, _)| std::cmp::Reverse(full.len()));
    }
    let shorts: Vec<&str> = places.short.values().copied().collect();
    for short in shorts {
        places.short.entry(short).or_insert(short);
    }
    places
});

/// [`PLACE_NAMES`], looked up as names are read: a place written in full
/// at a name's start (by its first character, longest first), and the
/// short form of a place written either way.
#[derive(Default)]
struct Places {
    by_first: std::collections::HashMap<char, Vec<(&'static str, &'static str)>>,
    short: std::collections::HashMap<&'static str, &'static str>,
}

/// A company's place as its name writes it: a province-level division, a
/// prefecture- or county-level city or a county in brackets after the name
/// or in it
/// (`燕京建设（北京）`, `华为技术（深圳）`, `精密电子（昆山）`,
/// `西门子（上海）电气`) is the same as before it (`北京燕京建设`,
/// `上海西门子电气`), and a
/// place before it in full (`北京市燕京建设`) the same as in short. The place is kept, only its position and form
/// change: 北京燕京 and 上海燕京 stay two names.
fn place_first(s: &str) -> String {
    let short_of = |name: &str| PLACE_NAMES.short.get(name).copied();
    // The first bracket that holds a place, after the name or inside it
    // (`西门子（上海）电气`); the suffix loop may have left a last
    // bracket's closing half off.
    for (at, _) in s.match_indices('(').filter(|(at, _)| *at > 0) {
        let inside = &s[at + 1..];
        let (place, rest) = match inside.find(['(', ')']) {
            Some(end) if inside[end..].starts_with(')') => (&inside[..end], &inside[end + 1..]),
            Some(_) => continue,
            None => (inside, ""),
        };
        if let Some(short) = short_of(place) {
            return format!("{short}{}{rest}", &s[..at]);
        }
    }
    let starting = s.chars().next().and_then(|c| PLACE_NAMES.by_first.get(&c));
    for (full, short) in starting.into_iter().flatten() {
        if let Some(rest) = s.strip_prefix(full) {
            if !rest.is_empty() {
                return format!("{short}{rest}");
            }
        }
    }
    s.to_owned()
}

/// The form two names of one customer share.
pub fn normalise_name(raw: &str) -> String {
    let folded = name_search_form(raw);
    let mut s = folded.clone();
    // Suffixes may stack ("… Co., Ltd." after removing spaces is "co.,ltd.").
    loop {
        let trimmed = s.trim_end_matches([',', '.', '(', ')', '-']);
        let mut cut = None;
        for suf in SUFFIXES {
            let suf: String = suf.chars().filter(|c| !c.is_whitespace()).collect();
            if trimmed.len() > suf.len() && trimmed.ends_with(&suf) {
                cut = Some(trimmed.len() - suf.len());
                break;
            }
        }
        match cut {
            Some(n) => s = trimmed[..n].to_owned(),
            None => {
                s = trimmed.to_owned();
                break;
            }
        }
    }
    let bare: String = place_first(&s)
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | ',' | '.' | '·' | '-' | '&'))
        .collect();
    // A name of punctuation only keeps it, so no normal form is empty.
    if bare.is_empty() {
        folded
    } else {
        bare
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_cus_01_a_name_is_more_than_its_company_form() {
        for form in [
            "有限公司",
            "股份有限公司",
            "（有限公司）",
            "Co., Ltd.",
            "ＬＩＭＩＴＥＤ",
            "公 司",
        ] {
            let e = CustomerName::parse(form).err();
            assert_eq!(e.map(|e| e.code), Some("company_form_only"), "{form}");
        }
        for name in [
            "有限",
            "集团",
            "华为技术有限公司",
            "Limited Brands",
            "公司之家",
        ] {
            assert!(CustomerName::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn names_sort_by_pinyin() {
        let mut names = [
            "中国石油",
            "IBM",
            "北京银行",
            "阿里巴巴",
            "西安",
            "先锋",
            "Ａｐｐｌｅ",
        ];
        names.sort_by_key(|n| sort_key(n));
        assert_eq!(
            names,
            [
                "阿里巴巴",
                "Ａｐｐｌｅ",
                "北京银行",
                "IBM",
                "西安",
                "先锋",
                "中国石油"
            ]
        );
        assert_eq!(sort_key("北京（集团）Co. Ltd"), "bei jing ji tuan co ltd");
        assert_eq!(sort_key("客户0000001号"), "ke hu 0000001 hao ");
        assert_eq!(sort_key("（）"), "()");
        assert_eq!(sort_key("重庆银行"), "chong qing yin hang ");
        assert_eq!(
            sort_key("厦门长城行业协会"),
            "xia men chang cheng hang ye xie hui "
        );
        let mut banks = ["中国银行", "重庆银行", "长沙银行"];
        banks.sort_by_key(|n| sort_key(n));
        assert_eq!(banks, ["长沙银行", "重庆银行", "中国银行"]);
    }

    #[test]
    fn mnemonics_are_pinyin_initials() {
        assert_eq!(mnemonic("北京华联商贸有限公司"), "bjhlsmyxgs");
        assert_eq!(mnemonic("重庆银行股份有限公司"), "cqyhgfyxgs");
        assert_eq!(mnemonic("IBM（中国）"), "ibmzg");
        assert_eq!(mnemonic("ＡＢＣ　科技"), "abckj");
        assert_eq!(mnemonic("客户0000001号"), "kh0000001h");
        assert_eq!(mnemonic("厦门长城"), "xmcc");
        assert_eq!(mnemonic("（）"), "()");
        assert!(!mnemonic("·").is_empty());
    }

    #[test]
    fn r_cus_01_names_of_one_customer_normalise_alike() {
        let forms = [
            "深圳市腾讯计算机系统有限公司",
            "深圳市腾讯计算机系统股份有限公司",
            " 深圳市腾讯计算机系统 有限责任公司 ",
            "深圳市腾讯计算机系统",
        ];
        let n: Vec<String> = forms.iter().map(|f| normalise_name(f)).collect();
        assert!(n.iter().all(|x| x == &n[0]), "{n:?}");
        assert_eq!(
            normalise_name("ＡＢＣ　Trading Co., Ltd."),
            normalise_name("abc trading")
        );
        assert_eq!(
            normalise_name("华信（北京）有限公司"),
            normalise_name("华信(北京)")
        );
        assert_ne!(normalise_name("华信集团"), normalise_name("华信"));
        // A province-level place before the name, in brackets after it,
        // in full or short, is one place; another place is another name.
        let beijing = normalise_name("北京燕京建设有限公司");
        for form in [
            "燕京建设（北京）有限公司",
            "燕京建设(北京市)股份有限公司",
            "北京市燕京建设有限公司",
            "燕京建設（北京）有限公司",
        ] {
            assert_eq!(normalise_name(form), beijing, "{form}");
        }
        assert_ne!(normalise_name("上海燕京建设有限公司"), beijing);
        assert_ne!(normalise_name("燕京建设（上海）有限公司"), beijing);
        assert_eq!(
            normalise_name("天山建材（新疆）有限公司"),
            normalise_name("新疆维吾尔自治区天山建材有限公司")
        );
        // A prefecture-level city, likewise.
        let shenzhen = normalise_name("深圳市腾讯计算机系统有限公司");
        assert_eq!(normalise_name("腾讯计算机系统（深圳）有限公司"), shenzhen);
        assert_eq!(normalise_name("深圳腾讯计算机系统有限公司"), shenzhen);
        assert_ne!(normalise_name("腾讯计算机系统（广州）有限公司"), shenzhen);
        // A place in brackets inside the name, as foreign-invested
        // companies register (brand, place, business).
        let siemens = normalise_name("上海西门子电气传动设备有限公司");
        for form in [
            "西门子（上海）电气传动设备有限公司",
            "西门子(上海市)电气传动设备有限公司",
        ] {
            assert_eq!(normalise_name(form), siemens, "{form}");
        }
        assert_ne!(
            normalise_name("西门子（苏州）电气传动设备有限公司"),
            siemens
        );
        assert_eq!(normalise_name("三星（中国）投资有限公司"), "三星中国投资");
        // A county-level city, likewise; the prefecture around it is
        // another place.
        let kunshan = normalise_name("昆山精密电子有限公司");
        for form in ["精密电子（昆山）有限公司", "昆山市精密电子有限公司"] {
            assert_eq!(normalise_name(form), kunshan, "{form}");
        }
        assert_ne!(normalise_name("苏州精密电子有限公司"), kunshan);
        assert_eq!(
            normalise_name("芒市咖啡有限公司"),
            normalise_name("咖啡（芒市）有限公司")
        );
        // An autonomous prefecture, a league or an area, without its
        // peoples or its kind, likewise.
        let yanbian = normalise_name("延边长白山旅游有限公司");
        for form in [
            "长白山旅游（延边）有限公司",
            "延边朝鲜族自治州长白山旅游有限公司",
            "长白山旅游（延边朝鲜族自治州）有限公司",
        ] {
            assert_eq!(normalise_name(form), yanbian, "{form}");
        }
        assert_eq!(
            normalise_name("乳业（锡林郭勒）有限公司"),
            normalise_name("锡林郭勒盟乳业有限公司")
        );
        assert_eq!(
            normalise_name("红枣（喀什）有限公司"),
            normalise_name("喀什地区红枣有限公司")
        );
        assert_eq!(
            normalise_name("茶业（西双版纳）有限公司"),
            normalise_name("西双版纳傣族自治州茶业有限公司")
        );
        // 海南藏族自治州 is not 海南, the province.
        assert_ne!(
            normalise_name("海南藏族自治州牧业有限公司"),
            normalise_name("海南牧业有限公司")
        );
        // A county without 县, an autonomous county without its peoples,
        // likewise; a county of one character keeps 县 (和县 is not 和).
        let anji = normalise_name("安吉绿色家居有限公司");
        for form in [
            "安吉县绿色家居有限公司",
            "绿色家居（安吉）有限公司",
            "绿色家居（安吉县）有限公司",
        ] {
            assert_eq!(normalise_name(form), anji, "{form}");
        }
        assert_ne!(normalise_name("德清县绿色家居有限公司"), anji);
        let changyang = normalise_name("长阳清江旅游有限公司");
        for form in [
            "长阳土家族自治县清江旅游有限公司",
            "清江旅游（长阳土家族自治县）有限公司",
        ] {
            assert_eq!(normalise_name(form), changyang, "{form}");
        }
        assert_eq!(
            normalise_name("彭水苗族土家族自治县绿色食品有限公司"),
            normalise_name("彭水绿色食品有限公司")
        );
        assert_eq!(
            normalise_name("和县平安物流有限公司"),
            normalise_name("平安物流（和县）有限公司")
        );
        assert_ne!(
            normalise_name("和县平安物流有限公司"),
            normalise_name("和平安物流有限公司")
        );
        // Brackets that hold no place stay where they are.
        assert_ne!(
            normalise_name("中国建筑（集团）有限公司"),
            normalise_name("集团中国建筑")
        );
        // A name that is only a suffix or punctuation keeps something to
        // compare.
        assert!(!normalise_name("有限公司").is_empty());
        assert_eq!(normalise_name("（·）"), "(·)");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            CustomerName::parse("  华信  集团 ").map(|n| n.0).ok(),
            Some("华信 集团".to_owned())
        );
        assert!(CustomerName::parse("   ").is_err());
        assert!(CustomerName::parse(&"长".repeat(201)).is_err());
        assert!(CustomerName::parse("a\u{7}b").is_err());
    }

    #[test]
    fn r_cus_01_invisible_characters_are_no_part_of_a_name() {
        let pasted = "\u{FEFF}北京燕京\u{200B}建设\u{00AD}第三工程有限公司\u{200D}";
        assert_eq!(
            CustomerName::parse(pasted).map(|n| n.0).ok(),
            Some("北京燕京建设第三工程有限公司".to_owned())
        );
        assert_eq!(
            normalise_name(pasted),
            normalise_name("北京燕京建设第三工程有限公司")
        );
        assert_eq!(fold_width("燕京\u{2060}建设"), "燕京建设");
        // A right-to-left override would show 科技有限公司 stored backwards.
        assert_eq!(
            CustomerName::parse("\u{202E}司公限有技科\u{202C}")
                .map(|n| n.0)
                .ok(),
            Some("司公限有技科".to_owned())
        );
        assert!(CustomerName::parse("\u{200B}\u{200B}").is_err());
    }

    #[test]
    fn r_cus_01_a_name_in_traditional_characters_is_the_same_name() {
        assert_eq!(
            normalise_name("臺灣積體電路製造股份有限公司"),
            normalise_name("台湾积体电路制造有限公司")
        );
        assert_eq!(
            normalise_name("香港中華煤氣有限責任公司"),
            normalise_name("香港中华煤气")
        );
        assert_eq!(search_form("ＡＢＣ 澳門發展"), "abc 澳门发展");
        // Character by character: a part is found wherever its name is.
        assert_eq!(search_form("乾"), "乾");
        assert!(search_form("乾燥設備廠").contains(&search_form("乾燥")));
        // A name is searched without its spaces, and a part with it.
        assert_eq!(name_search_form("深圳市 ＡＢＣ　科技"), "深圳市abc科技");
        assert!(name_search_form("深圳市 ABC 科技有限公司").contains(&name_search_form("abc科技")));
        assert!(name_search_form("深圳市ABC科技有限公司").contains(&name_search_form("ABC 科技")));
        // A search part is its words, each in that form.
        assert_eq!(search_words(" 燕京　ＡＢＣ  集團 "), "燕京 abc 集团");
        assert_eq!(search_words(" \u{3000} "), "");
        // Sort keys and mnemonics read both scripts alike already.
        assert_eq!(sort_key("臺灣"), sort_key("台湾"));
        assert_eq!(mnemonic("澳門"), mnemonic("澳门"));
        assert_eq!(
            CustomerName::parse("臺灣積體電路")
                .map(|n| n.forms().folded)
                .ok(),
            Some("台湾积体电路".to_owned())
        );
    }
}
