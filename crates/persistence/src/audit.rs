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
    /// Holds the write under way until every copy of it is dropped, where
    /// it was stamped through [`crate::writes_in_flight`].
    pub held: Option<crate::writes_in_flight::Held>,
}

impl WriteMeta {
    /// A write made by the system itself (CLI, seeding, jobs).
    pub fn system(at: Timestamp) -> Self {
        Self {
            actor_id: None,
            request_id: None,
            client_ip: None,
            at,
            held: None,
        }
    }

    /// A write made by the system while the server runs, held under way
    /// in `db` until its last copy is dropped.
    pub fn system_in(db: &crate::Db, now: impl FnOnce() -> Timestamp) -> Self {
        let (at, held) = db.writes().start(now);
        Self {
            held: Some(held),
            ..Self::system(at)
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

/// Inserted with every column bound, an empty one as NULL: diesel keeps
/// such an insert prepared, while with `DEFAULT` for empty columns its SQL
/// would vary and PostgreSQL would parse and plan it every time.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
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
    // The event names what changed, never the contents: those are in the
    // audit entry, and a receiver reads the file through the API, where
    // its scope and the read register apply (CUS-08).
    let mut payload = serde_json::json!({
        "type": topic,
        "entity_type": change.entity_type,
        "entity_id": change.entity_id,
        "occurred_at": chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(meta.at, chrono::Utc),
        "actor_id": meta.actor_id,
        "request_id": meta.request_id,
    });
    let files = files_concerned(change.entity_type, change.entity_id, change.after.as_ref());
    if !files.is_empty() {
        payload["customer_ids"] = files.into();
    }
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

/// The customer files an event concerns, which its envelope names
/// (`customer_ids`) so a receiver knows which file to read again: the file
/// itself, the file a contact, document or request hangs on, both ends of
/// a relation, the file a merge absorbed. `after` is the change's state
/// after it.
pub fn files_concerned(
    entity_type: &str,
    entity_id: &str,
    after: Option<&serde_json::Value>,
) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    if entity_type == "customer" {
        files.push(entity_id.to_owned());
    }
    if let Some(after) = after {
        for key in ["customer_id", "from_id", "to_id", "absorbed_id"] {
            if let Some(id) = after.get(key).and_then(|v| v.as_str()) {
                files.push(id.to_owned());
            }
        }
    }
    files
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn event(entity_type: &str, entity_id: &str, after: Value) -> Value {
        let meta = WriteMeta::system(chrono::NaiveDate::default().and_time(Default::default()));
        let (entry, event) = entries(
            &meta,
            &Change {
                action: "created",
                entity_type,
                entity_id,
                before: None,
                after: Some(after),
            },
        );
        assert!(entry.after_json.is_some_and(|a| a.contains("秘密")));
        serde_json::from_str(&event.payload).unwrap_or_default()
    }

    #[test]
    fn an_event_names_the_files_it_concerns_and_none_of_their_contents() {
        let file = event("customer", "c1", json!({"id": "c1", "name": "秘密公司"}));
        assert_eq!(file["type"], "customer.created");
        assert_eq!(file["customer_ids"], json!(["c1"]));
        assert!(file.get("data").is_none() && !file.to_string().contains("秘密"));
        let contact = event(
            "contact",
            "k1",
            json!({"customer_id": "c2", "name": "秘密"}),
        );
        assert_eq!(contact["customer_ids"], json!(["c2"]));
        let relation = event(
            "relation",
            "r1",
            json!({"from_id": "c1", "to_id": "c2", "n": "秘密"}),
        );
        assert_eq!(relation["customer_ids"], json!(["c1", "c2"]));
        let merge = event("customer", "c1", json!({"absorbed_id": "c3", "n": "秘密"}));
        assert_eq!(merge["customer_ids"], json!(["c1", "c3"]));
        let unit = event("org_unit", "u1", json!({"name": "秘密"}));
        assert!(unit.get("customer_ids").is_none(), "{unit}");
    }
}
