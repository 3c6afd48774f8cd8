//! Middleware, outermost first: request id and access log, metrics,
//! problem rendering, idempotency keys.

pub mod idempotency;
pub mod metrics;
pub mod problem;
pub mod request_id;
