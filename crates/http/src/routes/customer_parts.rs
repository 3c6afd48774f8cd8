//! What a file holds: contacts, relations to other files, document records
//! (CUS-02, CUS-06), and its timeline. Reads are registered like reads of
//! the file itself.

use crate::dto::customers::{
    wire, Contact, ContactChanges, Document, DocumentChanges, NewContact, NewDocument, NewRelation,
    Relation, TimelineAction, TimelineItem, TimelinePage,
};
use crate::dto::utc;
use crate::error::ApiError;
use crate::extract::{
    Auth, IfMatch, IfNoneMatch, PageParams, PathId, PathSub, ReqCtx, ValidJson, ValidQuery,
};
use crate::routes::contact_fields::{write_contact, ContactFields};
use crate::routes::customer_files::{
    clean, old_value, read_one, read_part, register, see, see_for_change, with_field, Reverting,
    Seen,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use clientele_core::Cursor;
use clientele_persistence::customer_access;
use clientele_persistence::customer_parts::{self, ContactRow, DocumentRow, RelationRow, Window};
use clientele_persistence::customers;
use clientele_persistence::{DbConn, Page, WriteMeta};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Also list removed contacts.
    pub include_removed: Option<bool>,
    /// Only the contacts reached by this phone or mobile number, or email
    /// address, however written (as the list's `contact`): who is calling?
    #[param(min_length = 3, max_length = 254)]
    pub contact: Option<String>,
    /// Only the contact an ERP keeps by this id (an ERP looking up its own
    /// contact in the file).
    #[param(min_length = 1, max_length = 64)]
    pub external_id: Option<String>,
    /// Contacts an answer holds, 1 to 500 (default 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `X-Next-Cursor` of the previous answer.
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The contacts of a file, primary first, then in the order they were
/// added: up to `limit` an answer, `X-Next-Cursor` naming where the next
/// answer starts when more follow.
#[utoipa::path(get, path = "/api/v1/customers/{id}/contacts", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ContactQuery),
    responses((status = 200, body = Vec<Contact>, headers(
        ("X-Next-Cursor" = String, description = "Where the next answer starts, when more follow")))))]
pub async fn list_contacts(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    q: ValidQuery<ContactQuery>,
) -> Result<HttpResponse, ApiError> {
    let all = q.include_removed.unwrap_or(false);
    let reach = q
        .contact
        .as_deref()
        .map(crate::routes::customer_files::reach_of)
        .transpose()?;
    let external_id = match q.external_id.as_deref().map(str::trim) {
        Some(e) if e.is_empty() || e.chars().count() > 64 => {
            return Err(ApiError::bad_parameter(
                "external_id",
                "invalid_length",
                "external_id has 1 to 64 characters",
            ))
        }
        other => other.map(str::to_owned),
    };
    let (limit, after) = PageParams::of(q.limit, q.cursor.clone()).parse_parts()?;
    if after.as_ref().is_some_and(|c| c.key != "0" && c.key != "1") {
        return Err(not_our_cursor());
    }
    let file = id.0.clone();
    let rows = read_part(&st, &ctx, auth.0, id.0, "contacts", move |c, _, _| {
        let window = Window {
            after: after.as_ref(),
            take: i64::from(limit) + 1,
        };
        customer_parts::contacts(
            c,
            &file,
            all,
            reach.as_ref(),
            external_id.as_deref(),
            window,
        )
    })
    .await?;
    let page = Page::from_overfetch(rows, limit, customer_parts::contact_cursor);
    Ok(parts_answer(page.map(Contact::from)))
}

/// A cursor of another list, or one made up.
fn not_our_cursor() -> ApiError {
    ApiError::bad_request("invalid_cursor", "the cursor is not one this API issued")
}

/// One answer of a file's parts: the items, and where the next answer
/// starts when more follow.
fn parts_answer<T: serde::Serialize>(page: Page<T>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Some(next) = &page.next {
        res.insert_header(("x-next-cursor", next.encode()));
    }
    res.json(page.items)
}

