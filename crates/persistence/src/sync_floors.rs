//! Each server process's sync floor, shared through the database.
//!
//! Behind a load balancer several processes write to one PostgreSQL, and
//! each knows only its own writes under way
//! ([`crate::writes_in_flight`]). So each publishes its floor — the oldest
//! stamp of its writes under way, or its present when none is — and
//! learns the lowest floor of the others. A floor is a lower bound of
//! every change its process has yet to commit, and stays one: a write
//! under way when it was taken is stamped at or after it, and a later
//! write at or after the moment it was taken. So a floor learned a while
//! ago is still safe, only lower than need be; and a process that started
//! after the others' floors were read publishes before it writes, so its
//! changes are stamped after that read. A process that stops publishing
//! (it died, and its transactions were rolled back) is left out once its
//! floor is `STALE_AFTER_SECS` old by the database's clock.
//!
//! One process on SQLite has no one to tell: nothing here runs there.

use crate::{DbConn, Result, Timestamp};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp as SqlTimestamp};

/// A floor not published again for this long belongs to a process that
/// is gone.
pub const STALE_AFTER_SECS: i64 = 30;

/// Floors of processes gone for this long are deleted.
const FORGET_AFTER_SECS: i64 = 86_400;

/// Publishes `process`'s floor, and answers the lowest floor of the other
/// processes still publishing (`None`: there are none). On SQLite,
/// `None` and nothing written.
pub fn exchange(conn: &mut DbConn, process: &str, floor: Timestamp) -> Result<Option<Timestamp>> {
    let DbConn::Pg(c) = conn else {
        return Ok(None);
    };
    diesel::sql_query(
        "INSERT INTO sync_floors (process_id, floor, published_at) \
         VALUES ($1, $2, now() AT TIME ZONE 'UTC') \
         ON CONFLICT (process_id) DO UPDATE \
         SET floor = GREATEST(sync_floors.floor, EXCLUDED.floor), \
             published_at = EXCLUDED.published_at",
    )
    .bind::<Text, _>(process)
    .bind::<SqlTimestamp, _>(floor)
    .execute(c)?;
    #[derive(QueryableByName)]
    struct Lowest {
        #[diesel(sql_type = Nullable<SqlTimestamp>)]
        floor: Option<Timestamp>,
    }
    let lowest: Lowest = diesel::sql_query(
        "SELECT min(floor) AS floor FROM sync_floors \
         WHERE process_id <> $1 \
           AND published_at > (now() AT TIME ZONE 'UTC') - make_interval(secs => $2)",
    )
    .bind::<Text, _>(process)
    .bind::<BigInt, _>(STALE_AFTER_SECS)
    .get_result(c)?;
    Ok(lowest.floor)
}

/// Takes `process`'s floor back (it stops cleanly), and deletes floors of
/// processes long gone.
pub fn withdraw(conn: &mut DbConn, process: &str) -> Result<()> {
    let DbConn::Pg(c) = conn else {
        return Ok(());
    };
    diesel::sql_query(
        "DELETE FROM sync_floors WHERE process_id = $1 \
            OR published_at < (now() AT TIME ZONE 'UTC') - make_interval(secs => $2)",
    )
    .bind::<Text, _>(process)
    .bind::<BigInt, _>(FORGET_AFTER_SECS)
    .execute(c)?;
    Ok(())
}
