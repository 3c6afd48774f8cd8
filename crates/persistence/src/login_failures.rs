//! Failed sign-ins per account and per client address, kept in the database
//! so every replica sees the same count.

use crate::error::Result;
use crate::schema::login_failures;
use crate::{DbConn, Timestamp};
use clientele_core::new_id;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

pub fn record(
    conn: &mut DbConn,
    subjects: &[String],
    at: Timestamp,
    forget_before: Timestamp,
) -> Result<()> {
    diesel::delete(login_failures::table.filter(login_failures::at.lt(forget_before)))
        .execute(conn)?;
    for s in subjects {
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::id.eq(new_id().to_string()),
                login_failures::subject.eq(s),
                login_failures::at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Failures since `since`, and the oldest of them (which frees a slot first).
pub fn count_since(
    conn: &mut DbConn,
    subject: &str,
    since: Timestamp,
) -> Result<(i64, Option<Timestamp>)> {
    Ok(login_failures::table
        .filter(login_failures::subject.eq(subject))
        .filter(login_failures::at.ge(since))
        .select((count_star(), min(login_failures::at)))
        .first(conn)?)
}

pub fn clear(conn: &mut DbConn, subject: &str) -> Result<()> {
    diesel::delete(login_failures::table.filter(login_failures::subject.eq(subject)))
        .execute(conn)?;
    Ok(())
}
