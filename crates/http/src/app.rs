//! Assembling the application: middleware, routes, docs; and starting it.

use crate::error::ApiError;
use crate::middleware::{
    caching::caching,
    idempotency::idempotency,
    metrics::metrics,
    problem::problem,
    query_check::{query_check, QueryNames},
    request_id::request_id,
};
use crate::request_line::EncodedTargets;
use crate::routes;
use crate::state::AppState;
use actix_cors::Cors;
use actix_http::{error::DispatchError, HttpService, Protocol};
use actix_service::{
    fn_service, map_config, IntoServiceFactory, ServiceFactory, ServiceFactoryExt,
};
use actix_web::dev::AppConfig;
use actix_web::dev::Server;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::from_fn;
use actix_web::rt::net::TcpStream;
use actix_web::{web, App, HttpResponse};
use std::net::SocketAddr;
use std::time::Duration;
use utoipa_swagger_ui::SwaggerUi;

/// The answer headers a browser front-end on another origin may read
/// (beside those CORS lets it read anyway, such as `Content-Type`):
/// every header the API answers with for the client to act on. Without
/// one here, a front-end's `fetch` sees it as absent — the sync watermark
/// and the export's next cursor among them.
const EXPOSED: [&str; 9] = [
    "etag",
    "location",
    "retry-after",
    "x-request-id",
    "x-next-cursor",
    "x-changes-complete-until",
    "idempotent-replayed",
    "content-disposition",
    "www-authenticate",
];

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
        .expose_headers(EXPOSED.map(header::HeaderName::from_static))
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
///
/// The server is actix-web's HTTP/1.1 service over actix-server, as
/// `HttpServer` builds it, with one step more: each connection is wrapped in
/// [`EncodedTargets`], so a request target sent as raw UTF-8 reaches the API
/// percent-encoded instead of being refused by the HTTP parser with a bare
/// 400 (see `request_line`).
pub fn start(state: AppState, bind: &str, workers: usize) -> std::io::Result<(Server, SocketAddr)> {
    start_on(state, listen(bind)?, workers)
}

/// [`start`] on sockets bound already ([`listen`]): a server binds before
/// it touches its database, so an address in use stops it first.
pub fn start_on(
    state: AppState,
    listeners: Vec<std::net::TcpListener>,
    workers: usize,
) -> std::io::Result<(Server, SocketAddr)> {
    let spec = crate::openapi::openapi();
    let query_names = web::Data::new(QueryNames::of(&spec));
    let origins = state.config.cors_origins.clone();
    let routes = configure(state, spec);
    let mut builder = actix_server::Server::build()
        .workers(workers.max(1))
        .shutdown_timeout(10);
    let serving = Serving {
        routes,
        origins,
        query_names,
        shutdown: builder.graceful_shutdown_signal(),
    };
    let mut first = None;
    for listener in listeners {
        let addr = listener.local_addr()?;
        first.get_or_insert(addr);
        let serving = serving.clone();
        builder = builder.listen(format!("clientele-{addr}"), listener, move || {
            serving.connections(addr)
        })?;
    }
    let addr = first.ok_or_else(|| std::io::Error::other("no address bound"))?;
    Ok((builder.run(), addr))
}

/// What each worker serves its connections with.
#[derive(Clone)]
struct Serving<R> {
    routes: R,
    origins: Vec<String>,
    query_names: web::Data<QueryNames>,
    shutdown: actix_server::GracefulShutdownSignal,
}

impl<R: Fn(&mut web::ServiceConfig) + Clone + 'static> Serving<R> {
    /// One worker's service for the connections accepted on `addr`.
    fn connections(
        &self,
        addr: SocketAddr,
    ) -> impl ServiceFactory<TcpStream, Config = (), Response = (), Error = DispatchError, InitError = ()>
    {
        let app = App::new()
            .app_data(self.query_names.clone())
            .configure(self.routes.clone())
            .default_service(web::to(no_route))
            .wrap(from_fn(idempotency))
            .wrap(from_fn(caching))
            .wrap(from_fn(query_check))
            .wrap(from_fn(problem))
            .wrap(cors(&self.origins))
            .wrap(from_fn(metrics))
            .wrap(from_fn(request_id))
            .into_factory()
            .map_err(|e: actix_web::Error| e.error_response());
        let shutdown = self.shutdown.clone();
        // `HttpServer`'s settings: a closing connection lingers a second
        // so the client reads an early answer (a 413) before the close.
        let http = HttpService::build()
            .client_request_timeout(Duration::from_secs(5))
            .client_disconnect_timeout(Duration::from_secs(1))
            .graceful_shutdown_signal(move || {
                let shutdown = shutdown.clone();
                async move { shutdown.notified().await }
            })
            .local_addr(addr)
            // The application config's host and scheme serve URL
            // generation and `connection_info()` defaults, which the API
            // does not use (it reads the peer address of each request).
            .finish(map_config(app, |_| AppConfig::default()));
        fn_service(|io: TcpStream| async move {
            let peer = io.peer_addr().ok();
            Ok::<_, DispatchError>((EncodedTargets::new(io), Protocol::Http1, peer))
        })
        .and_then(http)
    }
}

/// Listening sockets on every address `bind` resolves to that takes one, as
/// actix-web's `HttpServer::bind` makes them (address reuse, a backlog of
/// 1024); an error only when none does.
pub fn listen(bind: &str) -> std::io::Result<Vec<std::net::TcpListener>> {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::net::ToSocketAddrs;
    let mut last = None;
    let mut bound = Vec::new();
    for addr in bind.to_socket_addrs()? {
        let attempt = (|| {
            let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
            socket.set_reuse_address(true)?;
            socket.bind(&addr.into())?;
            socket.listen(1024)?;
            Ok(std::net::TcpListener::from(socket))
        })();
        match attempt {
            Ok(l) => bound.push(l),
            Err(e) => last = Some(e),
        }
    }
    match (bound.is_empty(), last) {
        (true, Some(e)) => Err(e),
        (true, None) => Err(std::io::Error::other("no address to bind")),
        _ => Ok(bound),
    }
}

#[cfg(test)]
mod tests {
    use super::EXPOSED;

    /// Every header the contract documents on an answer is one a browser
    /// front-end may read.
    #[test]
    fn every_documented_answer_header_is_exposed_to_browsers() {
        let spec = serde_json::to_value(crate::openapi::openapi()).unwrap_or_default();
        let mut documented = Vec::new();
        for ops in spec["paths"]
            .as_object()
            .into_iter()
            .flat_map(|p| p.values())
        {
            for op in ops.as_object().into_iter().flat_map(|o| o.values()) {
                for answer in op["responses"]
                    .as_object()
                    .into_iter()
                    .flat_map(|r| r.values())
                {
                    documented.extend(
                        answer["headers"]
                            .as_object()
                            .into_iter()
                            .flat_map(|h| h.keys())
                            .map(|h| h.to_ascii_lowercase()),
                    );
                }
            }
        }
        assert!(documented.iter().any(|h| h == "etag"), "{documented:?}");
        for h in documented {
            assert!(EXPOSED.contains(&h.as_str()), "{h} is not exposed");
        }
    }
}
