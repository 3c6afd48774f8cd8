//! People and service accounts, their roles and clearance (ORG-01).

use crate::audit::{self, Change, WriteMeta};
use crate::error::{Error, Result};
use crate::page::Page;
use crate::schema::{org_units, secrecy_levels, sessions, user_roles, users};
use crate::sql_fns::{contains_pattern, lower};
use crate::{units, DbConn, Timestamp};
use clientele_core::{Cursor, Role};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub kind: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub unit_id: String,
    pub clearance: String,
    pub password_hash: String,
    pub active: bool,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A user with its roles, as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserRecord {
    pub id: String,
    pub kind: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub unit_id: String,
    pub clearance: String,
    pub active: bool,
    pub roles: Vec<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl UserRecord {
    fn from_row(r: UserRow, mut roles: Vec<String>) -> Self {
        roles.sort();
        Self {
            id: r.id,
            kind: r.kind,
            username: r.username,
            display_name: r.display_name,
            email: r.email,
            unit_id: r.unit_id,
            clearance: r.clearance,
            active: r.active,
            roles,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

pub struct NewUser {
    pub id: String,
    pub kind: &'static str,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub unit_id: String,
    pub clearance: Option<String>,
    pub password_hash: String,
    pub roles: Vec<Role>,
}

fn roles_of(conn: &mut DbConn, user_id: &str) -> Result<Vec<String>> {
    Ok(user_roles::table
        .filter(user_roles::user_id.eq(user_id))
        .select(user_roles::role)
        .load(conn)?)
}

fn set_roles(conn: &mut DbConn, user_id: &str, roles: &[Role]) -> Result<()> {
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user_id))).execute(conn)?;
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    for r in roles {
        diesel::insert_into(user_roles::table)
            .values((
                user_roles::user_id.eq(user_id),
                user_roles::role.eq(r.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The unit must exist and be active; the clearance must be a known level.
fn check_refs(conn: &mut DbConn, unit_id: &str, clearance: &str) -> Result<()> {
    match units::get_held(conn, unit_id) {
        Ok(u) if u.active => {}
        Ok(_) => {
            return Err(
                Error::unprocessable("unit_inactive", "the unit is deactivated").on("unit_id"),
            )
        }
        Err(Error::NotFound) => {
            return Err(
                Error::unprocessable("unit_not_found", "the unit does not exist").on("unit_id"),
            )
        }
        Err(e) => return Err(e),
    }
    if crate::secrecy::find(conn, clearance)?.is_none() {
        return Err(Error::unprocessable(
            "unknown_clearance",
            format!("{clearance:?} is not a secrecy level"),
        )
        .on("clearance"));
    }
    Ok(())
}

pub fn create(conn: &mut DbConn, meta: &WriteMeta, new: NewUser) -> Result<UserRecord> {
    let clearance = match new.clearance {
        Some(c) => c,
        None => crate::secrecy::lowest(conn)?.code,
    };
    check_refs(conn, &new.unit_id, &clearance)?;
    let row = UserRow {
        id: new.id,
        kind: new.kind.to_owned(),
        username: new.username,
        display_name: new.display_name,
        email: new.email,
        unit_id: new.unit_id,
        clearance,
        password_hash: new.password_hash,
        active: true,
        version: 1,
        created_at: meta.at,
        updated_at: meta.at,
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(conn)?;
    set_roles(conn, &row.id, &new.roles)?;
    let record = get(conn, &row.id)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "created",
            entity_type: "user",
            entity_id: &record.id,
            before: None,
            after: Some(record.snapshot()),
        },
    )?;
    Ok(record)
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<UserRecord> {
    let row: UserRow = users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)?;
    let roles = roles_of(conn, id)?;
    Ok(UserRecord::from_row(row, roles))
}

/// Usernames of the accounts `ids` names (for exports that show keepers
/// as ERPs know them); unknown ids are left out.
pub fn usernames(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(1_000) {
        let rows: Vec<(String, String)> = users::table
            .filter(users::id.eq_any(chunk))
            .select((users::id, users::username))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// The stored row (with the password hash) for signing in.
pub fn credentials(conn: &mut DbConn, username: &str) -> Result<Option<UserRow>> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn count(conn: &mut DbConn) -> Result<i64> {
    Ok(users::table.count().get_result(conn)?)
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    /// Only users whose unit is at or below this path.
    pub within: Option<String>,
    pub unit_id: Option<String>,
    pub kind: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
    pub q: Option<String>,
}

/// Sorted by username then id.
pub fn list(
    conn: &mut DbConn,
    f: &UserFilter,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<UserRecord>> {
    let mut q = users::table.inner_join(org_units::table).into_boxed();
    if let Some(p) = &f.within {
        q = q.filter(org_units::path.like(format!("{p}%")));
    }
    if let Some(v) = &f.unit_id {
        q = q.filter(users::unit_id.eq(v.clone()));
    }
    if let Some(v) = &f.kind {
        q = q.filter(users::kind.eq(v.clone()));
    }
    if let Some(v) = f.active {
        q = q.filter(users::active.eq(v));
    }
    if let Some(role) = &f.role {
        let holders = user_roles::table
            .filter(user_roles::role.eq(role.clone()))
            .select(user_roles::user_id);
        q = q.filter(users::id.eq_any(holders));
    }
    if let Some(v) = &f.q {
        let pat = contains_pattern(v);
        q = q.filter(
            lower(users::username)
                .like(pat.clone())
                .escape('\\')
                .or(lower(users::display_name).like(pat).escape('\\')),
        );
    }
    if let Some(c) = after {
        q = q.filter(
            users::username.gt(c.key.clone()).or(users::username
                .eq(c.key.clone())
                .and(users::id.gt(c.id.clone()))),
        );
    }
    let rows: Vec<UserRow> = q
        .order((users::username.asc(), users::id.asc()))
        .limit(i64::from(limit) + 1)
        .select(UserRow::as_select())
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let all_roles: Vec<(String, String)> = user_roles::table
        .filter(user_roles::user_id.eq_any(&ids))
        .select((user_roles::user_id, user_roles::role))
        .load(conn)?;
    let page = Page::from_overfetch(rows, limit, |r| Cursor {
        key: r.username.clone(),
        id: r.id.clone(),
    });
    Ok(page.map(|r| {
        let roles = all_roles
            .iter()
            .filter(|(u, _)| *u == r.id)
            .map(|(_, role)| role.clone())
            .collect();
        UserRecord::from_row(r, roles)
    }))
}

/// Fields an administrator may change; `email: Some(None)` clears it.
#[derive(Debug, Default, Clone)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub email: Option<Option<String>>,
    pub unit_id: Option<String>,
    pub clearance: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub active: Option<bool>,
}

pub fn update(
    conn: &mut DbConn,
    meta: &WriteMeta,
    id: &str,
    expected_version: i64,
    patch: UserPatch,
) -> Result<UserRecord> {
    let before = get(conn, id)?;
    if before.version != expected_version {
        return Err(Error::StaleVersion);
    }
    let unit_id = patch.unit_id.unwrap_or(before.unit_id.clone());
    let clearance = patch.clearance.unwrap_or(before.clearance.clone());
    if unit_id != before.unit_id || clearance != before.clearance {
        check_refs(conn, &unit_id, &clearance)?;
    }
    let active = patch.active.unwrap_or(before.active);
    let updated = diesel::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::version.eq(expected_version)),
    )
    .set((
        users::display_name.eq(patch.display_name.unwrap_or(before.display_name.clone())),
        users::email.eq(patch.email.unwrap_or(before.email.clone())),
        users::unit_id.eq(&unit_id),
        users::clearance.eq(&clearance),
        users::active.eq(active),
        users::version.eq(expected_version + 1),
        users::updated_at.eq(meta.at),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(Error::StaleVersion);
    }
    if let Some(roles) = &patch.roles {
        set_roles(conn, id, roles)?;
    }
    if !active && before.active {
        revoke_sessions(conn, id, "user deactivated", meta.at)?;
    }
    let after = get(conn, id)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "updated",
            entity_type: "user",
            entity_id: id,
            before: Some(before.snapshot()),
            after: Some(after.snapshot()),
        },
    )?;
    Ok(after)
}

/// Replaces the password (or client secret) and ends every session of the user.
pub fn set_password(
    conn: &mut DbConn,
    meta: &WriteMeta,
    id: &str,
    password_hash: &str,
) -> Result<UserRecord> {
    let before = get(conn, id)?;
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(password_hash),
            users::version.eq(before.version + 1),
            users::updated_at.eq(meta.at),
        ))
        .execute(conn)?;
    revoke_sessions(conn, id, "credentials changed", meta.at)?;
    let after = get(conn, id)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "credentials_changed",
            entity_type: "user",
            entity_id: id,
            before: None,
            after: Some(after.snapshot()),
        },
    )?;
    Ok(after)
}

