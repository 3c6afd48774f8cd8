//! Authentication: access tokens (JWT), password hashing, refresh tokens.

pub mod jwt;
pub mod password;
pub mod principal_cache;
pub mod secrets;
pub mod token_request;
