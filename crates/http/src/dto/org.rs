//! Organisation: units, users, service accounts, the caller's own profile.

use super::{page_of, utc};
use chrono::{DateTime, Utc};
use clientele_persistence::{units::UnitRow, users::UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Kinds of unit (ORG-01).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKindDto {
    Company,
    Department,
    Branch,
    Subsidiary,
    ProjectTeam,
}

impl UnitKindDto {
    pub fn domain(self) -> clientele_core::UnitKind {
        use clientele_core::UnitKind as K;
        match self {
            UnitKindDto::Company => K::Company,
            UnitKindDto::Department => K::Department,
            UnitKindDto::Branch => K::Branch,
            UnitKindDto::Subsidiary => K::Subsidiary,
            UnitKindDto::ProjectTeam => K::ProjectTeam,
        }
    }
}

/// Roles (ORG-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleDto {
    Admin,
    Manager,
    AccountManager,
    ServiceAgent,
    Quality,
    Legal,
    Auditor,
    Integration,
}

impl RoleDto {
    pub fn domain(self) -> clientele_core::Role {
        use clientele_core::Role as R;
        match self {
            RoleDto::Admin => R::Admin,
            RoleDto::Manager => R::Manager,
            RoleDto::AccountManager => R::AccountManager,
            RoleDto::ServiceAgent => R::ServiceAgent,
            RoleDto::Quality => R::Quality,
            RoleDto::Legal => R::Legal,
            RoleDto::Auditor => R::Auditor,
            RoleDto::Integration => R::Integration,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Unit {
    pub id: uuid::Uuid,
    pub parent_id: Option<uuid::Uuid>,
    /// Ids from the root down to this unit, `/root/…/id/`.
    pub path: String,
    pub code: String,
    pub name: String,
    #[schema(value_type = UnitKindDto)]
    pub kind: String,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UnitRow> for Unit {
    fn from(r: UnitRow) -> Self {
        Self {
            id: r.id.parse().unwrap_or_default(),
            parent_id: r.parent_id.and_then(|p| p.parse().ok()),
            path: r.path,
            code: r.code,
            name: r.name,
            kind: r.kind,
            active: r.active,
            version: r.version,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

page_of!(UnitPage, Unit);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    /// Absent only for a company (the root).
    pub parent_id: Option<uuid::Uuid>,
    /// Short unique code, e.g. `BJ-BRANCH`.
    #[validate(length(min = 1, max = 32), regex(path = *CODE_RE, code = "invalid_format"))]
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = "^[A-Za-z0-9][A-Za-z0-9_.-]*$"
    )]
    pub code: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: UnitKindDto,
}

pub static CODE_RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new("^[A-Za-z0-9][A-Za-z0-9_.-]*$").unwrap_or_else(|_| unreachable!())
});

/// Change a unit; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitChanges {
    #[validate(length(min = 1, max = 32), regex(path = *CODE_RE, code = "invalid_format"))]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 32,
        pattern = "^[A-Za-z0-9][A-Za-z0-9_.-]*$"
    )]
    #[serde(default, deserialize_with = "super::present")]
    pub code: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    #[serde(default, deserialize_with = "super::present")]
    pub name: Option<String>,
    /// Deactivate (false) or reactivate (true); a unit with active sub-units,
    /// active users or customer files of its own cannot be deactivated (409
    /// `unit_in_use`; its files move with `POST /customers/unit-transfer`).
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub active: Option<bool>,
    /// Move the unit, with its whole subtree, under another parent.
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub parent_id: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountKindDto {
    Person,
    Service,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub id: uuid::Uuid,
    #[schema(value_type = AccountKindDto)]
    pub kind: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub unit_id: uuid::Uuid,
    /// Secrecy level code the user is cleared for (CUS-07).
    pub clearance: String,
    pub active: bool,
    #[schema(value_type = Vec<RoleDto>)]
    pub roles: Vec<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UserRecord> for User {
    fn from(r: UserRecord) -> Self {
        Self {
            id: r.id.parse().unwrap_or_default(),
            kind: r.kind,
            username: r.username,
            display_name: r.display_name,
            email: r.email,
            unit_id: r.unit_id.parse().unwrap_or_default(),
            clearance: r.clearance,
            active: r.active,
            roles: r.roles,
            version: r.version,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

page_of!(UserPage, User);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 3–64 characters of a-z, 0-9, `.`, `_`, `-` (stored lower-case).
    #[validate(length(min = 3, max = 64))]
    #[schema(
        min_length = 3,
        max_length = 64,
        pattern = "^[A-Za-z0-9._-]+$",
        example = "zhang.san"
    )]
    pub username: String,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, example = "张三")]
    pub display_name: String,
    #[validate(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// At least 10 characters.
    #[validate(length(min = 10, max = 256))]
    #[schema(min_length = 10, max_length = 256, format = Password)]
    pub password: String,
    pub unit_id: uuid::Uuid,
    /// Defaults to the lowest level.
    #[validate(length(min = 1, max = 16))]
    #[schema(min_length = 1, max_length = 16)]
    pub clearance: Option<String>,
    #[validate(length(max = 8))]
    #[schema(max_items = 8)]
    pub roles: Vec<RoleDto>,
}

