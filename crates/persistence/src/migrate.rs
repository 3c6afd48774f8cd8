//! Embedded migrations, one set per backend with the same version names.

use crate::connection::{Db, DbConn};
use crate::error::{Error, Result};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Runs `$body` with `$harness` bound to the connection and `$set` to its
/// backend's migrations; a harness error is a migration error.
macro_rules! with_harness {
    ($db:expr, |$harness:ident, $set:ident| $body:expr) => {
        $db.read(|conn| {
            let done = match conn {
                DbConn::Sqlite($harness) => {
                    let $set = SQLITE;
                    $body
                }
                DbConn::Pg($harness) => {
                    let $set = POSTGRES;
                    $body
                }
            };
            done.map_err(|e| Error::Migration(e.to_string()))
        })
    };
}

/// Applies pending migrations, moves the read register to its own file on
/// SQLite ([`crate::register_file`]), then fills what a migration cannot compute
/// in SQL ([`crate::stored_forms`]: name forms, folded tags and names of
/// existing files, the keys of their contacts); returns the versions applied.
pub fn run_pending(db: &Db) -> Result<Vec<String>> {
    let applied = with_harness!(db, |c, set| c
        .run_pending_migrations(set)
        .map(|v| v.iter().map(|m| m.to_string()).collect()))?;
    crate::register_file::settle(db)?;
    crate::stored_forms::fill_name_keys(db)?;
    crate::stored_forms::fold_stored_tags(db)?;
    crate::stored_forms::fold_stored_names(db)?;
    crate::stored_forms::key_contacts(db)?;
    Ok(applied)
}

/// Versions not yet applied.
pub fn pending(db: &Db) -> Result<Vec<String>> {
    with_harness!(db, |c, set| c
        .pending_migrations(set)
        .map(|v| v.iter().map(|m| m.name().to_string()).collect()))
}

/// Reverts every applied migration, newest first, with its `down.sql`;
/// returns the versions reverted. Destroys everything: for proving the
/// migrations go both ways, and for wiping a scratch database.
pub fn revert_all(db: &Db) -> Result<Vec<String>> {
    with_harness!(db, |c, set| c
        .revert_all_migrations(set)
        .map(|v| v.iter().map(|m| m.to_string()).collect()))
}

/// Reverts the newest applied migration with its `down.sql`; returns its
/// version. For proving a migration upgrades a database holding data.
pub fn revert_last(db: &Db) -> Result<String> {
    with_harness!(db, |c, set| c
        .revert_last_migration(set)
        .map(|m| m.to_string()))
}
