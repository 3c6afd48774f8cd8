//! Idempotency keys for creates: the first request with a key runs and its
//! answer is stored; a retry with the same body gets the stored answer.

use crate::error::{Error, Result};
use crate::schema::idempotency_keys;
use crate::{DbConn, Timestamp};
use diesel::prelude::*;

#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: u16,
    pub headers_json: Option<String>,
    pub body: Option<String>,
}

#[derive(Debug)]
pub enum Begin {
    /// First use: the request may run; finish with `complete` or `abandon`.
    Fresh,
    /// Same key, same request: answer with this.
    Replay(StoredResponse),
    /// Same key, another request.
    Mismatch,
    /// The first request with this key has not finished yet.
    InProgress,
}

pub struct KeyRef<'a> {
    pub principal_id: &'a str,
    pub key: &'a str,
}

pub fn begin(
    conn: &mut DbConn,
    k: &KeyRef<'_>,
    method: &str,
    path: &str,
    request_hash: &str,
    at: Timestamp,
    forget_before: Timestamp,
) -> Result<Begin> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::principal_id.eq(k.principal_id))
            .filter(idempotency_keys::idem_key.eq(k.key))
            .filter(idempotency_keys::created_at.lt(forget_before)),
    )
    .execute(conn)?;
    // A savepoint: on PostgreSQL a failed INSERT would otherwise poison the
    // surrounding transaction and the lookup below could not run.
    let inserted = crate::savepoint(conn, |c| {
        Ok(diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::principal_id.eq(k.principal_id),
                idempotency_keys::idem_key.eq(k.key),
                idempotency_keys::method.eq(method),
                idempotency_keys::path.eq(path),
                idempotency_keys::request_hash.eq(request_hash),
                idempotency_keys::created_at.eq(at),
            ))
            .execute(c)?)
    });
    match inserted {
        Ok(_) => return Ok(Begin::Fresh),
        Err(Error::Conflict { .. }) => {}
        Err(other) => return Err(other),
    }
    let (hash, m, p, status, headers_json, body): (
        String,
        String,
        String,
        Option<i32>,
        Option<String>,
        Option<String>,
    ) = idempotency_keys::table
        .find((k.principal_id, k.key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::method,
            idempotency_keys::path,
            idempotency_keys::status,
            idempotency_keys::response_headers,
            idempotency_keys::response_body,
        ))
        .first(conn)?;
    if hash != request_hash || m != method || p != path {
        return Ok(Begin::Mismatch);
    }
    Ok(match status {
        None => Begin::InProgress,
        Some(s) => Begin::Replay(StoredResponse {
            status: u16::try_from(s).unwrap_or(500),
            headers_json,
            body,
        }),
    })
}

pub fn complete(conn: &mut DbConn, k: &KeyRef<'_>, resp: &StoredResponse) -> Result<()> {
    diesel::update(idempotency_keys::table.find((k.principal_id, k.key)))
        .set((
            idempotency_keys::status.eq(Some(i32::from(resp.status))),
            idempotency_keys::response_headers.eq(resp.headers_json.clone()),
            idempotency_keys::response_body.eq(resp.body.clone()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The request failed: forget the key so a corrected retry may run.
pub fn abandon(conn: &mut DbConn, k: &KeyRef<'_>) -> Result<()> {
    diesel::delete(idempotency_keys::table.find((k.principal_id, k.key))).execute(conn)?;
    Ok(())
}
