//! Export requests (CUS-08): asking a manager for an export one's role
//! does not allow, the decision, and the request as it stands.

use super::{page_of, utc};
use chrono::{DateTime, Utc};
use clientele_persistence::export_requests::ExportRequestRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExportRequest {
    /// Which files: the list's filters as a query string
    /// (`region=1101&status=active`), as `GET /customers` takes them; empty
    /// for every file in sight. Paging and format are chosen at export.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000, example = "region=1101&status=active")]
    pub filter: String,
    /// What the files are needed for, for the manager and the auditors.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub purpose: String,
    /// For how many days an approval lets the export be taken, 1 to 7
    /// (default 1).
    #[validate(range(min = 1, max = 7))]
    #[schema(minimum = 1, maximum = 7)]
    pub days: Option<i32>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportRequestStatusDto {
    Pending,
    Approved,
    Refused,
    /// Taken back by the requester before a decision.
    Withdrawn,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportRequest {
    pub id: uuid::Uuid,
    pub requested_by: uuid::Uuid,
    /// The requester's unit when asking; the export is taken from it.
    pub unit_id: uuid::Uuid,
    /// The list's filters, as a query string.
    pub filter: String,
    pub purpose: String,
    pub days: i32,
    #[schema(value_type = ExportRequestStatusDto)]
    pub status: String,
    pub decided_by: Option<uuid::Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    /// An approved request lets the requester export until then.
    pub valid_until: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl From<ExportRequestRow> for ExportRequest {
    fn from(r: ExportRequestRow) -> Self {
        let unit = clientele_core::UnitPath::parse(&r.unit_path)
            .ok()
            .and_then(|p| p.ids().last().copied());
        Self {
            id: r.id.parse().unwrap_or_default(),
            requested_by: r.requested_by.parse().unwrap_or_default(),
            unit_id: unit.map(|u| u.as_uuid()).unwrap_or_default(),
            filter: r.filter,
            purpose: r.purpose,
            days: r.days,
            status: r.status,
            decided_by: r.decided_by.and_then(|d| d.parse().ok()),
            decided_at: r.decided_at.map(utc),
            decision_note: r.decision_note,
            valid_until: r.valid_until.map(utc),
            version: r.version,
            created_at: utc(r.created_at),
        }
    }
}

page_of!(ExportRequestPage, ExportRequest);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportDecision {
    pub approve: bool,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}
