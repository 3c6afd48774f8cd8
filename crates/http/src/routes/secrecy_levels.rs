//! Secrecy levels (CUS-07), lowest first: read by every signed-in
//! account, configured by administrators (add, rename, renumber in order,
//! remove when unused).

use crate::dto::org::{NewSecrecyLevel, SecrecyLevel, SecrecyLevelChanges};
use crate::error::ApiError;
use crate::extract::{Auth, IfMatch, IfNoneMatch, ReqCtx, ValidJson};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use clientele_core::{ParseError, Role};
use clientele_customers::secrecy::{self as rules, LevelCode, LevelName};
use clientele_persistence::secrecy::{self, SecrecyLevelRow};
use clientele_persistence::{DbConn, Error as DbError};

fn level_answer(status: StatusCode, row: SecrecyLevelRow) -> HttpResponse {
    let location = format!("/api/v1/secrecy-levels/{}", row.code);
    super::versioned(status, row.version, location, SecrecyLevel::from(row))
}

/// The code in the path; a code of the wrong form names no level (404).
fn path_code(code: &str) -> Result<String, ApiError> {
    LevelCode::parse(code)
        .map(|c| c.as_str().to_owned())
        .map_err(|_| ApiError::not_found())
}

fn name_of(raw: &str) -> Result<LevelName, ApiError> {
    LevelName::parse(raw).map_err(|e| ApiError::field("name", e.code, e.message))
}

/// A rank refused by the ordering rules, named as the field.
fn rank_refused(e: ParseError) -> DbError {
    DbError::on_field("rank", e)
}

/// The levels, locked until the write ends, to judge a new or changed
/// rank against.
fn locked_levels(c: &mut DbConn) -> clientele_persistence::Result<Vec<SecrecyLevelRow>> {
    secrecy::lock_all(c)?;
    secrecy::list(c)
}

/// The levels as the ordering rules take them: (code, rank).
fn ranks(levels: &[SecrecyLevelRow]) -> Vec<(&str, i32)> {
    levels.iter().map(|l| (l.code.as_str(), l.rank)).collect()
}

/// The ordered secrecy levels a file or a clearance can take.
#[utoipa::path(get, path = "/api/v1/secrecy-levels", tag = "organisation", security(("bearer" = [])),
    responses((status = 200, body = Vec<SecrecyLevel>)))]
pub async fn list_secrecy_levels(
    st: web::Data<AppState>,
    _auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let rows = st.read(secrecy::list).await?;
    let out: Vec<SecrecyLevel> = rows.into_iter().map(SecrecyLevel::from).collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Read one level.
#[utoipa::path(get, path = "/api/v1/secrecy-levels/{code}", tag = "organisation", security(("bearer" = [])),
    params(("code" = String, Path, pattern = "^[A-Z0-9_]{1,16}$"), IfNoneMatch),
    responses((status = 200, body = SecrecyLevel, headers(("ETag" = String, description = "The version read"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the current version")))]
pub async fn get_secrecy_level(
    st: web::Data<AppState>,
    _auth: Auth,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = path_code(&code)?;
    let row = st.read(move |c| secrecy::get(c, &code)).await?;
    Ok(level_answer(StatusCode::OK, row))
}

/// Add a level (admin). Its rank places it: above the highest for a more
/// secret one, below the lowest for a new default, or between two levels
/// once they are renumbered apart.
#[utoipa::path(post, path = "/api/v1/secrecy-levels", tag = "organisation", security(("bearer" = [])),
    request_body = NewSecrecyLevel, responses((status = 201, body = SecrecyLevel)))]
pub async fn create_secrecy_level(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    body: ValidJson<NewSecrecyLevel>,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let b = body.0;
    let code = LevelCode::parse(&b.code).map_err(|e| ApiError::field("code", e.code, e.message))?;
    let name = name_of(&b.name)?;
    let row = st
        .write(move |c| {
            let levels = locked_levels(c)?;
            if levels.iter().any(|l| l.code == code.as_str()) {
                return Err(DbError::Invalid {
                    field: "code",
                    code: "duplicate",
                    message: format!("a level {} exists", code.as_str()),
                });
            }
            rules::check_new(&ranks(&levels), b.rank).map_err(rank_refused)?;
            secrecy::create(
                c,
                &meta,
                SecrecyLevelRow {
                    code: code.as_str().to_owned(),
                    rank: b.rank,
                    name: name.as_str().to_owned(),
                    version: 1,
                },
            )
        })
        .await?;
    Ok(level_answer(StatusCode::CREATED, row))
}

/// Rename a level or renumber it between the same neighbours (admin,
/// `If-Match`). The order of levels, which decides who reads which file,
/// never changes.
#[utoipa::path(patch, path = "/api/v1/secrecy-levels/{code}", tag = "organisation", security(("bearer" = [])),
    params(("code" = String, Path, pattern = "^[A-Z0-9_]{1,16}$"), ("If-Match" = String, Header, description = "ETag of the version you read", pattern = "^\"[0-9]+\"$")),
    request_body = SecrecyLevelChanges, responses((status = 200, body = SecrecyLevel)))]
pub async fn update_secrecy_level(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    code: web::Path<String>,
    body: ValidJson<SecrecyLevelChanges>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let code = path_code(&code)?;
    let b = body.0;
    let name = b.name.as_deref().map(name_of).transpose()?;
    let row = st
        .write(move |c| {
            let levels = locked_levels(c)?;
            let mut row = secrecy::get(c, &code)?;
            if let Some(rank) = b.rank {
                rules::check_renumbering(&ranks(&levels), &code, rank).map_err(rank_refused)?;
                row.rank = rank;
            }
            if let Some(name) = name {
                row.name = name.as_str().to_owned();
            }
            secrecy::update(c, &meta, if_match.0, row)
        })
        .await?;
    // Clearances are held as ranks by cached principals: forget them here
    // (other replicas within the cache's second).
    st.principals.clear();
    Ok(level_answer(StatusCode::OK, row))
}

/// Remove a level no file and no account has (admin, `If-Match`); 409
/// `level_in_use` otherwise, and for the last level.
#[utoipa::path(delete, path = "/api/v1/secrecy-levels/{code}", tag = "organisation", security(("bearer" = [])),
    params(("code" = String, Path, pattern = "^[A-Z0-9_]{1,16}$"), ("If-Match" = String, Header, description = "ETag of the version you read", pattern = "^\"[0-9]+\"$")),
    responses((status = 204, description = "Removed")))]
pub async fn delete_secrecy_level(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    code: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let code = path_code(&code)?;
    st.write(move |c| secrecy::delete(c, &meta, &code, if_match.0))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
