//! What new customer files write besides their rows — tags, the history's
//! first entry, the audit entry and its event — gathered over many files and
//! written in a few statements (an ERP import: one statement for each of
//! these per file was most of its round trips to the database). Each file's
//! row is written on its own, so that a file the database refuses fails
//! alone, unless the caller has the rows held and written many a statement
//! too (a run of an import's rows on PostgreSQL, tried at once and again
//! row by row if a row fails); what is gathered here cannot fail for one
//! file. On SQLite
//! an import also writes its new files' search rows here (see
//! [`DeferredSearch`](crate::sql_fns::DeferredSearch)).

use crate::audit::{self, Change, WriteMeta};
use crate::customers::NewRow;
use crate::error::{Error, Result};
use crate::register_statements::{Around, JsonBatch};
use crate::sql_fns::DeferredSearch;
use crate::DbConn;
use clientele_core::new_id;
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use diesel::RunQueryDsl;

/// Files written by one statement at most.
const CHUNK: usize = 500;

/// One new file's records, as one JSON array:
/// `[customer_id, change_id, history, audit_id, audit_after, event_id,
/// event_payload, [tags], at, actor_id, request_id, client_ip]`.
pub struct NewFile(serde_json::Value);

impl NewFile {
    /// `contents` is the history's view of the new file, `after` the audit
    /// log's (the whole row).
    pub fn new(
        meta: &WriteMeta,
        customer_id: &str,
        tags: &[String],
        contents: &serde_json::Value,
        after: serde_json::Value,
    ) -> Self {
        let (entry, event) = audit::entries(
            meta,
            &Change {
                action: "created",
                entity_type: "customer",
                entity_id: customer_id,
                before: None,
                after: Some(after),
            },
        );
        Self(serde_json::json!([
            customer_id,
            new_id().to_string(),
            contents.to_string(),
            entry.id,
            entry.after_json,
            event.id,
            event.payload,
            tags,
            meta.at.format("%F %T%.f").to_string(),
            meta.actor_id,
            meta.request_id,
            meta.client_ip,
        ]))
    }
}

/// New files' records not yet written, and their rows while held.
#[derive(Default)]
pub struct NewFiles {
    records: Vec<serde_json::Value>,
    /// Rows not yet inserted, while rows are held.
    rows: Vec<NewRow>,
    holding: bool,
}

impl NewFiles {
    /// From now on, new files' rows are held and inserted many a statement
    /// ([`CHUNK`] at most) at [`write_rows`](Self::write_rows). A row the
    /// database refuses then fails the whole statement, not alone:
    /// for a run of rows that stops at the first fault anyway. Until
    /// written, the held files cannot be read (an import names each file
    /// once, so none of its rows reads a file another row creates).
    pub fn hold_rows(&mut self) {
        self.holding = true;
    }

    /// Inserts the rows held; new rows go in as they come again.
    pub fn write_rows(&mut self, conn: &mut DbConn) -> Result<()> {
        NewRow::insert(conn, &self.rows, CHUNK)?;
        self.rows.clear();
        self.holding = false;
        Ok(())
    }

    /// How many files were added: a mark for [`forget_since`](Self::forget_since).
    pub fn mark(&self) -> usize {
        self.records.len()
    }

    /// Forgets the files added since `mark` (their rows rolled back with a
    /// savepoint, or still held: rows are held only since the last mark),
    /// and holds no more rows.
    pub fn forget_since(&mut self, mark: usize) {
        self.records.truncate(mark);
        self.rows.clear();
        self.holding = false;
    }

    /// A new file's row (inserted now unless rows are held) and records.
    pub fn add(&mut self, conn: &mut DbConn, row: NewRow, file: NewFile) -> Result<()> {
        if self.holding {
            self.rows.push(row);
        } else {
            NewRow::insert(conn, std::slice::from_ref(&row), CHUNK)?;
        }
        self.records.push(file.0);
        Ok(())
    }