/// Add a contact (name, title, phone, mobile).
#[utoipa::path(post, path = "/api/v1/customers/{id}/contacts", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = NewContact, responses((status = 201, body = Contact)))]
pub async fn add_contact(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<NewContact>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    let fields = ContactFields::from(body.0).checked()?;
    let row = st
        .write(move |c| {
            // One primary contact a file: contact writes of a file queue.
            customers::lock_files(c, &[&id.0])?;
            see_for_change(c, &p, &id.0, meta.at)?;
            write_contact(c, &meta, None, fields.new_contact(&id.0, meta.at), None)
        })
        .await?;
    let location = format!("/api/v1/customers/{}/contacts/{}", row.customer_id, row.id);
    Ok(super::versioned(
        StatusCode::CREATED,
        row.version,
        location,
        Contact::from(row),
    ))
}

/// One contact of a file, removed ones included (`active: false`), with
/// its `ETag` for a change.
#[utoipa::path(get, path = "/api/v1/customers/{id}/contacts/{sub_id}", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sub_id" = uuid::Uuid, Path, description = "The contact"), IfNoneMatch),
    responses((status = 200, body = Contact),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the current version")))]
pub async fn get_contact(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    sub: PathSub,
) -> Result<HttpResponse, ApiError> {
    let part = Part::<ContactRow> {
        action: "contacts",
        load: customer_parts::contact,
        version: |r| r.version,
    };
    part.read::<Contact>(&st, &ctx, auth, id, sub).await
}

/// How one versioned part of a file (a contact, a document record) is
/// read: registered under `action`, naming the part, answered with its
/// `ETag`.
struct Part<R> {
    action: &'static str,
    load: fn(&mut DbConn, &str, &str) -> clientele_persistence::Result<R>,
    version: fn(&R) -> i64,
}

impl<R: Send + 'static> Part<R> {
    async fn read<D: serde::Serialize + From<R>>(
        self,
        st: &AppState,
        ctx: &ReqCtx,
        auth: Auth,
        id: PathId,
        sub: PathSub,
    ) -> Result<HttpResponse, ApiError> {
        let (file, one, load) = (id.0.clone(), sub.0.clone(), self.load);
        let row = read_one(st, ctx, auth.0, (id.0, one), self.action, move |c, _, _| {
            load(c, &file, &sub.0)
        })
        .await?;
        Ok(super::versioned(
            StatusCode::OK,
            (self.version)(&row),
            String::new(),
            D::from(row),
        ))
    }
}

/// Change a contact (`If-Match` of the contact).
#[utoipa::path(patch, path = "/api/v1/customers/{id}/contacts/{sub_id}", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sub_id" = uuid::Uuid, Path, description = "The contact"),
        ("If-Match" = String, Header, description = "ETag of the contact", pattern = "^\"[0-9]+\"$")),
    request_body = ContactChanges, responses((status = 200, body = Contact)))]
pub async fn update_contact(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    sub: PathSub,
    body: ValidJson<ContactChanges>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    let fields = ContactFields::from(body.0).checked()?;
    let row = st
        .write(move |c| {
            customers::lock_files(c, &[&id.0])?;
            let seen = see_for_change(c, &p, &id.0, meta.at)?;
            // The answer shows the whole contact: a read like any other (CUS-08).
            register(
                c,
                &meta,
                &seen,
                "contacts",
                Some("answer to a change".into()),
            )?;
            let mut row = customer_parts::contact(c, &id.0, &sub.0)?;
            fields.apply(&mut row);
            write_contact(c, &meta, Some(if_match.0), row, None)
        })
        .await?;
    Ok(super::versioned(
        StatusCode::OK,
        row.version,
        String::new(),
        Contact::from(row),
    ))
}

/// Remove a contact (`If-Match`): it leaves the list and stays in the history.
#[utoipa::path(delete, path = "/api/v1/customers/{id}/contacts/{sub_id}", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sub_id" = uuid::Uuid, Path, description = "The contact"),
        ("If-Match" = String, Header, description = "ETag of the contact", pattern = "^\"[0-9]+\"$")),
    responses((status = 204, description = "Removed")))]
