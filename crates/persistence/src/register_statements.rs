//! The statements that write a batch of read-register entries. Each is a
//! fixed SQL text with its own type, so the connection's statement cache
//! keeps it prepared (`diesel::sql_query` is prepared anew every time: on
//! PostgreSQL a parse and plan per batch).

use crate::Timestamp;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Nullable, Text, Timestamp as Ts};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;

/// Implements `QueryId` with a static id (one cached statement per type),
/// and lets the statement run with `execute`.
macro_rules! cached {
    ($t:ident) => {
        impl QueryId for $t<'_> {
            type QueryId = $t<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
        impl<C> diesel::RunQueryDsl<C> for $t<'_> {}
    };
}

/// SQLite: the entry rows of a batch bound as one JSON array of
/// `[id, at, actor_id, action, detail, grant_id, client_ip, request_id, customer_ids]`.
pub(crate) struct SqliteEntries<'a> {
    pub batch: &'a str,
}
cached!(SqliteEntries);

impl QueryFragment<Sqlite> for SqliteEntries<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO read_register \
             (id, at, actor_id, action, detail, grant_id, client_ip, request_id, customer_ids) \
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
             value ->> 5, value ->> 6, value ->> 7, value ->> 8 FROM json_each(",
        );
        out.push_bind_param::<Text, _>(self.batch)?;
        out.push_sql(")");
        Ok(())
    }
}

/// SQLite: one per-file row for each file each entry of the same JSON batch names.
pub(crate) struct SqliteFiles<'a> {
    pub batch: &'a str,
}
cached!(SqliteFiles);

impl QueryFragment<Sqlite> for SqliteFiles<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO read_register_files (customer_id, entry_id) \
             SELECT f.value, e.value ->> 0 FROM json_each(",
        );
        out.push_bind_param::<Text, _>(self.batch)?;
        out.push_sql(") e, json_each(e.value ->> 8) f");
        Ok(())
    }
}

/// PostgreSQL: the entries and their per-file rows of a batch as arrays,
/// written by one statement (atomic on its own).
pub(crate) struct PgBatch<'a> {
    pub ids: &'a [String],
    pub at: &'a [Timestamp],
    pub actor_ids: &'a [String],
    pub actions: &'a [String],
    pub details: &'a [Option<String>],
    pub grant_ids: &'a [Option<String>],
    pub client_ips: &'a [Option<String>],
    pub request_ids: &'a [Option<String>],
    pub customer_ids: &'a [String],
    pub file_customers: &'a [String],
    pub file_entries: &'a [String],
}
cached!(PgBatch);

impl QueryFragment<Pg> for PgBatch<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "WITH e AS (INSERT INTO read_register \
             (id, at, actor_id, action, detail, grant_id, client_ip, request_id, customer_ids) \
             SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(self.ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Ts>, _>(self.at)?;
        for v in [self.actor_ids, self.actions] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(v)?;
        }
        for v in [
            self.details,
            self.grant_ids,
            self.client_ips,
            self.request_ids,
        ] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Text>>, _>(v)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(self.customer_ids)?;
        out.push_sql(
            ")) INSERT INTO read_register_files (customer_id, entry_id) SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(self.file_customers)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(self.file_entries)?;
        out.push_sql(")");
        Ok(())
    }
}
