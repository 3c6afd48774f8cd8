//! Publishes this process's sync floor and learns the others', so that
//! `X-Changes-Complete-Until` covers every server on one PostgreSQL
//! (`clientele_persistence::sync_floors`): first before the process
//! serves, then every [`EVERY`] on a thread of its own. The floor is
//! taken back when the application ends.

use clientele_core::Clock;
use clientele_persistence::{sync_floors, BackendKind, Db, DbConn};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// How often the floors are exchanged: how far behind the present a
/// sync's moment may lag for them.
pub const EVERY: Duration = Duration::from_millis(250);

/// The exchanging thread (PostgreSQL only); it ends when this is dropped.
pub struct SyncFloorWorker {
    _stop: Option<mpsc::Sender<()>>,
    stats: Arc<Stats>,
    db: Db,
    clock: Arc<dyn Clock>,
}

/// Exchanges by outcome.
#[derive(Default)]
struct Stats {
    exchanged: AtomicU64,
    failed: AtomicU64,
}

impl SyncFloorWorker {
    pub fn start(db: Db, clock: Arc<dyn Clock>) -> Self {
        let stats = Arc::new(Stats::default());
        let idle = Self {
            _stop: None,
            stats: Arc::clone(&stats),
            db: db.clone(),
            clock: Arc::clone(&clock),
        };
        if db.kind() != BackendKind::Postgres {
            return idle;
        }
        let mut floors = Floors {
            process: uuid::Uuid::now_v7().to_string(),
            conn: None,
            db,
            clock,
            stats,
        };
        // Before the first write: a process that publishes later stamps
        // its changes after the others last asked.
        if let Err(e) = floors.exchange() {
            tracing::warn!(error = %e, "cannot exchange sync floors yet; retrying in the background");
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("sync-floors".into())
            .spawn(move || {
                // Said once a streak, not four times a second.
                let mut failing = false;
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    match floors.exchange() {
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
                floors.withdraw();
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the sync floor thread");
        }
        Self {
            _stop: Some(stop),
            ..idle
        }
    }

    /// Prometheus figures: the floor exchanges by outcome, and how far
    /// `X-Changes-Complete-Until` is behind the present now (writes under
    /// way here and, on PostgreSQL, on the other servers as last heard).
    pub fn render_metrics(&self) -> String {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let now = self.clock.now().naive_utc();
        let complete = self.db.writes().complete_until(|| now);
        let lag = (now - complete).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
        format!(
            "# HELP clientele_sync_floor_exchanges_total Exchanges of sync floors with the other servers, by outcome.\n\
             # TYPE clientele_sync_floor_exchanges_total counter\n\
             clientele_sync_floor_exchanges_total{{outcome=\"ok\"}} {}\n\
             clientele_sync_floor_exchanges_total{{outcome=\"failed\"}} {}\n\
             # HELP clientele_changes_complete_lag_seconds How far X-Changes-Complete-Until is behind the present.\n\
             # TYPE clientele_changes_complete_lag_seconds gauge\n\
             clientele_changes_complete_lag_seconds {lag}\n",
            n(&self.stats.exchanged),
            n(&self.stats.failed),
        )
    }
}

/// This process's part in the exchange, on a connection of its own: a
/// pool taken up by long imports (the writes a floor is for) must not keep
/// the floor from being published, or the others would leave this
/// process out after `sync_floors::STALE_AFTER_SECS`.
struct Floors {
    process: String,
    conn: Option<DbConn>,
    db: Db,
    clock: Arc<dyn Clock>,
    stats: Arc<Stats>,
}

impl Floors {
    /// Publishes this process's floor and learns the others', both as of
    /// the moment read before asking. A failed connection is opened again
    /// next time.
    fn exchange(&mut self) -> clientele_persistence::Result<()> {
        let outcome = self.try_exchange();
        let counter = match outcome {
            Ok(()) => &self.stats.exchanged,
            Err(_) => &self.stats.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        outcome
    }

    fn try_exchange(&mut self) -> clientele_persistence::Result<()> {
        let writes = self.db.writes();
        let asked_at = self.clock.now().naive_utc();
        let floor = writes.floor(|| asked_at);
        let conn = match &mut self.conn {
            Some(c) => c,
            None => self.conn.insert(self.db.dedicated()?),
        };
        match sync_floors::exchange(conn, &self.process, floor) {
            Ok(others) => {
                writes.learn_others(asked_at, others);
                Ok(())
            }
            Err(e) => {
                self.conn = None;
                Err(e)
            }
        }
    }

    /// Takes this process's floor back as it stops.
    fn withdraw(&mut self) {
        let conn = match &mut self.conn {
            Some(c) => Ok(c),
            None => self.db.dedicated().map(|c| self.conn.insert(c)),
        };
        if let Err(e) = conn.and_then(|c| sync_floors::withdraw(c, &self.process)) {
            tracing::warn!(error = %e, "cannot withdraw the sync floor");
        }
    }
}
