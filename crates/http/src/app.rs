//! Assembling the application: middleware, routes, docs; and starting it.

use crate::error::ApiError;
use crate::middleware::{
    caching::caching, idempotency::idempotency, metrics::metrics, problem::problem,
    query_names::query_names, request_id::request_id,
};
use crate::routes;
use crate::state::AppState;
use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse, HttpServer};
use std::net::SocketAddr;
use utoipa_swagger_ui::SwaggerUi;

fn cors(origins: &[String]) -> Cors {
    let mut c = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "PUT", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::ACCEPT_LANGUAGE,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600);
    for o in origins {
        c = if o == "*" {
            c.allow_any_origin()
        } else {
            c.allowed_origin(o)
        };
    }
    c
}

async fn no_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::from_status(StatusCode::NOT_FOUND))
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("location", "/docs/"))
        .finish()
}

/// Every route of the application, for `App::configure`.
pub fn configure(
    state: AppState,
    spec: utoipa::openapi::OpenApi,
) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state.clone()))
            .service(web::resource("/healthz").get(routes::ops::healthz))
            .service(web::resource("/readyz").get(routes::ops::readyz))
            .service(web::resource("/metrics").get(routes::ops::metrics))
            .configure(routes::api)
            .service(web::resource("/docs").get(docs_redirect))
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", spec.clone()));
    }
}

/// Binds and returns the server (not yet awaited) and the address it listens on.
pub fn start(state: AppState, bind: &str, workers: usize) -> std::io::Result<(Server, SocketAddr)> {
    let spec = crate::openapi::openapi();
    crate::middleware::query_names::prepare(&spec);
    let origins = state.config.cors_origins.clone();
    let routes = configure(state, spec);
    let server = HttpServer::new(move || {
        App::new()
            .configure(routes.clone())
            .default_service(web::to(no_route))
            .wrap(from_fn(idempotency))
            .wrap(from_fn(caching))
            .wrap(from_fn(query_names))
            .wrap(from_fn(problem))
            .wrap(cors(&origins))
            .wrap(from_fn(metrics))
            .wrap(from_fn(request_id))
    })
    .workers(workers.max(1))
    .shutdown_timeout(10)
    .bind(bind)?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("no address bound"))?;
    Ok((server.run(), addr))
}
