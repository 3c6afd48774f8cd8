//! Configuration: environment variables over an optional TOML file
//! (`CLIENTELE_CONFIG`) over defaults. Secrets are never logged.

use clientele_http::ApiConfig;
use clientele_persistence::DbSettings;
use rand::RngCore;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {0}: {1}")]
    File(String, String),
    #[error("{name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
    #[error("{0}")]
    Io(String),
}

/// The file form: the same names as the variables, lower-case, without the prefix.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<String>,
    database_url: Option<String>,
    data_dir: Option<String>,
    jwt_secret: Option<String>,
    access_token_ttl_secs: Option<u64>,
    refresh_token_ttl_secs: Option<u64>,
    log_format: Option<String>,
    cors_origins: Option<Vec<String>>,
    max_body_bytes: Option<usize>,
    max_import_bytes: Option<usize>,
    files_per_act: Option<usize>,
    workers: Option<usize>,
    db_pool_size: Option<u32>,
    trust_proxy: Option<bool>,
    login_max_failures: Option<i64>,
    login_max_failures_ip: Option<i64>,
    login_window_secs: Option<u64>,
    auth_cache_ttl_ms: Option<u64>,
    event_retention_days: Option<u64>,
    webhook_ca_file: Option<String>,
    backup_interval_secs: Option<u64>,
    backup_keep: Option<usize>,
    backup_dir: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub log_format: LogFormat,
    pub workers: usize,
    pub db_pool_size: u32,
    pub api: ApiConfig,
    /// Scheduled SQLite copies (CUS-11): every this many seconds, zero for none.
    pub backup_interval_secs: u64,
    pub backup_keep: usize,
    pub backup_dir: PathBuf,
}

