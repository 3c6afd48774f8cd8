//! Group commit for the read register (CUS-08). Requests queue their
//! register entries here — or, for a plain read of one file, the read itself —
//! and whatever has queued together is served as a batch: one query loads
//! every file the batch asks for, the visibility rules judge each request,
//! and one commit writes every entry; then each request is answered. No read
//! goes unregistered, yet the cost of a query and of a commit is shared.
//!
//! There is one such pipeline per process (on PostgreSQL two halved the
//! batches and doubled the statements per request: 0.13× `/healthz` with
//! two, 0.18–0.21× with one); how its stages share threads depends on the
//! backend (`pipelined`, `serial`).

use crate::error::ApiError;
use crate::routes::customer_files::{entry, judge, Seen};
use actix_web::http::StatusCode;
use clientele_core::Principal;
use clientele_persistence::customer_access::{self, AccessEntry};
use clientele_persistence::customers::{self, CustomerView};
use clientele_persistence::{BackendKind, Db, Error as DbError, WriteMeta};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use tokio::sync::oneshot;

/// At most this many requests share one commit.
const MAX_BATCH: usize = 512;

enum Work {
    /// Entries for reads the request made itself.
    Entries(Vec<AccessEntry>),
    /// Read this file for this principal, and register the read.
    File {
        who: Principal,
        id: String,
        action: &'static str,
    },
}

type Answer = Result<Option<Seen>, ApiError>;

struct Job {
    meta: WriteMeta,
    work: Work,
    done: oneshot::Sender<Answer>,
}

pub struct RegisterQueue {
    jobs: mpsc::Sender<Job>,
    stats: Arc<Stats>,
    /// Dropped with the queue, which tells the indexer to finish.
    _indexer: mpsc::Sender<()>,
}

/// How often entries are indexed by file in the background: often enough
/// that a reader of a file's log seldom finds much left to index, seldom
/// enough that each run writes many rows per page it touches.
const INDEX_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// How well group commit works: requests served per batch.
#[derive(Default)]
struct Stats {
    batches: AtomicU64,
    requests: AtomicU64,
}

impl RegisterQueue {
    /// Starts the threads; they end when the queue is dropped.
    pub fn start(db: Db) -> Self {
        let (jobs, rx) = mpsc::channel::<Job>();
        let stats = Arc::new(Stats::default());
        let started = match db.kind() {
            BackendKind::Sqlite => pipelined(db.clone(), rx, Arc::clone(&stats)),
            BackendKind::Postgres => serial(db.clone(), rx, Arc::clone(&stats)),
        };
        let (indexer, stop) = mpsc::channel();
        if let Err(e) = started.and_then(|()| index_in_background(db, stop)) {
            tracing::error!(error = %e, "cannot start the read-register threads");
        }
        Self {
            jobs,
            stats,
            _indexer: indexer,
        }
    }

    /// Prometheus counters of the batches served and the requests in them.
    pub fn render_metrics(&self) -> String {
        format!(
            "# HELP clientele_read_register_batches_total Read-register commits (each serves a batch of requests).\n\
             # TYPE clientele_read_register_batches_total counter\n\
             clientele_read_register_batches_total {}\n\
             # HELP clientele_read_register_requests_total Requests whose reads were registered.\n\
             # TYPE clientele_read_register_requests_total counter\n\
             clientele_read_register_requests_total {}\n",
            self.stats.batches.load(Ordering::Relaxed),
            self.stats.requests.load(Ordering::Relaxed),
        )
    }

