//! Middleware, outermost first: request id and access log, metrics,
//! problem rendering, the query parameters each operation takes, cache
//! policy and conditional reads, idempotency keys.

pub mod caching;
pub mod idempotency;
pub mod metrics;
pub mod problem;
pub mod query_check;
pub mod request_id;