pub async fn remove_contact(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    sub: PathSub,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    st.write(move |c| {
        see_for_change(c, &p, &id.0, meta.at)?;
        let mut row = customer_parts::contact(c, &id.0, &sub.0)?;
        if !row.active {
            return Err(clientele_persistence::Error::NotFound);
        }
        row.active = false;
        row.is_primary = false;
        customer_parts::save_contact(c, &meta, if_match.0, row, None)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `limit` and `cursor` of a file's relations or document records.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartsQuery {
    /// Rows an answer holds, 1 to 500 (default 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `X-Next-Cursor` of the previous answer.
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// Files related to this one (group and subsidiaries, same group, related),
/// seen from this file's side, in the order they were related. Only
/// related files the caller may see: up to `limit` of them an answer,
/// `X-Next-Cursor` naming where the next answer starts when more follow.
#[utoipa::path(get, path = "/api/v1/customers/{id}/relations", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), PartsQuery),
    responses((status = 200, body = Vec<Relation>, headers(
        ("X-Next-Cursor" = String, description = "Where the next answer starts, when more follow")))))]
pub async fn list_relations(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    q: ValidQuery<PartsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (limit, after) = PageParams::of(q.limit, q.cursor.clone()).parse_parts()?;
    let me = id.0.clone();
    let file = id.0.clone();
    let meta = ctx.meta(&st, Some(&auth.0));
    let shown = read_part(&st, &ctx, auth.0, id.0, "relations", move |c, p, at| {
        // Relations to files out of sight are passed over, so the next
        // answer starts after the last one shown, and an answer says
        // more follow only when one the caller may see does.
        let want = limit as usize + 1;
        let mut shown = Vec::new();
        let mut from = after;
        loop {
            let window = Window {
                after: from.as_ref(),
                take: i64::from(limit) + 1,
            };
            let rows = customer_parts::relations(c, &file, window)?;
            let exhausted = rows.len() <= limit as usize;
            from = rows.last().map(|r| Cursor {
                key: String::new(),
                id: r.id.clone(),
            });
            for r in rows {
                if shown.len() == want {
                    break;
                }
                if let Some(other) = other_end(c, p, at, &r, &file)? {
                    shown.push((r, other));
                }
            }
            if exhausted || shown.len() == want {
                break;
            }
        }
        let page = Page::by_id(shown, limit, |(r, _)| r.id.as_str());
        register_named(c, &meta, page.items.iter().map(|(_, o)| o))?;
        Ok(page)
    })
    .await?;
    Ok(parts_answer(shown.map(|(r, other)| {
        Relation::seen_from(r, &me, &other.view)
    })))
}

/// One relation of the file, seen from its side; 404 once ended, or when
/// the caller may not see the other file.
#[utoipa::path(get, path = "/api/v1/customers/{id}/relations/{sub_id}", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sub_id" = uuid::Uuid, Path, description = "The relation")),
    responses((status = 200, body = Relation)))]
