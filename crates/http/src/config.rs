//! Settings the API needs at run time, passed in explicitly by the binary.

use std::time::Duration;

#[derive(Clone)]
pub struct ApiConfig {
    /// HMAC key for access tokens; at least 32 bytes.
    pub jwt_secret: Vec<u8>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest CSV import accepted, in bytes: an import takes up to 10 000
    /// files, several megabytes with every column filled.
    pub max_import_bytes: usize,
    /// Origins allowed to call the API from a browser; empty: none.
    pub cors_origins: Vec<String>,
    /// Failed sign-ins per account, and per client address, within `login_window`.
    pub login_max_failures_account: i64,
    pub login_max_failures_ip: i64,
    pub login_window: Duration,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy: bool,
    /// How long a replica may reuse what it learned about a session; zero: never.
    pub auth_cache_ttl: Duration,
    /// How often webhook delivery looks for new events and due retries.
    pub webhook_poll: Duration,
    /// How long finished webhook deliveries and delivered events are kept;
    /// zero: for ever. The audit log keeps the history regardless.
    pub event_retention: Duration,
    /// Certificate authorities webhook receivers' certificates may chain to,
    /// besides the system's (a company's own CA).
    pub webhook_roots: Vec<native_tls::Certificate>,
    /// The most files one hand-over or unit transfer moves: it bounds the
    /// transaction, as the row limit bounds an import.
    pub files_per_act: usize,
    /// Where copies of an SQLite database go (`POST /backups`, and the
    /// schedule); `None` on PostgreSQL, backed up with its own tools.
    pub backups: Option<BackupPlace>,
}

/// An SQLite database and the folder its copies go to, the newest `keep`
/// kept.
#[derive(Debug, Clone)]
pub struct BackupPlace {
    pub database_url: String,
    pub dir: std::path::PathBuf,
    pub keep: usize,
}

impl ApiConfig {
    pub const MIN_SECRET_BYTES: usize = 32;

    /// Where files and contacts are imported: the routes whose body may be
    /// larger than `max_body_bytes`.
    pub const IMPORT_PATHS: [&'static str; 2] = [
        "/api/v1/customers/import",
        "/api/v1/customers/contacts/import",
    ];

    /// The largest body a request to `path` may send.
    pub fn body_limit(&self, path: &str) -> usize {
        if Self::IMPORT_PATHS.contains(&path) {
            self.import_limit()
        } else {
            self.max_body_bytes
        }
    }

    /// The largest CSV import: never less than any other body.
    pub fn import_limit(&self) -> usize {
        self.max_import_bytes.max(self.max_body_bytes)
    }

    /// Defaults for everything but the secret.
    pub fn with_secret(jwt_secret: Vec<u8>) -> Self {
        Self {
            jwt_secret,
            jwt_issuer: "clientele".into(),
            jwt_audience: "clientele-api".into(),
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            max_body_bytes: 1024 * 1024,
            max_import_bytes: 32 * 1024 * 1024,
            cors_origins: Vec::new(),
            login_max_failures_account: 5,
            login_max_failures_ip: 50,
            login_window: Duration::from_secs(15 * 60),
            trust_proxy: false,
            auth_cache_ttl: Duration::from_secs(1),
            webhook_poll: Duration::from_secs(1),
            event_retention: Duration::from_secs(30 * 24 * 3600),
            webhook_roots: Vec::new(),
            files_per_act: 10_000,
            backups: None,
        }
    }
}

impl std::fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiConfig")
            .field("jwt_secret", &"***")
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_import_bytes", &self.max_import_bytes)
            .field("cors_origins", &self.cors_origins)
            .finish_non_exhaustive()
    }
}
