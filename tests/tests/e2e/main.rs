//! End-to-end tests: the real server over HTTP, on SQLite, and on
//! PostgreSQL when `TEST_DATABASE_URL` is set.

mod auth;
mod backup;
mod bad_input;
mod contact_exchange;
mod contact_lookup;
mod contract;
mod counts;
mod customers;
mod duplicates;
mod exchange;
mod handover;
mod list_routes;
mod machinery;
mod ops;
mod org;
mod regions;
mod secrecy;
mod sync;
mod tls;
mod webhooks;
