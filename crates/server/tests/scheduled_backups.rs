//! `clientele serve` takes scheduled SQLite copies (CUS-11): the binary
//! itself, started as an operator starts it, with a one-second interval.

use diesel::prelude::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `clientele serve` child process, killed when dropped.
struct Serving {
    child: Child,
    base: String,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path, interval: &str, keep: &str) -> Serving {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clientele"))
        .args(["serve", "--demo"])
        .env_remove("DATABASE_URL")
        .env("CLIENTELE_DATA_DIR", data)
        .env("CLIENTELE_BIND", "127.0.0.1:0")
        .env("CLIENTELE_BACKUP_INTERVAL", interval)
        .env("CLIENTELE_BACKUP_KEEP", keep)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn clientele: {e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
    let mut lines = BufReader::new(stderr).lines();
    let base = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("clientele ended before listening"))
            .unwrap_or_default();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
        }
    };
    // Keep reading its log, so the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Serving { child, base }
}

fn metric(s: &Serving, line_start: &str) -> f64 {
    let text = ureq::get(&format!("{}/metrics", s.base))
        .call()
        .ok()
        .and_then(|r| r.into_string().ok())
        .unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(-1.0)
}

fn copies(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    found.retain(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("clientele-2"))
    });
    found.sort();
    found
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn customers_in(copy: &Path) -> i64 {
    let mut c = SqliteConnection::establish(&copy.to_string_lossy())
        .unwrap_or_else(|e| panic!("{}: {e}", copy.display()));
    diesel::sql_query("SELECT count(*) AS n FROM customers")
        .get_result::<Count>(&mut c)
        .map(|r| r.n)
        .unwrap_or_else(|e| panic!("{}: {e}", copy.display()))
}

#[test]
fn r_cus_11_serve_takes_scheduled_backups_and_keeps_the_newest() {
    let data = std::env::temp_dir().join(format!("clientele-sched-{}", clientele_core::new_id()));
    let dir = data.join("backups");
    {
        let s = serve(&data, "1", "2");
        assert_eq!(metric(&s, "clientele_backup_interval_seconds "), 1.0);
        let deadline = Instant::now() + Duration::from_secs(30);
        while metric(&s, "clientele_backups_total{outcome=\"written\"} ") < 3.0 {
            assert!(
                Instant::now() < deadline,
                "three copies not written in 30 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        assert_eq!(
            metric(&s, "clientele_backups_total{outcome=\"failed\"} "),
            0.0
        );
        let newest = metric(&s, "clientele_backup_newest_timestamp_seconds ");
        let now = chrono::Utc::now().timestamp() as f64;
        assert!(
            (now - 10.0..=now).contains(&newest),
            "{newest} against {now}"
        );
        let kept = copies(&dir);
        assert!(!kept.is_empty() && kept.len() <= 2, "kept {kept:?}");
        for copy in &kept {
            assert_eq!(
                customers_in(copy),
                13,
                "the demo's files in {}",
                copy.display()
            );
        }
    }
    // Off: no copies, and the metric says so.
    let before = copies(&dir);
    {
        let s = serve(&data, "0", "2");
        assert_eq!(metric(&s, "clientele_backup_interval_seconds "), 0.0);
        std::thread::sleep(Duration::from_millis(2_500));
        assert_eq!(
            metric(&s, "clientele_backups_total{outcome=\"written\"} "),
            0.0
        );
    }
    assert_eq!(copies(&dir), before);
    // A daily schedule after a restart: due a day after the newest copy,
    // which the metric shows at once.
    {
        let s = serve(&data, "86400", "2");
        std::thread::sleep(Duration::from_millis(1_500));
        assert_eq!(
            metric(&s, "clientele_backups_total{outcome=\"written\"} "),
            0.0
        );
        assert!(metric(&s, "clientele_backup_newest_timestamp_seconds ") > 0.0);
    }
    assert_eq!(copies(&dir), before);
    let _ = std::fs::remove_dir_all(data);
}
