//! The read register (CUS-08) and outside access (CUS-09).

use crate::csv;
use crate::dto::customers::{
    AccessEntry, AccessPage, NewOutsideAccess, OutsideAccess, OutsideAccessPage, OutsideDecision,
    OutsideRevocation, OutsideStatusDto, RegisterEntry, RegisterPage,
};
use crate::dto::utc;
use crate::error::ApiError;
use crate::extract::{Auth, IfMatch, PageParams, PathId, ReqCtx, ValidJson, ValidQuery};
use crate::routes::customer_exchange::{export_answer, ndjson, ExportFormat, ExportFormatQuery};
use crate::routes::customer_files::{register, see};
use crate::routes::users::active_person_named;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use clientele_core::Cursor;
use clientele_core::{Principal, Role};
use clientele_customers::visibility::decides_outside_access;
use clientele_persistence::customer_access::{
    self, AccessFilter, OutsideAsk, OutsideRequestRow, RegisterRow,
};
use clientele_persistence::{customers, users, Page};
use serde::Deserialize;

/// Who read one file, newest first (admins and auditors).
#[utoipa::path(get, path = "/api/v1/customers/{id}/access-log", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), PageParams), responses((status = 200, body = AccessPage)))]
pub async fn file_access_log(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    q: ValidQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    auth.require_reader_of_all()?;
    let (limit, cursor) = q.parse()?;
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    let (file, page) = st
        .write_register(move |c| {
            let seen = see(c, &p, &id.0, meta.at)?;
            customer_access::index_pending(c)?;
            let page = customer_access::file_log(c, &id.0, limit, cursor.as_ref())?;
            register(c, &meta, &seen, "access_log", None)?;
            Ok((seen.view.row.id, page))
        })
        .await?;
    Ok(HttpResponse::Ok().json(AccessPage::from_page(page, |r| AccessEntry::of(&file, r))))
}

/// What register entries to take.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    pub customer_id: Option<uuid::Uuid>,
    pub actor_id: Option<uuid::Uuid>,
    /// `read`, `list`, `export`, `history` …
    #[param(min_length = 1, max_length = 32)]
    pub action: Option<String>,
    /// The outside-access request or export request the reads were made
    /// under: every file read by that grant, and nothing else.
    pub grant_id: Option<uuid::Uuid>,
    #[serde(default, deserialize_with = "crate::dto::query_time")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, deserialize_with = "crate::dto::query_time")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The entries of the register under `q`, newest first.
async fn register_page(
    st: &AppState,
    q: RegisterQuery,
    limit: u32,
    cursor: Option<Cursor>,
) -> Result<Page<RegisterRow>, ApiError> {
    if q.action
        .as_ref()
        .is_some_and(|a| a.is_empty() || a.len() > 32)
    {
        return Err(ApiError::bad_parameter(
            "action",
            "invalid_length",
            "action must have 1 to 32 characters",
        ));
    }
    let f = AccessFilter {
        customer_id: q.customer_id.map(|u| u.to_string()),
        actor_id: q.actor_id.map(|u| u.to_string()),
        action: q.action,
        grant_id: q.grant_id.map(|u| u.to_string()),
        since: q.since.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
    };
    // Finding entries by file needs every entry indexed by file: a write.
    Ok(if f.customer_id.is_some() {
        st.write_register(move |c| {
            customer_access::index_pending(c)?;
            customer_access::list(c, &f, limit, cursor.as_ref())
        })
        .await?
    } else {
        st.read(move |c| customer_access::list(c, &f, limit, cursor.as_ref()))
            .await?
    })
}

/// The whole read register, for auditors: who read which files, when, from
/// where; one entry per request, newest first.
#[utoipa::path(get, path = "/api/v1/access-register", tag = "customers", security(("bearer" = [])),
    params(RegisterQuery, PageParams), responses((status = 200, body = RegisterPage)))]
pub async fn access_register(
    st: web::Data<AppState>,
    auth: Auth,
    q: ValidQuery<RegisterQuery>,
    page: ValidQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    auth.require_reader_of_all()?;
    let (limit, cursor) = page.parse()?;
    let page = register_page(&st, q.into_inner(), limit, cursor).await?;
    Ok(HttpResponse::Ok().json(RegisterPage::from_page(page, RegisterEntry::from)))
}

