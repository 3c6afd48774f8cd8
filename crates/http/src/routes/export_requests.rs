//! Export requests (CUS-08: files never leave the archive without
//! permission). Whoever's role does not export asks for the files a filter
//! finds and says why; a manager over their unit approves or refuses once;
//! an approval lets the requester, and only them, take that export for the
//! days approved, every file registered as exported under the request.

use crate::dto::customers::wire;
use crate::dto::export_requests::{
    ExportDecision, ExportRequest, ExportRequestPage, ExportRequestStatusDto, NewExportRequest,
};
use crate::error::ApiError;
use crate::extract::{
    parse_query, Auth, IfMatch, PageParams, PathId, ReqCtx, ValidJson, ValidQuery,
};
use crate::routes::customer_exchange::{exported, ExportFormatQuery};
use crate::routes::customer_files::{filter_of, parse_sort, ClassQuery, CustomerQuery};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use clientele_core::{Principal, UnitPath};
use clientele_customers::visibility::manages_files;
use clientele_persistence::export_requests::{self, Askers, ExportRequestRow};
use serde::Deserialize;
use utoipa::IntoParams;

fn answer(status: StatusCode, row: ExportRequestRow) -> HttpResponse {
    let location = format!("/api/v1/export-requests/{}", row.id);
    super::versioned(status, row.version, location, ExportRequest::from(row))
}

/// The filters of a list, read from a stored query string as the list
/// reads its own: every parameter one the list takes, each valid. A fault
/// is the `filter` field's.
fn checked_filter(filter: &str) -> Result<(CustomerQuery, ClassQuery), ApiError> {
    let known: Vec<String> = CustomerQuery::into_params(|| None)
        .into_iter()
        .chain(ClassQuery::into_params(|| None))
        .map(|p| p.name)
        .collect();
    let as_filter = |e: ApiError| {
        let detail = e.errors.first().map_or(e.detail, |f| f.message.clone());
        ApiError::field("filter", "invalid_filter", detail)
    };
    for (name, _) in form_urlencoded::parse(filter.as_bytes()) {
        if !known.iter().any(|k| *k == name) {
            return Err(ApiError::field(
                "filter",
                "invalid_filter",
                format!("`{name}` is not a filter of the customer list"),
            ));
        }
    }
    let q: CustomerQuery = parse_query(filter).map_err(as_filter)?;
    let c: ClassQuery = parse_query(filter).map_err(as_filter)?;
    filter_of(&q, &c).map_err(as_filter)?;
    parse_sort(q.sort.as_deref()).map_err(as_filter)?;
    Ok((q, c))
}

/// Who sees a request: its requester, admins and auditors, and the
/// managers over the unit it was asked from.
fn sees(p: &Principal, row: &ExportRequestRow) -> bool {
    row.requested_by == p.user_id.to_string()
        || p.reads_everything()
        || (manages_files(p) && over(p, row))
}

/// The request was asked from a unit in `p`'s subtree.
fn over(p: &Principal, row: &ExportRequestRow) -> bool {
    UnitPath::parse(&row.unit_path).is_ok_and(|u| p.sees_unit(&u))
}

/// Ask for an export one's role does not allow: the files `filter` finds,
/// and why. A manager over the caller's unit decides.
#[utoipa::path(post, path = "/api/v1/export-requests", tag = "customers", security(("bearer" = [])),
    request_body = NewExportRequest, responses((status = 201, body = ExportRequest)))]
pub async fn request_export(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    body: ValidJson<NewExportRequest>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    if !p.may_write() {
        return Err(ApiError::forbidden("auditors do not file requests"));
    }
    let b = body.0;
    let filter = b.filter.trim().trim_start_matches('?').to_owned();
    checked_filter(&filter)?;
    let purpose = b.purpose.trim().to_owned();
    if purpose.is_empty() {
        return Err(ApiError::field(
            "purpose",
            "required",
            "say what the files are for",
        ));
    }
    let meta = ctx.meta(&st, Some(&p));
    let row = ExportRequestRow::pending(
        p.user_id.to_string(),
        p.unit_path.as_str().to_owned(),
        (filter, purpose, b.days.unwrap_or(1)),
        meta.at,
    );
    let row = st
        .write(move |c| export_requests::create(c, &meta, row))
        .await?;
    Ok(answer(StatusCode::CREATED, row))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportRequestQuery {
    pub status: Option<ExportRequestStatusDto>,
    /// Only the requests this person asked.
    pub requested_by: Option<uuid::Uuid>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// Export requests, newest first: one's own; for managers also those asked
/// from their units (`status=pending` for what waits on them); for admins
/// and auditors all.
#[utoipa::path(get, path = "/api/v1/export-requests", tag = "customers", security(("bearer" = [])),
    params(ExportRequestQuery), responses((status = 200, body = ExportRequestPage)))]
