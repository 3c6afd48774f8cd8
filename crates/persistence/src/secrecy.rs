//! Secrecy levels (CUS-07): ordered codes; a user's clearance is one of them.

use crate::error::Result;
use crate::schema::secrecy_levels;
use crate::DbConn;
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = secrecy_levels)]
pub struct SecrecyLevelRow {
    pub code: String,
    pub rank: i32,
    pub name: String,
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

/// The lowest level, the default for new users and files.
pub fn lowest(conn: &mut DbConn) -> Result<SecrecyLevelRow> {
    Ok(secrecy_levels::table
        .order(secrecy_levels::rank.asc())
        .select(SecrecyLevelRow::as_select())
        .first(conn)?)
}
