//! Scheduled backups and restores of the SQLite database (CUS-11).

use crate::config::Settings;
use chrono::Utc;
use clientele_http::backup_status::BackupStatus;
use clientele_persistence::backup;
use clientele_persistence::connection::Target;
use diesel::connection::SimpleConnection;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Whether and how often `serve` takes scheduled copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// `CLIENTELE_BACKUP_INTERVAL=0`.
    Off,
    /// PostgreSQL is backed up with its own tools (README, Backups).
    ElsewhereThanHere,
    Every(Duration),
}

impl Plan {
    pub fn of(settings: &Settings) -> Self {
        match Target::parse(&settings.database_url) {
            Ok(Target::Sqlite { .. }) if settings.backup_interval_secs > 0 => {
                Plan::Every(Duration::from_secs(settings.backup_interval_secs))
            }
            Ok(Target::Sqlite { .. }) => Plan::Off,
            _ => Plan::ElsewhereThanHere,
        }
    }
}

/// Starts the scheduled copies beside the server, on a thread of their own,
/// reporting to `status` (`/metrics`). A copy is due an interval after the
/// newest one in `backup_dir`, so a server restarted more often than the
/// interval still takes them, and the first comes at start when there is
/// none; the newest `backup_keep` are kept. After a failure the next try
/// comes within ten minutes.
pub fn schedule(settings: &Settings, status: Arc<BackupStatus>) {
    let every = match Plan::of(settings) {
        Plan::Every(every) => every,
        Plan::Off => {
            tracing::warn!("scheduled backups off (CLIENTELE_BACKUP_INTERVAL=0)");
            return;
        }
        Plan::ElsewhereThanHere => return,
    };
    let url = settings.database_url.clone();
    let dir = settings.backup_dir.clone();
    let keep = settings.backup_keep;
    status.scheduled(every);
    let mut due = Utc::now();
    if let Some(newest) = backup::newest_scheduled(&dir) {
        status.newest(newest);
        due = newest + every;
    }
    tracing::info!(dir = %dir.display(), every_secs = every.as_secs(), keep, next = %due, "scheduled backups on");
    let reports = Arc::clone(&status);
    let spawned = std::thread::Builder::new()
        .name("backups".into())
        .spawn(move || loop {
            if let Ok(wait) = (due - Utc::now()).to_std() {
                std::thread::sleep(wait);
            }
            let at = Utc::now();
            let taken = {
                // One copy at a time, a scheduled one or one asked for.
                let _turn = reports.turn();
                backup::take(&url, &dir, keep, at)
            };
            match taken {
                Ok((copy, removed)) => {
                    reports.written(at);
                    tracing::info!(file = %copy.name, pruned = removed.len(), "backup written");
                    due = at + every;
                }
                Err(e) => {
                    reports.failed();
                    tracing::error!(error = %e, "backup failed");
                    due = at + every.min(Duration::from_secs(600));
                }
            }
        });
    if let Err(e) = spawned {
        status.failed();
        tracing::error!(error = %e, "backup thread not started");
    }
}

/// Checks the copy, then puts it in place of the configured database. The
/// read register's own file stays: its entries are kept, and the copy's
/// join them when the server next starts (`register_file::settle`).
pub fn restore(settings: &Settings, file: &Path) -> Result<(), String> {
    let Target::Sqlite { path } =
        Target::parse(&settings.database_url).map_err(|e| e.to_string())?
    else {
        return Err(
            "restore puts back SQLite copies; restore PostgreSQL with pg_restore (see README)"
                .into(),
        );
    };
    if !file.is_file() {
        return Err(format!("{} is not a file", file.display()));
    }
    // Opened alone: a copy holds the read register's tables itself.
    let mut conn = clientele_persistence::connection::open_sqlite(&file.to_string_lossy())
        .map_err(|e| e.to_string())?;
    conn.batch_execute(
        "PRAGMA integrity_check; SELECT count(*) FROM customers; SELECT count(*) FROM read_register;",
    )
        .map_err(|e| format!("{} is not a usable Clientele backup: {e}", file.display()))?;
    drop(conn);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    std::fs::copy(file, &path).map_err(|e| format!("{path}: {e}"))?;
    eprintln!("restored {} to {path}", file.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Plan;
    use crate::config::{LogFormat, Settings};
    use std::time::Duration;

    fn settings(url: &str, interval: u64) -> Settings {
        Settings {
            bind: "127.0.0.1:0".into(),
            data_dir: "data".into(),
            database_url: url.into(),
            log_format: LogFormat::Text,
            workers: 1,
            db_pool_size: 1,
            api: clientele_http::ApiConfig::with_secret(vec![7; 32]),
            backup_interval_secs: interval,
            backup_keep: 14,
            backup_dir: "data/backups".into(),
        }
    }

    #[test]
    fn r_cus_11_sqlite_is_copied_on_schedule_postgresql_by_its_own_tools() {
        let daily = Duration::from_secs(86_400);
        assert_eq!(
            Plan::of(&settings("sqlite://data/c.db", 86_400)),
            Plan::Every(daily)
        );
        assert_eq!(Plan::of(&settings("sqlite://data/c.db", 0)), Plan::Off);
        for url in ["postgres://u@h/db", "postgresql://u@h/db"] {
            assert_eq!(
                Plan::of(&settings(url, 86_400)),
                Plan::ElsewhereThanHere,
                "{url}"
            );
        }
    }
}
