//! Copies of the archive (CUS-11: business data backed up at least weekly,
//! important data at once). The schedule takes copies of an SQLite database
//! by itself; an administrator takes one at once before an important
//! change, and sees the copies kept. PostgreSQL is backed up with its own
//! tools (README), so it answers with no copies here.

use crate::error::ApiError;
use crate::extract::{Auth, ReqCtx};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use clientele_core::Role;
use clientele_persistence::audit::{self, Change};
use clientele_persistence::backup;
use clientele_persistence::Error as DbError;
use serde::Serialize;
use utoipa::ToSchema;

/// One copy of the database in the backup folder.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupCopy {
    #[schema(example = "clientele-20261207T020000Z.db")]
    pub name: String,
    pub size_bytes: u64,
    pub taken_at: DateTime<Utc>,
}

impl From<backup::Copy> for BackupCopy {
    fn from(c: backup::Copy) -> Self {
        Self {
            name: c.name,
            size_bytes: c.size_bytes,
            taken_at: c.taken_at,
        }
    }
}

/// The copies kept, and how they are taken.
#[derive(Debug, Serialize, ToSchema)]
pub struct Backups {
    /// `sqlite`: copies are taken here; `postgres`: with PostgreSQL's own
    /// tools (`pg_dump`, WAL archiving; README), and none are listed.
    #[schema(example = "sqlite")]
    pub backend: String,
    /// Seconds between scheduled copies; 0 when this server takes none.
    pub interval_seconds: u64,
    /// How many copies are kept (the oldest go); `null` on PostgreSQL.
    pub keep: Option<usize>,
    /// Scheduled copies that failed since the server started.
    pub failed_since_start: u64,
    /// Newest first.
    pub copies: Vec<BackupCopy>,
}

/// The copies of the database kept, newest first, and how they are taken
/// (administrators and auditors).
#[utoipa::path(get, path = "/api/v1/backups", tag = "operations", security(("bearer" = [])),
    responses((status = 200, body = Backups)))]
pub async fn list_backups(st: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    if !auth.0.has(Role::Admin) && !auth.0.has(Role::Auditor) {
        return Err(ApiError::forbidden(
            "the backups are shown to administrators and auditors",
        ));
    }
    let place = st.config.backups.clone();
    let copies = match &place {
        Some(p) => {
            let dir = p.dir.clone();
            web::block(move || backup::copies(&dir)).await??
        }
        None => Vec::new(),
    };
    Ok(HttpResponse::Ok().json(Backups {
        backend: if place.is_some() {
            "sqlite"
        } else {
            "postgres"
        }
        .to_owned(),
        interval_seconds: st.backups.interval_secs(),
        keep: place.map(|p| p.keep),
        failed_since_start: st.backups.failed_total(),
        copies: copies.into_iter().map(BackupCopy::from).collect(),
    }))
}

/// Take a copy of the database now (administrators): before an important
/// change, or after one, rather than at the next scheduled copy. A
/// consistent copy while the server keeps serving, named and kept as the
/// scheduled ones (the newest `CLIENTELE_BACKUP_KEEP`), and recorded in the
/// audit log. One copy is taken at a time; a second asked for within the
/// same second is refused (409 `backup_exists`). On PostgreSQL, 409
/// `backups_elsewhere`: back it up with its own tools.
#[utoipa::path(post, path = "/api/v1/backups", tag = "operations", security(("bearer" = [])),
    responses((status = 201, body = BackupCopy)))]
pub async fn take_backup(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let p = auth.require(Role::Admin)?.clone();
    let Some(place) = st.config.backups.clone() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "backups_elsewhere",
            "this server keeps its data in PostgreSQL: back it up with pg_dump or WAL archiving (see README)",
        ));
    };
    let meta = ctx.meta(&st, Some(&p));
    let status = st.backups.clone();
    let at = meta.at.and_utc();
    let taken = web::block(move || {
        let _turn = status.turn();
        backup::take(&place.database_url, &place.dir, place.keep, at)
    })
    .await?;
    let (copy, pruned) = taken.map_err(|e| match e {
        DbError::Rejected {
            code: "backup_exists",
            ..
        } => ApiError::new(
            StatusCode::CONFLICT,
            "backup_exists",
            "a copy was taken this very second; ask again in a moment",
        ),
        other => other.into(),
    })?;
    st.backups.written(copy.taken_at);
    tracing::info!(file = %copy.name, pruned = pruned.len(), "backup taken at once");
    let after = serde_json::json!({"name": copy.name, "size_bytes": copy.size_bytes});
    let name = copy.name.clone();
    st.write(move |c| {
        audit::record(
            c,
            &meta,
            Change {
                action: "created",
                entity_type: "backup",
                entity_id: &name,
                before: None,
                after: Some(after),
            },
        )
    })
    .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(BackupCopy::from(copy)))
}
