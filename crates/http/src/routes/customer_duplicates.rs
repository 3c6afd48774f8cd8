//! Likely duplicates (CUS-01: one customer, one file): files whose names
//! are the same once company forms, spaces and full-width characters are
//! set aside, or whose contacts share a number or address — beside one
//! file, across the whole archive for a data steward cleaning up after
//! imports, or for a customer about to be filed (the check). Only files
//! the caller may see, and every file shown is registered as read
//! (CUS-08).

use crate::dto::customers::{
    Customer, CustomerPage, DuplicateCheck, DuplicateConflict, DuplicateGroup, DuplicateGroupPage,
    DuplicateSign, LikelyDuplicate,
};
use crate::error::ApiError;
use crate::extract::{Auth, PageParams, PathId, ReqCtx, ValidQuery};
use crate::routes::customer_files::{credit_code_param, reach_of, scope_of, see, text_param};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use clientele_core::Cursor;
use clientele_customers::visibility::{edits_files, sees_financials};
use clientele_customers::CustomerName;
use clientele_persistence::customer_access::{self, AccessEntry};
use clientele_persistence::customers;
use clientele_persistence::Page;
use serde::Deserialize;

/// Files shown of one group; `count` says how many there are.
const GROUP_FILES: i64 = 20;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DuplicatesQuery {
    /// What makes a likely duplicate: `name` (default) or `contact`.
    pub by: Option<DuplicateSign>,
}

/// Likely duplicates of a file (CUS-01): by default, the same name once
/// company forms, spaces and full-width characters are set aside; with
/// `by=contact`, a contact reached by the same number or address. Only
/// files the caller may see, at most 50.
#[utoipa::path(get, path = "/api/v1/customers/{id}/duplicates", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), DuplicatesQuery), responses((status = 200, body = CustomerPage)))]
pub async fn list_duplicates(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    q: ValidQuery<DuplicatesQuery>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    let financials = sees_financials(&p);
    let by = q.by.unwrap_or_default();
    let found = st
        .write(move |c| {
            let seen = see(c, &p, &id.0, meta.at)?;
            let candidates = match by {
                DuplicateSign::Name => customers::same_normalised_name(
                    c,
                    &seen.view.row.name_normalized,
                    Some(&seen.view.row.id),
                    50,
                )?,
                DuplicateSign::Contact => customers::sharing_contacts(c, &seen.view.row.id, 50)?,
            };
            let mut shown = Vec::new();
            let mut entries = vec![AccessEntry {
                customer_id: seen.view.row.id.clone(),
                action: "duplicates",
                detail: None,
                grant_id: seen.grant.clone(),
            }];
            for v in candidates {
                if see(c, &p, &v.row.id, meta.at).is_ok() {
                    entries.push(AccessEntry::listed(
                        &v.row.id,
                        format!("duplicate of {}", seen.view.row.id),
                    ));
                    shown.push(v);
                }
            }
            customer_access::register(c, &meta, &entries)?;
            Ok(shown)
        })
        .await?;
    Ok(HttpResponse::Ok().json(CustomerPage {
        items: found
            .into_iter()
            .map(|v| Customer::from_view(v, financials))
            .collect(),
        next_cursor: None,
    }))
}

/// Groups of likely duplicates across the archive, by normalised name in
/// order: each with how many files the caller may see hold the name, and
/// the first 20 of them (id order). Merged files are left out. Work a
/// group with `POST /customers/{id}/merge`.
#[utoipa::path(get, path = "/api/v1/customers/duplicate-groups", tag = "customers", security(("bearer" = [])),
    params(PageParams), responses((status = 200, body = DuplicateGroupPage)))]
pub async fn list_duplicate_groups(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    page: ValidQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let (limit, cursor) = page.parse()?;
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    let financials = sees_financials(&p);
    let scope = scope_of(&p);
    let after = cursor.map(|c| c.key);
    let (groups, next) = st
        .read(move |c| {
            let names = customers::duplicate_names(c, &scope, after.as_deref(), limit)?;
            let page = Page::from_overfetch(names, limit, |(name, _)| Cursor::after_key(name));
            let mut groups = Vec::with_capacity(page.items.len());
            for (name, count) in page.items {
                let files = customers::visible_with_name(c, &scope, &name, GROUP_FILES)?;
                groups.push((name, count, files));
            }
            Ok((groups, page.next))
        })
        .await?;
    let entries: Vec<AccessEntry> = groups
        .iter()
        .flat_map(|(_, _, files)| files.iter())
        .map(|v| AccessEntry::listed(&v.row.id, "duplicate groups"))
        .collect();
    st.register.register(meta, entries).await?;
    Ok(HttpResponse::Ok().json(DuplicateGroupPage {
        items: groups
            .into_iter()
            .map(|(name_normalized, count, files)| DuplicateGroup {
                name_normalized,
                count,
                files: files
                    .into_iter()
                    .map(|v| Customer::from_view(v, financials))
                    .collect(),
            })
            .collect(),
        next_cursor: next.as_ref().map(Cursor::encode),
    }))
}

