//! The Clientele HTTP API: actix-web routes, the problem+json error story,
//! authentication, shared API machinery (paging, ETags, idempotency, request
//! ids, metrics) and the generated OpenAPI contract.

pub mod app;
pub mod auth;
pub mod backup_status;
pub mod config;
pub mod csv;
pub mod dto;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod middleware;
pub mod openapi;
pub mod register_queue;
pub mod request_line;
pub mod routes;
pub mod state;
pub mod sync_floors;
pub mod webhook_delivery;

pub use app::{listen, start, start_on};
pub use config::ApiConfig;
pub use error::ApiError;
pub use openapi::{openapi, openapi_json};
pub use state::AppState;
