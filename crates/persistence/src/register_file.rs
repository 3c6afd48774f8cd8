//! On SQLite the read register (CUS-08) lives in a database file of its own
//! beside the database (`clientele.db` → `clientele-register.db`), attached
//! to every connection as `register`. SQLite lets one writer a file at a
//! time: with the register in the database file, every read's register
//! commit waited for the longest write under way (an import of 10 000
//! files held every file read for ~3 s); in its own file it waits only for
//! other register commits. Unqualified table names find the register's
//! tables in the attached file, so queries read as before.
//!
//! Migrations create the tables in the database file, as they always have;
//! [`settle`] moves them to the register's file after migrations run. A
//! backup is one file again: [`copy_into`] puts the register's tables into
//! the copy, and a restored copy's entries move out at the next start,
//! beside the entries already there (no entry is ever dropped).
//! A migration that changes these tables later finds them by their
//! unqualified names; a new table of the register is created as
//! `register.<name>`, and a new index of its tables goes in [`INDEXES`].

use crate::connection::{Db, DbConn};
use crate::error::{Error, Result};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

/// The register's tables (their indexes and triggers go with them).
pub const TABLES: [&str; 3] = [
    "read_register",
    "read_register_files",
    "read_register_unindexed",
];

/// Indexes of the register's tables that migrations cannot create (SQLite
/// creates an index only in the file of its table, named by schema, and a
/// migration cannot know which file that is): [`settle`] creates each in
/// the register's file after every migration run. Each comes with its
/// migration's version, whose `down.sql` drops it.
const INDEXES: [&str; 1] = [
    // 000023_register_by_grant: the reads made under one grant.
    "CREATE INDEX IF NOT EXISTS register.ix_read_register_grant \
     ON read_register (grant_id, id) WHERE grant_id IS NOT NULL",
];

/// The register's file beside the database at `path`.
pub fn path_beside(path: &str) -> String {
    match path.strip_suffix(".db") {
        Some(stem) => format!("{stem}-register.db"),
        None => format!("{path}-register"),
    }
}

#[derive(QueryableByName)]
struct Object {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

/// The register's tables, indexes and triggers in `schema`, tables first.
fn objects(c: &mut diesel::SqliteConnection, schema: &str) -> Result<Vec<Object>> {
    let list = TABLES.map(|t| format!("'{t}'")).join(", ");
    Ok(diesel::sql_query(format!(
        "SELECT name, sql FROM {schema}.sqlite_master \
         WHERE tbl_name IN ({list}) AND sql IS NOT NULL \
         ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name"
    ))
    .load(c)?)
}

/// `sql` (as SQLite keeps it: `CREATE … name …`) creating `name` in `schema`.
fn in_schema(sql: &str, name: &str, schema: &str) -> Result<String> {
    let at = sql
        .find(name)
        .filter(|_| sql.starts_with("CREATE "))
        .ok_or_else(|| Error::Migration(format!("cannot place {name} in {schema}: {sql}")))?;
    Ok(format!("{}{schema}.{}", &sql[..at], &sql[at..]))
}

/// Creates in `to` what `from` holds of the register and `to` lacks, then
/// copies the entries `to` lacks (`filter`, if any, chooses which by table).
fn copy_objects(
    c: &mut diesel::SqliteConnection,
    from: &str,
    to: &str,
    filter: impl Fn(&str) -> String,
) -> Result<()> {
    let have: Vec<String> = objects(c, to)?.into_iter().map(|o| o.name).collect();
    let wanted = objects(c, from)?;
    let (tables, rest): (Vec<&Object>, Vec<&Object>) = wanted
        .iter()
        .partition(|o| TABLES.contains(&o.name.as_str()));
    for o in tables.iter().filter(|o| !have.contains(&o.name)) {
        c.batch_execute(&in_schema(&o.sql, &o.name, to)?)?;
    }
    for t in TABLES
        .iter()
        .filter(|t| tables.iter().any(|o| o.name == **t))
    {
        c.batch_execute(&format!(
            "INSERT OR IGNORE INTO {to}.{t} SELECT * FROM {from}.{t} {}",
            filter(t)
        ))?;
    }
    for o in rest.iter().filter(|o| !have.contains(&o.name)) {
        c.batch_execute(&in_schema(&o.sql, &o.name, to)?)?;
    }
    Ok(())
}

/// Moves the register's tables from the database file to the register's
/// file (after migrations; a no-op once done). The copy commits before the
/// database file lets go of its tables, so a crash between the two leaves
/// the entries in both, and the next start finishes the move.
pub fn settle(db: &Db) -> Result<()> {
    if db.kind() != crate::BackendKind::Sqlite {
        return Ok(());
    }
    let in_main = db.read(|c| sqlite(c).and_then(|c| objects(c, "main")))?;
    if in_main.iter().any(|o| TABLES.contains(&o.name.as_str())) {
        let started = std::time::Instant::now();
        tracing::info!("moving the read register to its own file (once)");
        db.write_register(|c| copy_objects(sqlite(c)?, "main", "register", |_| String::new()))?;
        db.write(|c| {
            let c = sqlite(c)?;
            for t in TABLES {
                c.batch_execute(&format!("DROP TABLE IF EXISTS main.{t}"))?;
            }
            Ok(())
        })?;
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "the read register is in its own file"
        );
    }
    let in_register = db.read(|c| sqlite(c).and_then(|c| objects(c, "register")))?;
    let missing: Vec<&str> = TABLES
        .into_iter()
        .filter(|t| !in_register.iter().any(|o| o.name == *t))
        .collect();
    if !missing.is_empty() {
        let file = db.read(|c| {
            let files: Vec<Attached> =
                diesel::sql_query("PRAGMA database_list").load(sqlite(c)?)?;
            Ok(files
                .into_iter()
                .find(|f| f.name == "register")
                .map(|f| f.file)
                .unwrap_or_default())
        })?;
        return Err(Error::Migration(format!(
            "the read register's file {file} has no {}: it is missing or is not \
             this database's; put it back beside the database",
            missing.join(", "),
        )));
    }
    db.write_register(|c| {
        let c = sqlite(c)?;
        for sql in INDEXES {
            c.batch_execute(sql)?;
        }
        Ok(())
    })
}

/// A row of `PRAGMA database_list`.
#[derive(QueryableByName)]
struct Attached {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    file: String,
}

/// Puts the register's tables into `copy` (a copy of the database file made
/// just before): the entries about files the copy holds, so that the copy
/// is consistent on its own.
pub fn copy_into(copy: &std::path::Path, register: &str) -> Result<()> {
    let mut c = crate::connection::open_sqlite(&copy.to_string_lossy())
        .map_err(|e| Error::Unavailable(e.0))?;
    let quoted = register.replace('\'', "''");
    c.batch_execute(&format!("ATTACH DATABASE '{quoted}' AS live"))?;
    c.transaction(|c| {
        copy_objects(c, "live", "main", |t| match t {
            "read_register" => {
                "AS r WHERE NOT EXISTS (SELECT 1 FROM json_each(r.customer_ids) AS f \
                 WHERE NOT EXISTS (SELECT 1 FROM main.customers WHERE id = f.value))"
                    .to_owned()
            }
            _ => "WHERE entry_id IN (SELECT id FROM main.read_register)".to_owned(),
        })
    })?;
    c.batch_execute("DETACH DATABASE live")?;
    Ok(())
}

fn sqlite(c: &mut DbConn) -> Result<&mut diesel::SqliteConnection> {
    match c {
        DbConn::Sqlite(c) => Ok(c),
        DbConn::Pg(_) => Err(Error::Migration("not an SQLite database".into())),
    }
}