impl Settings {
    pub fn db(&self) -> DbSettings {
        DbSettings {
            url: self.database_url.clone(),
            pool_size: self.db_pool_size,
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(|k| std::env::var(k).ok())
    }

    /// Reads settings through `var`, so tests can pass their own environment.
    pub fn load(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let file = match var("CLIENTELE_CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError::File(path.clone(), e.to_string()))?;
                toml::from_str::<FileSettings>(&text)
                    .map_err(|e| ConfigError::File(path, e.to_string()))?
            }
            None => FileSettings::default(),
        };
        let num = |name: &'static str, v: Option<String>| -> Result<Option<u64>, ConfigError> {
            v.map(|s| {
                s.trim().parse::<u64>().map_err(|e| ConfigError::Invalid {
                    name,
                    why: e.to_string(),
                })
            })
            .transpose()
        };
        let bind = var("CLIENTELE_BIND")
            .or(file.bind)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let data_dir = PathBuf::from(
            var("CLIENTELE_DATA_DIR")
                .or(file.data_dir)
                .unwrap_or_else(|| "./data".into()),
        );
        let database_url = var("DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("clientele.db").display()));
        let log_format = match var("CLIENTELE_LOG_FORMAT").or(file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "CLIENTELE_LOG_FORMAT",
                    why: format!("{other:?}: use text or json"),
                })
            }
        };
        let secret = match var("CLIENTELE_JWT_SECRET").or(file.jwt_secret) {
            Some(s) => s.into_bytes(),
            None => secret_in(&data_dir)?,
        };
        if secret.len() < ApiConfig::MIN_SECRET_BYTES {
            return Err(ConfigError::Invalid {
                name: "CLIENTELE_JWT_SECRET",
                why: format!(
                    "it must be at least {} bytes long",
                    ApiConfig::MIN_SECRET_BYTES
                ),
            });
        }
        let mut api = ApiConfig::with_secret(secret);
        if let Some(s) = num(
            "CLIENTELE_ACCESS_TOKEN_TTL",
            var("CLIENTELE_ACCESS_TOKEN_TTL"),
        )?
        .or(file.access_token_ttl_secs)
        {
            api.access_token_ttl = Duration::from_secs(s.clamp(30, 24 * 3600));
        }
        if let Some(s) = num(
            "CLIENTELE_REFRESH_TOKEN_TTL",
            var("CLIENTELE_REFRESH_TOKEN_TTL"),
        )?
        .or(file.refresh_token_ttl_secs)
        {
            api.refresh_token_ttl = Duration::from_secs(s.clamp(60, 365 * 24 * 3600));
        }
        if let Some(o) = var("CLIENTELE_CORS_ORIGINS")
            .map(|s| {
                s.split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .or(file.cors_origins)
        {
            api.cors_origins = o;
        }
        if let Some(n) = num("CLIENTELE_MAX_BODY_BYTES", var("CLIENTELE_MAX_BODY_BYTES"))?
            .or(file.max_body_bytes.map(|v| v as u64))
        {
            api.max_body_bytes = usize::try_from(n).unwrap_or(usize::MAX).max(1024);
        }
        if let Some(n) = num(
            "CLIENTELE_MAX_IMPORT_BYTES",
            var("CLIENTELE_MAX_IMPORT_BYTES"),
        )?
        .or(file.max_import_bytes.map(|v| v as u64))
        {
            api.max_import_bytes = usize::try_from(n).unwrap_or(usize::MAX).max(1024);
        }
        if let Some(n) = num("CLIENTELE_FILES_PER_ACT", var("CLIENTELE_FILES_PER_ACT"))?
            .or(file.files_per_act.map(|v| v as u64))
        {
            api.files_per_act = usize::try_from(n).unwrap_or(usize::MAX).clamp(1, 100_000);
        }
        if let Some(b) = var("CLIENTELE_TRUST_PROXY")
            .map(|v| v == "true" || v == "1")
            .or(file.trust_proxy)
        {
            api.trust_proxy = b;
        }
        if let Some(n) = num(
            "CLIENTELE_LOGIN_MAX_FAILURES",
            var("CLIENTELE_LOGIN_MAX_FAILURES"),
        )?
        .or(file.login_max_failures.map(|v| v as u64))
        {
            api.login_max_failures_account = i64::try_from(n).unwrap_or(i64::MAX).max(1);
        }
        if let Some(n) = num(
            "CLIENTELE_LOGIN_MAX_FAILURES_IP",
            var("CLIENTELE_LOGIN_MAX_FAILURES_IP"),
        )?
        .or(file.login_max_failures_ip.map(|v| v as u64))
        {
            api.login_max_failures_ip = i64::try_from(n).unwrap_or(i64::MAX).max(1);
        }
        if let Some(s) =
            num("CLIENTELE_LOGIN_WINDOW", var("CLIENTELE_LOGIN_WINDOW"))?.or(file.login_window_secs)
        {
            api.login_window = Duration::from_secs(s.max(1));
        }
        if let Some(ms) = num(
            "CLIENTELE_AUTH_CACHE_TTL_MS",
            var("CLIENTELE_AUTH_CACHE_TTL_MS"),
        )?
        .or(file.auth_cache_ttl_ms)
        {
            api.auth_cache_ttl = Duration::from_millis(ms.min(60_000));
        }
        if let Some(days) = num(
            "CLIENTELE_EVENT_RETENTION_DAYS",
            var("CLIENTELE_EVENT_RETENTION_DAYS"),
        )?
        .or(file.event_retention_days)
        {
            api.event_retention = Duration::from_secs(days.min(36_500) * 24 * 3600);
        }
        if let Some(path) = var("CLIENTELE_WEBHOOK_CA_FILE").or(file.webhook_ca_file) {
            let invalid = |why: String| ConfigError::Invalid {
                name: "CLIENTELE_WEBHOOK_CA_FILE",
                why: format!("{path}: {why}"),
            };
            let pem = std::fs::read(&path).map_err(|e| invalid(e.to_string()))?;
            api.webhook_roots =
                clientele_http::webhook_delivery::trust_roots(&pem).map_err(invalid)?;
        }
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let workers = num("CLIENTELE_WORKERS", var("CLIENTELE_WORKERS"))?
            .map(|n| n as usize)
            .or(file.workers)
            .unwrap_or(cores)
            .max(1);
        let db_pool_size = num("CLIENTELE_DB_POOL_SIZE", var("CLIENTELE_DB_POOL_SIZE"))?
            .map(|n| n as u32)
            .or(file.db_pool_size)
            .unwrap_or(10)
            .max(1);
        let backup_interval_secs = num(
            "CLIENTELE_BACKUP_INTERVAL",
            var("CLIENTELE_BACKUP_INTERVAL"),
        )?
        .or(file.backup_interval_secs)
        .unwrap_or(24 * 3600);
        let backup_keep = num("CLIENTELE_BACKUP_KEEP", var("CLIENTELE_BACKUP_KEEP"))?
            .map(|n| n as usize)
            .or(file.backup_keep)
            .unwrap_or(14)
            .max(1);
        let backup_dir: PathBuf = var("CLIENTELE_BACKUP_DIR")
            .or(file.backup_dir)
            .map_or_else(|| data_dir.join("backups"), PathBuf::from);
        let mut api = api;
        // Copies at once through the API, beside the schedule: SQLite only.
        if matches!(
            clientele_persistence::connection::Target::parse(&database_url),
            Ok(clientele_persistence::connection::Target::Sqlite { .. })
        ) {
            api.backups = Some(clientele_http::config::BackupPlace {
                database_url: database_url.clone(),
                dir: backup_dir.clone(),
                keep: backup_keep,
            });
        }
        Ok(Self {
            backup_interval_secs,
            backup_keep,
            backup_dir,
            bind,
            data_dir,
            database_url,
            log_format,
            workers,
            db_pool_size,
            api,
        })
    }
}

