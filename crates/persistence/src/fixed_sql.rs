//! SQL written as fixed text around bound values, for the few conditions
//! diesel's DSL cannot say (search indexes). `diesel::dsl::sql` would do,
//! but it marks every query holding it as never to be kept prepared (its
//! text could be anything), so every search page was prepared anew: on
//! SQLite a compile of the whole list query, on PostgreSQL a parse. The
//! text of a [`Fixed`] is made of `&'static str` pieces only, the same for
//! every value bound, so a query holding one stays in the connection's
//! statement cache, keyed by its text.

use diesel::backend::Backend;
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, TypedExpressionType,
    ValidGrouping,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text, Timestamp};
use diesel::QueryResult;
use std::marker::PhantomData;

enum Piece {
    Sql(&'static str),
    Text(String),
    Int(i64),
    Time(chrono::NaiveDateTime),
}

/// An expression of SQL type `ST`: constant text with bound values between.
pub(crate) struct Fixed<ST> {
    pieces: Vec<Piece>,
    /// Whether a query holding it is planned anew for every run.
    planned_each_run: bool,
    sql_type: PhantomData<ST>,
}

/// Starts a [`Fixed`] expression with this text.
pub(crate) fn fixed<ST>(text: &'static str) -> Fixed<ST> {
    Fixed {
        pieces: vec![Piece::Sql(text)],
        planned_each_run: false,
        sql_type: PhantomData,
    }
}

impl<ST> Fixed<ST> {
    /// More text.
    pub fn sql(mut self, text: &'static str) -> Self {
        self.pieces.push(Piece::Sql(text));
        self
    }

    /// A text value, bound.
    pub fn bind(mut self, value: impl Into<String>) -> Self {
        self.pieces.push(Piece::Text(value.into()));
        self
    }

    /// A number, bound.
    pub fn bind_int(mut self, value: i64) -> Self {
        self.pieces.push(Piece::Int(value));
        self
    }

    /// A moment (UTC), bound.
    pub fn bind_time(mut self, value: chrono::NaiveDateTime) -> Self {
        self.pieces.push(Piece::Time(value));
        self
    }

    /// Keeps a query holding it from being kept prepared after all: for a
    /// condition whose best plan depends on the value bound, where a plan
    /// kept for all values (PostgreSQL's generic plan) would be ruinous.
    pub fn planned_each_run(mut self) -> Self {
        self.planned_each_run = true;
        self
    }
}

impl<ST: TypedExpressionType> Expression for Fixed<ST> {
    type SqlType = ST;
}

impl<ST, QS> AppearsOnTable<QS> for Fixed<ST> where Self: Expression {}

impl<ST, QS> SelectableExpression<QS> for Fixed<ST> where Self: Expression {}

impl<ST, GB> ValidGrouping<GB> for Fixed<ST> {
    type IsAggregate = is_aggregate::Never;
}

impl<ST> QueryId for Fixed<ST> {
    type QueryId = ();
    // The statement cache keys the query by its text, which is fixed.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, DB> QueryFragment<DB> for Fixed<ST>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Timestamp>,
    String: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    chrono::NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.planned_each_run {
            out.unsafe_to_cache_prepared();
        }
        for piece in &self.pieces {
            match piece {
                Piece::Sql(text) => out.push_sql(text),
                Piece::Text(value) => out.push_bind_param::<Text, String>(value)?,
                Piece::Int(value) => out.push_bind_param::<BigInt, i64>(value)?,
                Piece::Time(value) => {
                    out.push_bind_param::<Timestamp, chrono::NaiveDateTime>(value)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::fixed;
    use crate::schema::customers;
    use diesel::pg::Pg;
    use diesel::prelude::*;
    use diesel::query_builder::QueryFragment;
    use diesel::sql_types::Bool;
    use diesel::sqlite::Sqlite;

    fn searched() -> super::Fixed<Bool> {
        fixed::<Bool>("customers.id IN (SELECT customer_id FROM customer_search WHERE rowid = ")
            .bind_int(7)
            .sql(" OR name = ")
            .bind("燕京")
            .sql(")")
    }

    fn stays_prepared<DB: diesel::backend::Backend>(
        q: &dyn QueryFragment<DB>,
        backend: &DB,
    ) -> Option<bool> {
        q.is_safe_to_cache_prepared(backend).ok()
    }

    /// A query holding fixed text stays prepared on both backends, where
    /// the same condition written with `diesel::dsl::sql` does not, nor one
    /// asked to be planned on each run.
    #[test]
    fn a_query_holding_fixed_text_stays_prepared() {
        let sqlite = customers::table
            .filter(searched())
            .select(customers::id)
            .into_boxed::<Sqlite>();
        assert_eq!(stays_prepared(&sqlite, &Sqlite), Some(true));
        let pg = customers::table
            .filter(searched())
            .select(customers::id)
            .into_boxed::<Pg>();
        assert_eq!(stays_prepared(&pg, &Pg), Some(true));
        let planned = customers::table
            .filter(searched().planned_each_run())
            .select(customers::id)
            .into_boxed::<Pg>();
        assert_eq!(stays_prepared(&planned, &Pg), Some(false));
        let literal = customers::table
            .filter(
                diesel::dsl::sql::<Bool>("customers.id = ").bind::<diesel::sql_types::Text, _>("x"),
            )
            .select(customers::id)
            .into_boxed::<Sqlite>();
        assert_eq!(stays_prepared(&literal, &Sqlite), Some(false));
    }

    /// Its text is the pieces in order, a placeholder for each value.
    #[test]
    fn fixed_text_binds_its_values_in_order() {
        let q = customers::table.filter(searched()).select(customers::id);
        let shown = diesel::debug_query::<Pg, _>(&q).to_string();
        assert!(
            shown.contains(
                "customers.id IN (SELECT customer_id FROM customer_search WHERE rowid = $1 OR name = $2)"
            ),
            "{shown}"
        );
        assert!(shown.ends_with("-- binds: [7, \"燕京\"]"), "{shown}");
    }
}
