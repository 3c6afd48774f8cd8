//! The audit log, for administrators and auditors (ORG-03).

use crate::dto::audit::{AuditEntry, AuditPage, AuditQuery};
use crate::error::ApiError;
use crate::extract::{Auth, PageParams, ReqCtx, ValidQuery};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use clientele_persistence::audit::{self, AuditFilter};
use clientele_persistence::customer_access::{self, AccessEntry};

/// Query the audit log, newest first. An entry about a customer file, its
/// contacts, documents or relations carries copies of them: the page is
/// registered as a read (`audit_log`) of every file it shows (CUS-08).
#[utoipa::path(get, path = "/api/v1/audit-log", tag = "audit", security(("bearer" = [])),
    params(AuditQuery), responses((status = 200, body = AuditPage)))]
pub async fn list_audit_log(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    q: ValidQuery<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require_reader_of_all()?;
    let meta = ctx.meta(&st, Some(&auth.0));
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
        .write(move |c| {
            let page = audit::list(c, &f, limit, cursor.as_ref())?;
            let mut shown: Vec<AccessEntry> = Vec::new();
            for file in page.items.iter().flat_map(|row| row.files_shown()) {
                if !shown.iter().any(|e| e.customer_id == file) {
                    shown.push(AccessEntry {
                        customer_id: file,
                        action: "audit_log",
                        detail: None,
                        grant_id: None,
                    });
                }
            }
            customer_access::register(c, &meta, &shown)?;
            Ok(page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(AuditPage::from_page(page, AuditEntry::from)))
}
