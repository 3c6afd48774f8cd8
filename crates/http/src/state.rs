//! What every handler shares: storage, keys, settings, metrics, the clock.

use crate::auth::jwt::JwtKeys;
use crate::auth::principal_cache::PrincipalCache;
use crate::backup_status::BackupStatus;
use crate::config::ApiConfig;
use crate::error::ApiError;
use crate::middleware::metrics::Metrics;
use crate::register_queue::RegisterQueue;
use crate::sync_floors::SyncFloorWorker;
use crate::webhook_delivery::WebhookWorker;
use clientele_core::Clock;
use clientele_persistence::{Db, DbConn, Plans, Result as DbResult};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<ApiConfig>,
    pub jwt: Arc<JwtKeys>,
    pub metrics: Arc<Metrics>,
    pub principals: Arc<PrincipalCache>,
    pub register: Arc<RegisterQueue>,
    pub clock: Arc<dyn Clock>,
    /// Sends webhooks while the application lives.
    pub webhooks: Arc<WebhookWorker>,
    /// What the server's scheduled backups have done (SQLite).
    pub backups: Arc<BackupStatus>,
    /// Tells the other servers on one PostgreSQL of this one's writes
    /// under way, and learns theirs.
    pub sync_floors: Arc<SyncFloorWorker>,
}

impl AppState {
    pub fn new(db: Db, config: ApiConfig, clock: Arc<dyn Clock>) -> Self {
        let jwt = JwtKeys::new(&config);
        let principals = Arc::new(PrincipalCache::new(config.auth_cache_ttl));
        Self {
            sync_floors: Arc::new(SyncFloorWorker::start(db.clone(), Arc::clone(&clock))),
            register: Arc::new(RegisterQueue::start(db.clone())),
            webhooks: Arc::new(WebhookWorker::start(
                db.clone(),
                Arc::clone(&clock),
                config.webhook_poll,
                config.event_retention,
                &config.webhook_roots,
            )),
            db,
            config: Arc::new(config),
            jwt: Arc::new(jwt),
            metrics: Arc::new(Metrics::default()),
            principals,
            clock,
            backups: Arc::new(BackupStatus::default()),
        }
    }

    /// Now, as stored: naive UTC.
    pub fn now(&self) -> chrono::NaiveDateTime {
        self.clock.now().naive_utc()
    }

    /// Runs a read on the blocking pool.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> DbResult<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.read_with(Plans::ByValue, f).await
    }

    /// Runs a read on the blocking pool, on a connection that plans as asked.
    pub async fn read_with<T: Send + 'static>(
        &self,
        plans: Plans,
        f: impl FnOnce(&mut DbConn) -> DbResult<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.on_blocking_pool(move |db| db.read_with(plans, f))
            .await
    }

    /// Runs one all-or-nothing write transaction on the blocking pool.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> DbResult<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.on_blocking_pool(move |db| db.write(f)).await
    }

    /// Runs one all-or-nothing transaction that writes only the read
    /// register (it may read anything) on the blocking pool; on SQLite it
    /// does not wait for writes of the files ([`Db::write_register`]).
    pub async fn write_register<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> DbResult<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.on_blocking_pool(move |db| db.write_register(f)).await
    }

    /// Diesel is synchronous: its work runs off the async workers.
    async fn on_blocking_pool<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db) -> DbResult<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let db = self.db.clone();
        Ok(actix_web::web::block(move || f(&db)).await??)
    }
}