/// The register's CSV columns: one row a file an entry shows.
const REGISTER_COLUMNS: [&str; 11] = [
    "entry_id",
    "at",
    "actor_id",
    "actor_username",
    "action",
    "detail",
    "grant_id",
    "client_ip",
    "request_id",
    "customer_id",
    "customer_code",
];

/// The read register for auditors' spreadsheets and archives, filtered as
/// the register: CSV with one row a file read (the reader's username and
/// the file's code beside the ids), or NDJSON with one entry a line; newest
/// first, up to 10 000 entries an answer (`X-Next-Cursor` continues).
#[utoipa::path(get, path = "/api/v1/access-register/export", tag = "customers", security(("bearer" = [])),
    params(RegisterQuery, ExportFormatQuery),
    responses((status = 200, description = "The register's entries", content(
        (String = "text/csv"),
        (String = "application/x-ndjson")
    ))))]
pub async fn export_access_register(
    st: web::Data<AppState>,
    auth: Auth,
    q: ValidQuery<RegisterQuery>,
    f: ValidQuery<ExportFormatQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require_reader_of_all()?;
    let (format, limit, cursor) = f.parse()?;
    let page = register_page(&st, q.into_inner(), limit, cursor).await?;
    let next = page.next.as_ref().map(Cursor::encode);
    let body = match format {
        ExportFormat::Csv => {
            // Each entry's files, read out of it once.
            let shown: Vec<Vec<String>> = page.items.iter().map(|r| r.files()).collect();
            let mut actors: Vec<String> = page.items.iter().map(|r| r.actor_id.clone()).collect();
            let mut files: Vec<String> = shown.iter().flatten().cloned().collect();
            for ids in [&mut actors, &mut files] {
                ids.sort();
                ids.dedup();
            }
            let (names, codes) = st
                .read(move |c| Ok((users::usernames(c, &actors)?, customers::codes(c, &files)?)))
                .await?;
            let mut out = String::from("\u{feff}");
            out.push_str(&csv::line(REGISTER_COLUMNS));
            for (r, files) in page.items.iter().zip(&shown) {
                let at = utc(r.at).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                for file in files {
                    out.push_str(&csv::line([
                        r.id.as_str(),
                        at.as_str(),
                        r.actor_id.as_str(),
                        names.get(&r.actor_id).map_or("", String::as_str),
                        r.action.as_str(),
                        r.detail.as_deref().unwrap_or_default(),
                        r.grant_id.as_deref().unwrap_or_default(),
                        r.client_ip.as_deref().unwrap_or_default(),
                        r.request_id.as_deref().unwrap_or_default(),
                        file.as_str(),
                        codes.get(file).map_or("", String::as_str),
                    ]));
                }
            }
            out
        }
        ExportFormat::Ndjson => ndjson(page.items.into_iter().map(RegisterEntry::from))?,
    };
    Ok(export_answer("access-register", format, body, next))
}

fn outside_answer(status: StatusCode, row: OutsideRequestRow) -> HttpResponse {
    let location = format!("/api/v1/outside-access-requests/{}", row.id);
    super::versioned(status, row.version, location, OutsideAccess::from(row))
}

/// Ask for an outside party to see a file (外单位查阅, CUS-09). The legal
/// office decides; an approval lets the requester read the file for the days
/// asked, and every such read is registered with the grant.
#[utoipa::path(post, path = "/api/v1/customers/{id}/outside-access-requests", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = NewOutsideAccess, responses((status = 201, body = OutsideAccess)))]
pub async fn request_outside_access(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<NewOutsideAccess>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    if !p.may_write() {
        return Err(ApiError::forbidden("auditors do not file requests"));
    }
    let meta = ctx.meta(&st, Some(&p));
    let b = body.0;
    let reader = b
        .reader_id
        .map_or_else(|| p.user_id.to_string(), |r| r.to_string());
    let row = st
        .write(move |c| {
            see(c, &p, &id.0, meta.at)?;
            // Someone who shows a file to an outside party answers for it.
            active_person_named(c, &reader, "reader_id", "not_a_person")?;
            customer_access::request_outside_access(
                c,
                &meta,
                OutsideRequestRow::pending(
                    id.0.clone(),
                    p.user_id.to_string(),
                    reader,
                    OutsideAsk {
                        outside_party: b.outside_party.trim().to_owned(),
                        purpose: b.purpose.trim().to_owned(),
                        legal_basis: b.legal_basis.trim().to_owned(),
                        days: b.days,
                    },
                    meta.at,
                ),
            )
        })
        .await?;
    Ok(outside_answer(StatusCode::CREATED, row))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutsideQuery {
    pub status: Option<OutsideStatusDto>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// Outside-access requests: all of them for legal, admins and auditors;
/// otherwise those one asked for or reads under.
#[utoipa::path(get, path = "/api/v1/outside-access-requests", tag = "customers", security(("bearer" = [])),
    params(OutsideQuery), responses((status = 200, body = OutsideAccessPage)))]
