//! Likely duplicates (CUS-01: one customer, one file): files whose names
//! are the same once company forms, spaces and full-width characters are
//! set aside — beside one file, or across the whole archive for a data
//! steward cleaning up after imports. Only files the caller may see, and
//! every file shown is registered as read (CUS-08).

use crate::dto::customers::{Customer, CustomerPage, DuplicateGroup, DuplicateGroupPage};
use crate::error::ApiError;
use crate::extract::{Auth, PageParams, PathId, ReqCtx, ValidQuery};
use crate::routes::customer_files::{scope_of, see};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use clientele_core::Cursor;
use clientele_customers::visibility::sees_financials;
use clientele_persistence::customer_access::{self, AccessEntry};
use clientele_persistence::customers;
use clientele_persistence::Page;
use serde::Deserialize;
use utoipa::ToSchema;

/// Files shown of one group; `count` says how many there are.
const GROUP_FILES: i64 = 20;

/// What makes another file a likely duplicate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateSign {
    /// The same name once company forms, places' forms, spaces and
    /// full-width characters are set aside.
    #[default]
    Name,
    /// A contact reached by the same number or address (a shared
    /// switchboard, mobile or mailbox): files an import split under two
    /// names, or a group's companies.
    Contact,
}

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
                    entries.push(AccessEntry {
                        customer_id: v.row.id.clone(),
                        action: "list",
                        detail: Some(format!("duplicate of {}", seen.view.row.id)),
                        grant_id: None,
                    });
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
        .map(|v| AccessEntry {
            customer_id: v.row.id.clone(),
            action: "list",
            detail: Some("duplicate groups".into()),
            grant_id: None,
        })
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
