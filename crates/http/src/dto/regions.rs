//! The catalogue of administrative divisions (GB/T 2260) that a file's
//! `region_code` is judged against.

use super::{page_of, utc};
use chrono::{DateTime, Utc};
use clientele_customers::RegionLevel;
use clientele_persistence::regions::RegionView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Where a division sits: province (`xx0000`), prefecture (`xxxx00`) or
/// county (any other code).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevelDto {
    Province,
    Prefecture,
    County,
}

impl RegionLevelDto {
    pub fn domain(self) -> RegionLevel {
        match self {
            Self::Province => RegionLevel::Province,
            Self::Prefecture => RegionLevel::Prefecture,
            Self::County => RegionLevel::County,
        }
    }

    fn of(level: RegionLevel) -> Self {
        match level {
            RegionLevel::Province => Self::Province,
            RegionLevel::Prefecture => Self::Prefecture,
            RegionLevel::County => Self::County,
        }
    }
}

/// An administrative division a file's `region_code` may name.
#[derive(Debug, Serialize, ToSchema)]
pub struct Region {
    #[schema(example = "440305", pattern = "^[0-9]{6}$")]
    pub code: String,
    /// Its own name.
    #[schema(example = "南山区")]
    pub name: String,
    /// The names from its province down, as a file's `region_name` shows it.
    #[schema(example = "广东省深圳市南山区")]
    pub full_name: String,
    pub level: RegionLevelDto,
    /// The division directly above (the prefecture, or the province where
    /// there is none); `null` for a province.
    #[schema(example = "440300", pattern = "^[0-9]{6}$")]
    pub parent_code: Option<String>,
    /// `false`: withdrawn; files that have it keep it, no file takes it anew.
    pub active: bool,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl From<RegionView> for Region {
    fn from(v: RegionView) -> Self {
        let level = clientele_customers::RegionCode::parse(&v.row.code)
            .map_or(RegionLevelDto::County, |c| RegionLevelDto::of(c.level()));
        Self {
            code: v.row.code,
            name: v.row.name,
            full_name: v.full_name,
            level,
            parent_code: v.row.parent_code,
            active: v.row.active,
            version: v.row.version,
            updated_at: utc(v.row.updated_at),
        }
    }
}

page_of!(RegionPage, Region);

/// A division to add to the catalogue (a new district, a renumbered one).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegion {
    #[validate(length(equal = 6))]
    #[schema(
        min_length = 6,
        max_length = 6,
        pattern = "^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|7[1]|8[12])[0-9]{4}$",
        example = "130630"
    )]
    pub code: String,
    #[validate(length(min = 1, max = 50))]
    #[schema(min_length = 1, max_length = 50, example = "雄安新区")]
    pub name: String,
}

/// Renames a division, withdraws it (`active: false`) or brings it back.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionChanges {
    #[validate(length(min = 1, max = 50))]
    #[schema(nullable = false, min_length = 1, max_length = 50)]
    #[serde(default, deserialize_with = "super::present")]
    pub name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub active: Option<bool>,
}
