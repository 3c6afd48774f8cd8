//! Service accounts for ERP and finance systems: they sign in with client
//! credentials; their unit and roles are their scope.

use crate::auth::secrets;
use crate::dto::org::{NewServiceAccount, ServiceAccountCredentials, User};
use crate::error::ApiError;
use crate::extract::{Auth, PathId, ReqCtx, ValidJson};
use crate::routes::users::{hash_secret, parse_username};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use clientele_core::Role;
use clientele_persistence::users;

fn credentials_answer(status: StatusCode, rec: users::UserRecord, secret: String) -> HttpResponse {
    let (version, location, client_id) = (
        rec.version,
        format!("/api/v1/users/{}", rec.id),
        rec.username.clone(),
    );
    let body = ServiceAccountCredentials {
        account: User::from(rec),
        client_id,
        client_secret: secret,
    };
    super::shown_once(status, version, location, body)
}

/// Create a service account (admin); its secret is shown in this answer only.
#[utoipa::path(post, path = "/api/v1/service-accounts", tag = "organisation", security(("bearer" = [])),
    request_body = NewServiceAccount, responses((status = 201, body = ServiceAccountCredentials)))]
pub async fn create_service_account(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    body: ValidJson<NewServiceAccount>,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let b = body.0;
    let client_id = parse_username(&b.client_id, "client_id")?;
    let secret = secrets::generate();
    let hash = hash_secret(secret.clone()).await?;
    let roles = b
        .roles
        .map(|rs| rs.iter().map(|r| r.domain()).collect())
        .unwrap_or_else(|| vec![Role::Integration]);
    let new = users::NewUser {
        id: clientele_core::new_id().to_string(),
        kind: "service",
        username: client_id.as_str().to_owned(),
        display_name: b.display_name.trim().to_owned(),
        email: None,
        unit_id: b.unit_id.to_string(),
        clearance: b.clearance,
        password_hash: hash,
        roles,
    };
    let rec = st
        .write(move |c| users::create(c, &meta, new))
        .await
        .map_err(|mut e| {
            // The stored column is `username`; the caller named it `client_id`.
            for f in &mut e.errors {
                if f.field == "username" {
                    f.field = "client_id".into();
                }
            }
            e
        })?;
    Ok(credentials_answer(StatusCode::CREATED, rec, secret))
}

/// Issue a new client secret (admin); the old one and its sessions stop working.
#[utoipa::path(post, path = "/api/v1/service-accounts/{id}/secret", tag = "organisation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ServiceAccountCredentials)))]
pub async fn rotate_secret(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let id = id.0;
    let target = id.clone();
    let rec = st.read(move |c| users::get(c, &target)).await?;
    if rec.kind != "service" {
        return Err(ApiError::not_found());
    }
    let secret = secrets::generate();
    let hash = hash_secret(secret.clone()).await?;
    let rec = st
        .write(move |c| users::set_password(c, &meta, &id, &hash))
        .await?;
    st.principals.clear();
    Ok(credentials_answer(StatusCode::OK, rec, secret))
}