    /// Writes the rows held and every record gathered, in the caller's
    /// transaction; on SQLite under [`DeferredSearch`], the files' search
    /// rows too.
    pub fn write(mut self, conn: &mut DbConn) -> Result<()> {
        self.write_rows(conn)?;
        let search: &[&str] = if DeferredSearch::held() {
            &SQLITE_SEARCH
        } else {
            &[]
        };
        for chunk in self.records.chunks(CHUNK) {
            let batch = serde_json::to_string(chunk).map_err(|e| Error::Corrupt(e.to_string()))?;
            match conn {
                DbConn::Pg(c) => {
                    JsonBatch::<PgRecords>::new(&batch).execute(c)?;
                }
                DbConn::Sqlite(c) => {
                    diesel::sql_query("DELETE FROM temp.new_file_records").execute(c)?;
                    JsonBatch::<SqliteStaged>::new(&batch).execute(c)?;
                    for sql in search.iter().chain(&SQLITE_RECORDS) {
                        diesel::sql_query(*sql).execute(c)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// PostgreSQL: all four in one statement. The batch is read as `jsonb`,
/// parsed once: each `->>` on a `json` element parses the element's text
/// again, and a file's element holds its whole row three times over (the
/// history's view, the audit entry, the event), so the ~20 fields taken
/// from it cost ~20 parses of a few kilobytes (measured: JSON lexing was a
/// third of PostgreSQL's CPU during an import of 10 000 files).
enum PgRecords {}
impl Around<Pg> for PgRecords {
    const BEFORE: &'static str = "WITH b AS (SELECT value AS v FROM jsonb_array_elements(";
    const AFTER: &'static str = "::jsonb)), \
         t AS (INSERT INTO customer_tags (customer_id, tag) \
               SELECT v ->> 0, tag FROM b, jsonb_array_elements_text(v -> 7) AS tag), \
         c AS (INSERT INTO customer_changes (id, customer_id, at, actor_id, entity, entity_id, \
               field, old_value, new_value, request_id) \
               SELECT v ->> 1, v ->> 0, (v ->> 8)::timestamp, v ->> 9, 'customer', v ->> 0, \
               '*', NULL, v ->> 2, v ->> 10 FROM b), \
         a AS (INSERT INTO audit_log (id, at, actor_id, action, entity_type, entity_id, \
               before_json, after_json, request_id, client_ip) \
               SELECT v ->> 3, (v ->> 8)::timestamp, v ->> 9, 'created', 'customer', v ->> 0, \
               NULL, v ->> 4, v ->> 10, v ->> 11 FROM b) \
         INSERT INTO outbox (id, created_at, topic, entity_type, entity_id, payload, published_at) \
         SELECT v ->> 5, (v ->> 8)::timestamp, 'customer.created', 'customer', v ->> 0, \
         v ->> 6, NULL FROM b";
}

/// SQLite: each chunk's records are first read into a table of the
/// connection's own (`temp.new_file_records`, made when it opens), one row
/// a file, and every statement below reads its columns. Reading the batch
/// in each statement had SQLite parse the whole batch and re-parse each
/// file's element for every `->>`.
enum SqliteStaged {}
impl Around<Sqlite> for SqliteStaged {
    const BEFORE: &'static str = "INSERT INTO temp.new_file_records (k, customer_id, \
         change_id, history, audit_id, audit_after, event_id, event_payload, tags, at, \
         actor_id, request_id, client_ip) \
         SELECT key, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
         value ->> 5, value ->> 6, value -> 7, value ->> 8, value ->> 9, value ->> 10, \
         value ->> 11 FROM json_each(";
    const AFTER: &'static str = ")";
}

/// The table [`SqliteStaged`] fills; every SQLite connection makes it.
pub(crate) const SQLITE_STAGING_TABLE: &str = "CREATE TEMP TABLE IF NOT EXISTS \
     new_file_records (k INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, change_id TEXT, \
     history TEXT, audit_id TEXT, audit_after TEXT, event_id TEXT, event_payload TEXT, \
     tags TEXT, at TEXT, actor_id TEXT, request_id TEXT, client_ip TEXT)";

/// SQLite's search rows of new files, from each file's row as it is now (a
/// later row of the import may have renamed it), numbered after the
/// highest search row as the insert trigger would number them one by one:
/// first the map from file to number, then the trigram row, then the row
/// of short parts, sharing the number.
const SQLITE_SEARCH: [&str; 3] = [
    "INSERT INTO customer_search_rows (customer_id, search_rowid) \
     SELECT customer_id, (SELECT coalesce(max(rowid), 0) FROM customer_search_content) + k + 1 \
     FROM temp.new_file_records",
    "INSERT INTO customer_search (rowid, customer_id, name_folded, name_mnemonic) \
     SELECT r.search_rowid, c.id, c.name_folded, c.name_mnemonic \
     FROM temp.new_file_records f \
     JOIN customer_search_rows r ON r.customer_id = f.customer_id \
     JOIN customers c ON c.id = f.customer_id",
    "INSERT INTO customer_grams (rowid, name_grams, mnemonic_grams) \
     SELECT r.search_rowid, clientele_search_grams(c.name_folded), \
     clientele_search_grams(c.name_mnemonic) \
     FROM temp.new_file_records f \
     JOIN customer_search_rows r ON r.customer_id = f.customer_id \
     JOIN customers c ON c.id = f.customer_id",
];

/// Tags, the history's first entry, the audit entry and its event.
const SQLITE_RECORDS: [&str; 4] = [
    "INSERT INTO customer_tags (customer_id, tag) \
     SELECT f.customer_id, t.value FROM temp.new_file_records f, json_each(f.tags) t",
    "INSERT INTO customer_changes (id, customer_id, at, actor_id, entity, entity_id, field, \
     old_value, new_value, request_id) \
     SELECT change_id, customer_id, at, actor_id, 'customer', customer_id, '*', NULL, history, \
     request_id FROM temp.new_file_records",
    "INSERT INTO audit_log (id, at, actor_id, action, entity_type, entity_id, before_json, \
     after_json, request_id, client_ip) \
     SELECT audit_id, at, actor_id, 'created', 'customer', customer_id, NULL, audit_after, \
     request_id, client_ip FROM temp.new_file_records",
    "INSERT INTO outbox (id, created_at, topic, entity_type, entity_id, payload, published_at) \
     SELECT event_id, at, 'customer.created', 'customer', customer_id, event_payload, NULL \
     FROM temp.new_file_records",
];
