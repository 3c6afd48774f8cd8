//! Export requests (CUS-08): someone whose role does not export asks for
//! the files a filter finds; a manager over their unit decides once; an
//! approval lets the requester export those files until `valid_until`.

use crate::audit::{self, Change, WriteMeta};
use crate::schema::export_requests;
use crate::{DbConn, Error, Page, Result, Timestamp};
use clientele_core::Cursor;
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = export_requests)]
pub struct ExportRequestRow {
    pub id: String,
    pub requested_by: String,
    /// The requester's unit when asking: the managers above it see it.
    pub unit_path: String,
    /// The list's filters, as a query string.
    pub filter: String,
    pub purpose: String,
    pub days: i32,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub decision_note: Option<String>,
    pub valid_until: Option<Timestamp>,
    pub version: i64,
    pub created_at: Timestamp,
}

impl ExportRequestRow {
    /// A new request, waiting for a manager.
    pub fn pending(
        requested_by: String,
        unit_path: String,
        (filter, purpose, days): (String, String, i32),
        at: Timestamp,
    ) -> Self {
        Self {
            id: clientele_core::new_id().to_string(),
            requested_by,
            unit_path,
            filter,
            purpose,
            days,
            status: "pending".into(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
            valid_until: None,
            version: 1,
            created_at: at,
        }
    }

    /// Approved and not yet run out at `now`.
    pub fn in_force(&self, now: Timestamp) -> bool {
        self.status == "approved" && self.valid_until.is_some_and(|u| u > now)
    }
}

pub fn create(
    conn: &mut DbConn,
    meta: &WriteMeta,
    row: ExportRequestRow,
) -> Result<ExportRequestRow> {
    diesel::insert_into(export_requests::table)
        .values(&row)
        .execute(conn)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "requested",
            entity_type: "export_request",
            entity_id: &row.id,
            before: None,
            after: serde_json::to_value(&row).ok(),
        },
    )?;
    Ok(row)
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<ExportRequestRow> {
    Ok(export_requests::table
        .find(id)
        .select(ExportRequestRow::as_select())
        .first(conn)?)
}

/// Whose requests a listing shows.
pub enum Askers<'a> {
    Everyone,
    /// Those asked by this person.
    Own {
        user_id: &'a str,
    },
    /// Those asked by this person, or from a unit under this path.
    OwnOrBelow {
        user_id: &'a str,
        path: &'a str,
    },
}

/// Newest first; optionally one status or one requester.
pub fn list(
    conn: &mut DbConn,
    askers: Askers<'_>,
    (status, requested_by): (Option<&str>, Option<&str>),
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<ExportRequestRow>> {
    let mut q = export_requests::table.into_boxed();
    match askers {
        Askers::Everyone => {}
        Askers::Own { user_id } => {
            q = q.filter(export_requests::requested_by.eq(user_id.to_owned()));
        }
        Askers::OwnOrBelow { user_id, path } => {
            q = q.filter(
                export_requests::requested_by
                    .eq(user_id.to_owned())
                    .or(export_requests::unit_path.like(format!("{path}%"))),
            );
        }
    }
    if let Some(s) = status {
        q = q.filter(export_requests::status.eq(s.to_owned()));
    }
    if let Some(r) = requested_by {
        q = q.filter(export_requests::requested_by.eq(r.to_owned()));
    }
    if let Some(c) = after {
        q = q.filter(export_requests::id.lt(c.id.clone()));
    }
    let rows = q
        .order(export_requests::id.desc())
        .limit(i64::from(limit) + 1)
        .select(ExportRequestRow::as_select())
        .load(conn)?;
    Ok(Page::by_id(rows, limit, |r| &r.id))
}

/// A manager decides once, never on a request of their own; an approval
/// lets the requester export until `valid_until`.
pub fn decide(
    conn: &mut DbConn,
    meta: &WriteMeta,
    id: &str,
    expected_version: i64,
    approve: bool,
    note: Option<String>,
) -> Result<ExportRequestRow> {
    let before = pending(conn, id, expected_version)?;
    if meta.actor_id.as_deref() == Some(before.requested_by.as_str()) {
        return Err(Error::conflict(
            "own_request",
            "nobody decides a request they asked for",
        ));
    }
    let valid_until = approve.then(|| meta.at + chrono::Duration::days(i64::from(before.days)));
    let action = if approve { "approved" } else { "refused" };
    let changed = diesel::update(at_version(id, expected_version))
        .set((
            export_requests::status.eq(action),
            export_requests::decided_by.eq(meta.actor_id.clone()),
            export_requests::decided_at.eq(Some(meta.at)),
            export_requests::decision_note.eq(note),
            export_requests::valid_until.eq(valid_until),
            export_requests::version.eq(expected_version + 1),
        ))
        .execute(conn)?;
    recorded(conn, meta, &before, action, changed)
}

/// The requester takes back a request nobody has decided yet.
pub fn withdraw(
    conn: &mut DbConn,
    meta: &WriteMeta,
    id: &str,
    expected_version: i64,
) -> Result<ExportRequestRow> {
    let before = pending(conn, id, expected_version)?;
    let changed = diesel::update(at_version(id, expected_version))
        .set((
            export_requests::status.eq("withdrawn"),
            export_requests::version.eq(expected_version + 1),
        ))
        .execute(conn)?;
    recorded(conn, meta, &before, "withdrawn", changed)
}

/// The request, if still at the version the caller read and undecided.
fn pending(conn: &mut DbConn, id: &str, expected_version: i64) -> Result<ExportRequestRow> {
    let before = get(conn, id)?;
    if before.version != expected_version {
        return Err(Error::StaleVersion);
    }
    if before.status != "pending" {
        return Err(Error::conflict(
            "already_decided",
            format!("the request was already {}", before.status),
        ));
    }
    Ok(before)
}

/// The row of one id, while still at one version.
type AtVersion<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<export_requests::table, diesel::dsl::Eq<export_requests::id, &'a str>>,
    diesel::dsl::Eq<export_requests::version, i64>,
>;

/// The row `id` while still at `version`.
fn at_version(id: &str, version: i64) -> AtVersion<'_> {
    export_requests::table
        .filter(export_requests::id.eq(id))
        .filter(export_requests::version.eq(version))
}

/// The request after a change of it (`changed` rows), audited; none
/// changed means another change committed since it was read.
fn recorded(
    conn: &mut DbConn,
    meta: &WriteMeta,
    before: &ExportRequestRow,
    action: &str,
    changed: usize,
) -> Result<ExportRequestRow> {
    if changed == 0 {
        return Err(Error::StaleVersion);
    }
    let after = get(conn, &before.id)?;
    audit::record(
        conn,
        meta,
        Change {
            action,
            entity_type: "export_request",
            entity_id: &before.id,
            before: serde_json::to_value(before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
    )?;
    Ok(after)
}