/// The secret kept in the data dir, made on first run (owner-only file).
fn secret_in(dir: &Path) -> Result<Vec<u8>, ConfigError> {
    let path = dir.join("jwt-secret");
    if let Ok(s) = std::fs::read_to_string(&path) {
        return Ok(s.trim().as_bytes().to_vec());
    }
    std::fs::create_dir_all(dir).map_err(|e| ConfigError::Io(format!("{}: {e}", dir.display())))?;
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    write_private(&path, &secret)
        .map_err(|e| ConfigError::Io(format!("{}: {e}", path.display())))?;
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::load(|k| map.get(k).cloned())
    }

    #[test]
    fn short_secrets_are_refused() {
        let e = load(&[("CLIENTELE_JWT_SECRET", "short")]).err();
        assert!(matches!(
            e,
            Some(ConfigError::Invalid {
                name: "CLIENTELE_JWT_SECRET",
                ..
            })
        ));
    }

    #[test]
    fn defaults_and_overrides() {
        let secret = "x".repeat(40);
        let s = load(&[
            ("CLIENTELE_JWT_SECRET", &secret),
            ("CLIENTELE_DATA_DIR", "/tmp/cl"),
        ])
        .ok();
        let s = s.as_ref();
        assert_eq!(s.map(|s| s.bind.as_str()), Some("127.0.0.1:8080"));
        assert_eq!(
            s.map(|s| s.database_url.as_str()),
            Some("sqlite:///tmp/cl/clientele.db")
        );
        let s = load(&[
            ("CLIENTELE_JWT_SECRET", &secret),
            ("CLIENTELE_LOG_FORMAT", "xml"),
        ]);
        assert!(s.is_err());
        let s = load(&[
            ("CLIENTELE_JWT_SECRET", &secret),
            ("CLIENTELE_WORKERS", "many"),
        ]);
        assert!(s.is_err());
        let per_act = |v: &str| {
            load(&[
                ("CLIENTELE_JWT_SECRET", &secret),
                ("CLIENTELE_FILES_PER_ACT", v),
            ])
            .map(|s| s.api.files_per_act)
            .ok()
        };
        assert_eq!(per_act("500"), Some(500));
        assert_eq!(per_act("0"), Some(1), "at least one file an act");
        assert_eq!(per_act("many"), None);
        let days = |v: &str| {
            load(&[
                ("CLIENTELE_JWT_SECRET", &secret),
                ("CLIENTELE_EVENT_RETENTION_DAYS", v),
            ])
            .map(|s| s.api.event_retention.as_secs() / 86_400)
            .ok()
        };
        assert_eq!(days("7"), Some(7));
        assert_eq!(days("0"), Some(0));
        assert_eq!(days("a month"), None);
        let default = load(&[("CLIENTELE_JWT_SECRET", &secret)]).ok();
        assert_eq!(
            default.map(|s| s.api.event_retention.as_secs() / 86_400),
            Some(30)
        );
        let ca = |path: &str| {
            load(&[
                ("CLIENTELE_JWT_SECRET", &secret),
                ("CLIENTELE_WEBHOOK_CA_FILE", path),
            ])
            .map(|s| s.api.webhook_roots.len())
        };
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/tls/ca.pem"
        );
        assert_eq!(ca(fixture).ok(), Some(1));
        for bad in [
            "/no/such/ca.pem",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ] {
            assert!(matches!(
                ca(bad),
                Err(ConfigError::Invalid {
                    name: "CLIENTELE_WEBHOOK_CA_FILE",
                    ..
                })
            ));
        }
    }

    #[test]
    fn secret_is_generated_once_and_kept() {
        let dir =
            std::env::temp_dir().join(format!("clientele-secret-{}", clientele_core::new_id()));
        let a = secret_in(&dir).ok();
        let b = secret_in(&dir).ok();
        assert!(a.is_some());
        assert_eq!(a, b);
        let _ = std::fs::remove_dir_all(dir);
    }
}