pub async fn get_relation(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    sub: PathSub,
) -> Result<HttpResponse, ApiError> {
    let me = id.0.clone();
    let (file, one) = (id.0.clone(), sub.0.clone());
    let meta = ctx.meta(&st, Some(&auth.0));
    let (row, other) = read_one(
        &st,
        &ctx,
        auth.0,
        (id.0, one),
        "relations",
        move |c, p, at| {
            let row = customer_parts::relation(c, &file, &sub.0)?;
            let other =
                other_end(c, p, at, &row, &file)?.ok_or(clientele_persistence::Error::NotFound)?;
            register_named(c, &meta, [&other])?;
            Ok((row, other))
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(Relation::seen_from(row, &me, &other.view)))
}

/// The file at the other end of `r` from `file`, if `p` may see it.
fn other_end(
    c: &mut DbConn,
    p: &clientele_core::Principal,
    at: clientele_persistence::Timestamp,
    r: &RelationRow,
    file: &str,
) -> clientele_persistence::Result<Option<Seen>> {
    let other = if r.from_id == file {
        &r.to_id
    } else {
        &r.from_id
    };
    match see(c, p, other, at) {
        Ok(seen) => Ok(Some(seen)),
        Err(clientele_persistence::Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Registers the showing of other files' codes and names in relations
/// (CUS-08), one entry for all of them.
fn register_named<'a>(
    c: &mut DbConn,
    meta: &WriteMeta,
    others: impl IntoIterator<Item = &'a Seen>,
) -> clientele_persistence::Result<()> {
    let entries: Vec<customer_access::AccessEntry> = others
        .into_iter()
        .map(|o| customer_access::AccessEntry {
            customer_id: o.view.row.id.clone(),
            action: "relations",
            detail: Some("named in a relation".into()),
            grant_id: o.grant.clone(),
        })
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    customer_access::register(c, meta, &entries)
}

/// Relate this file to another (CUS-06); both sides show it.
#[utoipa::path(post, path = "/api/v1/customers/{id}/relations", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = NewRelation, responses((status = 201, body = Relation)))]
pub async fn add_relation(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<NewRelation>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    let b = body.0;
    let other = b.customer_id.to_string();
    if other == id.0 {
        return Err(ApiError::field(
            "customer_id",
            "invalid_value",
            "a file cannot be related to itself",
        ));
    }
    let me = id.0.clone();
    let row = st
        .write(move |c| {
            // Neither end may be merged away while the relation is made.
            customers::lock_files(c, &[&id.0, &other])?;
            see_for_change(c, &p, &id.0, meta.at)?;
            let Ok(seen) = see(c, &p, &other, meta.at) else {
                return Err(clientele_persistence::Error::unprocessable(
                    "customer_not_found",
                    "the other file does not exist",
                )
                .on("customer_id"));
            };
            if let Some(living) = &seen.view.row.merged_into_id {
                return Err(clientele_persistence::Error::unprocessable(
                    "merged",
                    format!("the other file was merged into {living}; relate to that file"),
                )
                .on("customer_id"));
            }
            // The answer names the other file: a read of it (CUS-08).
            register_named(c, &meta, [&seen])?;
            let row = customer_parts::add_relation(
                c,
                &meta,
                RelationRow {
                    id: clientele_core::new_id().to_string(),
                    from_id: id.0.clone(),
                    to_id: other,
                    kind: wire(&b.kind),
                    note: clean(b.note),
                    active: true,
                    created_at: meta.at,
                },
            )?;
            Ok((row, seen))
        })
        .await?;
    let (row, other) = row;
    let location = format!("/api/v1/customers/{me}/relations/{}", row.id);
    let mut res = HttpResponse::Created();
    res.insert_header(("location", location));
    Ok(res.json(Relation::seen_from(row, &me, &other.view)))
}

/// End a relation; it stays in both files' history.
#[utoipa::path(delete, path = "/api/v1/customers/{id}/relations/{sub_id}", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sub_id" = uuid::Uuid, Path, description = "The relation")),
    responses((status = 204, description = "Ended")))]
pub async fn end_relation(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    sub: PathSub,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    st.write(move |c| {
        see_for_change(c, &p, &id.0, meta.at)?;
        customer_parts::end_relation(c, &meta, &id.0, &sub.0)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    pub category: Option<crate::dto::customers::DocumentCategoryDto>,
    /// Records an answer holds, 1 to 500 (default 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `X-Next-Cursor` of the previous answer.
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The document records of a file (contracts, certificates, litigation …),
/// in the order they were recorded: up to `limit` an answer,
/// `X-Next-Cursor` naming where the next answer starts when more follow.
#[utoipa::path(get, path = "/api/v1/customers/{id}/documents", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), DocumentQuery),
    responses((status = 200, body = Vec<Document>, headers(
        ("X-Next-Cursor" = String, description = "Where the next answer starts, when more follow")))))]
pub async fn list_documents(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    q: ValidQuery<DocumentQuery>,
) -> Result<HttpResponse, ApiError> {
    let category = q.category.map(|c| wire(&c));
    let (limit, after) = PageParams::of(q.limit, q.cursor.clone()).parse_parts()?;
    let file = id.0.clone();
    let rows = read_part(&st, &ctx, auth.0, id.0, "documents", move |c, _, _| {
        let window = Window {
            after: after.as_ref(),
            take: i64::from(limit) + 1,
        };
        customer_parts::documents(c, &file, category.as_deref(), window)
    })
    .await?;
    let page = Page::by_id(rows, limit, |r| r.id.as_str());
    Ok(parts_answer(page.map(Document::from)))
}

/// One document record of a file, with its `ETag` for a change.
#[utoipa::path(get, path = "/api/v1/customers/{id}/documents/{sub_id}", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sub_id" = uuid::Uuid, Path, description = "The document record"), IfNoneMatch),
    responses((status = 200, body = Document),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the current version")))]
pub async fn get_document(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    sub: PathSub,
) -> Result<HttpResponse, ApiError> {
    let part = Part::<DocumentRow> {
        action: "documents",
        load: customer_parts::document,
        version: |r| r.version,
    };
    part.read::<Document>(&st, &ctx, auth, id, sub).await
}

/// Record a document kept for the file.
#[utoipa::path(post, path = "/api/v1/customers/{id}/documents", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = NewDocument, responses((status = 201, body = Document)))]
pub async fn add_document(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<NewDocument>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    let b = body.0;
    link_guard(b.external_url.as_deref())?;
    let row = st
        .write(move |c| {
            see_for_change(c, &p, &id.0, meta.at)?;
            customer_parts::add_document(
                c,
                &meta,
                DocumentRow {
                    id: clientele_core::new_id().to_string(),
                    customer_id: id.0.clone(),
                    category: wire(&b.category),
                    title: b.title.trim().to_owned(),
                    reference_no: clean(b.reference_no),
                    doc_date: b.doc_date,
                    keeper_unit_id: b.keeper_unit_id.map(|u| u.to_string()),
                    location: clean(b.location),
                    external_url: clean(b.external_url),
                    version: 1,
                    created_at: meta.at,
                    updated_at: meta.at,
                },
            )
        })
        .await?;
    let location = format!("/api/v1/customers/{}/documents/{}", row.customer_id, row.id);
    Ok(super::versioned(
        StatusCode::CREATED,
        row.version,
        location,
        Document::from(row),
    ))
}

/// Change a document record (`If-Match` of the record).
#[utoipa::path(patch, path = "/api/v1/customers/{id}/documents/{sub_id}", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sub_id" = uuid::Uuid, Path, description = "The document record"),
        ("If-Match" = String, Header, description = "ETag of the record", pattern = "^\"[0-9]+\"$")),
    request_body = DocumentChanges, responses((status = 200, body = Document)))]