pub async fn list_outside_access(
    st: web::Data<AppState>,
    auth: Auth,
    q: ValidQuery<OutsideQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let (limit, cursor) = PageParams::of(q.limit, q.cursor).parse()?;
    let p = auth.0;
    let mine = (!sees_all_outside_requests(&p)).then(|| p.user_id.to_string());
    let status = q.status.map(|s| crate::dto::customers::wire(&s));
    let page = st
        .read(move |c| {
            customer_access::outside_requests(
                c,
                status.as_deref(),
                mine.as_deref(),
                None,
                limit,
                cursor.as_ref(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(OutsideAccessPage::from_page(page, OutsideAccess::from)))
}

/// One outside-access request, with the `ETag` its decision needs: for
/// legal, admins and auditors, the one who asked and its reader (404
/// otherwise).
#[utoipa::path(get, path = "/api/v1/outside-access-requests/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = OutsideAccess)))]
pub async fn get_outside_access(
    st: web::Data<AppState>,
    auth: Auth,
    id: PathId,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let row = st
        .read(move |c| customer_access::outside_request(c, &id.0))
        .await?;
    let me = p.user_id.to_string();
    if !sees_all_outside_requests(&p) && row.requested_by != me && row.reader_id != me {
        return Err(ApiError::not_found());
    }
    Ok(outside_answer(StatusCode::OK, row))
}

/// The principal, if it decides and ends outside access (the legal office).
fn legal_office(p: Principal) -> Result<Principal, ApiError> {
    if decides_outside_access(&p) {
        Ok(p)
    } else {
        Err(ApiError::forbidden(
            "deciding outside access needs the legal role, without the auditor's",
        ))
    }
}

/// Who sees every outside-access request, not only their own.
fn sees_all_outside_requests(p: &Principal) -> bool {
    p.reads_everything() || p.has(Role::Legal)
}

/// The legal office approves or refuses a request (`If-Match`), once.
#[utoipa::path(post, path = "/api/v1/outside-access-requests/{id}/decision", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "ETag of the request", pattern = "^\"[0-9]+\"$")),
    request_body = OutsideDecision, responses((status = 200, body = OutsideAccess)))]
pub async fn decide_outside_access(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<OutsideDecision>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let p = legal_office(auth.0)?;
    let meta = ctx.meta(&st, Some(&p));
    let b = body.0;
    let row = st
        .write(move |c| {
            customer_access::decide(
                c,
                &meta,
                &id.0,
                if_match.0,
                b.approve,
                b.note.map(|n| n.trim().to_owned()),
            )
        })
        .await?;
    Ok(outside_answer(StatusCode::OK, row))
}

/// The legal office ends an approved access before its time
/// (`If-Match`): the requester's reads under it stop at once (CUS-09).
#[utoipa::path(post, path = "/api/v1/outside-access-requests/{id}/revocation", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "ETag of the request", pattern = "^\"[0-9]+\"$")),
    request_body = OutsideRevocation, responses((status = 200, body = OutsideAccess)))]
pub async fn revoke_outside_access(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<OutsideRevocation>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let p = legal_office(auth.0)?;
    let meta = ctx.meta(&st, Some(&p));
    let note = body.0.note.map(|n| n.trim().to_owned());
    let row = st
        .write(move |c| customer_access::revoke(c, &meta, &id.0, if_match.0, note))
        .await?;
    Ok(outside_answer(StatusCode::OK, row))
}
