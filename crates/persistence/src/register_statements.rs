//! The statements that write a batch of read-register entries. Each is a
//! fixed SQL text with its own type, so the connection's statement cache
//! keeps it prepared (`diesel::sql_query` is prepared anew every time: on
//! PostgreSQL a parse and plan per batch).

use crate::Timestamp;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp as Ts};
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
    ($t:ident, owned) => {
        impl QueryId for $t {
            type QueryId = $t;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
        impl<C> diesel::RunQueryDsl<C> for $t {}
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

/// SQLite: the per-file row of each entry of the same JSON batch that names
/// one file (a file read), written at once.
pub(crate) struct SqliteFiles<'a> {
    pub batch: &'a str,
}
cached!(SqliteFiles);

impl QueryFragment<Sqlite> for SqliteFiles<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO read_register_files (customer_id, entry_id) \
             SELECT (value ->> 8) ->> 0, value ->> 0 FROM json_each(",
        );
        out.push_bind_param::<Text, _>(self.batch)?;
        out.push_sql(") WHERE json_array_length(value ->> 8) = 1");
        Ok(())
    }
}

/// SQLite: lists the entries of the same JSON batch that name several files
/// (pages, exports) as not yet indexed by file.
pub(crate) struct SqliteUnindexed<'a> {
    pub batch: &'a str,
}
cached!(SqliteUnindexed);

impl QueryFragment<Sqlite> for SqliteUnindexed<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO read_register_unindexed (entry_id) \
             SELECT value ->> 0 FROM json_each(",
        );
        out.push_bind_param::<Text, _>(self.batch)?;
        out.push_sql(") WHERE json_array_length(value ->> 8) > 1");
        Ok(())
    }
}

/// SQLite: writes the per-file rows of the oldest `limit` unindexed entries
/// (in file order, so neighbouring rows share pages; `CROSS JOIN` keeps
/// SQLite from walking the whole register instead). Followed, in the same
/// transaction, by [`SqliteForgetIndexed`] with the same limit.
pub(crate) struct SqliteIndexFiles {
    pub limit: i64,
}
cached!(SqliteIndexFiles, owned);

impl QueryFragment<Sqlite> for SqliteIndexFiles {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO read_register_files (customer_id, entry_id) \
             SELECT DISTINCT f.value, e.id FROM \
             (SELECT entry_id FROM read_register_unindexed ORDER BY entry_id LIMIT ",
        );
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(
            ") u CROSS JOIN read_register e ON e.id = u.entry_id \
             CROSS JOIN json_each(e.customer_ids) f \
             WHERE true ORDER BY 1, 2 ON CONFLICT DO NOTHING",
        );
        Ok(())
    }
}

/// SQLite: takes the entries [`SqliteIndexFiles`] just indexed off the list.
pub(crate) struct SqliteForgetIndexed {
    pub limit: i64,
}
cached!(SqliteForgetIndexed, owned);

impl QueryFragment<Sqlite> for SqliteForgetIndexed {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(
            "DELETE FROM read_register_unindexed WHERE entry_id IN \
             (SELECT entry_id FROM read_register_unindexed ORDER BY entry_id LIMIT ",
        );
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(")");
        Ok(())
    }
}

/// PostgreSQL: writes the per-file rows of the oldest `limit` unindexed
/// entries and takes them off the list, in one statement. The entries are
/// locked first, so two indexers never take the same one and a reader that
/// indexes before reading waits for one already under way.
pub(crate) struct PgIndex {
    pub limit: i64,
}
cached!(PgIndex, owned);

impl QueryFragment<Pg> for PgIndex {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "WITH b AS (SELECT entry_id FROM read_register_unindexed \
             ORDER BY entry_id LIMIT ",
        );
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(
            " FOR UPDATE), \
             f AS (INSERT INTO read_register_files (customer_id, entry_id) \
             SELECT DISTINCT f.value, e.id FROM b JOIN read_register e ON e.id = b.entry_id \
             CROSS JOIN LATERAL json_array_elements_text(e.customer_ids::json) AS f(value) \
             ON CONFLICT DO NOTHING) \
             DELETE FROM read_register_unindexed WHERE entry_id IN (SELECT entry_id FROM b)",
        );
        Ok(())
    }
}

/// PostgreSQL: the entries of a batch as arrays, written in one statement
/// (atomic on its own) with the per-file row of each that names one file;
/// those naming several are listed as not yet indexed by file.
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
            ") RETURNING id, customer_ids::json AS files), \
             u AS (INSERT INTO read_register_unindexed (entry_id) \
             SELECT id FROM e WHERE json_array_length(files) > 1) \
             INSERT INTO read_register_files (customer_id, entry_id) \
             SELECT files ->> 0, id FROM e WHERE json_array_length(files) = 1",
        );
        Ok(())
    }
}
