//! The references a customer file makes — its owner unit, its keeper
//! (CUS-10) and its secrecy level (CUS-07) — checked when a write sets
//! them: each must exist and be usable, and the keeper must be able to
//! read and work the file. An act over many files (an ERP import, a
//! hand-over, a unit's transfer) checks each combination once, not once a
//! file: the checks hold the rows they read until the transaction ends.

use crate::customers::CustomerRow;
use crate::error::{Error, Result};
use crate::schema::{org_units, secrecy_levels, users};
use crate::DbConn;
use clientele_core::UnitPath;
use diesel::prelude::*;
use diesel::sql_types::Text;
use std::collections::HashSet;

/// Which of a file's references to check: those a write sets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refs {
    unit: bool,
    owner: bool,
    level: bool,
}

impl Refs {
    pub(crate) const ALL: Refs = Refs {
        unit: true,
        owner: true,
        level: true,
    };

    /// Only the keeper: what an import checked once for all its new files
    /// leaves (their unit and level).
    pub(crate) const KEEPER: Refs = Refs {
        unit: false,
        owner: true,
        level: false,
    };

    /// The references `after` changes from `before`: a file whose unit has
    /// since been closed can still be handed to a new keeper.
    pub(crate) fn changed(before: &CustomerRow, after: &CustomerRow) -> Refs {
        Refs {
            unit: after.owner_unit_id != before.owner_unit_id,
            owner: after.owner_user_id != before.owner_user_id,
            level: after.secrecy_level != before.secrecy_level,
        }
    }
}

/// References found good in one transaction, so that a write of many files
/// checks each unit, keeper, level and keeper's reach once. What a check
/// holds (on PostgreSQL the unit's and the keeper's rows, `FOR SHARE`) is
/// held until the transaction ends, so what it found stays true for the
/// rest of the transaction; never keep one across transactions.
#[derive(Debug, Default)]
pub struct CheckedRefs {
    units: HashSet<String>,
    owners: HashSet<String>,
    levels: HashSet<String>,
    /// Keeper, owner unit, secrecy level and whether the file is shared.
    reaches: HashSet<(String, String, String, bool)>,
}

impl CheckedRefs {
    /// Forgets every check: after a rollback to a savepoint, which also
    /// lets go of the rows the checks since it held.
    pub fn forget(&mut self) {
        *self = Self::default();
    }
}

/// References a file makes must exist and be usable (those in `which`);
/// those in `known` were found good already.
pub(crate) fn check(
    conn: &mut DbConn,
    row: &CustomerRow,
    which: Refs,
    known: &mut CheckedRefs,
) -> Result<()> {
    if which.unit && !known.units.contains(&row.owner_unit_id) {
        unit_usable(conn, &row.owner_unit_id)?;
        known.units.insert(row.owner_unit_id.clone());
    }
    if let (true, Some(u)) = (which.owner, &row.owner_user_id) {
        if !known.owners.contains(u) {
            owner_usable(conn, u)?;
            known.owners.insert(u.clone());
        }
    }
    if which.level && !known.levels.contains(&row.secrecy_level) {
        if crate::secrecy::find(conn, &row.secrecy_level)?.is_none() {
            return Err(Error::unprocessable(
                "unknown_secrecy_level",
                format!("{:?} is not a secrecy level", row.secrecy_level),
            )
            .on("secrecy_level"));
        }
        known.levels.insert(row.secrecy_level.clone());
    }
    if let Some(keeper) = &row.owner_user_id {
        if which.owner || which.unit || which.level {
            let reach = (
                keeper.clone(),
                row.owner_unit_id.clone(),
                row.secrecy_level.clone(),
                row.shared,
            );
            if !known.reaches.contains(&reach) {
                keeper_fits(conn, keeper, row, which)?;
                known.reaches.insert(reach);
            }
        }
    }
    Ok(())
}

/// The owner unit exists and is active.
fn unit_usable(conn: &mut DbConn, unit_id: &str) -> Result<()> {
    match crate::units::get_held(conn, unit_id) {
        Ok(unit) if unit.active => Ok(()),
        Ok(_) => Err(
            Error::unprocessable("unit_inactive", "the owner unit is deactivated")
                .on("owner_unit_id"),
        ),
        Err(Error::NotFound) => Err(Error::unprocessable(
            "unit_not_found",
            "the owner unit does not exist",
        )
        .on("owner_unit_id")),
        Err(e) => Err(e),
    }
}

/// The keeper is an active person.
fn owner_usable(conn: &mut DbConn, user_id: &str) -> Result<()> {
    let owner: Option<(bool, String)> = users::table
        .find(user_id)
        .select((users::active, users::kind))
        .first(conn)
        .optional()?;
    // CUS-10 names a person as keeper; a service account is a system.
    if let Some((true, kind)) = &owner {
        if kind != "person" {
            return Err(Error::unprocessable(
                "owner_not_person",
                "a file is kept by a person, not a service account",
            )
            .on("owner_user_id"));
        }
    }
    if owner.as_ref().map(|o| o.0) != Some(true) {
        return Err(Error::unprocessable(
            "owner_not_found",
            "the owner user does not exist or is deactivated",
        )
        .on("owner_user_id"));
    }
    Ok(())
}

/// What a person reaches: their unit's path and the rank of their
/// clearance.
pub(crate) fn reach_of(conn: &mut DbConn, user_id: &str) -> Result<Option<(String, i32)>> {
    Ok(users::table
        .inner_join(org_units::table)
        .inner_join(secrecy_levels::table)
        .filter(users::id.eq(user_id))
        .select((org_units::path, secrecy_levels::rank))
        .first(conn)
        .optional()?)
}

/// The keeper can read and work the file (CUS-10): in the unit's subtree,
/// cleared for its level. The error names the field the write changed.
fn keeper_fits(conn: &mut DbConn, keeper: &str, row: &CustomerRow, which: Refs) -> Result<()> {
    use clientele_customers::visibility::{check_keeper, FileScope};
    // The keeper's unit and clearance hold until this write commits: a
    // change of them meanwhile waits, then judges this file too.
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("SELECT id FROM users WHERE id = $1 FOR SHARE")
            .bind::<Text, _>(keeper)
            .execute(c)?;
    }
    let keeper = reach_of(conn, keeper)?;
    let file: Option<(String, i32)> = org_units::table
        .inner_join(secrecy_levels::table.on(secrecy_levels::code.eq(&row.secrecy_level)))
        .filter(org_units::id.eq(&row.owner_unit_id))
        .select((org_units::path, secrecy_levels::rank))
        .first(conn)
        .optional()?;
    let (Some((keeper_path, keeper_rank)), Some((file_path, file_rank))) = (keeper, file) else {
        // A missing keeper, unit or level was answered above.
        return Ok(());
    };
    let parse = |p: &str| UnitPath::parse(p).map_err(|e| Error::Corrupt(e.to_string()));
    let file_path = parse(&file_path)?;
    let scope = FileScope {
        owner_unit_path: &file_path,
        secrecy_rank: file_rank,
        shared: row.shared,
    };
    check_keeper(&parse(&keeper_path)?, keeper_rank, &scope).map_err(|e| {
        let field = match (which.owner, e.code) {
            (true, _) => "owner_user_id",
            (false, "keeper_not_cleared") if which.level => "secrecy_level",
            (false, _) => "owner_unit_id",
        };
        Error::on_field(field, e)
    })
}
