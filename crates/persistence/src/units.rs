//! Organisational units (ORG-01): a tree kept as materialised paths, so a
//! subtree is one prefix match.

use crate::audit::{self, Change, WriteMeta};
use crate::error::{Error, Result};
use crate::page::Page;
use crate::schema::{org_units, users};
use crate::sql_fns::{contains_pattern, lower};
use crate::{DbConn, Timestamp};
use clientele_core::{Cursor, UnitId, UnitKind, UnitPath};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = org_units)]
pub struct UnitRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub path: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub active: bool,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl UnitRow {
    pub fn kind(&self) -> Result<UnitKind> {
        UnitKind::parse(&self.kind).map_err(|e| Error::Corrupt(e.to_string()))
    }
    pub fn unit_path(&self) -> Result<UnitPath> {
        UnitPath::parse(&self.path).map_err(|e| Error::Corrupt(e.to_string()))
    }
    fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

pub struct NewUnit {
    pub id: UnitId,
    pub parent_id: Option<UnitId>,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<UnitRow> {
    Ok(org_units::table
        .find(id)
        .select(UnitRow::as_select())
        .first(conn)?)
}

/// A unit a write puts something in (a file, a person, a sub-unit): on
/// PostgreSQL its row is held until the write commits, so a deactivation
/// of it meanwhile waits and then counts what the write put there (SQLite
/// writes one at a time already).
pub fn get_held(conn: &mut DbConn, id: &str) -> Result<UnitRow> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("SELECT id FROM org_units WHERE id = $1 FOR SHARE")
            .bind::<diesel::sql_types::Text, _>(id)
            .execute(c)?;
    }
    get(conn, id)
}

