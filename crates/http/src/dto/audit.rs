//! The audit log, as auditors read it.

use super::{page_of, utc};
use chrono::{DateTime, Utc};
use clientele_persistence::audit::AuditRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub at: DateTime<Utc>,
    /// Who acted; `null` for the system itself.
    pub actor_id: Option<uuid::Uuid>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The entity before the change.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The entity after the change.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id.parse().unwrap_or_default(),
            at: utc(r.at),
            actor_id: r.actor_id.and_then(|a| a.parse().ok()),
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            before: super::stored_json(r.before_json, None),
            after: super::stored_json(r.after_json, None),
            request_id: r.request_id,
            client_ip: r.client_ip,
        }
    }
}

page_of!(AuditPage, AuditEntry);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    #[param(max_length = 64)]
    pub entity_type: Option<String>,
    #[param(max_length = 64)]
    pub entity_id: Option<String>,
    pub actor_id: Option<uuid::Uuid>,
    #[param(max_length = 64)]
    pub action: Option<String>,
    /// Entries at or after this instant.
    #[serde(default, deserialize_with = "crate::dto::query_time")]
    pub since: Option<DateTime<Utc>>,
    /// Entries before this instant.
    #[serde(default, deserialize_with = "crate::dto::query_time")]
    pub until: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}
