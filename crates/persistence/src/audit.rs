//! The append-only audit log (ORG-03): who did what, when, from where, with
//! the state before and after. Written in the same transaction as the change,
//! together with its outbox event. The tables refuse UPDATE and DELETE.

use crate::error::Result;
use crate::page::Page;
use crate::schema::audit_log;
use crate::{outbox, DbConn, Timestamp};
use clientele_core::{new_id, Cursor};
use diesel::prelude::*;
use serde::Serialize;

/// Who is writing, and from where; carried into every write.
#[derive(Debug, Clone)]
pub struct WriteMeta {
    pub actor_id: Option<String>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    pub at: Timestamp,
}

impl WriteMeta {
    /// A write made by the system itself (CLI, seeding, jobs).
    pub fn system(at: Timestamp) -> Self {
        Self {
            actor_id: None,
            request_id: None,
            client_ip: None,
            at,
        }
    }
}

/// A change to record: audit entry plus the outbox event named `topic`.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub at: Timestamp,
    pub actor_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

impl AuditRow {
    /// The customer files whose contents this entry shows (its snapshots
    /// are copies of a file or of one of its parts): reading it is a read
    /// of them (CUS-08).
    pub fn files_shown(&self) -> Vec<String> {
        let keys: &[&str] = match self.entity_type.as_str() {
            "customer" => return vec![self.entity_id.clone()],
            "contact" | "document" => &["customer_id"],
            "relation" => &["from_id", "to_id"],
            _ => return Vec::new(),
        };
        let mut files: Vec<String> = Vec::new();
        for json in [&self.before_json, &self.after_json].into_iter().flatten() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else {
                continue;
            };
            for key in keys {
                if let Some(id) = v[*key].as_str() {
                    if !files.iter().any(|f| f == id) {
                        files.push(id.to_owned());
                    }
                }
            }
        }
        files
    }
}

/// Writes the audit entry and the outbox event `<entity_type>.<action>`.
pub fn record(conn: &mut DbConn, meta: &WriteMeta, change: Change<'_>) -> Result<()> {
    let (row, event) = entries(meta, &change);
    diesel::insert_into(audit_log::table)
        .values(&row)
        .execute(conn)?;
    diesel::insert_into(crate::schema::outbox::table)
        .values(&event)
        .execute(conn)?;
    Ok(())
}

/// The audit entry of a change and its outbox event `<entity_type>.<action>`,
/// for [`record`] or a caller that writes many at once.
pub fn entries(meta: &WriteMeta, change: &Change<'_>) -> (AuditRow, outbox::OutboxRow) {
    let row = AuditRow {
        id: new_id().to_string(),
        at: meta.at,
        actor_id: meta.actor_id.clone(),
        action: change.action.to_owned(),
        entity_type: change.entity_type.to_owned(),
        entity_id: change.entity_id.to_owned(),
        before_json: change.before.as_ref().map(|v| v.to_string()),
        after_json: change.after.as_ref().map(|v| v.to_string()),
        request_id: meta.request_id.clone(),
        client_ip: meta.client_ip.clone(),
    };
    let topic = format!("{}.{}", change.entity_type, change.action);
    let payload = serde_json::json!({
        "type": topic,
        "entity_type": change.entity_type,
        "entity_id": change.entity_id,
        "occurred_at": chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(meta.at, chrono::Utc),
        "actor_id": meta.actor_id,
        "request_id": meta.request_id,
        "data": change.after,
    });
    let event = outbox::OutboxRow {
        id: new_id().to_string(),
        created_at: meta.at,
        topic,
        entity_type: change.entity_type.to_owned(),
        entity_id: change.entity_id.to_owned(),
        payload: payload.to_string(),
        published_at: None,
    };
    (row, event)
}

/// What an auditor may filter the log by.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// Newest first; ids are time-ordered so the id alone is the keyset.
pub fn list(
    conn: &mut DbConn,
    f: &AuditFilter,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<AuditRow>> {
    let mut q = audit_log::table.into_boxed();
    if let Some(v) = &f.entity_type {
        q = q.filter(audit_log::entity_type.eq(v.clone()));
    }
    if let Some(v) = &f.entity_id {
        q = q.filter(audit_log::entity_id.eq(v.clone()));
    }
    if let Some(v) = &f.actor_id {
        q = q.filter(audit_log::actor_id.eq(v.clone()));
    }
    if let Some(v) = &f.action {
        q = q.filter(audit_log::action.eq(v.clone()));
    }
    if let Some(v) = f.since {
        q = q.filter(audit_log::at.ge(v));
    }
    if let Some(v) = f.until {
        q = q.filter(audit_log::at.lt(v));
    }
    if let Some(c) = after {
        q = q.filter(audit_log::id.lt(c.id.clone()));
    }
    let rows = q
        .order(audit_log::id.desc())
        .limit(i64::from(limit) + 1)
        .select(AuditRow::as_select())
        .load(conn)?;
    Ok(Page::by_id(rows, limit, |r| &r.id))
}