fn revoke_sessions(conn: &mut DbConn, user_id: &str, reason: &str, at: Timestamp) -> Result<()> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(Some(at)),
        sessions::revoked_reason.eq(Some(reason)),
    ))
    .execute(conn)?;
    Ok(())
}

/// What authorization needs about the user behind a live session.
#[derive(Debug, Clone)]
pub struct PrincipalRow {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub kind: String,
    pub unit_id: String,
    pub unit_path: String,
    pub clearance: String,
    pub clearance_rank: i32,
    pub roles: Vec<String>,
}

#[derive(Queryable)]
struct PrincipalFields {
    user_id: String,
    username: String,
    display_name: String,
    kind: String,
    unit_id: String,
    unit_path: String,
    clearance: String,
    clearance_rank: i32,
}

/// The active user behind a live session, or `None` when the user is
/// deactivated, the session revoked or expired.
pub fn principal(
    conn: &mut DbConn,
    user_id: &str,
    session_id: &str,
    now: Timestamp,
) -> Result<Option<PrincipalRow>> {
    let found: Option<PrincipalFields> = users::table
        .inner_join(org_units::table)
        .inner_join(secrecy_levels::table)
        .inner_join(sessions::table)
        .filter(users::id.eq(user_id))
        .filter(users::active.eq(true))
        .filter(sessions::id.eq(session_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((
            users::id,
            users::username,
            users::display_name,
            users::kind,
            users::unit_id,
            org_units::path,
            users::clearance,
            secrecy_levels::rank,
        ))
        .first(conn)
        .optional()?;
    let Some(PrincipalFields {
        user_id,
        username,
        display_name,
        kind,
        unit_id,
        unit_path,
        clearance,
        clearance_rank,
    }) = found
    else {
        return Ok(None);
    };
    let roles = roles_of(conn, &user_id)?;
    Ok(Some(PrincipalRow {
        user_id,
        username,
        display_name,
        kind,
        unit_id,
        unit_path,
        clearance,
        clearance_rank,
        roles,
    }))
}