/// Likely duplicates shown by a check, at most.
const CHECK_FILES: i64 = 50;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DuplicateCheckQuery {
    /// The customer's name as it would be filed.
    #[param(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Its unified social credit code, with its check digits.
    #[param(min_length = 18, max_length = 18)]
    pub credit_code: Option<String>,
    /// Its id in the ERP.
    #[param(min_length = 1, max_length = 64)]
    pub external_id: Option<String>,
    /// A phone or mobile number, or an email address, of one of its
    /// contacts (as the list's `contact`).
    #[param(min_length = 3, max_length = 254)]
    pub contact: Option<String>,
}

/// Checks a customer before its file is opened (CUS-01: one customer, one
/// file), as a clerk fills in the form or an ERP prepares a row: which
/// identifiers another file holds already (opening a file with them is
/// refused with 409), and which files the caller may see are likely the
/// same customer — the same name once company forms, places' forms,
/// spaces and full-width characters are set aside, or a contact reached
/// by the same number or address. Writes nothing but the register's
/// entries for the files shown (CUS-08). Needs a role that opens files.
#[utoipa::path(get, path = "/api/v1/customers/duplicate-check", tag = "customers", security(("bearer" = [])),
    params(DuplicateCheckQuery), responses((status = 200, body = DuplicateCheck)))]
pub async fn check_duplicates(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    q: ValidQuery<DuplicateCheckQuery>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    if !edits_files(&p) {
        return Err(ApiError::forbidden(
            "checking a file before it is opened needs the admin, manager, account_manager or integration role",
        ));
    }
    let q = q.0;
    if q.name.is_none() && q.credit_code.is_none() && q.external_id.is_none() && q.contact.is_none()
    {
        return Err(ApiError::bad_parameter(
            "name",
            "required",
            "name, credit_code, external_id or contact is needed",
        ));
    }
    let name = q
        .name
        .as_deref()
        .map(CustomerName::parse)
        .transpose()
        .map_err(|e| ApiError::bad_parameter("name", e.code, e.message))?
        .map(|n| n.normalised());
    let credit_code = credit_code_param(q.credit_code.as_deref())?;
    let external_id = q.external_id.as_deref().map(str::trim);
    text_param("external_id", external_id, 64)?;
    let external_id = external_id.map(str::to_owned);
    let reach = q.contact.as_deref().map(reach_of).transpose()?;
    let meta = ctx.meta(&st, Some(&p));
    let financials = sees_financials(&p);
    let scope = scope_of(&p);
    let normalised = name.clone();
    let (conflicts, likely) = st
        .read(move |c| {
            let mut conflicts = Vec::new();
            if let Some(cc) = &credit_code {
                if let Some(id) = customers::find_by_credit_code(c, cc)? {
                    conflicts.push(("credit_code", id));
                }
            }
            if let Some(e) = &external_id {
                if let Some(id) = customers::find_by_external_id(c, e)? {
                    conflicts.push(("external_id", id));
                }
            }
            let mut likely: Vec<(Vec<DuplicateSign>, _)> = Vec::new();
            if let Some(n) = &normalised {
                for v in customers::visible_with_name(c, &scope, n, CHECK_FILES)? {
                    likely.push((vec![DuplicateSign::Name], v));
                }
            }
            if let Some(r) = &reach {
                for v in customers::visible_reached_by(c, &scope, r, CHECK_FILES)? {
                    match likely.iter_mut().find(|(_, seen)| seen.row.id == v.row.id) {
                        Some((signs, _)) => signs.push(DuplicateSign::Contact),
                        None => likely.push((vec![DuplicateSign::Contact], v)),
                    }
                }
            }
            likely.sort_by(|a, b| a.1.row.id.cmp(&b.1.row.id));
            likely.truncate(CHECK_FILES as usize);
            Ok((conflicts, likely))
        })
        .await?;
    let entries = likely
        .iter()
        .map(|(_, v)| AccessEntry::listed(&v.row.id, "duplicate check"))
        .collect();
    st.register.register(meta, entries).await?;
    Ok(HttpResponse::Ok().json(DuplicateCheck {
        name_normalized: name,
        conflicts: conflicts
            .into_iter()
            .map(|(field, id)| DuplicateConflict {
                field: field.to_owned(),
                existing_id: id.parse().unwrap_or_default(),
            })
            .collect(),
        likely: likely
            .into_iter()
            .map(|(signs, v)| LikelyDuplicate {
                signs,
                file: Customer::from_view(v, financials),
            })
            .collect(),
    }))
}
