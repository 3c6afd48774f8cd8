//! Users (ORG-01). Administrators manage them; everyone else sees the
//! users of their own unit's subtree, and nobody else's (404).

use crate::auth::password;
use crate::dto::org::{
    AccountKindDto, NewUser, PasswordReset, RoleDto, User, UserChanges, UserPage,
};
use crate::error::{ApiError, FieldError};
use crate::extract::{
    Auth, IfMatch, IfNoneMatch, PageParams, PathId, ReqCtx, ValidJson, ValidQuery,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use clientele_core::{Password, Principal, Role, UnitPath, Username};
use clientele_persistence::users::{self, UserFilter, UserPatch, UserRecord};
use clientele_persistence::{customers, units, DbConn, Error as DbError};
use serde::Deserialize;
use validator::ValidateEmail;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    pub unit_id: Option<uuid::Uuid>,
    pub role: Option<RoleDto>,
    pub kind: Option<AccountKindDto>,
    pub active: Option<bool>,
    /// Part of the username or display name, any case.
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

pub(crate) fn user_answer(status: StatusCode, rec: UserRecord) -> HttpResponse {
    let location = format!("/api/v1/users/{}", rec.id);
    super::versioned(status, rec.version, location, User::from(rec))
}

pub(crate) fn parse_username(raw: &str, field: &str) -> Result<Username, ApiError> {
    Username::parse(raw).map_err(|e| ApiError::field(field, e.code, e.message))
}

/// The account a request names in `field`; an unknown id is that field's
/// fault (422 `user_not_found`).
pub(crate) fn account_named(
    c: &mut DbConn,
    id: &str,
    field: &'static str,
) -> Result<UserRecord, DbError> {
    match users::get(c, id) {
        Err(DbError::NotFound) => Err(DbError::Invalid {
            field,
            code: "user_not_found",
            message: format!("no account has id {id}"),
        }),
        other => other,
    }
}

/// An active person's account the request names in `field`, to take on
/// files or show one (422 `user_inactive`; `not_person` for a service
/// account: a system answers for nothing).
pub(crate) fn active_person_named(
    c: &mut DbConn,
    id: &str,
    field: &'static str,
    not_person: &'static str,
) -> Result<UserRecord, DbError> {
    let account = account_named(c, id, field)?;
    if !account.active {
        return Err(DbError::Invalid {
            field,
            code: "user_inactive",
            message: "the account is deactivated; name an active one".into(),
        });
    }
    if account.kind != "person" {
        return Err(DbError::Invalid {
            field,
            code: not_person,
            message: "this needs a person, not a service account".into(),
        });
    }
    Ok(account)
}

/// A new password for the account `username` (the password may not
/// contain it), or for a username not read yet.
pub(crate) fn parse_password(
    raw: &str,
    username: Option<&Username>,
    field: &str,
) -> Result<Password, ApiError> {
    match username {
        Some(u) => Password::for_account(raw, u),
        None => Password::parse(raw),
    }
    .map_err(|e| ApiError::field(field, e.code, e.message))
}

pub(crate) async fn hash_secret(secret: String) -> Result<String, ApiError> {
    web::block(move || password::hash(&secret))
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "cannot hash secret");
            ApiError::internal()
        })
}

/// A user the principal may see, or NotFound.
fn visible_user(
    c: &mut DbConn,
    who: &Principal,
    id: &str,
) -> clientele_persistence::Result<UserRecord> {
    let rec = users::get(c, id)?;
    if !who.reads_everything() {
        let unit = units::get(c, &rec.unit_id)?;
        let path = UnitPath::parse(&unit.path)
            .map_err(|e| clientele_persistence::Error::Corrupt(e.to_string()))?;
        if !who.sees_unit(&path) {
            return Err(clientele_persistence::Error::NotFound);
        }
    }
    Ok(rec)
}

/// List users visible to the caller, sorted by username.
#[utoipa::path(get, path = "/api/v1/users", tag = "organisation", security(("bearer" = [])),
    params(UserQuery), responses((status = 200, body = UserPage)))]
pub async fn list_users(
    st: web::Data<AppState>,
    auth: Auth,
    q: ValidQuery<UserQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let (limit, cursor) = PageParams::of(q.limit, q.cursor.clone()).parse()?;
    if q.q
        .as_ref()
        .is_some_and(|s| s.is_empty() || s.chars().count() > 100)
    {
        return Err(ApiError::bad_parameter(
            "q",
            "invalid_length",
            "q must have 1 to 100 characters",
        ));
    }
    let f = UserFilter {
        within: (!auth.0.reads_everything()).then(|| auth.0.unit_path.as_str().to_owned()),
        unit_id: q.unit_id.map(|u| u.to_string()),
        kind: q.kind.map(|k| match k {
            AccountKindDto::Person => "person".to_owned(),
            AccountKindDto::Service => "service".to_owned(),
        }),
        role: q.role.map(|r| r.domain().as_str().to_owned()),
        active: q.active,
        q: q.q,
    };
    let page = st
        .read(move |c| users::list(c, &f, limit, cursor.as_ref()))
        .await?;
    Ok(HttpResponse::Ok().json(UserPage::from_page(page, User::from)))
}

