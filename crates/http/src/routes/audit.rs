//! The audit log, for administrators and auditors (ORG-03).

use crate::dto::audit::{AuditEntry, AuditPage, AuditQuery};
use crate::error::ApiError;
use crate::extract::{Auth, PageParams, ValidQuery};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use clientele_persistence::audit::{self, AuditFilter};

/// Query the audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit-log", tag = "audit", security(("bearer" = [])),
    params(AuditQuery), responses((status = 200, body = AuditPage)))]
pub async fn list_audit_log(
    st: web::Data<AppState>,
    auth: Auth,
    q: ValidQuery<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require_reader_of_all()?;
    let q = q.into_inner();
    let (limit, cursor) = PageParams::of(q.limit, q.cursor).parse()?;
    for (name, v) in [
        ("entity_type", &q.entity_type),
        ("entity_id", &q.entity_id),
        ("action", &q.action),
    ] {
        if v.as_ref().is_some_and(|s| s.is_empty() || s.len() > 64) {
            return Err(ApiError::bad_parameter(
                name,
                "invalid_length",
                format!("{name} must have 1 to 64 characters"),
            ));
        }
    }
    let f = AuditFilter {
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        actor_id: q.actor_id.map(|a| a.to_string()),
        action: q.action,
        since: q.since.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
    };
    let page = st
        .read(move |c| audit::list(c, &f, limit, cursor.as_ref()))
        .await?;
    Ok(HttpResponse::Ok().json(AuditPage::from_page(page, AuditEntry::from)))
}