    /// Registers the entries and returns once they are committed.
    pub async fn register(
        &self,
        meta: WriteMeta,
        entries: Vec<AccessEntry>,
    ) -> Result<(), ApiError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.submit(meta, Work::Entries(entries)).await.map(|_| ())
    }

    /// Reads one file as `who` may see it and registers the read; a file
    /// `who` may not see is a 404, like a missing one.
    pub async fn read_file(
        &self,
        meta: WriteMeta,
        who: Principal,
        id: String,
        action: &'static str,
    ) -> Result<Seen, ApiError> {
        self.submit(meta, Work::File { who, id, action })
            .await?
            .ok_or_else(ApiError::internal)
    }

    async fn submit(&self, meta: WriteMeta, work: Work) -> Answer {
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job { meta, work, done })
            .map_err(|_| ApiError::internal())?;
        wait.await.unwrap_or_else(|_| Err(unregistered()))
    }
}

/// SQLite: one thread loads and judges the next batch while another
/// commits the last (the load is in-process and cheap; the commit is the
/// work), and the committer takes every judged batch waiting in one commit.
/// Measured against one thread doing both: file read 0.33–0.37× → 0.35–0.40×.
fn pipelined(db: Db, rx: mpsc::Receiver<Job>, stats: Arc<Stats>) -> std::io::Result<()> {
    let (judged_tx, judged_rx) = mpsc::channel::<Judged>();
    let loader_db = db.clone();
    std::thread::Builder::new()
        .name("read-register".into())
        .spawn(move || {
            while let Some(batch) = next_batch(&rx, |_| 1) {
                if let Some(judged) = judge_batch(&loader_db, batch) {
                    if judged_tx.send(judged).is_err() {
                        break;
                    }
                }
            }
        })?;
    std::thread::Builder::new()
        .name("register-commit".into())
        .spawn(move || {
            while let Some(judged) = next_batch(&judged_rx, |j| j.jobs.len()) {
                commit(&db, judged, &stats);
            }
        })?;
    Ok(())
}

/// PostgreSQL: one thread loads, judges and commits each batch. Every load
/// and commit is a round trip to the server, and a commit waits for its log
/// flush; a separate loader made the batches smaller and the round trips
/// more (measured: 0.19–0.22× `/healthz` serial, 0.12–0.15× pipelined;
/// again in session 4 with one, two and three committer threads behind one
/// loader: 0.18–0.20× serial, 0.13–0.16×, 0.10–0.13×, 0.11–0.12×).
fn serial(db: Db, rx: mpsc::Receiver<Job>, stats: Arc<Stats>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("read-register".into())
        .spawn(move || {
            while let Some(batch) = next_batch(&rx, |_| 1) {
                if let Some(judged) = judge_batch(&db, batch) {
                    commit(&db, vec![judged], &stats);
                }
            }
        })?;
    Ok(())
}

/// Writes the per-file rows of the entries committed since the last run
/// (`customer_access::index_batch` until none wait), every `INDEX_EVERY`
/// and once more when the queue is dropped.
fn index_in_background(db: Db, stop: mpsc::Receiver<()>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("register-index".into())
        .spawn(move || loop {
            let last = matches!(
                stop.recv_timeout(INDEX_EVERY),
                Err(mpsc::RecvTimeoutError::Disconnected)
            );
            // One transaction a batch: register commits wait for one batch at most.
            loop {
                // One statement on PostgreSQL (atomic alone: no BEGIN/COMMIT
                // round trips ten times a second); a transaction on SQLite.
                let indexed = match db.kind() {
                    BackendKind::Postgres => db.autocommit(customer_access::index_batch),
                    BackendKind::Sqlite => db.write_register(customer_access::index_batch),
                };
                match indexed {
                    Ok(n) if n == customer_access::INDEX_BATCH => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "indexing the read register by file failed; retrying");
                        break;
                    }
                }
            }
            if last {
                break;
            }
        })?;
    Ok(())
}

