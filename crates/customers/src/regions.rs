//! The catalogue of administrative divisions (GB/T 2260) that region codes
//! are judged against: the levels a code names, the divisions above it,
//! how a division's full name is formed, and whether a file may take it.
//! The catalogue itself is data (seeded, kept by administrators).

use crate::{ParseError, RegionCode};

/// Where a division sits: `xx0000` a province, `xxxx00` a prefecture,
/// anything else a county.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionLevel {
    Province,
    Prefecture,
    County,
}

impl RegionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Prefecture => "prefecture",
            Self::County => "county",
        }
    }
}

impl RegionCode {
    pub fn level(&self) -> RegionLevel {
        let s = self.as_str();
        if s.ends_with("0000") {
            RegionLevel::Province
        } else if s.ends_with("00") {
            RegionLevel::Prefecture
        } else {
            RegionLevel::County
        }
    }

    /// The codes from the province down to this one (`440305` → `440000`,
    /// `440300`, `440305`). A county's prefecture code is listed even where
    /// the catalogue has none (municipalities, counties under a province).
    pub fn chain(&self) -> Vec<String> {
        let s = self.as_str();
        let province = format!("{}0000", &s[..2]);
        let prefecture = format!("{}00", &s[..4]);
        match self.level() {
            RegionLevel::Province => vec![province],
            RegionLevel::Prefecture => vec![province, prefecture],
            RegionLevel::County => vec![province, prefecture, s.to_owned()],
        }
    }

    /// The division directly above this one: the prefecture, where the
    /// catalogue has it, else the province; none above a province.
    pub fn parent(&self, prefecture_known: bool) -> Option<String> {
        let chain = self.chain();
        match self.level() {
            RegionLevel::Province => None,
            RegionLevel::Prefecture => chain.first().cloned(),
            RegionLevel::County if prefecture_known => chain.get(1).cloned(),
            RegionLevel::County => chain.first().cloned(),
        }
    }
}

/// The full name of a division from the names along its chain, province
/// first: 广东省 深圳市 南山区 → 广东省深圳市南山区, as addresses write it.
pub fn full_name<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().collect()
}

/// A division's own name: 1 to 50 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionName(String);

impl RegionName {
    pub const MAX: usize = 50;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        let n = s.chars().count();
        if n == 0 || n > Self::MAX {
            return Err(ParseError::new(
                "invalid_length",
                format!("a region's name has 1 to {} characters", Self::MAX),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(ParseError::new(
                "invalid_format",
                "a region's name cannot hold control characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the catalogue says of a code a file is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub active: bool,
    pub full_name: String,
}

/// Whether a file may take `code` now, given what the catalogue holds of
/// it; the division's full name if so. Codes already on a file are never
/// judged again (a district merged away stays on the files that had it).
pub fn judge_use(code: &str, entry: Option<&CatalogueEntry>) -> Result<String, ParseError> {
    match entry {
        Some(e) if e.active => Ok(e.full_name.clone()),
        Some(_) => Err(ParseError::new(
            "retired_region",
            format!("{code} is a withdrawn division; use its successor"),
        )),
        None => Err(ParseError::new(
            "unknown_region",
            format!("{code} is not in the catalogue of divisions (GET /api/v1/regions)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    #[test]
    fn r_cus_03_codes_know_their_level_and_the_divisions_above() {
        assert_eq!(code("440000").level(), RegionLevel::Province);
        assert_eq!(code("440300").level(), RegionLevel::Prefecture);
        assert_eq!(code("440305").level(), RegionLevel::County);
        assert_eq!(code("440305").chain(), ["440000", "440300", "440305"]);
        assert_eq!(code("440300").chain(), ["440000", "440300"]);
        assert_eq!(code("110000").chain(), ["110000"]);
        assert_eq!(code("440305").parent(true).as_deref(), Some("440300"));
        // A county under a municipality or straight under its province.
        assert_eq!(code("429004").parent(false).as_deref(), Some("420000"));
        assert_eq!(code("440300").parent(true).as_deref(), Some("440000"));
        assert_eq!(code("440000").parent(true), None);
    }

    #[test]
    fn r_cus_03_full_names_read_as_addresses_write_them() {
        assert_eq!(
            full_name(["广东省", "深圳市", "南山区"]),
            "广东省深圳市南山区"
        );
        assert_eq!(full_name(["北京市", "朝阳区"]), "北京市朝阳区");
    }

    #[test]
    fn r_cus_03_a_file_takes_only_a_listed_active_division() {
        let live = CatalogueEntry {
            active: true,
            full_name: "北京市朝阳区".into(),
        };
        assert_eq!(
            judge_use("110105", Some(&live)).ok().as_deref(),
            Some("北京市朝阳区")
        );
        let gone = CatalogueEntry {
            active: false,
            ..live
        };
        assert_eq!(
            judge_use("110103", Some(&gone)).map_err(|e| e.code),
            Err("retired_region")
        );
        assert_eq!(
            judge_use("110199", None).map_err(|e| e.code),
            Err("unknown_region")
        );
    }

    #[test]
    fn region_names_are_bounded() {
        assert_eq!(
            RegionName::parse(" 雄安新区 ").map(|n| n.as_str().to_owned()),
            Ok("雄安新区".to_owned())
        );
        assert!(RegionName::parse("").is_err());
        assert!(RegionName::parse(&"区".repeat(51)).is_err());
        assert!(RegionName::parse("a\u{7}").is_err());
    }
}