pub async fn update_document(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    sub: PathSub,
    body: ValidJson<DocumentChanges>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    let b = body.0;
    link_guard(b.external_url.as_ref().and_then(Option::as_deref))?;
    let row = st
        .write(move |c| {
            let seen = see_for_change(c, &p, &id.0, meta.at)?;
            register(
                c,
                &meta,
                &seen,
                "documents",
                Some("answer to a change".into()),
            )?;
            let mut row = customer_parts::document(c, &id.0, &sub.0)?;
            if let Some(v) = b.category {
                row.category = wire(&v);
            }
            if let Some(v) = b.title {
                row.title = v.trim().to_owned();
            }
            macro_rules! clearable {
                ($($f:ident),*) => {$( if let Some(v) = b.$f { row.$f = clean(v); } )*};
            }
            clearable!(reference_no, location, external_url);
            if let Some(v) = b.doc_date {
                row.doc_date = v;
            }
            if let Some(v) = b.keeper_unit_id {
                row.keeper_unit_id = v.map(|u| u.to_string());
            }
            customer_parts::save_document(c, &meta, if_match.0, row)
        })
        .await?;
    Ok(super::versioned(
        StatusCode::OK,
        row.version,
        String::new(),
        Document::from(row),
    ))
}

/// Fields of a contact or document record a revert leaves alone.
const PART_BOOKKEEPING: [&str; 6] = [
    "*",
    "id",
    "customer_id",
    "version",
    "created_at",
    "updated_at",
];

