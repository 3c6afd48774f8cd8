//! The catalogue of administrative divisions (CUS-03): readable by every
//! signed-in account, for pickers and for naming a file's region; kept by
//! administrators as divisions are created, renamed and withdrawn.

use crate::dto::regions::{NewRegion, Region, RegionChanges, RegionLevelDto, RegionPage};
use crate::error::ApiError;
use crate::extract::{Auth, IfMatch, IfNoneMatch, PageParams, ReqCtx, ValidJson, ValidQuery};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use clientele_core::Role;
use clientele_customers::{RegionCode, RegionName};
use clientele_persistence::regions::{self, RegionFilter, RegionView};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionQuery {
    /// Only the divisions directly below this one (a province's prefectures
    /// and the counties straight under it; a prefecture's counties).
    #[param(pattern = "^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|7[1]|8[12])[0-9]{4}$")]
    pub parent: Option<String>,
    pub level: Option<RegionLevelDto>,
    /// Part of the division's own name.
    #[param(min_length = 1, max_length = 50)]
    pub name: Option<String>,
    /// Also list withdrawn divisions (default false).
    pub include_inactive: Option<bool>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

fn region_answer(status: StatusCode, view: RegionView) -> HttpResponse {
    let location = format!("/api/v1/regions/{}", view.row.code);
    super::versioned(status, view.row.version, location, Region::from(view))
}

/// The code in the path; a code of the wrong form names no division (404).
fn path_code(code: &str) -> Result<String, ApiError> {
    RegionCode::parse(code)
        .map(|c| c.as_str().to_owned())
        .map_err(|_| ApiError::not_found())
}

fn name_of(raw: &str) -> Result<RegionName, ApiError> {
    RegionName::parse(raw).map_err(|e| ApiError::field("name", e.code, e.message))
}

/// List divisions in code order: below a parent, of a level, by a part of
/// the name. Withdrawn ones only when asked.
#[utoipa::path(get, path = "/api/v1/regions", tag = "customers", security(("bearer" = [])),
    params(RegionQuery), responses((status = 200, body = RegionPage)))]
pub async fn list_regions(
    st: web::Data<AppState>,
    _auth: Auth,
    q: ValidQuery<RegionQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let (limit, cursor) = PageParams::of(q.limit, q.cursor).parse()?;
    let parent = q
        .parent
        .map(|p| {
            RegionCode::parse(&p)
                .map(|c| c.as_str().to_owned())
                .map_err(|e| ApiError::bad_parameter("parent", e.code, e.message))
        })
        .transpose()?;
    let name_contains = match q.name.as_deref().map(str::trim) {
        Some("") => {
            return Err(ApiError::bad_parameter(
                "name",
                "too_short",
                "name is empty",
            ))
        }
        Some(n) if n.chars().count() > RegionName::MAX => {
            return Err(ApiError::bad_parameter(
                "name",
                "too_long",
                "name has at most 50 characters",
            ))
        }
        other => other.map(str::to_owned),
    };
    let filter = RegionFilter {
        parent,
        level: q.level.map(RegionLevelDto::domain),
        name_contains,
        include_inactive: q.include_inactive.unwrap_or(false),
    };
    let page = st
        .read(move |c| regions::list(c, &filter, limit, cursor.as_ref()))
        .await?;
    Ok(HttpResponse::Ok().json(RegionPage::from_page(page, Region::from)))
}

/// Read one division, withdrawn or not.
#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "customers", security(("bearer" = [])),
    params(("code" = String, Path, pattern = "^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|7[1]|8[12])[0-9]{4}$"), IfNoneMatch),
    responses((status = 200, body = Region, headers(("ETag" = String, description = "The version read"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the current version")))]
pub async fn get_region(
    st: web::Data<AppState>,
    _auth: Auth,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = path_code(&code)?;
    let view = st.read(move |c| regions::get(c, &code)).await?;
    Ok(region_answer(StatusCode::OK, view))
}

/// Add a division (admin): it hangs from its prefecture where the catalogue
/// has one, else from its province.
#[utoipa::path(post, path = "/api/v1/regions", tag = "customers", security(("bearer" = [])),
    request_body = NewRegion, responses((status = 201, body = Region)))]
pub async fn create_region(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    body: ValidJson<NewRegion>,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let b = body.0;
    let code =
        RegionCode::parse(&b.code).map_err(|e| ApiError::field("code", e.code, e.message))?;
    let name = name_of(&b.name)?;
    let view = st
        .write(move |c| regions::create(c, &meta, &code, &name))
        .await?;
    Ok(region_answer(StatusCode::CREATED, view))
}

/// Rename a division, withdraw it or bring it back (admin, `If-Match`).
/// Files keep the region name they were given.
#[utoipa::path(patch, path = "/api/v1/regions/{code}", tag = "customers", security(("bearer" = [])),
    params(("code" = String, Path, pattern = "^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|7[1]|8[12])[0-9]{4}$"), ("If-Match" = String, Header, description = "ETag of the version you read", pattern = "^\"[0-9]+\"$")),
    request_body = RegionChanges, responses((status = 200, body = Region)))]
pub async fn update_region(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    code: web::Path<String>,
    body: ValidJson<RegionChanges>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let code = path_code(&code)?;
    let b = body.0;
    let name = b.name.as_deref().map(name_of).transpose()?;
    let view = st
        .write(move |c| regions::update(c, &meta, &code, if_match.0, name.as_ref(), b.active))
        .await?;
    Ok(region_answer(StatusCode::OK, view))
}