pub async fn list_export_requests(
    st: web::Data<AppState>,
    auth: Auth,
    q: ValidQuery<ExportRequestQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let (limit, cursor) = PageParams::of(q.limit, q.cursor).parse()?;
    let p = auth.0;
    let status = q.status.map(|s| wire(&s));
    let by = q.requested_by.map(|u| u.to_string());
    let (me, path) = (p.user_id.to_string(), p.unit_path.as_str().to_owned());
    let (everyone, manager) = (p.reads_everything(), manages_files(&p));
    let page = st
        .read(move |c| {
            let askers = match (everyone, manager) {
                (true, _) => Askers::Everyone,
                (false, true) => Askers::OwnOrBelow {
                    user_id: &me,
                    path: &path,
                },
                (false, false) => Askers::Own { user_id: &me },
            };
            export_requests::list(
                c,
                askers,
                (status.as_deref(), by.as_deref()),
                limit,
                cursor.as_ref(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(ExportRequestPage::from_page(page, ExportRequest::from)))
}

/// The request as one who sees it may read it.
async fn seen(st: &AppState, p: &Principal, id: String) -> Result<ExportRequestRow, ApiError> {
    let row = st.read(move |c| export_requests::get(c, &id)).await?;
    if sees(p, &row) {
        Ok(row)
    } else {
        Err(ApiError::not_found())
    }
}

/// The request, if `p` asked it; 403 `refusal` if `p` only sees it.
async fn requesters(
    st: &AppState,
    p: &Principal,
    id: String,
    refusal: &'static str,
) -> Result<ExportRequestRow, ApiError> {
    let row = seen(st, p, id).await?;
    if row.requested_by == p.user_id.to_string() {
        Ok(row)
    } else {
        Err(ApiError::forbidden(refusal))
    }
}

/// One export request, with the `ETag` its decision needs: for its
/// requester, the managers over its unit, admins and auditors (404
/// otherwise).
#[utoipa::path(get, path = "/api/v1/export-requests/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ExportRequest)))]
pub async fn get_export_request(
    st: web::Data<AppState>,
    auth: Auth,
    id: PathId,
) -> Result<HttpResponse, ApiError> {
    let row = seen(&st, &auth.0, id.0).await?;
    Ok(answer(StatusCode::OK, row))
}

/// A manager over the requester's unit (or an admin) approves or refuses
/// a request once (`If-Match`); nobody decides their own.
#[utoipa::path(post, path = "/api/v1/export-requests/{id}/decision", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "ETag of the request", pattern = "^\"[0-9]+\"$")),
    request_body = ExportDecision, responses((status = 200, body = ExportRequest)))]
pub async fn decide_export_request(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<ExportDecision>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let row = seen(&st, &p, id.0.clone()).await?;
    if !(manages_files(&p) && over(&p, &row)) {
        return Err(ApiError::forbidden(
            "a manager over the requester's unit decides an export request",
        ));
    }
    let meta = ctx.meta(&st, Some(&p));
    let b = body.0;
    let note = b.note.map(|n| n.trim().to_owned());
    let row = st
        .write(move |c| export_requests::decide(c, &meta, &id.0, if_match.0, b.approve, note))
        .await?;
    Ok(answer(StatusCode::OK, row))
}

/// The requester takes back a request nobody has decided yet (`If-Match`).
#[utoipa::path(post, path = "/api/v1/export-requests/{id}/withdrawal", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "ETag of the request", pattern = "^\"[0-9]+\"$")),
    responses((status = 200, body = ExportRequest)))]
pub async fn withdraw_export_request(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    requesters(
        &st,
        &p,
        id.0.clone(),
        "only the requester withdraws a request",
    )
    .await?;
    let meta = ctx.meta(&st, Some(&p));
    let row = st
        .write(move |c| export_requests::withdraw(c, &meta, &id.0, if_match.0))
        .await?;
    Ok(answer(StatusCode::OK, row))
}

/// Take the export an approved request allows (its requester only, until
/// `valid_until`): the files its filter finds that the requester sees
/// now, as CSV or NDJSON, paged as `GET /customers/export`, every file
/// registered as exported under the request. Without an approval in force
/// (pending, refused, withdrawn, expired) it is 403 `approval_not_in_force`; after the
/// requester has moved to another unit, 403 `requester_moved`.
#[utoipa::path(get, path = "/api/v1/export-requests/{id}/export", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ExportFormatQuery),
    responses((status = 200, description = "The files, one per line", content(
        (String = "text/csv"),
        (String = "application/x-ndjson")
    ), headers(
        ("X-Next-Cursor" = String, description = "Where the next answer starts, when there is one"),
        ("X-Changes-Complete-Until" = String, description = "Every change to a file stamped before this moment (RFC 3339, UTC) was committed when the answer was read: a sync resumes `updated_since` from it")
    ))))]
pub async fn export_under_request(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    f: ValidQuery<ExportFormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let (format, limit, cursor) = f.parse()?;
    let row = requesters(
        &st,
        &p,
        id.0,
        "only the requester exports under an approval",
    )
    .await?;
    let meta = ctx.meta(&st, Some(&p));
    if !row.in_force(meta.at) {
        let state = match row.status.as_str() {
            "approved" => "expired",
            other => other,
        };
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "approval_not_in_force",
            format!(
                "only an approved request still in force is exported under; this one is {state}"
            ),
        ));
    }
    // The approval was given for the files of this unit.
    if p.unit_path.as_str() != row.unit_path {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "requester_moved",
            "the requester has moved to another unit since asking; ask again",
        ));
    }
    let (q, c) = checked_filter(&row.filter)?;
    exported(
        &st,
        p,
        meta,
        (&q, &c),
        (format, limit, cursor),
        Some(row.id),
    )
    .await
}
