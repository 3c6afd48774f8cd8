//! What caches may keep, and conditional reads.
//!
//! Answers under `/api/` carry `Cache-Control: no-store` unless their
//! handler chose otherwise: files are confidential (CUS-07) and every read of
//! one is registered (CUS-08), so no browser or proxy may keep a copy and
//! serve it again unasked.
//!
//! A `GET` with `If-None-Match` that names the answer's current entity tag
//! (weak comparison, or `*`) gets `304 Not Modified` without a body. The
//! handler has run: the caller was allowed to read it, and the read was
//! registered like any other — a client that keeps its own copy (an ERP
//! syncing files) learns it is current without fetching it again. Anything
//! but a `200` passes unchanged, so a file the caller may not see is a `404`
//! whatever tag is named.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

/// Headers a `304` repeats from the `200` it stands for (RFC 9110 §15.4.5).
const REPEATED: [header::HeaderName; 4] = [
    header::CACHE_CONTROL,
    header::ETAG,
    header::VARY,
    header::CONTENT_LOCATION,
];

pub async fn caching(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let api = req.path().starts_with("/api/");
    let wanted = (req.method() == Method::GET)
        .then(|| req.headers().get(header::IF_NONE_MATCH).cloned())
        .flatten();
    let mut res = next.call(req).await?;
    if api && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let current = res.headers().get(header::ETAG);
    let unchanged = res.status() == StatusCode::OK
        && wanted
            .as_ref()
            .zip(current)
            .is_some_and(|(wanted, current)| names(wanted, current));
    if !unchanged {
        return Ok(res.map_into_left_body());
    }
    let (req, full) = res.into_parts();
    let mut not_modified = HttpResponse::NotModified();
    for name in REPEATED {
        if let Some(v) = full.headers().get(&name) {
            not_modified.insert_header((name, v.clone()));
        }
    }
    Ok(ServiceResponse::new(req, not_modified.finish()).map_into_right_body())
}

/// Whether an `If-None-Match` list names the current tag: `*`, or the same
/// opaque tag with or without the weak prefix `W/`.
fn names(wanted: &HeaderValue, current: &HeaderValue) -> bool {
    let (Ok(wanted), Ok(current)) = (wanted.to_str(), current.to_str()) else {
        return false;
    };
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let current = opaque(current);
    wanted.trim() == "*" || wanted.split(',').any(|tag| opaque(tag) == current)
}

#[cfg(test)]
mod tests {
    use super::names;
    use actix_web::http::header::HeaderValue;

    #[test]
    fn entity_tags_compare_weakly() {
        let n = |wanted: &'static str, current: &'static str| {
            names(
                &HeaderValue::from_static(wanted),
                &HeaderValue::from_static(current),
            )
        };
        assert!(n("\"3\"", "\"3\""));
        assert!(n("W/\"3\"", "\"3\""));
        assert!(n("\"1\", W/\"3\"", "\"3\""));
        assert!(n("*", "\"3\""));
        assert!(!n("\"2\"", "\"3\""));
        assert!(!n("3", "\"3\""));
        assert!(!n("\"33\"", "\"3\""));
        assert!(!n("", "\"3\""));
    }
}
