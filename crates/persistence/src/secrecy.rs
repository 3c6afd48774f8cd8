//! Secrecy levels (CUS-07): ordered codes; a user's clearance is one of
//! them. Administrators add, rename, renumber (in order) and remove unused
//! levels; each change is audited and sends an event.

use crate::audit::{self, Change, WriteMeta};
use crate::error::{Error, Result};
use crate::schema::{customers, secrecy_levels, users};
use crate::DbConn;
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = secrecy_levels)]
pub struct SecrecyLevelRow {
    pub code: String,
    pub rank: i32,
    pub name: String,
    pub version: i64,
}

/// Lowest first.
pub fn list(conn: &mut DbConn) -> Result<Vec<SecrecyLevelRow>> {
    Ok(secrecy_levels::table
        .order(secrecy_levels::rank.asc())
        .select(SecrecyLevelRow::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut DbConn, code: &str) -> Result<Option<SecrecyLevelRow>> {
    Ok(secrecy_levels::table
        .find(code)
        .select(SecrecyLevelRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn get(conn: &mut DbConn, code: &str) -> Result<SecrecyLevelRow> {
    find(conn, code)?.ok_or(Error::NotFound)
}

/// The lowest level, the default for new users and files.
pub fn lowest(conn: &mut DbConn) -> Result<SecrecyLevelRow> {
    Ok(secrecy_levels::table
        .order(secrecy_levels::rank.asc())
        .select(SecrecyLevelRow::as_select())
        .first(conn)?)
}

/// Locks every level until the transaction ends (PostgreSQL), so changes
/// of levels are judged one at a time: two renumberings each valid on its
/// own must not together reorder the levels. SQLite's writer's turn
/// already runs them one at a time.
pub fn lock_all(conn: &mut DbConn) -> Result<()> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("SELECT code FROM secrecy_levels ORDER BY code FOR UPDATE").execute(c)?;
    }
    Ok(())
}

fn snapshot(row: &SecrecyLevelRow) -> serde_json::Value {
    serde_json::to_value(row).unwrap_or_default()
}

/// Adds a level; the caller has judged its code, name and rank.
pub fn create(
    conn: &mut DbConn,
    meta: &WriteMeta,
    row: SecrecyLevelRow,
) -> Result<SecrecyLevelRow> {
    diesel::insert_into(secrecy_levels::table)
        .values(&row)
        .execute(conn)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "created",
            entity_type: "secrecy_level",
            entity_id: &row.code,
            before: None,
            after: Some(snapshot(&row)),
        },
    )?;
    get(conn, &row.code)
}

/// Renames or renumbers a level at `expected_version`; the caller has
/// judged the new rank against the others.
pub fn update(
    conn: &mut DbConn,
    meta: &WriteMeta,
    expected_version: i64,
    mut after: SecrecyLevelRow,
) -> Result<SecrecyLevelRow> {
    let before = get(conn, &after.code)?;
    if before.version != expected_version {
        return Err(Error::StaleVersion);
    }
    if (before.name.as_str(), before.rank) == (after.name.as_str(), after.rank) {
        return Ok(before);
    }
    after.version = expected_version + 1;
    let n = diesel::update(
        secrecy_levels::table
            .filter(secrecy_levels::code.eq(&after.code))
            .filter(secrecy_levels::version.eq(expected_version)),
    )
    .set((
        secrecy_levels::name.eq(&after.name),
        secrecy_levels::rank.eq(after.rank),
        secrecy_levels::version.eq(after.version),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(Error::StaleVersion);
    }
    audit::record(
        conn,
        meta,
        Change {
            action: "updated",
            entity_type: "secrecy_level",
            entity_id: &after.code,
            before: Some(snapshot(&before)),
            after: Some(snapshot(&after)),
        },
    )?;
    get(conn, &after.code)
}

/// Removes a level no file and no account uses, and not the last one.
pub fn delete(
    conn: &mut DbConn,
    meta: &WriteMeta,
    code: &str,
    expected_version: i64,
) -> Result<()> {
    let before = get(conn, code)?;
    if before.version != expected_version {
        return Err(Error::StaleVersion);
    }
    let files: i64 = customers::table
        .filter(customers::secrecy_level.eq(code))
        .count()
        .get_result(conn)?;
    let people: i64 = users::table
        .filter(users::clearance.eq(code))
        .count()
        .get_result(conn)?;
    if files + people > 0 {
        return Err(Error::conflict(
            "level_in_use",
            format!("{files} file(s) and {people} account(s) have this level; move them first"),
        ));
    }
    let levels: i64 = secrecy_levels::table.count().get_result(conn)?;
    if levels <= 1 {
        return Err(Error::conflict(
            "last_level",
            "the last secrecy level cannot be removed",
        ));
    }
    diesel::delete(
        secrecy_levels::table
            .filter(secrecy_levels::code.eq(code))
            .filter(secrecy_levels::version.eq(expected_version)),
    )
    .execute(conn)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "deleted",
            entity_type: "secrecy_level",
            entity_id: code,
            before: Some(snapshot(&before)),
            after: None,
        },
    )
}
