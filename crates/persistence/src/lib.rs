//! Storage for Clientele: one diesel `MultiConnection` over SQLite or
//! PostgreSQL, chosen by the URL scheme, a pool, embedded migrations for
//! both backends, and one module per area holding its queries.
//!
//! Every write runs in one transaction with its audit entry and outbox event
//! (`Db::write` + `audit::record`).

/// Inserts `$rows` (a slice) into `$table`, each as `$value` makes it: on
/// PostgreSQL `$chunk` rows a statement (through the backend's own
/// connection: `MultiConnection` has no multi-row insert); on SQLite one
/// by one (in process a statement costs no round trip); and a single row
/// alone, since diesel keeps no multi-row insert prepared and PostgreSQL
/// would parse and plan it every time.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr, $chunk:expr, $value:expr) => {
        match &mut *$conn {
            $crate::DbConn::Pg(pg) if $rows.len() > 1 => {
                for chunk in $rows.chunks($chunk) {
                    let values: Vec<_> = chunk.iter().map($value).collect();
                    diesel::insert_into($table).values(values).execute(pg)?;
                }
            }
            conn => {
                for row in $rows {
                    diesel::insert_into($table)
                        .values($value(row))
                        .execute(conn)?;
                }
            }
        }
    };
}

pub mod approval_rules;
pub mod audit;
pub mod backup;
pub mod changed_files;
pub mod connection;
pub mod customer_access;
pub mod customer_parts;
pub mod customers;
pub mod error;
pub mod export_requests;
pub mod file_refs;
mod fixed_sql;
pub mod idempotency;
pub mod list_routes;
pub mod login_failures;
pub mod migrate;
pub mod new_files;
pub mod outbox;
pub mod page;
pub mod regions;
pub mod register_file;
mod register_statements;
pub mod schema;
pub mod secrecy;
pub mod sessions;
pub mod sql_fns;
pub mod stored_forms;
pub mod sync_floors;
pub mod units;
pub mod users;
pub mod webhooks;
pub mod writes_in_flight;

pub use audit::WriteMeta;
pub use connection::{savepoint, BackendKind, Db, DbConn, DbSettings, Plans};
pub use error::{Error, Result};
pub use page::Page;

/// Storage form of instants: naive UTC.
pub type Timestamp = chrono::NaiveDateTime;
