//! What the backups of the SQLite database have done (CUS-11),
//! for `/metrics`: an operator alerts on a failed copy, or on a newest copy
//! older than the schedule allows, instead of finding out at a restore.
//! The schedule itself runs in the server binary; it reports here.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct BackupStatus {
    /// Seconds between scheduled copies; 0 when none are taken here
    /// (PostgreSQL, or turned off).
    interval_secs: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    /// When the newest scheduled copy was made (Unix seconds; 0 for none),
    /// including copies found in the folder at start.
    newest_at: AtomicI64,
    /// Held while a copy is taken: one at a time, scheduled or asked for.
    taking: std::sync::Mutex<()>,
}

impl BackupStatus {
    /// Copies are taken every `every`.
    pub fn scheduled(&self, every: Duration) {
        self.interval_secs.store(every.as_secs(), Ordering::Relaxed);
    }

    /// A scheduled copy made at `at` exists (written now, or found at start).
    pub fn newest(&self, at: chrono::DateTime<chrono::Utc>) {
        self.newest_at.fetch_max(at.timestamp(), Ordering::Relaxed);
    }

    /// A scheduled copy was written at `at`.
    pub fn written(&self, at: chrono::DateTime<chrono::Utc>) {
        self.written.fetch_add(1, Ordering::Relaxed);
        self.newest(at);
    }

    /// Seconds between scheduled copies; 0 when none are taken here.
    pub fn interval_secs(&self) -> u64 {
        self.interval_secs.load(Ordering::Relaxed)
    }

    /// Scheduled copies that failed since start.
    pub fn failed_total(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// The turn to take a copy, held until dropped.
    pub fn turn(&self) -> std::sync::MutexGuard<'_, ()> {
        self.taking
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A scheduled copy could not be written.
    pub fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render_metrics(&self) -> String {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "# HELP clientele_backup_interval_seconds Seconds between scheduled SQLite copies; 0 when this server takes none.\n\
             # TYPE clientele_backup_interval_seconds gauge\n\
             clientele_backup_interval_seconds {}\n\
             # HELP clientele_backups_total Scheduled SQLite copies since start, by outcome.\n\
             # TYPE clientele_backups_total counter\n\
             clientele_backups_total{{outcome=\"written\"}} {}\n\
             clientele_backups_total{{outcome=\"failed\"}} {}\n\
             # HELP clientele_backup_newest_timestamp_seconds When the newest scheduled copy was made; 0 for none.\n\
             # TYPE clientele_backup_newest_timestamp_seconds gauge\n\
             clientele_backup_newest_timestamp_seconds {}\n",
            n(&self.interval_secs),
            n(&self.written),
            n(&self.failed),
            self.newest_at.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::BackupStatus;
    use chrono::TimeZone;

    #[test]
    fn the_newest_copy_is_kept_whatever_order_they_come_in() {
        let s = BackupStatus::default();
        assert!(s
            .render_metrics()
            .contains("clientele_backup_interval_seconds 0\n"));
        s.scheduled(std::time::Duration::from_secs(86_400));
        let at = |h| {
            chrono::Utc
                .with_ymd_and_hms(2026, 12, 6, h, 0, 0)
                .single()
                .unwrap_or_default()
        };
        s.written(at(3));
        s.newest(at(1)); // found in the folder, older
        s.failed();
        let text = s.render_metrics();
        assert!(
            text.contains("clientele_backup_interval_seconds 86400\n"),
            "{text}"
        );
        assert!(
            text.contains("clientele_backups_total{outcome=\"written\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("clientele_backups_total{outcome=\"failed\"} 1\n"),
            "{text}"
        );
        let newest = format!(
            "clientele_backup_newest_timestamp_seconds {}\n",
            at(3).timestamp()
        );
        assert!(text.contains(&newest), "{text}");
    }
}
