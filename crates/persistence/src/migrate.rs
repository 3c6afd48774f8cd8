//! Embedded migrations, one set per backend with the same version names.

use crate::connection::{Db, DbConn};
use crate::error::{Error, Result};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Applies pending migrations, then fills what a migration cannot compute
/// in SQL (the pinyin sort keys and mnemonics of existing files); returns the versions
/// applied.
pub fn run_pending(db: &Db) -> Result<Vec<String>> {
    let applied = apply(db)?;
    crate::customers::fill_name_keys(db)?;
    Ok(applied)
}

fn apply(db: &Db) -> Result<Vec<String>> {
    db.read(|conn| {
        let applied = match conn {
            DbConn::Sqlite(c) => c
                .run_pending_migrations(SQLITE)
                .map(|v| v.iter().map(|m| m.to_string()).collect()),
            DbConn::Pg(c) => c
                .run_pending_migrations(POSTGRES)
                .map(|v| v.iter().map(|m| m.to_string()).collect()),
        };
        applied.map_err(|e| Error::Migration(e.to_string()))
    })
}

/// Versions not yet applied.
pub fn pending(db: &Db) -> Result<Vec<String>> {
    db.read(|conn| {
        let pending = match conn {
            DbConn::Sqlite(c) => c
                .pending_migrations(SQLITE)
                .map(|v| v.iter().map(|m| m.name().to_string()).collect()),
            DbConn::Pg(c) => c
                .pending_migrations(POSTGRES)
                .map(|v| v.iter().map(|m| m.name().to_string()).collect()),
        };
        pending.map_err(|e| Error::Migration(e.to_string()))
    })
}

/// Reverts every applied migration, newest first, with its `down.sql`;
/// returns the versions reverted. Destroys everything: for proving the
/// migrations go both ways, and for wiping a scratch database.
pub fn revert_all(db: &Db) -> Result<Vec<String>> {
    db.read(|conn| {
        let reverted = match conn {
            DbConn::Sqlite(c) => c
                .revert_all_migrations(SQLITE)
                .map(|v| v.iter().map(|m| m.to_string()).collect()),
            DbConn::Pg(c) => c
                .revert_all_migrations(POSTGRES)
                .map(|v| v.iter().map(|m| m.to_string()).collect()),
        };
        reverted.map_err(|e| Error::Migration(e.to_string()))
    })
}

/// Reverts the newest applied migration with its `down.sql`; returns its
/// version. For proving a migration upgrades a database holding data.
pub fn revert_last(db: &Db) -> Result<String> {
    db.read(|conn| {
        let reverted = match conn {
            DbConn::Sqlite(c) => c.revert_last_migration(SQLITE).map(|m| m.to_string()),
            DbConn::Pg(c) => c.revert_last_migration(POSTGRES).map(|m| m.to_string()),
        };
        reverted.map_err(|e| Error::Migration(e.to_string()))
    })
}
