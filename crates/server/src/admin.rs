//! `clientele admin create-user`: the way in on a fresh installation.

use clientele_core::{Password, Role, UnitId, UnitKind, Username};
use clientele_persistence::{units, users, Db, WriteMeta};

pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub unit_code: Option<String>,
    pub roles: Vec<String>,
    pub clearance: Option<String>,
    /// Name of the root company created when the database has no unit yet.
    pub company_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] clientele_persistence::Error),
}

/// Creates a person account; on an empty database also the root company.
pub fn create_user(db: &Db, a: NewAccount) -> Result<users::UserRecord, AdminError> {
    let username =
        Username::parse(&a.username).map_err(|e| AdminError::Invalid(format!("username: {e}")))?;
    let password = Password::for_account(&a.password, &username)
        .map_err(|e| AdminError::Invalid(format!("password: {e}")))?;
    let roles = a
        .roles
        .iter()
        .map(|r| Role::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AdminError::Invalid(format!("role: {e}")))?;
    let hash =
        clientele_http::auth::password::hash(password.expose()).map_err(AdminError::Invalid)?;
    let meta =
        WriteMeta::system(clientele_core::Clock::now(&clientele_core::SystemClock).naive_utc());
    Ok(db.write(|c| {
        let unit = match &a.unit_code {
            Some(code) => units::find_by_code(c, code)?.ok_or_else(|| {
                clientele_persistence::Error::unprocessable(
                    "unit_not_found",
                    format!("no unit has code {code:?}"),
                )
            })?,
            None if units::count(c)? == 0 => units::create(
                c,
                &meta,
                units::NewUnit {
                    id: UnitId::new(),
                    parent_id: None,
                    code: "HQ".into(),
                    name: a.company_name.clone(),
                    kind: UnitKind::Company,
                },
            )?,
            None => {
                return Err(clientele_persistence::Error::unprocessable(
                    "unit_required",
                    "units exist: name the user's unit with --unit CODE",
                ))
            }
        };
        users::create(
            c,
            &meta,
            users::NewUser {
                id: clientele_core::new_id().to_string(),
                kind: "person",
                username: username.as_str().to_owned(),
                display_name: a.display_name.clone(),
                email: None,
                unit_id: unit.id,
                clearance: a.clearance.clone(),
                password_hash: hash,
                roles,
            },
        )
    })?)
}
