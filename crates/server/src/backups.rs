//! Scheduled backups and restores of the SQLite database (CUS-11).

use crate::config::Settings;
use clientele_persistence::backup;
use clientele_persistence::connection::Target;
use diesel::connection::SimpleConnection;
use std::path::Path;
use std::time::Duration;

/// Copies the database every `backup_interval_secs` into `backup_dir`,
/// keeping the newest `backup_keep`. Runs beside the server until it exits.
pub fn schedule(settings: &Settings) {
    let url = settings.database_url.clone();
    let dir = settings.backup_dir.clone();
    let keep = settings.backup_keep;
    let every = Duration::from_secs(settings.backup_interval_secs);
    tracing::info!(dir = %dir.display(), every_secs = every.as_secs(), keep, "scheduled backups on");
    std::thread::spawn(move || loop {
        std::thread::sleep(every);
        let dest = dir.join(backup::scheduled_name(chrono::Utc::now()));
        match backup::sqlite_copy(&url, &dest).and_then(|()| backup::prune(&dir, keep)) {
            Ok(removed) => {
                tracing::info!(file = %dest.display(), pruned = removed.len(), "backup written")
            }
            Err(e) => tracing::error!(error = %e, "backup failed"),
        }
    });
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
