//! Backups (CUS-11). On SQLite, `VACUUM INTO` writes a consistent copy while
//! the server keeps running, and the read register's entries about the files
//! copied are added from the register's own file, so a copy is one file;
//! scheduled copies are pruned to the newest few.
//! PostgreSQL is backed up with its own tools (see README).

use crate::connection::{DbConn, Target};
use crate::error::{Error, Result};
use diesel::connection::SimpleConnection;
use std::path::{Path, PathBuf};

/// Writes a consistent copy of the SQLite database at `url` to `dest`.
pub fn sqlite_copy(url: &str, dest: &Path) -> Result<()> {
    let target = Target::parse(url)?;
    let Target::Sqlite { path } = &target else {
        return Err(Error::unprocessable(
            "unsupported_backend",
            "clientele backup copies SQLite databases; back up PostgreSQL with pg_dump (see README)",
        ));
    };
    if dest.exists() {
        return Err(Error::unprocessable(
            "backup_exists",
            format!("{} exists already", dest.display()),
        ));
    }
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Unavailable(format!("{}: {e}", dir.display())))?;
    }
    let mut conn = target.establish().map_err(|e| Error::Unavailable(e.0))?;
    let quoted = dest.to_string_lossy().replace('\'', "''");
    match &mut conn {
        DbConn::Sqlite(c) => c.batch_execute(&format!("VACUUM main INTO '{quoted}'"))?,
        DbConn::Pg(_) => {
            return Err(Error::unprocessable(
                "unsupported_backend",
                "not an SQLite database",
            ))
        }
    }
    drop(conn);
    // One file again: the read register's entries about the files copied.
    let filled = crate::register_file::copy_into(dest, &crate::register_file::path_beside(path));
    if filled.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    filled
}

/// The name of a scheduled copy made at `at`.
pub fn scheduled_name(at: chrono::DateTime<chrono::Utc>) -> String {
    format!("clientele-{}.db", at.format("%Y%m%dT%H%M%SZ"))
}

/// When a scheduled copy named `name` was made; `None` for any other file
/// (a database or its register's file kept in the same folder, say).
fn scheduled_at(name: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let at = name.strip_prefix("clientele-")?.strip_suffix(".db")?;
    chrono::NaiveDateTime::parse_from_str(at, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc())
}

fn is_scheduled_name(name: &str) -> bool {
    scheduled_at(name).is_some()
}

/// When the newest scheduled copy in `dir` was made; `None` when there is
/// none (or no such folder yet).
pub fn newest_scheduled(dir: &Path) -> Option<chrono::DateTime<chrono::Utc>> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str().and_then(scheduled_at))
        .max()
}

/// A copy in the backup folder, as `GET /backups` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub name: String,
    pub size_bytes: u64,
    pub taken_at: chrono::DateTime<chrono::Utc>,
}

/// Takes a copy of the SQLite database at `url` into `dir`, named for `at`
/// as the schedule names its copies, and keeps the newest `keep` there: a
/// scheduled copy and one taken at once (CUS-11: important data at once)
/// are one kind. The copy and the files pruned.
pub fn take(
    url: &str,
    dir: &Path,
    keep: usize,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(Copy, Vec<PathBuf>)> {
    let dest = dir.join(scheduled_name(at));
    sqlite_copy(url, &dest)?;
    let size_bytes = std::fs::metadata(&dest)
        .map_err(|e| Error::Unavailable(format!("{}: {e}", dest.display())))?
        .len();
    let pruned = prune(dir, keep)?;
    let copy = Copy {
        name: scheduled_name(at),
        size_bytes,
        taken_at: scheduled_at(&scheduled_name(at)).unwrap_or(at),
    };
    Ok((copy, pruned))
}

/// The copies in `dir`, newest first; none when there is no such folder.
pub fn copies(dir: &Path) -> Result<Vec<Copy>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Copy> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().to_str()?.to_owned();
            let taken_at = scheduled_at(&name)?;
            let size_bytes = e.metadata().ok()?.len();
            Some(Copy {
                name,
                size_bytes,
                taken_at,
            })
        })
        .collect();
    out.sort_by_key(|c| std::cmp::Reverse(c.taken_at));
    Ok(out)
}

/// Keeps the newest `keep` scheduled copies in `dir`; returns those removed.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let mut copies: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::Unavailable(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_scheduled_name)
        })
        .collect();
    // The names sort by time.
    copies.sort();
    let excess = copies.len().saturating_sub(keep);
    let removed: Vec<PathBuf> = copies.into_iter().take(excess).collect();
    for p in &removed {
        std::fs::remove_file(p).map_err(|e| Error::Unavailable(format!("{}: {e}", p.display())))?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn pruning_keeps_the_newest() {
        let dir =
            std::env::temp_dir().join(format!("clientele-prune-{}", clientele_core::new_id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        for n in [
            "clientele-20260101T000000Z.db",
            "clientele-20260102T000000Z.db",
            "clientele-20260103T000000Z.db",
            "other.txt",
            "clientele-register.db",
        ] {
            std::fs::write(dir.join(n), b"x").unwrap_or_default();
        }
        assert_eq!(
            super::newest_scheduled(&dir).map(|t| t.to_rfc3339()),
            Some("2026-01-03T00:00:00+00:00".to_owned())
        );
        assert_eq!(super::newest_scheduled(&dir.join("none")), None);
        let removed = super::prune(&dir, 2).unwrap_or_default();
        assert_eq!(removed.len(), 1);
        assert!(removed[0].ends_with("clientele-20260101T000000Z.db"));
        assert!(dir.join("other.txt").exists());
        let removed = super::prune(&dir, 0).unwrap_or_default();
        assert_eq!(removed.len(), 2, "only scheduled copies are pruned");
        assert!(dir.join("clientele-register.db").exists());
        let _ = std::fs::remove_dir_all(dir);
    }
}
