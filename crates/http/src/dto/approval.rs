//! Approval authority (ORG-02).

use super::org::RoleDto;
use super::{page_of, utc};
use chrono::{DateTime, Utc};
use clientele_persistence::approval_rules::RuleRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalRule {
    pub id: uuid::Uuid,
    /// What is approved, e.g. `contract`.
    pub subject: String,
    #[schema(value_type = RoleDto)]
    pub role: String,
    /// Highest amount the role may approve, in minor units (fen), inclusive; `null`: any amount.
    pub limit_minor: Option<i64>,
    pub currency: String,
    pub note: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<RuleRow> for ApprovalRule {
    fn from(r: RuleRow) -> Self {
        Self {
            id: r.id.parse().unwrap_or_default(),
            subject: r.subject,
            role: r.role,
            limit_minor: r.limit_minor,
            currency: r.currency,
            note: r.note,
            version: r.version,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

page_of!(ApprovalRulePage, ApprovalRule);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApprovalRule {
    #[validate(length(min = 2, max = 64))]
    #[schema(
        min_length = 2,
        max_length = 64,
        pattern = "^[a-z][a-z0-9_]*$",
        example = "contract"
    )]
    pub subject: String,
    pub role: RoleDto,
    /// Inclusive cap in minor units; absent or null: any amount.
    #[serde(default, deserialize_with = "super::whole_number")]
    #[validate(range(min = 0))]
    #[schema(minimum = 0)]
    pub limit_minor: Option<i64>,
    /// ISO 4217; defaults to CNY.
    #[validate(length(equal = 3))]
    #[schema(
        min_length = 3,
        max_length = 3,
        pattern = "^[A-Z]{3}$",
        example = "CNY"
    )]
    pub currency: Option<String>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Replaces the cap and note of a rule (subject and role are its identity).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRuleChanges {
    #[serde(default, deserialize_with = "super::whole_number")]
    #[validate(range(min = 0))]
    #[schema(minimum = 0)]
    pub limit_minor: Option<i64>,
    #[validate(length(equal = 3))]
    #[schema(min_length = 3, max_length = 3, pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DecisionQuery {
    /// What is to be approved.
    #[param(min_length = 2, max_length = 64, pattern = "^[a-z][a-z0-9_]*$")]
    pub subject: String,
    /// The amount in minor units, if it has one.
    #[param(minimum = 0)]
    pub amount_minor: Option<i64>,
    /// ISO 4217, default CNY.
    #[param(min_length = 3, max_length = 3, pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

/// Who may approve this, and whether the caller may.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalDecision {
    pub subject: String,
    pub amount_minor: Option<i64>,
    pub currency: String,
    #[schema(value_type = Vec<RoleDto>)]
    pub approving_roles: Vec<String>,
    pub caller_may_approve: bool,
}
