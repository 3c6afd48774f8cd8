//! Group commit for the read register (CUS-08). Reads of files run in
//! parallel on the read pool; their register entries queue here, and one
//! writer thread commits whatever has queued in a single transaction. Each
//! request waits for the commit that holds its entries before it answers,
//! so no read goes unregistered, yet the cost of a commit is shared.

use crate::error::ApiError;
use actix_web::http::StatusCode;
use clientele_persistence::customer_access::{self, AccessEntry};
use clientele_persistence::{Db, WriteMeta};
use std::sync::mpsc;
use tokio::sync::oneshot;

/// At most this many requests share one commit.
const MAX_BATCH: usize = 512;

struct Job {
    meta: WriteMeta,
    entries: Vec<AccessEntry>,
    done: oneshot::Sender<Result<(), String>>,
}

pub struct RegisterQueue {
    jobs: mpsc::Sender<Job>,
}

impl RegisterQueue {
    /// Starts the writer thread; it ends when the queue is dropped.
    pub fn start(db: Db) -> Self {
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("read-register".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(j) => batch.push(j),
                            Err(_) => break,
                        }
                    }
                    let result = db.write(|c| {
                        for j in &batch {
                            customer_access::register(c, &j.meta, &j.entries)?;
                        }
                        Ok(())
                    });
                    let outcome = result.map_err(|e| e.to_string());
                    if let Err(e) = &outcome {
                        tracing::error!(error = %e, requests = batch.len(), "read register commit failed");
                    }
                    for j in batch {
                        let _ = j.done.send(outcome.clone());
                    }
                }
            })
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!(error = %e, "cannot start the read-register writer"));
        Self { jobs }
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
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job {
                meta,
                entries,
                done,
            })
            .map_err(|_| ApiError::internal())?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            // Without its register entry the read must not be answered.
            Ok(Err(_)) | Err(_) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "the read could not be registered; retry shortly",
            )
            .with_header("retry-after", "1")),
        }
    }
}