pub fn find_by_code(conn: &mut DbConn, code: &str) -> Result<Option<UnitRow>> {
    Ok(org_units::table
        .filter(org_units::code.eq(code))
        .select(UnitRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn count(conn: &mut DbConn) -> Result<i64> {
    Ok(org_units::table.count().get_result(conn)?)
}

fn parent_for(
    conn: &mut DbConn,
    kind: UnitKind,
    parent_id: Option<&str>,
) -> Result<Option<UnitRow>> {
    let parent = match parent_id {
        Some(pid) => match get_held(conn, pid) {
            Ok(p) => Some(p),
            Err(Error::NotFound) => {
                return Err(Error::unprocessable(
                    "parent_not_found",
                    "the parent unit does not exist",
                )
                .on("parent_id"));
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    if let Some(p) = &parent {
        if !p.active {
            return Err(
                Error::unprocessable("parent_inactive", "the parent unit is deactivated")
                    .on("parent_id"),
            );
        }
    }
    let parent_kind = parent.as_ref().map(UnitRow::kind).transpose()?;
    if !kind.may_have_parent(parent_kind) {
        let where_ = parent_kind.map_or("at the root".to_owned(), |k| format!("under a {k}"));
        return Err(Error::unprocessable(
            "invalid_parent_kind",
            format!("a {kind} cannot stand {where_}"),
        )
        .on("parent_id"));
    }
    Ok(parent)
}

/// Units are made and moved one at a time (ORG-01): on PostgreSQL a
/// transaction-level advisory lock, taken before any unit's row; SQLite's
/// writer's turn does so anyway. A unit's path is computed from its
/// parent's, and a move rewrites the subtree it has read. Side by side, two
/// moves in opposite directions each held its own unit and waited for the
/// other's (a deadlock, refused as 503), and a unit made or moved under a
/// subtree that was moving could keep a path under the subtree's old
/// place, hiding it from the people of its new one.
fn lock_unit_tree(conn: &mut DbConn) -> Result<()> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('clientele.unit_tree'))")
            .execute(c)?;
    }
    Ok(())
}

pub fn create(conn: &mut DbConn, meta: &WriteMeta, new: NewUnit) -> Result<UnitRow> {
    lock_unit_tree(conn)?;
    let parent = parent_for(
        conn,
        new.kind,
        new.parent_id.map(|p| p.to_string()).as_deref(),
    )?;
    let path = match &parent {
        Some(p) => p.unit_path()?.child(new.id),
        None => UnitPath::root(new.id),
    };
    let row = UnitRow {
        id: new.id.to_string(),
        parent_id: parent.map(|p| p.id),
        path: path.as_str().to_owned(),
        code: new.code,
        name: new.name,
        kind: new.kind.as_str().to_owned(),
        active: true,
        version: 1,
        created_at: meta.at,
        updated_at: meta.at,
    };
    diesel::insert_into(org_units::table)
        .values(&row)
        .execute(conn)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "created",
            entity_type: "org_unit",
            entity_id: &row.id,
            before: None,
            after: Some(row.snapshot()),
        },
    )?;
    Ok(row)
}

#[derive(Debug, Default, Clone)]
pub struct UnitFilter {
    /// Only units at or below this path.
    pub within: Option<String>,
    pub parent_id: Option<String>,
    pub kind: Option<String>,
    pub active: Option<bool>,
    /// Case-insensitive substring of the name or code.
    pub q: Option<String>,
}

/// Sorted by name then id.
pub fn list(
    conn: &mut DbConn,
    f: &UnitFilter,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<UnitRow>> {
    let mut q = org_units::table.into_boxed();
    if let Some(p) = &f.within {
        q = q.filter(org_units::path.like(format!("{p}%")));
    }
    if let Some(v) = &f.parent_id {
        q = q.filter(org_units::parent_id.eq(v.clone()));
    }
    if let Some(v) = &f.kind {
        q = q.filter(org_units::kind.eq(v.clone()));
    }
    if let Some(v) = f.active {
        q = q.filter(org_units::active.eq(v));
    }
    if let Some(v) = &f.q {
        let pat = contains_pattern(v);
        q = q.filter(
            lower(org_units::name)
                .like(pat.clone())
                .escape('\\')
                .or(lower(org_units::code).like(pat).escape('\\')),
        );
    }
    if let Some(c) = after {
        q = q.filter(
            org_units::name.gt(c.key.clone()).or(org_units::name
                .eq(c.key.clone())
                .and(org_units::id.gt(c.id.clone()))),
        );
    }
    let rows = q
        .order((org_units::name.asc(), org_units::id.asc()))
        .limit(i64::from(limit) + 1)
        .select(UnitRow::as_select())
        .load(conn)?;
    Ok(Page::from_overfetch(rows, limit, |r| Cursor {
        key: r.name.clone(),
        id: r.id.clone(),
    }))
}

#[derive(Debug, Default, Clone)]
pub struct UnitPatch {
    pub name: Option<String>,
    pub code: Option<String>,
    pub active: Option<bool>,
    /// Move the unit (and its subtree) under another parent.
    pub parent_id: Option<UnitId>,
}

pub fn update(
    conn: &mut DbConn,
    meta: &WriteMeta,
    id: &str,
    expected_version: i64,
    patch: UnitPatch,
) -> Result<UnitRow> {
    lock_unit_tree(conn)?;
    // Writes putting files, people or sub-units in the unit hold it
    // ([`get_held`]): a deactivation waits for them, then counts theirs.
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("SELECT id FROM org_units WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(id)
            .execute(c)?;
    }
    let before = get(conn, id)?;
    if before.version != expected_version {
        return Err(Error::StaleVersion);
    }
    let kind = before.kind()?;
    let mut path = before.path.clone();
    let mut parent_id = before.parent_id.clone();
    if let Some(new_parent) = patch.parent_id {
        let new_parent = new_parent.to_string();
        if Some(&new_parent) != before.parent_id.as_ref() {
            let parent = parent_for(conn, kind, Some(&new_parent))?;
            let parent = parent.ok_or_else(|| {
                Error::unprocessable("parent_not_found", "the parent unit does not exist")
                    .on("parent_id")
            })?;
            if parent.path.starts_with(&before.path) {
                return Err(Error::unprocessable(
                    "cycle",
                    "a unit cannot move under itself or one of its own sub-units",
                )
                .on("parent_id"));
            }
            let new_path = format!("{}{}/", parent.path, before.id);
            // Re-root the whole subtree: every descendant path shares the old prefix.
            let subtree: Vec<(String, String)> = org_units::table
                .filter(org_units::path.like(format!("{}%", before.path)))
                .filter(org_units::id.ne(&before.id))
                .select((org_units::id, org_units::path))
                .load(conn)?;
            for (sid, spath) in subtree {
                let moved = format!("{new_path}{}", &spath[before.path.len()..]);
                diesel::update(org_units::table.find(sid))
                    .set(org_units::path.eq(moved))
                    .execute(conn)?;
            }
            path = new_path;
            parent_id = Some(parent.id);
        }
    }
    if patch.active == Some(false) && before.active {
        let children: i64 = org_units::table
            .filter(org_units::parent_id.eq(&before.id))
            .filter(org_units::active.eq(true))
            .count()
            .get_result(conn)?;
        let members: i64 = users::table
            .filter(users::unit_id.eq(&before.id))
            .filter(users::active.eq(true))
            .count()
            .get_result(conn)?;
        // CUS-10: data stays with a living unit; files kept by the unit
        // move first (POST /api/v1/customers/unit-transfer).
        let files = crate::customers::count_kept_by_unit(conn, &before.id)?;
        if children > 0 || members > 0 || files > 0 {
            return Err(Error::conflict(
                "unit_in_use",
                format!(
                    "the unit still has active sub-units: {children}, active users: {members}, customer files: {files}; move them first (files: POST /api/v1/customers/unit-transfer)"
                ),
            ));
        }
    }
    let updated = diesel::update(
        org_units::table
            .filter(org_units::id.eq(id))
            .filter(org_units::version.eq(expected_version)),
    )
    .set((
        org_units::name.eq(patch.name.unwrap_or(before.name.clone())),
        org_units::code.eq(patch.code.unwrap_or(before.code.clone())),
        org_units::active.eq(patch.active.unwrap_or(before.active)),
        org_units::path.eq(&path),
        org_units::parent_id.eq(&parent_id),
        org_units::version.eq(expected_version + 1),
        org_units::updated_at.eq(meta.at),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(Error::StaleVersion);
    }
    if path != before.path {
        // CUS-10: every keeper can still reach the files they keep (the
        // subtree's paths, the unit's own included, are the new ones).
        let stranded = crate::customers::keepers_out_of_reach(conn, &path)?;
        if stranded > 0 {
            return Err(Error::conflict(
                "keepers_out_of_reach",
                format!(
                    "after the move, {stranded} customer files of the unit would be kept by people who cannot reach them; hand those files over first (POST /api/v1/customers/hand-over)"
                ),
            ));
        }
    }
    let after = get(conn, id)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "updated",
            entity_type: "org_unit",
            entity_id: id,
            before: Some(before.snapshot()),
            after: Some(after.snapshot()),
        },
    )?;
    Ok(after)
}