/// Puts one field of a contact or document record back to its value
/// before the change `ch` (CUS-04); the answer shows the part, so it is a
/// registered read (CUS-08). `expected_version` is the part's.
pub(crate) fn revert_part(
    c: &mut DbConn,
    meta: &WriteMeta,
    seen: &Seen,
    ch: &customers::ChangeRow,
    expected_version: i64,
) -> clientele_persistence::Result<Reverting> {
    if PART_BOOKKEEPING.contains(&ch.field.as_str()) {
        return Err(clientele_persistence::Error::unprocessable(
            "not_revertible",
            "a creation and the record's bookkeeping cannot be reverted",
        ));
    }
    let old = old_value(ch);
    let file = &seen.view.row.id;
    if ch.entity == "contact" {
        register(c, meta, seen, "contacts", Some("answer to a revert".into()))?;
        let row = customer_parts::contact(c, file, &ch.entity_id)?;
        let after = with_field(&row, &ch.field, old)?;
        // As any change of a contact: reachable, its ERP id its own.
        write_contact(c, meta, Some(expected_version), after, None).map(Reverting::Contact)
    } else {
        register(
            c,
            meta,
            seen,
            "documents",
            Some("answer to a revert".into()),
        )?;
        let row = customer_parts::document(c, file, &ch.entity_id)?;
        let after = with_field(&row, &ch.field, old)?;
        customer_parts::save_document(c, meta, expected_version, after).map(Reverting::Document)
    }
}

/// What one history entry of a file says happened, for its timeline.
fn timeline_kind<'a>(entity: &'a str, field: &str) -> &'a str {
    match (entity, field) {
        ("customer", "*") => "created",
        ("customer", "merged_from") => "merged",
        ("customer", "merged_into_id") => "merged_into",
        ("customer", _) => "updated",
        (other, _) => other,
    }
}

/// What one history entry did to its entity: a `*` entry made it; a
/// contact or relation switched off was removed.
fn timeline_action(ch: &customers::ChangeRow) -> TimelineAction {
    match (ch.field.as_str(), ch.new_value.as_deref()) {
        ("*", _) => TimelineAction::Added,
        ("active", Some("false")) if ch.entity != "customer" => TimelineAction::Removed,
        _ => TimelineAction::Changed,
    }
}

/// Up to `limit` timeline items from history entries (newest first): the
/// entries one request made to one entity are one item. Also answers how
/// many entries the items used.
fn timeline_items(changes: &[customers::ChangeRow], limit: usize) -> (Vec<TimelineItem>, usize) {
    let mut items: Vec<(String, TimelineItem)> = Vec::new();
    let mut used = 0;
    for ch in changes {
        let group = format!(
            "{}|{}|{}",
            ch.request_id.clone().unwrap_or_else(|| ch.id.clone()),
            ch.entity,
            ch.entity_id
        );
        if let Some((g, last)) = items.last_mut() {
            if *g == group {
                // A merge is a merge whichever of its fields comes first.
                if last.kind == "updated" {
                    last.kind = timeline_kind(&ch.entity, &ch.field).to_owned();
                }
                if timeline_action(ch) == TimelineAction::Removed {
                    last.action = TimelineAction::Removed;
                }
                last.fields.push(ch.field.clone());
                used += 1;
                continue;
            }
        }
        if items.len() == limit {
            break;
        }
        items.push((
            group,
            TimelineItem {
                at: utc(ch.at),
                kind: timeline_kind(&ch.entity, &ch.field).to_owned(),
                action: timeline_action(ch),
                actor_id: ch.actor_id.as_deref().and_then(|a| a.parse().ok()),
                entity: ch.entity.clone(),
                entity_id: ch.entity_id.clone(),
                fields: if ch.field == "*" {
                    vec![]
                } else {
                    vec![ch.field.clone()]
                },
                request_id: ch.request_id.clone(),
            },
        ));
        used += 1;
    }
    (items.into_iter().map(|(_, i)| i).collect(), used)
}

