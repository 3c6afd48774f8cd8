//! Storage for Clientele: one diesel `MultiConnection` over SQLite or
//! PostgreSQL, chosen by the URL scheme, a pool, embedded migrations for
//! both backends, and one module per area holding its queries.
//!
//! Every write runs in one transaction with its audit entry and outbox event
//! (`Db::write` + `audit::record`).

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
mod fixed_sql;
pub mod idempotency;
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
pub mod units;
pub mod users;
pub mod webhooks;

pub use audit::WriteMeta;
pub use connection::{savepoint, BackendKind, Db, DbConn, DbSettings, Plans};
pub use error::{Error, Result};
pub use page::Page;

/// Storage form of instants: naive UTC.
pub type Timestamp = chrono::NaiveDateTime;
