//! Organisational units (ORG-01): readable by every signed-in account,
//! managed by administrators.

use crate::dto::org::{NewUnit, Unit, UnitChanges, UnitKindDto, UnitPage};
use crate::error::ApiError;
use crate::extract::{
    Auth, IfMatch, IfNoneMatch, PageParams, PathId, ReqCtx, ValidJson, ValidQuery,
};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use clientele_core::{Role, UnitId};
use clientele_persistence::units::{self, UnitFilter, UnitPatch};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    pub parent_id: Option<uuid::Uuid>,
    pub kind: Option<UnitKindDto>,
    pub active: Option<bool>,
    /// Part of the name or code, any case.
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// Only this unit and the units below it.
    pub within: Option<uuid::Uuid>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

pub(crate) fn unit_answer(
    status: actix_web::http::StatusCode,
    row: units::UnitRow,
) -> HttpResponse {
    let location = format!("/api/v1/units/{}", row.id);
    super::versioned(status, row.version, location, Unit::from(row))
}

/// List units, sorted by name.
#[utoipa::path(get, path = "/api/v1/units", tag = "organisation", security(("bearer" = [])),
    params(UnitQuery), responses((status = 200, body = UnitPage)))]
pub async fn list_units(
    st: web::Data<AppState>,
    _auth: Auth,
    q: ValidQuery<UnitQuery>,
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
    let page = st
        .read(move |c| {
            let within = match q.within {
                Some(id) => Some(units::get(c, &id.to_string())?.path),
                None => None,
            };
            let f = UnitFilter {
                within,
                parent_id: q.parent_id.map(|p| p.to_string()),
                kind: q.kind.map(|k| k.domain().as_str().to_owned()),
                active: q.active,
                q: q.q,
            };
            units::list(c, &f, limit, cursor.as_ref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(UnitPage::from_page(page, Unit::from)))
}

/// Create a unit (admin). A company is a root; every other kind names its parent.
#[utoipa::path(post, path = "/api/v1/units", tag = "organisation", security(("bearer" = [])),
    request_body = NewUnit, responses((status = 201, body = Unit)))]
pub async fn create_unit(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    body: ValidJson<NewUnit>,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let b = body.0;
    let new = units::NewUnit {
        id: UnitId::new(),
        parent_id: b.parent_id.map(UnitId::from),
        code: b.code,
        name: b.name.trim().to_owned(),
        kind: b.kind.domain(),
    };
    let row = st.write(move |c| units::create(c, &meta, new)).await?;
    Ok(unit_answer(actix_web::http::StatusCode::CREATED, row))
}

/// Read one unit.
#[utoipa::path(get, path = "/api/v1/units/{id}", tag = "organisation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), IfNoneMatch),
    responses((status = 200, body = Unit, headers(("ETag" = String, description = "The version read"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the current version")))]
pub async fn get_unit(
    st: web::Data<AppState>,
    _auth: Auth,
    id: PathId,
) -> Result<HttpResponse, ApiError> {
    let id = id.0;
    let row = st.read(move |c| units::get(c, &id)).await?;
    Ok(unit_answer(actix_web::http::StatusCode::OK, row))
}

/// Change a unit (admin, `If-Match`): rename, recode, move, deactivate.
#[utoipa::path(patch, path = "/api/v1/units/{id}", tag = "organisation", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version you read", pattern = "^\"[0-9]+\"$")),
    request_body = UnitChanges, responses((status = 200, body = Unit)))]
pub async fn update_unit(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<UnitChanges>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let id = id.0;
    let b = body.0;
    let patch = UnitPatch {
        name: b.name.map(|n| n.trim().to_owned()),
        code: b.code,
        active: b.active,
        parent_id: b.parent_id.map(UnitId::from),
    };
    let row = st
        .write(move |c| units::update(c, &meta, &id, if_match.0, patch))
        .await?;
    // Unit paths decide what principals see.
    st.principals.clear();
    Ok(unit_answer(actix_web::http::StatusCode::OK, row))
}
