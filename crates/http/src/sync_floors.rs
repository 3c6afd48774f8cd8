//! Publishes this process's sync floor and learns the others', so that
//! `X-Changes-Complete-Until` covers every server on one PostgreSQL
//! (`clientele_persistence::sync_floors`): first before the process
//! serves, then every [`EVERY`] on a thread of its own. The floor is
//! taken back when the application ends.

use clientele_core::Clock;
use clientele_persistence::{sync_floors, BackendKind, Db};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// How often the floors are exchanged: how far behind the present a
/// sync's moment may lag for them.
pub const EVERY: Duration = Duration::from_millis(250);

/// The exchanging thread (PostgreSQL only); it ends when this is dropped.
pub struct SyncFloorWorker {
    _stop: Option<mpsc::Sender<()>>,
}

impl SyncFloorWorker {
    pub fn start(db: Db, clock: Arc<dyn Clock>) -> Self {
        if db.kind() != BackendKind::Postgres {
            return Self { _stop: None };
        }
        let process = uuid::Uuid::now_v7().to_string();
        // Before the first write: a process that publishes later stamps
        // its changes after the others last asked.
        if let Err(e) = exchange(&db, &process, clock.as_ref()) {
            tracing::warn!(error = %e, "cannot exchange sync floors yet; retrying in the background");
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("sync-floors".into())
            .spawn(move || {
                // Said once a streak, not four times a second.
                let mut failing = false;
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    match exchange(&db, &process, clock.as_ref()) {
                        Err(e) if !failing => {
                            tracing::warn!(error = %e, "cannot exchange sync floors; retrying");
                            failing = true;
                        }
                        Ok(()) if failing => {
                            tracing::info!("sync floors exchanged again");
                            failing = false;
                        }
                        _ => {}
                    }
                }
                if let Err(e) = db.autocommit(|c| sync_floors::withdraw(c, &process)) {
                    tracing::warn!(error = %e, "cannot withdraw the sync floor");
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the sync floor thread");
        }
        Self { _stop: Some(stop) }
    }
}

/// Publishes this process's floor and learns the others', both as of the
/// moment read before asking.
fn exchange(db: &Db, process: &str, clock: &dyn Clock) -> clientele_persistence::Result<()> {
    let writes = db.writes();
    let asked_at = clock.now().naive_utc();
    let floor = writes.floor(|| asked_at);
    let others = db.autocommit(|c| sync_floors::exchange(c, process, floor))?;
    writes.learn_others(asked_at, others);
    Ok(())
}
