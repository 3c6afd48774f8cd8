//! The read register (CUS-08) and outside access (CUS-09): every read and
//! export of a file is logged in the request that made it; outside parties
//! read only through a request the legal office approved, for a time.

use crate::audit::{self, Change, WriteMeta};
use crate::error::{Error, Result};
use crate::page::Page;
use crate::register_statements::{
    Entries, ForgetIndexed, IndexFiles, JsonBatch, Limited, PgBatch, PgIndex, SingleFiles,
    Unindexed,
};
use crate::schema::{outside_access_requests, read_register, read_register_files};
use crate::{DbConn, Timestamp};
use clientele_core::{new_id, Cursor};
use diesel::prelude::*;
use serde::Serialize;

/// One read of one file.
#[derive(Debug, Clone)]
pub struct AccessEntry {
    pub customer_id: String,
    /// `read`, `list`, `export`, `history`, `contacts`, `relations`, `documents`, `timeline`, `duplicates`, `access_log`, `audit_log`.
    pub action: &'static str,
    pub detail: Option<String>,
    pub grant_id: Option<String>,
}

impl AccessEntry {
    /// A file shown in a list of files (`list`), as `detail` says which.
    pub fn listed(customer_id: &str, detail: impl Into<String>) -> Self {
        Self {
            customer_id: customer_id.to_owned(),
            action: "list",
            detail: Some(detail.into()),
            grant_id: None,
        }
    }
}

/// One register entry: one request that showed one or more files.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = read_register)]
pub struct RegisterRow {
    pub id: String,
    pub at: Timestamp,
    pub actor_id: String,
    pub action: String,
    pub detail: Option<String>,
    pub grant_id: Option<String>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    /// The ids of the files shown, as a JSON array.
    pub customer_ids: String,
}

impl RegisterRow {
    /// The files the entry showed.
    pub fn files(&self) -> Vec<String> {
        serde_json::from_str(&self.customer_ids).unwrap_or_default()
    }
}

/// How diesel writes a `Timestamp` to SQLite (its text encoding); entries
/// written from JSON must sort and compare like those written by diesel.
const SQLITE_TIMESTAMP: &str = "%F %T%.f";

/// An entry names at most this many files (an export of 10 000 takes 50
/// entries), which keeps a page of the register a bounded size.
const FILES_PER_ENTRY: usize = 200;

/// Writes the entries of one request; the caller answers only after this committed.
pub fn register(conn: &mut DbConn, meta: &WriteMeta, entries: &[AccessEntry]) -> Result<()> {
    register_all(conn, &[(meta, entries)])
}

