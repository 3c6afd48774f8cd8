//! Every error answer becomes problem+json in the caller's language, with
//! the request path and id: our own errors (bad queries among them, see
//! `extract::ValidQuery`), and the framework's bare 404, 405 and path
//! errors alike.

use crate::error::{ApiError, PROBLEM_JSON};
use crate::i18n::Lang;
use crate::middleware::request_id::RequestId;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::PathError;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

fn as_api_error(e: &Error, status: actix_web::http::StatusCode) -> ApiError {
    if let Some(api) = e.as_error::<ApiError>() {
        return api.clone();
    }
    if e.as_error::<PathError>().is_some() {
        return ApiError::not_found();
    }
    if status.is_server_error() {
        tracing::error!(error = %e, "unhandled error");
    }
    ApiError::from_status(status)
}

pub async fn problem(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // Holding a clone of the request across the call would stop routing
    // from taking it mutably, so only plain values are kept.
    let lang = Lang::from_accept_language(
        req.headers()
            .get("accept-language")
            .and_then(|v| v.to_str().ok()),
    );
    let path = req.path().to_owned();
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    // Databases refuse NUL in text; a query asking for one is malformed.
    let res = if req.query_string().to_ascii_lowercase().contains("%00") {
        req.error_response(ApiError::bad_request(
            "invalid_query",
            "query parameters may not contain NUL characters",
        ))
    } else {
        next.call(req).await?.map_into_boxed_body()
    };
    let status = res.status();
    if !status.is_client_error() && !status.is_server_error() {
        return Ok(res);
    }
    let api = match res.response().error() {
        Some(e) => as_api_error(e, status),
        None => {
            let is_problem = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with(PROBLEM_JSON));
            if is_problem {
                return Ok(res);
            }
            ApiError::from_status(status)
        }
    };
    let allow = res.headers().get("allow").cloned();
    let mut fresh = api.render(lang, Some(path), request_id);
    if let Some(a) = allow {
        fresh
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, a);
    }
    let (http_req, _) = res.into_parts();
    Ok(ServiceResponse::new(http_req, fresh))
}