/// One feed of what happened to a file, newest first: creation, edits,
/// contacts, relations, documents, merges, outside-access requests.
/// `limit` counts the items of the history; the outside-access requests of
/// the page's stretch of time come with them.
#[utoipa::path(get, path = "/api/v1/customers/{id}/timeline", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), PageParams), responses((status = 200, body = TimelinePage)))]
pub async fn customer_timeline(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    q: ValidQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let (limit, cursor) = q.parse()?;
    let file = id.0.clone();
    let (items, next, requests) = read_part(&st, &ctx, auth.0, id.0, "timeline", move |c, _, _| {
        // History entries enough for a page; one edit of several fields
        // is one item, and the page ends after `limit` items.
        let changes =
            customers::history(c, &file, limit.saturating_mul(4).min(800), cursor.as_ref())?;
        let (items, used) = timeline_items(&changes.items, limit as usize);
        // The page ends after the last entry its items used.
        let last = used.checked_sub(1).and_then(|i| changes.items.get(i));
        let next = if used < changes.items.len() {
            last.map(|ch| Cursor {
                key: String::new(),
                id: ch.id.clone(),
            })
        } else {
            changes.next
        };
        // Outside-access requests go on the page whose stretch of time they
        // fall in: after the page's oldest change (if more pages follow),
        // up to the change the cursor names. A cursor naming no change of
        // this file shows none.
        let upper = match &cursor {
            None => Some(None),
            Some(after) => match customers::change(c, &file, &after.id) {
                Ok(ch) => Some(Some(ch.at)),
                Err(clientele_persistence::Error::NotFound) => None,
                Err(e) => return Err(e),
            },
        };
        let lower = next.as_ref().and(last).map(|ch| ch.at);
        let requests = match upper {
            None => Vec::new(),
            Some(upper) => {
                customer_access::outside_requests(c, None, None, Some(&file), 500, None)?
                    .items
                    .into_iter()
                    .filter(|r| {
                        let at = r.revoked_at.or(r.decided_at).unwrap_or(r.created_at);
                        lower.is_none_or(|l| at > l) && upper.is_none_or(|u| at <= u)
                    })
                    .collect::<Vec<_>>()
            }
        };
        Ok((items, next, requests))
    })
    .await?;
    let mut out = items;
    for r in requests {
        out.push(TimelineItem {
            at: utc(r.revoked_at.or(r.decided_at).unwrap_or(r.created_at)),
            kind: "outside_access".into(),
            action: if r.decided_at.is_some() {
                TimelineAction::Changed
            } else {
                TimelineAction::Added
            },
            actor_id: r
                .revoked_by
                .as_deref()
                .or(r.decided_by.as_deref())
                .unwrap_or(&r.requested_by)
                .parse()
                .ok(),
            entity: "outside_access_request".into(),
            entity_id: r.id,
            fields: vec![r.status],
            request_id: None,
        });
    }
    out.sort_by_key(|i| std::cmp::Reverse(i.at));
    Ok(HttpResponse::Ok().json(TimelinePage {
        items: out,
        next_cursor: next.map(|c| c.encode()),
    }))
}

/// A document's link, where one is given, is a web address (an empty one
/// clears it).
fn link_guard(link: Option<&str>) -> Result<(), ApiError> {
    match link {
        Some(l) if !l.trim().is_empty() => clientele_customers::document_link(l)
            .map(|_| ())
            .map_err(|e| ApiError::field("external_url", e.code, e.message)),
        _ => Ok(()),
    }
}