/// Writes the entries of many requests with a few multi-row statements.
/// Consecutive reads in one request with the same action, detail and grant
/// share one register entry.
pub fn register_all(conn: &mut DbConn, requests: &[(&WriteMeta, &[AccessEntry])]) -> Result<()> {
    let mut rows: Vec<RegisterRow> = Vec::new();
    for (meta, entries) in requests {
        let groups = entries.chunk_by(|a, b| {
            (a.action, &a.detail, &a.grant_id) == (b.action, &b.detail, &b.grant_id)
        });
        for group in groups.flat_map(|g| g.chunks(FILES_PER_ENTRY)) {
            let id = new_id().to_string();
            let ids: Vec<&str> = group.iter().map(|e| e.customer_id.as_str()).collect();
            let first = &group[0];
            rows.push(RegisterRow {
                id,
                at: meta.at,
                actor_id: meta.actor_id.clone().unwrap_or_default(),
                action: first.action.to_owned(),
                detail: first.detail.clone(),
                grant_id: first.grant_id.clone(),
                client_ip: meta.client_ip.clone(),
                request_id: meta.request_id.clone(),
                customer_ids: serde_json::to_string(&ids)
                    .map_err(|e| Error::Corrupt(e.to_string()))?,
            });
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        // One statement of arrays whatever the number of rows, atomic on
        // its own, so it needs no transaction round trips.
        DbConn::Pg(c) => {
            let text = |f: fn(&RegisterRow) -> &String| -> Vec<String> {
                rows.iter().map(|r| f(r).clone()).collect()
            };
            let opt = |f: fn(&RegisterRow) -> &Option<String>| -> Vec<Option<String>> {
                rows.iter().map(|r| f(r).clone()).collect()
            };
            PgBatch {
                ids: &text(|r| &r.id),
                at: &rows.iter().map(|r| r.at).collect::<Vec<_>>(),
                actor_ids: &text(|r| &r.actor_id),
                actions: &text(|r| &r.action),
                details: &opt(|r| &r.detail),
                grant_ids: &opt(|r| &r.grant_id),
                client_ips: &opt(|r| &r.client_ip),
                request_ids: &opt(|r| &r.request_id),
                customer_ids: &text(|r| &r.customer_ids),
            }
            .execute(c)?;
        }
        // In-process: two statements for the whole batch, whatever its
        // size, each reading the entries from one JSON argument (diesel
        // runs a multi-row insert on SQLite as single rows, and building
        // each row's SQL cost more than inserting it). The caller holds
        // the transaction.
        DbConn::Sqlite(c) => {
            let batch = serde_json::to_string(
                &rows
                    .iter()
                    .map(|r| {
                        (
                            &r.id,
                            r.at.format(SQLITE_TIMESTAMP).to_string(),
                            &r.actor_id,
                            &r.action,
                            &r.detail,
                            &r.grant_id,
                            &r.client_ip,
                            &r.request_id,
                            &r.customer_ids,
                        )
                    })
                    .collect::<Vec<_>>(),
            )
            .map_err(|e| Error::Corrupt(e.to_string()))?;
            JsonBatch::<Entries>::new(&batch).execute(c)?;
            JsonBatch::<SingleFiles>::new(&batch).execute(c)?;
            JsonBatch::<Unindexed>::new(&batch).execute(c)?;
        }
    }
    Ok(())
}

/// Commits the register entries of many requests: one statement on
/// PostgreSQL, one transaction on SQLite.
pub fn commit_all(db: &crate::Db, requests: &[(&WriteMeta, &[AccessEntry])]) -> Result<()> {
    match db.kind() {
        crate::BackendKind::Postgres => db.autocommit(|c| register_all(c, requests)),
        crate::BackendKind::Sqlite => db.write_register(|c| register_all(c, requests)),
    }
}

#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    pub customer_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub grant_id: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// Entries indexed by file in one statement at most.
pub const INDEX_BATCH: usize = 128;

/// Writes the per-file rows of every entry not yet indexed by file (they
/// are written in bulk, not in the request's commit; see migration 000006)
/// and returns how many entries it indexed. Run it in [`crate::Db::write_register`]
/// (SQLite: the register writer's turn and one transaction) before a query that finds
/// entries by file, so the query sees every entry committed before it.
pub fn index_pending(conn: &mut DbConn) -> Result<usize> {
    let mut total = 0;
    loop {
        let n = index_batch(conn)?;
        total += n;
        if n < INDEX_BATCH {
            return Ok(total);
        }
    }
}

/// Indexes the oldest `INDEX_BATCH` entries not yet indexed by file (fewer
/// if fewer wait); how many it took. For the background indexer, which
/// commits after each batch so register commits need not wait long.
pub fn index_batch(conn: &mut DbConn) -> Result<usize> {
    let limit = INDEX_BATCH as i64;
    Ok(match conn {
        DbConn::Pg(c) => Limited::<PgIndex>::new(limit).execute(c)?,
        DbConn::Sqlite(c) => {
            Limited::<IndexFiles>::new(limit).execute(c)?;
            Limited::<ForgetIndexed>::new(limit).execute(c)?
        }
    })
}

/// Register entries, newest first. With a file filter, run
/// [`index_pending`] first.
pub fn list(
    conn: &mut DbConn,
    f: &AccessFilter,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<RegisterRow>> {
    let mut q = read_register::table.into_boxed();
    if let Some(v) = &f.customer_id {
        let reads = read_register_files::table
            .filter(read_register_files::customer_id.eq(v.clone()))
            .select(read_register_files::entry_id);
        q = q.filter(read_register::id.eq_any(reads));
    }
    if let Some(v) = &f.actor_id {
        q = q.filter(read_register::actor_id.eq(v.clone()));
    }
    if let Some(v) = &f.action {
        q = q.filter(read_register::action.eq(v.clone()));
    }
    if let Some(v) = &f.grant_id {
        q = q.filter(read_register::grant_id.eq(v.clone()));
    }
    if let Some(v) = f.since {
        q = q.filter(read_register::at.ge(v));
    }
    if let Some(v) = f.until {
        q = q.filter(read_register::at.lt(v));
    }
    if let Some(c) = after {
        q = q.filter(read_register::id.lt(c.id.clone()));
    }
    let rows = q
        .order(read_register::id.desc())
        .limit(i64::from(limit) + 1)
        .select(RegisterRow::as_select())
        .load(conn)?;
    Ok(Page::by_id(rows, limit, |r| &r.id))
}

/// The reads of one file, newest first. Run [`index_pending`] first.
pub fn file_log(
    conn: &mut DbConn,
    customer_id: &str,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<RegisterRow>> {
    let mut q = read_register_files::table
        .inner_join(read_register::table)
        .filter(read_register_files::customer_id.eq(customer_id.to_owned()))
        .into_boxed();
    if let Some(c) = after {
        q = q.filter(read_register_files::entry_id.lt(c.id.clone()));
    }
    let rows = q
        .order(read_register_files::entry_id.desc())
        .limit(i64::from(limit) + 1)
        .select(RegisterRow::as_select())
        .load(conn)?;
    Ok(Page::by_id(rows, limit, |r| &r.id))
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = outside_access_requests)]
pub struct OutsideRequestRow {
    pub id: String,
    pub customer_id: String,
    pub requested_by: String,
    pub outside_party: String,
    pub purpose: String,
    pub legal_basis: String,
    pub days: i32,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub decision_note: Option<String>,
    pub valid_until: Option<Timestamp>,
    pub version: i64,
    pub created_at: Timestamp,
    pub revoked_by: Option<String>,
    pub revoked_at: Option<Timestamp>,
    pub revocation_note: Option<String>,
    /// Who shows the file to the outside party and reads it under the
    /// approval (by default the requester).
    pub reader_id: String,
}

/// What an outside party asks for: whom, why, on what legal basis, for
/// how many days.
pub struct OutsideAsk {
    pub outside_party: String,
    pub purpose: String,
    pub legal_basis: String,
    pub days: i32,
}

impl OutsideRequestRow {
    /// A new request, waiting for the legal office.
    pub fn pending(
        customer_id: String,
        requested_by: String,
        reader_id: String,
        ask: OutsideAsk,
        at: Timestamp,
    ) -> Self {
        Self {
            id: clientele_core::new_id().to_string(),
            customer_id,
            requested_by,
            outside_party: ask.outside_party,
            purpose: ask.purpose,
            legal_basis: ask.legal_basis,
            days: ask.days,
            status: "pending".into(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
            valid_until: None,
            version: 1,
            created_at: at,
            revoked_by: None,
            revoked_at: None,
            revocation_note: None,
            reader_id,
        }
    }
}

pub fn request_outside_access(
    conn: &mut DbConn,
    meta: &WriteMeta,
    row: OutsideRequestRow,
) -> Result<OutsideRequestRow> {
    diesel::insert_into(outside_access_requests::table)
        .values(&row)
        .execute(conn)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "requested",
            entity_type: "outside_access_request",
            entity_id: &row.id,
            before: None,
            after: serde_json::to_value(&row).ok(),
        },
    )?;
    Ok(row)
}

pub fn outside_request(conn: &mut DbConn, id: &str) -> Result<OutsideRequestRow> {
    Ok(outside_access_requests::table
        .find(id)
        .select(OutsideRequestRow::as_select())
        .first(conn)?)
}

/// Newest first; optionally one status, one file, or the requests one
/// person asked for or reads under.
pub fn outside_requests(
    conn: &mut DbConn,
    status: Option<&str>,
    involving: Option<&str>,
    customer_id: Option<&str>,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<OutsideRequestRow>> {
    let mut q = outside_access_requests::table.into_boxed();
    if let Some(s) = status {
        q = q.filter(outside_access_requests::status.eq(s.to_owned()));
    }
    if let Some(r) = involving {
        q = q.filter(
            outside_access_requests::requested_by
                .eq(r.to_owned())
                .or(outside_access_requests::reader_id.eq(r.to_owned())),
        );
    }
    if let Some(c) = customer_id {
        q = q.filter(outside_access_requests::customer_id.eq(c.to_owned()));
    }
    if let Some(c) = after {
        q = q.filter(outside_access_requests::id.lt(c.id.clone()));
    }
    let rows = q
        .order(outside_access_requests::id.desc())
        .limit(i64::from(limit) + 1)
        .select(OutsideRequestRow::as_select())
        .load(conn)?;
    Ok(Page::by_id(rows, limit, |r| &r.id))
}

/// The legal office decides once; an approval opens the file to the
/// requester until `valid_until`.
pub fn decide(
    conn: &mut DbConn,
    meta: &WriteMeta,
    id: &str,
    expected_version: i64,
    approve: bool,
    note: Option<String>,
) -> Result<OutsideRequestRow> {
    let before = current(conn, id, expected_version)?;
    if before.status != "pending" {
        return Err(Error::conflict(
            "already_decided",
            format!("the request was already {}", before.status),
        ));
    }
    let actor = meta.actor_id.as_deref();
    if actor == Some(before.requested_by.as_str()) || actor == Some(before.reader_id.as_str()) {
        return Err(Error::conflict(
            "own_request",
            "nobody decides a request they asked for or would read under",
        ));
    }
    let valid_until = approve.then(|| meta.at + chrono::Duration::days(i64::from(before.days)));
    let changed = diesel::update(
        outside_access_requests::table
            .filter(outside_access_requests::id.eq(id))
            .filter(outside_access_requests::version.eq(expected_version)),
    )
    .set((
        outside_access_requests::status.eq(if approve { "approved" } else { "refused" }),
        outside_access_requests::decided_by.eq(meta.actor_id.clone()),
        outside_access_requests::decided_at.eq(Some(meta.at)),
        outside_access_requests::decision_note.eq(note),
        outside_access_requests::valid_until.eq(valid_until),
        outside_access_requests::version.eq(expected_version + 1),
    ))
    .execute(conn)?;
    recorded(
        conn,
        meta,
        &before,
        (if approve { "approved" } else { "refused" }, changed),
    )
}

/// The request as it stands, if it is still at the version the caller read.
fn current(conn: &mut DbConn, id: &str, expected_version: i64) -> Result<OutsideRequestRow> {
    let before = outside_request(conn, id)?;
    if before.version != expected_version {
        return Err(Error::StaleVersion);
    }
    Ok(before)
}

/// The request after a change of it (`action`, `changed` rows), with the
/// change audited; none changed means another change committed since the
/// request was read.
fn recorded(
    conn: &mut DbConn,
    meta: &WriteMeta,
    before: &OutsideRequestRow,
    (action, changed): (&str, usize),
) -> Result<OutsideRequestRow> {
    if changed == 0 {
        return Err(Error::StaleVersion);
    }
    let after = outside_request(conn, &before.id)?;
    audit::record(
        conn,
        meta,
        Change {
            action,
            entity_type: "outside_access_request",
            entity_id: &before.id,
            before: serde_json::to_value(before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
    )?;
    Ok(after)
}

/// Ends an approved grant before its time (the legal office, CUS-09): the
/// requester's reads under it stop at once. Only a grant still in force is
/// revoked; the request keeps its decision, and says who ended it, when
/// and why.
pub fn revoke(
    conn: &mut DbConn,
    meta: &WriteMeta,
    id: &str,
    expected_version: i64,
    note: Option<String>,
) -> Result<OutsideRequestRow> {
    let before = current(conn, id, expected_version)?;
    let in_force = before.status == "approved" && before.valid_until.is_some_and(|u| u > meta.at);
    if !in_force {
        let state = match before.status.as_str() {
            "approved" => "expired",
            other => other,
        };
        return Err(Error::conflict(
            "not_in_force",
            format!("only an approved access still in force is revoked; this one is {state}"),
        ));
    }
    let changed = diesel::update(
        outside_access_requests::table
            .filter(outside_access_requests::id.eq(id))
            .filter(outside_access_requests::version.eq(expected_version)),
    )
    .set((
        outside_access_requests::status.eq("revoked"),
        outside_access_requests::revoked_by.eq(meta.actor_id.clone()),
        outside_access_requests::revoked_at.eq(Some(meta.at)),
        outside_access_requests::revocation_note.eq(note),
        outside_access_requests::version.eq(expected_version + 1),
    ))
    .execute(conn)?;
    recorded(conn, meta, &before, ("revoked", changed))
}

/// The approved, unexpired grant that lets `user_id` read `customer_id`.
pub fn active_grant(
    conn: &mut DbConn,
    customer_id: &str,
    user_id: &str,
    now: Timestamp,
) -> Result<Option<String>> {
    Ok(outside_access_requests::table
        .filter(outside_access_requests::customer_id.eq(customer_id))
        .filter(outside_access_requests::reader_id.eq(user_id))
        .filter(outside_access_requests::status.eq("approved"))
        .filter(outside_access_requests::valid_until.gt(now))
        .select(outside_access_requests::id)
        .first(conn)
        .optional()?)
}