/// Change a user; absent fields stay; `email: null` clears it.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    #[validate(length(min = 1, max = 100))]
    #[schema(nullable = false, min_length = 1, max_length = 100)]
    #[serde(default, deserialize_with = "super::present")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub unit_id: Option<uuid::Uuid>,
    #[validate(length(min = 1, max = 16))]
    #[schema(nullable = false, min_length = 1, max_length = 16)]
    #[serde(default, deserialize_with = "super::present")]
    pub clearance: Option<String>,
    #[validate(length(max = 8))]
    #[schema(nullable = false, max_items = 8)]
    #[serde(default, deserialize_with = "super::present")]
    pub roles: Option<Vec<RoleDto>>,
    /// false deactivates: every session of the user ends at once.
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    #[validate(length(min = 10, max = 256))]
    #[schema(min_length = 10, max_length = 256, format = Password)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewServiceAccount {
    /// The client id the system will sign in with.
    #[validate(length(min = 3, max = 64))]
    #[schema(
        min_length = 3,
        max_length = 64,
        pattern = "^[A-Za-z0-9._-]+$",
        example = "erp-finance"
    )]
    pub client_id: String,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, example = "ERP finance link")]
    pub display_name: String,
    /// The unit whose data the account works with (its scope).
    pub unit_id: uuid::Uuid,
    #[validate(length(min = 1, max = 16))]
    #[schema(min_length = 1, max_length = 16)]
    pub clearance: Option<String>,
    /// Defaults to `integration`.
    #[validate(length(max = 8))]
    #[schema(max_items = 8)]
    pub roles: Option<Vec<RoleDto>>,
}

/// The account and its secret; the secret is shown this once only.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceAccountCredentials {
    pub account: User,
    pub client_id: String,
    pub client_secret: String,
}

/// The caller's own profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: uuid::Uuid,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = AccountKindDto)]
    pub kind: String,
    pub unit_id: uuid::Uuid,
    pub unit_path: String,
    #[schema(value_type = Vec<RoleDto>)]
    pub roles: Vec<String>,
    pub clearance: String,
    pub session_id: uuid::Uuid,
    /// What the account may do, by the rules the API itself applies, so a
    /// front-end shows the actions it will be allowed and hides the others.
    pub may: Capabilities,
}

/// What an account may do with customer files and the organisation. Each
/// flag is the rule the API applies (403 where it is false); a file the
/// account may not see still answers 404 whatever these say.
#[derive(Debug, Serialize, ToSchema)]
pub struct Capabilities {
    /// Create files and change those of its own units (CUS-04).
    pub edit_files: bool,
    /// Hand files over between keepers, move a unit's files to another
    /// unit (CUS-10) and merge duplicates (CUS-01).
    pub manage_files: bool,
    /// Export files as CSV or NDJSON (CUS-08: files leave the archive only
    /// with permission).
    pub export_files: bool,
    /// See registered capital, credit standing, trading terms and past
    /// credit problems (the field-level rule).
    pub see_financial_fields: bool,
    /// Read every unit's files and the read register (CUS-08).
    pub read_everything: bool,
    /// Decide and end outside-access requests (CUS-09).
    pub decide_outside_access: bool,
    /// Administer units, people, service accounts, secrecy levels,
    /// regions, approval rules and webhooks.
    pub administer: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecrecyLevel {
    pub code: String,
    /// Higher is more secret.
    pub rank: i32,
    pub name: String,
    /// The version the level's ETag names.
    pub version: i64,
}

impl From<clientele_persistence::secrecy::SecrecyLevelRow> for SecrecyLevel {
    fn from(r: clientele_persistence::secrecy::SecrecyLevelRow) -> Self {
        Self {
            code: r.code,
            rank: r.rank,
            name: r.name,
            version: r.version,
        }
    }
}

/// A secrecy level to add (admin). Its rank places it among the others;
/// the lowest level is the default for new files and accounts.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSecrecyLevel {
    #[validate(length(min = 1, max = 16))]
    #[schema(
        min_length = 1,
        max_length = 16,
        pattern = "^[A-Z0-9_]+$",
        example = "S"
    )]
    pub code: String,
    #[validate(length(min = 1, max = 50))]
    #[schema(min_length = 1, max_length = 50, example = "绝密 top secret")]
    pub name: String,
    /// Higher is more secret; no two levels share a rank.
    #[validate(range(min = 1, max = 1_000_000))]
    #[schema(minimum = 1, maximum = 1_000_000, example = 4)]
    pub rank: i32,
}

/// Renames a level, or renumbers it between the same neighbours (to make
/// room for a new level); the order of levels never changes.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecrecyLevelChanges {
    #[validate(length(min = 1, max = 50))]
    #[schema(nullable = false, min_length = 1, max_length = 50)]
    #[serde(default, deserialize_with = "super::present")]
    pub name: Option<String>,
    #[validate(range(min = 1, max = 1_000_000))]
    #[schema(nullable = false, minimum = 1, maximum = 1_000_000)]
    #[serde(default, deserialize_with = "super::present")]
    pub rank: Option<i32>,
}