/// Waits for one item, then takes whatever else has queued, up to
/// `MAX_BATCH` requests as counted by `weight`.
fn next_batch<T>(rx: &mpsc::Receiver<T>, weight: impl Fn(&T) -> usize) -> Option<Vec<T>> {
    let first = rx.recv().ok()?;
    let mut total = weight(&first);
    let mut batch = vec![first];
    while total < MAX_BATCH {
        match rx.try_recv() {
            Ok(j) => {
                total += weight(&j);
                batch.push(j);
            }
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Without its register entry a read must not be answered.
fn unregistered() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "the read could not be registered; retry shortly",
    )
    .with_header("retry-after", "1")
}

/// Loads every file the batch asks for with one query and judges each
/// request; a database failure fails every read of the batch.
fn load(db: &Db, batch: &[Job]) -> Result<Vec<Option<Result<Seen, DbError>>>, DbError> {
    let ids: Vec<&str> = batch
        .iter()
        .filter_map(|j| match &j.work {
            Work::File { id, .. } => Some(id.as_str()),
            Work::Entries(_) => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(batch.iter().map(|_| None).collect());
    }
    db.read(|c| {
        let found: HashMap<String, CustomerView> = customers::get_many(c, &ids)?
            .into_iter()
            .map(|v| (v.row.id.clone(), v))
            .collect();
        let mut out = Vec::with_capacity(batch.len());
        for j in batch {
            out.push(match &j.work {
                Work::File { who, id, .. } => Some(match found.get(id) {
                    // The same file asked for twice in one batch is judged twice.
                    Some(v) => judge(c, who, v.clone(), j.meta.at),
                    None => Err(DbError::NotFound),
                }),
                Work::Entries(_) => None,
            });
        }
        Ok(out)
    })
}

/// A batch whose files are loaded and judged, waiting for its commit.
struct Judged {
    jobs: Vec<Job>,
    seen: Vec<Option<Result<Seen, DbError>>>,
}

/// Loads and judges a batch; on a database failure answers every request
/// of it at once and returns nothing.
fn judge_batch(db: &Db, batch: Vec<Job>) -> Option<Judged> {
    match load(db, &batch) {
        Ok(seen) => Some(Judged { jobs: batch, seen }),
        Err(e) => {
            tracing::error!(error = %e, requests = batch.len(), "read-register load failed");
            for j in batch {
                let _ = j.done.send(Err(unregistered()));
            }
            None
        }
    }
}

/// Registers every judged batch that queued together in one commit, then
/// answers each request.
fn commit(db: &Db, mut judged: Vec<Judged>, stats: &Stats) {
    stats.batches.fetch_add(1, Ordering::Relaxed);
    let n: usize = judged.iter().map(|j| j.jobs.len()).sum();
    stats.requests.fetch_add(n as u64, Ordering::Relaxed);
    let entries: Vec<Vec<AccessEntry>> = judged
        .iter_mut()
        .flat_map(|b| b.jobs.iter_mut().zip(&b.seen))
        .map(|(j, s)| match (&mut j.work, s) {
            (Work::Entries(e), _) => std::mem::take(e),
            (Work::File { action, .. }, Some(Ok(seen))) => vec![entry(seen, action)],
            (Work::File { .. }, _) => Vec::new(),
        })
        .collect();
    let requests: Vec<(&WriteMeta, &[AccessEntry])> = judged
        .iter()
        .flat_map(|b| &b.jobs)
        .zip(&entries)
        .filter(|(_, e)| !e.is_empty())
        .map(|(j, e)| (&j.meta, e.as_slice()))
        .collect();
    let committed = if requests.is_empty() {
        Ok(())
    } else {
        customer_access::commit_all(db, &requests)
    };
    if let Err(e) = &committed {
        tracing::error!(error = %e, requests = entries.len(), "read register commit failed");
    }
    for b in judged {
        for (j, s) in b.jobs.into_iter().zip(b.seen) {
            let answer = match (&committed, s) {
                (Err(_), _) => Err(unregistered()),
                (Ok(()), None) => Ok(None),
                (Ok(()), Some(Ok(seen))) => Ok(Some(seen)),
                (Ok(()), Some(Err(e))) => Err(ApiError::from(e)),
            };
            let _ = j.done.send(answer);
        }
    }
}
