//! `Idempotency-Key` on POST: the first request with a key runs and its
//! successful answer is kept for 24 hours; a retry with the same body gets
//! that answer again (`Idempotent-Replayed: true`); the same key with another
//! body is a 422; a retry while the first still runs is a 409. Keys are
//! scoped to the signed-in principal. Failed requests release the key.
//!
//! An answer marked `Cache-Control: no-store` carries a secret shown once
//! (a service account's or a webhook's): it is not kept, so the secret is
//! never stored in the clear. A retry of such a request is still not run
//! twice: it gets a 409 pointing at what the first one created.

use crate::error::ApiError;
use crate::extract::read_body;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpResponse};
use clientele_persistence::idempotency::{self, Begin, KeyRef, StoredResponse};

const KEPT_HEADERS: [&str; 3] = ["content-type", "location", "etag"];

fn bearer_subject(req: &ServiceRequest, st: &AppState) -> Option<String> {
    let h = req.headers().get("authorization")?.to_str().ok()?;
    let token = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))?;
    st.jwt.verify(token.trim()).ok().map(|c| c.sub)
}

fn replay(stored: StoredResponse) -> HttpResponse {
    if stored.body.is_none() {
        let location = stored
            .headers_json
            .and_then(|h| serde_json::from_str::<Vec<(String, String)>>(&h).ok())
            .and_then(|h| h.into_iter().find(|(k, _)| k == "location"))
            .map(|(_, v)| v);
        let mut e = ApiError::new(
            StatusCode::CONFLICT,
            "secret_not_replayed",
            "the first request with this Idempotency-Key succeeded; its answer held a secret \
             shown only once, so it is not replayed: issue a new secret if it was lost",
        );
        if let Some(l) = location {
            e = e.with_header("location", l);
        }
        return actix_web::ResponseError::error_response(&e);
    }
    let mut res =
        HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
    let headers: Vec<(String, String)> = stored
        .headers_json
        .and_then(|h| serde_json::from_str(&h).ok())
        .unwrap_or_default();
    for (k, v) in headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(k), HeaderValue::from_str(&v)) {
            res.insert_header((n, v));
        }
    }
    res.insert_header(("idempotent-replayed", "true"));
    res.body(stored.body.unwrap_or_default())
}

pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let key = match req.headers().get("idempotency-key") {
        Some(k) if req.method() == Method::POST => k.to_str().unwrap_or("\u{0}").to_owned(),
        _ => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body)
        }
    };
    if !(1..=255).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(req.error_response(ApiError::bad_request(
            "invalid_header",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )));
    }
    let Some(st) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(ApiError::internal()));
    };
    let Some(principal) = bearer_subject(&req, &st) else {
        // Not signed in: the handler answers 401 and nothing is kept.
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let mut payload = req.take_payload();
    let limit = st.config.body_limit(req.path());
    let body = match read_body(req.request(), &mut payload, limit, false).await {
        Ok(b) => b,
        Err(e) => return Ok(req.error_response(e)),
    };
    let method = req.method().to_string();
    let path = req.uri().to_string();
    let hash = crate::auth::secrets::digest_bytes(&body);
    let now = st.now();
    let forget_before = now - chrono::Duration::hours(24);
    let (p, k, m, pa, h) = (
        principal.clone(),
        key.clone(),
        method.clone(),
        path.clone(),
        hash.clone(),
    );
    let begun = st
        .write(move |c| {
            idempotency::begin(
                c,
                &KeyRef {
                    principal_id: &p,
                    key: &k,
                },
                &m,
                &pa,
                &h,
                now,
                forget_before,
            )
        })
        .await;
    let begun = match begun {
        Ok(b) => b,
        Err(e) => return Ok(req.error_response(e)),
    };
    match begun {
        Begin::Replay(stored) => Ok(req.into_response(replay(stored))),
        Begin::Mismatch => Ok(req.error_response(ApiError::unprocessable(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        ))),
        Begin::InProgress => Ok(req.error_response(
            ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_in_progress",
                "a request with this Idempotency-Key is still being processed",
            )
            .with_header("retry-after", "1"),
        )),
        Begin::Fresh => {
            let (_, mut h1) = actix_http::h1::Payload::create(true);
            h1.unread_data(body);
            req.set_payload(h1.into());
            let res = next.call(req).await;
            let release = |st: web::Data<AppState>, p: String, k: String| async move {
                let _ = st
                    .write(move |c| {
                        idempotency::abandon(
                            c,
                            &KeyRef {
                                principal_id: &p,
                                key: &k,
                            },
                        )
                    })
                    .await;
            };
            let res = match res {
                Ok(r) => r,
                Err(e) => {
                    release(st, principal, key).await;
                    return Err(e);
                }
            };
            if !res.status().is_success() {
                release(st, principal, key).await;
                return Ok(res.map_into_boxed_body());
            }
            let (http_req, res) = res.into_parts();
            let (head, body) = res.into_parts();
            let bytes = actix_web::body::to_bytes(body)
                .await
                .map_err(|_| ApiError::internal())?;
            let headers: Vec<(String, String)> = KEPT_HEADERS
                .iter()
                .filter_map(|n| {
                    head.headers()
                        .get(*n)
                        .and_then(|v| v.to_str().ok())
                        .map(|v| ((*n).to_owned(), v.to_owned()))
                })
                .collect();
            let secret = head
                .headers()
                .get(actix_web::http::header::CACHE_CONTROL)
                .is_some_and(|v| v.as_bytes() == b"no-store");
            let stored = StoredResponse {
                status: head.status().as_u16(),
                headers_json: serde_json::to_string(&headers).ok(),
                body: (!secret).then(|| String::from_utf8_lossy(&bytes).into_owned()),
            };
            st.write(move |c| {
                idempotency::complete(
                    c,
                    &KeyRef {
                        principal_id: &principal,
                        key: &key,
                    },
                    &stored,
                )
            })
            .await?;
            Ok(ServiceResponse::new(
                http_req,
                head.set_body(bytes).map_into_boxed_body(),
            ))
        }
    }
}