/// Create a person's account (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "organisation", security(("bearer" = [])),
    request_body = NewUser, responses((status = 201, body = User)))]
pub async fn create_user(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    body: ValidJson<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let b = body.0;
    let mut errors: Vec<FieldError> = Vec::new();
    let username = parse_username(&b.username, "username")
        .map_err(|e| errors.extend(e.errors))
        .ok();
    let pw = parse_password(&b.password, username.as_ref(), "password")
        .map_err(|e| errors.extend(e.errors))
        .ok();
    let (Some(username), Some(pw)) = (username, pw) else {
        return Err(ApiError::validation(errors));
    };
    let hash = hash_secret(pw.expose().to_owned()).await?;
    let new = users::NewUser {
        id: clientele_core::new_id().to_string(),
        kind: "person",
        username: username.as_str().to_owned(),
        display_name: b.display_name.trim().to_owned(),
        email: b.email,
        unit_id: b.unit_id.to_string(),
        clearance: b.clearance,
        password_hash: hash,
        roles: b.roles.iter().map(|r| r.domain()).collect(),
    };
    let rec = st.write(move |c| users::create(c, &meta, new)).await?;
    Ok(user_answer(StatusCode::CREATED, rec))
}

/// Read one user (within the caller's unit subtree, unless admin or auditor).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "organisation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), IfNoneMatch),
    responses((status = 200, body = User, headers(("ETag" = String, description = "The version read"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the current version")))]
pub async fn get_user(
    st: web::Data<AppState>,
    auth: Auth,
    id: PathId,
) -> Result<HttpResponse, ApiError> {
    let id = id.0;
    let who = auth.0;
    let rec = st.read(move |c| visible_user(c, &who, &id)).await?;
    Ok(user_answer(StatusCode::OK, rec))
}

/// Change a user (admin, `If-Match`). Deactivating ends all of the user's sessions at once.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "organisation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version you read", pattern = "^\"[0-9]+\"$")),
    request_body = UserChanges, responses((status = 200, body = User)))]
pub async fn update_user(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<UserChanges>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let admin = auth.require(Role::Admin)?;
    let meta = ctx.meta(&st, Some(admin));
    let id = id.0;
    let b = body.0;
    if let Some(Some(email)) = &b.email {
        if !email.validate_email() || email.len() > 254 {
            return Err(ApiError::field(
                "email",
                "email",
                "email is not a valid address",
            ));
        }
    }
    if id == admin.user_id.to_string()
        && (b.active == Some(false)
            || b.roles
                .as_ref()
                .is_some_and(|r| !r.contains(&RoleDto::Admin)))
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "self_lockout",
            "an administrator cannot deactivate themself or drop their own admin role",
        ));
    }
    let patch = UserPatch {
        display_name: b.display_name.map(|d| d.trim().to_owned()),
        email: b.email,
        unit_id: b.unit_id.map(|u| u.to_string()),
        clearance: b.clearance,
        roles: b.roles.map(|rs| rs.iter().map(|r| r.domain()).collect()),
        active: b.active,
    };
    let moves_keeper = patch.unit_id.is_some() || patch.clearance.is_some();
    let rec = st
        .write(move |c| {
            let rec = users::update(c, &meta, &id, if_match.0, patch)?;
            // A keeper must stay able to read and work their files (CUS-10).
            if moves_keeper {
                let lost = customers::kept_out_of_reach(c, &id)?;
                if lost > 0 {
                    return Err(DbError::conflict(
                        "keeps_files",
                        format!(
                            "the person keeps {lost} file(s) the new unit or clearance would put out of their reach; hand them over first (POST /api/v1/customers/hand-over)"
                        ),
                    ));
                }
            }
            Ok(rec)
        })
        .await?;
    // Roles, unit, clearance or activity changed: no replica-local copy may outlive that here.
    st.principals.clear();
    Ok(user_answer(StatusCode::OK, rec))
}

/// Set a new password for a person (admin); all their sessions end.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "organisation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = PasswordReset, responses((status = 204, description = "Password replaced")))]
pub async fn reset_password(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<PasswordReset>,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let id = id.0;
    parse_password(&body.0.password, None, "password")?;
    let target = id.clone();
    let rec = st.read(move |c| users::get(c, &target)).await?;
    if rec.kind != "person" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_a_person",
            "service accounts get a new secret through /service-accounts/{id}/secret",
        ));
    }
    let username = Username::parse(&rec.username).ok();
    let pw = parse_password(&body.0.password, username.as_ref(), "password")?;
    let hash = hash_secret(pw.expose().to_owned()).await?;
    st.write(move |c| users::set_password(c, &meta, &id, &hash))
        .await?;
    st.principals.clear();
    Ok(HttpResponse::NoContent().finish())
}
