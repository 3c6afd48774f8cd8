//! The read register (CUS-08) and outside access (CUS-09): every read and
//! export of a file is logged in the request that made it; outside parties
//! read only through a request the legal office approved, for a time.

use crate::audit::{self, Change, WriteMeta};
use crate::error::{Error, Result};
use crate::page::Page;
use crate::schema::{customer_access_log, outside_access_requests};
use crate::{DbConn, Timestamp};
use clientele_core::{new_id, Cursor};
use diesel::prelude::*;
use serde::Serialize;

/// One read of one file.
#[derive(Debug, Clone)]
pub struct AccessEntry {
    pub customer_id: String,
    /// `read`, `list`, `export`, `history`, `contacts`, `relations`, `documents`, `timeline`, `access_log`.
    pub action: &'static str,
    pub detail: Option<String>,
    pub grant_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = customer_access_log)]
pub struct AccessRow {
    pub id: String,
    pub at: Timestamp,
    pub actor_id: String,
    pub customer_id: String,
    pub action: String,
    pub detail: Option<String>,
    pub grant_id: Option<String>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
}

/// Writes the entries; the caller answers only after this committed.
pub fn register(conn: &mut DbConn, meta: &WriteMeta, entries: &[AccessEntry]) -> Result<()> {
    let actor = meta.actor_id.clone().unwrap_or_default();
    // One multi-row statement per 100 entries keeps a page of 200 files cheap.
    for chunk in entries.chunks(100) {
        let rows: Vec<AccessRow> = chunk
            .iter()
            .map(|e| AccessRow {
                id: new_id().to_string(),
                at: meta.at,
                actor_id: actor.clone(),
                customer_id: e.customer_id.clone(),
                action: e.action.to_owned(),
                detail: e.detail.clone(),
                grant_id: e.grant_id.clone(),
                client_ip: meta.client_ip.clone(),
                request_id: meta.request_id.clone(),
            })
            .collect();
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(customer_access_log::table)
                .values(&rows)
                .execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(customer_access_log::table)
                .values(&rows)
                .execute(c)?,
        };
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    pub customer_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// Newest first.
pub fn list(
    conn: &mut DbConn,
    f: &AccessFilter,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<AccessRow>> {
    let mut q = customer_access_log::table.into_boxed();
    if let Some(v) = &f.customer_id {
        q = q.filter(customer_access_log::customer_id.eq(v.clone()));
    }
    if let Some(v) = &f.actor_id {
        q = q.filter(customer_access_log::actor_id.eq(v.clone()));
    }
    if let Some(v) = &f.action {
        q = q.filter(customer_access_log::action.eq(v.clone()));
    }
    if let Some(v) = f.since {
        q = q.filter(customer_access_log::at.ge(v));
    }
    if let Some(v) = f.until {
        q = q.filter(customer_access_log::at.lt(v));
    }
    if let Some(c) = after {
        q = q.filter(customer_access_log::id.lt(c.id.clone()));
    }
    let rows = q
        .order(customer_access_log::id.desc())
        .limit(i64::from(limit) + 1)
        .select(AccessRow::as_select())
        .load(conn)?;
    Ok(Page::from_overfetch(rows, limit, |r| Cursor {
        key: String::new(),
        id: r.id.clone(),
    }))
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

/// Pending first, then newest; optionally one status or one requester.
pub fn outside_requests(
    conn: &mut DbConn,
    status: Option<&str>,
    requested_by: Option<&str>,
    customer_id: Option<&str>,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<OutsideRequestRow>> {
    let mut q = outside_access_requests::table.into_boxed();
    if let Some(s) = status {
        q = q.filter(outside_access_requests::status.eq(s.to_owned()));
    }
    if let Some(r) = requested_by {
        q = q.filter(outside_access_requests::requested_by.eq(r.to_owned()));
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
    Ok(Page::from_overfetch(rows, limit, |r| Cursor {
        key: String::new(),
        id: r.id.clone(),
    }))
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
    let before = outside_request(conn, id)?;
    if before.version != expected_version {
        return Err(Error::StaleVersion);
    }
    if before.status != "pending" {
        return Err(Error::conflict(
            "already_decided",
            format!("the request was already {}", before.status),
        ));
    }
    if meta.actor_id.as_deref() == Some(before.requested_by.as_str()) {
        return Err(Error::conflict(
            "own_request",
            "nobody decides their own request",
        ));
    }
    let valid_until = approve.then(|| meta.at + chrono::Duration::days(i64::from(before.days)));
    diesel::update(
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
    let after = outside_request(conn, id)?;
    audit::record(
        conn,
        meta,
        Change {
            action: if approve { "approved" } else { "refused" },
            entity_type: "outside_access_request",
            entity_id: id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
    )?;
    Ok(after)
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
        .filter(outside_access_requests::requested_by.eq(user_id))
        .filter(outside_access_requests::status.eq("approved"))
        .filter(outside_access_requests::valid_until.gt(now))
        .select(outside_access_requests::id)
        .first(conn)
        .optional()?)
}
