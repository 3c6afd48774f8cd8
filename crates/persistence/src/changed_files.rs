//! What changes to customer files write besides their rows — history
//! entries, audit entries and events — gathered over many files and
//! written together: on PostgreSQL many rows a statement, where one
//! statement each was most of an ERP import's round trips when it changed
//! files. Each file's row is written on its own, as it changes.

use crate::audit::{AuditRow, WriteMeta};
use crate::customers::{ChangeRow, FieldChange};
use crate::error::Result;
use crate::outbox::OutboxRow;
use crate::schema::{audit_log, customer_changes, customers, outbox};
use crate::{DbConn, Timestamp};
use clientele_core::new_id;
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};

/// Rows a statement inserts at most on PostgreSQL, which binds up to
/// 65 535 parameters (a history entry has ten).
const CHUNK: usize = 1000;

/// Records of changed files not yet written.
#[derive(Default)]
pub struct ChangedFiles {
    changes: Vec<ChangeRow>,
    audit: Vec<AuditRow>,
    events: Vec<OutboxRow>,
    /// Files whose part changed, and when: each file's `updated_at` is set
    /// once at the end, not once a part (on PostgreSQL every new version
    /// of a file's row is an entry in each of the files' indexes).
    touched: Vec<(String, Timestamp)>,
}

/// How much [`ChangedFiles`] held at a moment, to forget what came after.
#[derive(Debug, Clone, Copy)]
pub struct Mark(usize, usize, usize, usize);

impl ChangedFiles {
    /// A file's field changes, as its history entries.
    pub fn add_changes(&mut self, meta: &WriteMeta, customer_id: &str, changes: &[FieldChange]) {
        self.changes.extend(changes.iter().map(|c| ChangeRow {
            id: new_id().to_string(),
            customer_id: customer_id.to_owned(),
            at: meta.at,
            actor_id: meta.actor_id.clone(),
            entity: c.entity.to_owned(),
            entity_id: c.entity_id.clone(),
            field: c.field.clone(),
            old_value: c.old.as_ref().map(|v| v.to_string()),
            new_value: c.new.as_ref().map(|v| v.to_string()),
            request_id: meta.request_id.clone(),
        }));
    }

    /// A change's audit entry and its event ([`audit::entries`](crate::audit::entries)).
    pub fn add_audit(&mut self, entry: AuditRow, event: OutboxRow) {
        self.audit.push(entry);
        self.events.push(event);
    }

    /// A file changed at `at` by a change of one of its parts.
    pub fn touch(&mut self, customer_id: &str, at: Timestamp) {
        self.touched.push((customer_id.to_owned(), at));
    }

    pub fn mark(&self) -> Mark {
        Mark(
            self.changes.len(),
            self.audit.len(),
            self.events.len(),
            self.touched.len(),
        )
    }

    /// Forgets what was added since `mark` (its changes rolled back).
    pub fn forget_since(&mut self, mark: Mark) {
        self.changes.truncate(mark.0);
        self.audit.truncate(mark.1);
        self.events.truncate(mark.2);
        self.touched.truncate(mark.3);
    }

    /// Writes everything gathered, in the caller's transaction.
    pub fn write(mut self, conn: &mut DbConn) -> Result<()> {
        insert_rows!(conn, customer_changes::table, &self.changes, CHUNK, |r| r);
        insert_rows!(conn, audit_log::table, &self.audit, CHUNK, |r| r);
        insert_rows!(conn, outbox::table, &self.events, CHUNK, |r| r);
        // The latest moment each file was touched, one statement a
        // thousand files of a moment.
        self.touched
            .sort_unstable_by(|a, b| (&a.0, b.1).cmp(&(&b.0, a.1)));
        self.touched.dedup_by(|a, b| a.0 == b.0);
        self.touched.sort_unstable_by_key(|t| t.1);
        for same in self.touched.chunk_by(|a, b| a.1 == b.1) {
            for chunk in same.chunks(CHUNK) {
                let ids: Vec<&str> = chunk.iter().map(|t| t.0.as_str()).collect();
                diesel::update(customers::table.filter(customers::id.eq_any(&ids)))
                    .set(customers::updated_at.eq(chunk[0].1))
                    .execute(conn)?;
            }
        }
        Ok(())
    }
}
