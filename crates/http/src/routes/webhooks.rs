//! Webhook subscriptions (administrators; auditors read) and their delivery
//! log. Delivery itself runs in the background (`webhook_delivery`).

use crate::dto::webhooks::{
    DeliveryQuery, NewWebhook, Webhook, WebhookChanges, WebhookDelivery, WebhookDeliveryPage,
    WebhookPage, WebhookWithSecret,
};
use crate::error::ApiError;
use crate::extract::{
    Auth, IfMatch, IfNoneMatch, PageParams, PathId, PathSub, ReqCtx, ValidJson, ValidQuery,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use clientele_core::webhook::{TopicPattern, WebhookUrl};
use clientele_core::Role;
use clientele_persistence::webhooks::{self, WebhookRow};

fn webhook_answer(status: StatusCode, row: WebhookRow) -> HttpResponse {
    let location = format!("/api/v1/webhooks/{}", row.id);
    super::versioned(status, row.version, location, Webhook::from(row))
}

fn url(raw: &str) -> Result<WebhookUrl, ApiError> {
    WebhookUrl::parse(raw).map_err(|e| ApiError::field("url", e.code, e.message))
}

fn topics(raw: &[String]) -> Result<Vec<TopicPattern>, ApiError> {
    let mut out: Vec<TopicPattern> = Vec::with_capacity(raw.len());
    for (i, t) in raw.iter().enumerate() {
        let p = TopicPattern::parse(t)
            .map_err(|e| ApiError::field(&format!("topics[{i}]"), e.code, e.message))?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

fn new_secret() -> String {
    format!("whsec_{}", crate::auth::secrets::generate())
}

fn with_secret(status: StatusCode, row: WebhookRow, secret: String) -> HttpResponse {
    let location = format!("/api/v1/webhooks/{}", row.id);
    super::shown_once(
        status,
        row.version,
        location,
        WebhookWithSecret {
            webhook: Webhook::from(row),
            secret,
        },
    )
}

/// Subscribe a receiver to events (admin). The answer carries the signing
/// secret, shown only this once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = NewWebhook, responses((status = 201, body = WebhookWithSecret)))]
pub async fn create_webhook(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    body: ValidJson<NewWebhook>,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let b = body.0;
    let (url, topics) = (url(&b.url)?, topics(&b.topics)?);
    let secret = new_secret();
    let key = secret.clone();
    let row = st
        .write(move |c| webhooks::create(c, &meta, &url, &topics, b.description, key))
        .await?;
    Ok(with_secret(StatusCode::CREATED, row, secret))
}

/// Issue a new signing secret (admin); the old one signs nothing from now on.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = WebhookWithSecret)))]
pub async fn rotate_webhook_secret(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let (id, secret) = (id.0, new_secret());
    let key = secret.clone();
    let row = st
        .write(move |c| webhooks::set_secret(c, &meta, &id, key))
        .await?;
    Ok(with_secret(StatusCode::OK, row, secret))
}

/// List webhooks, oldest first (admin, auditor).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    params(PageParams), responses((status = 200, body = WebhookPage)))]
pub async fn list_webhooks(
    st: web::Data<AppState>,
    auth: Auth,
    page: ValidQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    auth.require_reader_of_all()?;
    let (limit, cursor) = page.parse()?;
    let page = st
        .read(move |c| webhooks::list(c, limit, cursor.as_ref()))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookPage::from_page(page, Webhook::from)))
}

/// Read one webhook (admin, auditor).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), IfNoneMatch),
    responses((status = 200, body = Webhook, headers(("ETag" = String, description = "The version read"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the current version")))]
pub async fn get_webhook(
    st: web::Data<AppState>,
    auth: Auth,
    id: PathId,
) -> Result<HttpResponse, ApiError> {
    auth.require_reader_of_all()?;
    let id = id.0;
    let row = st.read(move |c| webhooks::get(c, &id)).await?;
    Ok(webhook_answer(StatusCode::OK, row))
}

/// Change a webhook's address, topics, description or whether it is active
/// (admin, `If-Match`).
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version you read", pattern = "^\"[0-9]+\"$")),
    request_body = WebhookChanges, responses((status = 200, body = Webhook)))]
pub async fn update_webhook(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<WebhookChanges>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let b = body.0;
    let changes = webhooks::WebhookChanges {
        url: b.url.as_deref().map(url).transpose()?,
        topics: b.topics.as_deref().map(topics).transpose()?,
        description: b.description,
        active: b.active,
    };
    let id = id.0;
    let row = st
        .write(move |c| webhooks::update(c, &meta, &id, if_match.0, changes))
        .await?;
    Ok(webhook_answer(StatusCode::OK, row))
}

/// The delivery log of a webhook, newest first (admin, auditor).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), DeliveryQuery, PageParams), responses((status = 200, body = WebhookDeliveryPage)))]
pub async fn list_deliveries(
    st: web::Data<AppState>,
    auth: Auth,
    id: PathId,
    q: ValidQuery<DeliveryQuery>,
    page: ValidQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    auth.require_reader_of_all()?;
    let (limit, cursor) = page.parse()?;
    let status = q.status.map(|s| s.as_str());
    let id = id.0;
    let page = st
        .read(move |c| {
            webhooks::get(c, &id)?;
            webhooks::deliveries(c, &id, status, limit, cursor.as_ref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(WebhookDeliveryPage::from_page(page, WebhookDelivery::from)))
}

/// Send a delivery again at the next round, whatever its state (admin).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{sub_id}/retry", tag = "webhooks", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sub_id" = uuid::Uuid, Path, description = "The delivery")),
    responses((status = 200, body = WebhookDelivery)))]
pub async fn retry_delivery(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    sub: PathSub,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let (id, sub) = (id.0, sub.0);
    let row = st
        .write(move |c| webhooks::retry(c, &meta, &id, &sub))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookDelivery::from(row)))
}
