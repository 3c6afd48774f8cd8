//! The statements that write and index read-register entries. Each is a
//! fixed SQL text with its own type (a marker type names the text), so the
//! connection's statement cache keeps it prepared (`diesel::sql_query` is
//! prepared anew every time: on PostgreSQL a parse and plan per batch).

use crate::Timestamp;
use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, BigInt, HasSqlType, Nullable, Text, Timestamp as Ts};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;
use std::marker::PhantomData;

/// One statement: a fixed SQL text around one bound argument. Each marker
/// type `S` names its text (and its backend); the statement's type carries
/// it, so every text is its own cached statement.
pub(crate) trait Around<DB> {
    const BEFORE: &'static str;
    const AFTER: &'static str;
    /// Planned anew on every run rather than kept prepared: for a statement
    /// over a table whose size swings, where a plan kept from when it was
    /// small turns into a scan of everything once it is not.
    const PLANNED_EACH_RUN: bool = false;
}

/// A statement over one batch bound as JSON text (SQLite, `json_each`).
pub(crate) struct JsonBatch<'a, S> {
    batch: &'a str,
    sql: PhantomData<S>,
}

impl<'a, S> JsonBatch<'a, S> {
    pub fn new(batch: &'a str) -> Self {
        Self {
            batch,
            sql: PhantomData,
        }
    }
}

/// A statement over the oldest `limit` entries not yet indexed by file.
pub(crate) struct Limited<S> {
    limit: i64,
    sql: PhantomData<S>,
}

impl<S> Limited<S> {
    pub fn new(limit: i64) -> Self {
        Self {
            limit,
            sql: PhantomData,
        }
    }
}

impl<S: 'static> QueryId for JsonBatch<'_, S> {
    type QueryId = JsonBatch<'static, S>;
    const HAS_STATIC_QUERY_ID: bool = true;
}
impl<S: 'static> QueryId for Limited<S> {
    type QueryId = Limited<S>;
    const HAS_STATIC_QUERY_ID: bool = true;
}
impl<C, S> diesel::RunQueryDsl<C> for JsonBatch<'_, S> {}
impl<C, S> diesel::RunQueryDsl<C> for Limited<S> {}

impl<DB, S> QueryFragment<DB> for JsonBatch<'_, S>
where
    DB: Backend + HasSqlType<Text>,
    str: ToSql<Text, DB>,
    S: Around<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(S::BEFORE);
        out.push_bind_param::<Text, _>(self.batch)?;
        out.push_sql(S::AFTER);
        Ok(())
    }
}

impl<DB, S> QueryFragment<DB> for Limited<S>
where
    DB: Backend + HasSqlType<BigInt>,
    i64: ToSql<BigInt, DB>,
    S: Around<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if S::PLANNED_EACH_RUN {
            out.unsafe_to_cache_prepared();
        }
        out.push_sql(S::BEFORE);
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(S::AFTER);
        Ok(())
    }
}

/// SQLite: the entry rows of a batch bound as one JSON array of
/// `[id, at, actor_id, action, detail, grant_id, client_ip, request_id, customer_ids]`.
pub(crate) enum Entries {}
impl Around<Sqlite> for Entries {
    const BEFORE: &'static str = "INSERT INTO read_register \
         (id, at, actor_id, action, detail, grant_id, client_ip, request_id, customer_ids) \
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
         value ->> 5, value ->> 6, value ->> 7, value ->> 8 FROM json_each(";
    const AFTER: &'static str = ")";
}

/// SQLite: the per-file row of each entry of the same JSON batch that names
/// one file (a file read), written at once.
pub(crate) enum SingleFiles {}
impl Around<Sqlite> for SingleFiles {
    const BEFORE: &'static str = "INSERT INTO read_register_files (customer_id, entry_id) \
         SELECT (value ->> 8) ->> 0, value ->> 0 FROM json_each(";
    const AFTER: &'static str = ") WHERE json_array_length(value ->> 8) = 1";
}

/// SQLite: lists the entries of the same JSON batch that name several files
/// (pages, exports) as not yet indexed by file.
pub(crate) enum Unindexed {}
impl Around<Sqlite> for Unindexed {
    const BEFORE: &'static str = "INSERT INTO read_register_unindexed (entry_id) \
         SELECT value ->> 0 FROM json_each(";
    const AFTER: &'static str = ") WHERE json_array_length(value ->> 8) > 1";
}

/// SQLite: writes the per-file rows of the oldest `limit` unindexed entries
/// (in file order, so neighbouring rows share pages; `CROSS JOIN` keeps
/// SQLite from walking the whole register instead). Followed, in the same
/// transaction, by [`ForgetIndexed`] with the same limit.
pub(crate) enum IndexFiles {}
impl Around<Sqlite> for IndexFiles {
    const BEFORE: &'static str = "INSERT INTO read_register_files (customer_id, entry_id) \
         SELECT DISTINCT f.value, e.id FROM \
         (SELECT entry_id FROM read_register_unindexed ORDER BY entry_id LIMIT ";
    const AFTER: &'static str = ") u CROSS JOIN read_register e ON e.id = u.entry_id \
         CROSS JOIN json_each(e.customer_ids) f \
         WHERE true ORDER BY 1, 2 ON CONFLICT DO NOTHING";
}

/// SQLite: takes the entries [`IndexFiles`] just indexed off the list.
pub(crate) enum ForgetIndexed {}
impl Around<Sqlite> for ForgetIndexed {
    const BEFORE: &'static str = "DELETE FROM read_register_unindexed WHERE entry_id IN \
         (SELECT entry_id FROM read_register_unindexed ORDER BY entry_id LIMIT ";
    const AFTER: &'static str = ")";
}

/// PostgreSQL: writes the per-file rows of the oldest `limit` unindexed
/// entries and takes them off the list, in one statement. The entries are
/// locked first, so two indexers never take the same one and a reader that
/// indexes before reading waits for one already under way. Each entry is
/// looked up by its key (`OFFSET 0` keeps the lookup a nested one): joined
/// plainly, PostgreSQL hashed the batch and scanned the whole register for
/// it as long as the register looked small enough, 12–15 % of its CPU
/// during the list bench, growing with every entry until the plan flipped.
/// Planned on every run (ten a second): the list of unindexed entries is a
/// queue, empty one moment and holding thousands of dead rows the next
/// (until autovacuum comes by); a plan kept from when it was empty read it
/// with a full scan and a sort on every run (auto_explain).
pub(crate) enum PgIndex {}
impl Around<Pg> for PgIndex {
    const PLANNED_EACH_RUN: bool = true;
    const BEFORE: &'static str = "WITH b AS (SELECT entry_id FROM read_register_unindexed \
         ORDER BY entry_id LIMIT ";
    const AFTER: &'static str = " FOR UPDATE), \
         f AS (INSERT INTO read_register_files (customer_id, entry_id) \
         SELECT DISTINCT f.value, e.id FROM b CROSS JOIN LATERAL \
         (SELECT r.id, r.customer_ids FROM read_register r WHERE r.id = b.entry_id OFFSET 0) e \
         CROSS JOIN LATERAL json_array_elements_text(e.customer_ids::json) AS f(value) \
         ON CONFLICT DO NOTHING) \
         DELETE FROM read_register_unindexed WHERE entry_id = ANY(ARRAY(SELECT entry_id FROM b))";
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
impl QueryId for PgBatch<'_> {
    type QueryId = PgBatch<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}
impl<C> diesel::RunQueryDsl<C> for PgBatch<'_> {}

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
