//! Sessions and their rotating refresh tokens. A session is one sign-in;
//! every refresh spends the presented token and issues the next one. A spent
//! token presented again means it was stolen: the whole session is revoked.

use crate::error::Result;
use crate::schema::{refresh_tokens, sessions, users};
use crate::{DbConn, Timestamp};
use clientele_core::new_id;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub grant_type: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revoked_reason: Option<String>,
    pub client_ip: Option<String>,
}

pub fn create(
    conn: &mut DbConn,
    user_id: &str,
    grant_type: &str,
    at: Timestamp,
    expires_at: Timestamp,
    client_ip: Option<String>,
) -> Result<SessionRow> {
    let row = SessionRow {
        id: new_id().to_string(),
        user_id: user_id.to_owned(),
        grant_type: grant_type.to_owned(),
        created_at: at,
        expires_at,
        revoked_at: None,
        revoked_reason: None,
        client_ip,
    };
    diesel::insert_into(sessions::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

pub fn issue_refresh(
    conn: &mut DbConn,
    session_id: &str,
    token_hash: &str,
    at: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(new_id().to_string()),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::created_at.eq(at),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn revoke(conn: &mut DbConn, session_id: &str, reason: &str, at: Timestamp) -> Result<bool> {
    let n = diesel::update(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(Some(at)),
        sessions::revoked_reason.eq(Some(reason)),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Refresh {
    /// The token was live: it is now spent and `new_hash` issued in its place.
    Rotated { user_id: String, session_id: String },
    /// The token had been spent before: its session is now revoked.
    Reused,
    /// Unknown, expired, or its session/user is no longer active.
    Invalid,
}

#[derive(Queryable)]
struct RefreshLookup {
    token_id: String,
    used_at: Option<Timestamp>,
    expires_at: Timestamp,
    session_id: String,
    revoked_at: Option<Timestamp>,
    active: bool,
}

pub fn rotate(
    conn: &mut DbConn,
    presented_hash: &str,
    new_hash: &str,
    at: Timestamp,
    new_expiry: Timestamp,
) -> Result<Refresh> {
    let found: Option<RefreshLookup> = refresh_tokens::table
        .inner_join(sessions::table.inner_join(users::table))
        .filter(refresh_tokens::token_hash.eq(presented_hash))
        .select((
            refresh_tokens::id,
            refresh_tokens::used_at,
            refresh_tokens::expires_at,
            sessions::id,
            sessions::revoked_at,
            users::active,
        ))
        .first(conn)
        .optional()?;
    let Some(RefreshLookup {
        token_id,
        used_at,
        expires_at,
        session_id,
        revoked_at,
        active,
    }) = found
    else {
        return Ok(Refresh::Invalid);
    };
    if used_at.is_some() {
        revoke(conn, &session_id, "refresh token reused", at)?;
        return Ok(Refresh::Reused);
    }
    if revoked_at.is_some() || !active || expires_at <= at {
        return Ok(Refresh::Invalid);
    }
    // Spend it only if nobody spent it in the meantime.
    let spent = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(&token_id))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Some(at)))
    .execute(conn)?;
    if spent == 0 {
        revoke(conn, &session_id, "refresh token reused", at)?;
        return Ok(Refresh::Reused);
    }
    issue_refresh(conn, &session_id, new_hash, at, new_expiry)?;
    let user_id = sessions::table
        .find(&session_id)
        .select(sessions::user_id)
        .first(conn)?;
    Ok(Refresh::Rotated {
        user_id,
        session_id,
    })
}

/// The session a refresh token belongs to, if the token is known.
pub fn session_of_refresh(conn: &mut DbConn, token_hash: &str) -> Result<Option<String>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(refresh_tokens::session_id)
        .first(conn)
        .optional()?)
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<SessionRow> {
    Ok(sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)?)
}
