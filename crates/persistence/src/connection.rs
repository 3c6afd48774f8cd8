//! Connections: the backend is chosen from the URL scheme, never guessed,
//! and every SQLite connection gets its PRAGMAs before first use.

use crate::error::{Error, Result};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }
}

/// Where the database is, parsed from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Sqlite { path: String },
    Postgres { url: String },
}

impl Target {
    /// `sqlite://path`, `sqlite:path`, `postgres://…` or `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self> {
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if rest.is_empty() || rest.starts_with(":memory:") {
                return Err(Error::unprocessable(
                    "invalid_database_url",
                    "an SQLite URL needs a file path (in-memory databases cannot be pooled)",
                ));
            }
            return Ok(Target::Sqlite {
                path: rest.to_owned(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres {
                url: url.to_owned(),
            });
        }
        Err(Error::unprocessable(
            "invalid_database_url",
            "DATABASE_URL must start with sqlite:// or postgres://",
        ))
    }

    pub fn kind(&self) -> BackendKind {
        match self {
            Target::Sqlite { .. } => BackendKind::Sqlite,
            Target::Postgres { .. } => BackendKind::Postgres,
        }
    }

    /// Opens one connection of the right variant, with its session settings.
    pub fn establish(&self) -> std::result::Result<DbConn, ConnectError> {
        match self {
            Target::Sqlite { path } => {
                let mut c = open_sqlite(path)?;
                // The read register's own file (see `register_file`), with
                // the same settings as the database's.
                let register = crate::register_file::path_beside(path).replace('\'', "''");
                c.batch_execute(&format!(
                    "ATTACH DATABASE '{register}' AS register; {}",
                    file_pragmas("register")
                ))
                .map_err(|e| ConnectError(e.to_string()))?;
                crate::sql_fns::register_sqlite(&mut c).map_err(|e| ConnectError(e.to_string()))?;
                // Made once per connection: a table made during a request
                // would change the schema and expire every prepared statement.
                c.batch_execute(crate::new_files::SQLITE_STAGING_TABLE)
                    .map_err(|e| ConnectError(e.to_string()))?;
                Ok(DbConn::Sqlite(c))
            }
            Target::Postgres { url } => {
                let mut c = diesel::PgConnection::establish(url)
                    .map_err(|e| ConnectError(e.to_string()))?;
                // The API runs small keyset pages side by side on the same
                // cores; a parallel plan's workers cost more to start than
                // such a query's work (a rare search part: 13 ms with them,
                // 0.3–1.2 ms without, at a million files).
                c.batch_execute("SET max_parallel_workers_per_gather = 0")
                    .map_err(|e| ConnectError(e.to_string()))?;
                // Errors diesel does not classify (a deadlock, a connection
                // the server ended) are known by their words, so the session
                // asks for them untranslated where the account may (a
                // server set up in Chinese words them in Chinese); where it
                // may not, the server's language stays and nothing is logged.
                c.batch_execute(
                    "DO $$ BEGIN PERFORM set_config('lc_messages', 'C', false); \
                     EXCEPTION WHEN insufficient_privilege THEN NULL; END $$",
                )
                .map_err(|e| ConnectError(e.to_string()))?;
                Ok(DbConn::Pg(c))
            }
        }
    }
}

/// One SQLite database file with the settings every connection gets, and
/// nothing attached: for checking or filling a copy.
pub fn open_sqlite(path: &str) -> std::result::Result<diesel::SqliteConnection, ConnectError> {
    let mut c =
        diesel::SqliteConnection::establish(path).map_err(|e| ConnectError(e.to_string()))?;
    c.batch_execute(&format!(
        "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
         PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY; {}",
        file_pragmas("main")
    ))
    .map_err(|e| ConnectError(e.to_string()))?;
    Ok(c)
}

/// The settings of each SQLite file a connection holds (`main`, the
/// register's): a write-ahead log flushed at every commit, read without
/// mapping the file, trimmed when it starts over.
fn file_pragmas(schema: &str) -> String {
    [
        "journal_mode = WAL",
        "synchronous = FULL",
        "mmap_size = 0",
        "journal_size_limit = 67108864",
    ]
    .map(|p| format!("PRAGMA {schema}.{p};"))
    .join(" ")
}

/// Runs `f` in a savepoint of the transaction under way: if it fails, what
/// it wrote is undone, the savepoint is gone and the transaction goes on
/// (on PostgreSQL, too, after a statement the server refused).
pub fn savepoint<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
    use diesel::connection::TransactionManager;
    let depth = <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .ok()
        .flatten();
    let done = conn.transaction(f);
    if let (Err(_), Some(depth)) = (&done, depth) {
        // diesel rolls back to its savepoint and leaves it open, as SQL
        // keeps a savepoint after `ROLLBACK TO`; the next one would nest
        // inside it. Each refused row of an import left one behind: SQLite
        // then kept journaling pages for all of them and walked that
        // journal at every savepoint (10 refused rows of 10 000: 20 s
        // instead of 1.5 s), PostgreSQL kept a subtransaction open for
        // each. If the rollback failed, the connection is broken anyway.
        let _ = conn.batch_execute(&format!("RELEASE SAVEPOINT diesel_savepoint_{depth}"));
    }
    done
}

/// Runs SQL outside any transaction on a connection of its own
/// (`CREATE DATABASE` and friends, for tools and tests).
pub fn execute_batch(mut conn: DbConn, sql: &str) -> Result<()> {
    conn.batch_execute(sql).map_err(Error::from)
}

#[derive(Debug, thiserror::Error)]
#[error("cannot connect to the database: {0}")]
pub struct ConnectError(pub String);

/// A pooled connection and whether it has failed at the connection level.
pub struct Pooled {
    conn: DbConn,
    broken: bool,
}

/// How PostgreSQL plans the prepared statements run on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plans {
    /// PostgreSQL's default: each execution is planned for its values until
    /// a generic plan looks as cheap (for a list with `LIKE` and
    /// several unselective filters it never does: 0.5–1.5 ms of planning
    /// for 0.15 ms of execution, on every page).
    ByValue,
    /// One generic plan per statement, made once and reused
    /// (`plan_cache_mode = force_generic_plan`): for statements whose best
    /// plan does not depend on the values bound. SQLite plans once anyway.
    /// These connections serve only list pages whose filters are all
    /// common (`list_routes::Route::Walk`), whose best plan walks the
    /// index of the list's order: sorting is switched off on them
    /// (`enable_sort = off`), since a generic plan guesses a `LIKE` of
    /// unknown value rare and would gather and sort instead (at 10 000
    /// files, every file of the caller's levels from an index that holds
    /// the level after other columns: 14 ms a page against 0.09 ms).
    Generic,
}

/// r2d2 manager that builds the variant from the URL scheme. Connections are
/// not probed on checkout (a round trip per request on PostgreSQL); one that
/// failed at the connection level is marked and dropped when it comes back.
pub struct Manager(Target, Plans);

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = ConnectError;

    fn connect(&self) -> std::result::Result<Pooled, ConnectError> {
        let mut conn = self.0.establish()?;
        if let (DbConn::Pg(c), Plans::Generic) = (&mut conn, self.1) {
            c.batch_execute("SET plan_cache_mode = force_generic_plan; SET enable_sort = off")
                .map_err(|e| ConnectError(e.to_string()))?;
        }
        Ok(Pooled {
            conn,
            broken: false,
        })
    }

    fn is_valid(&self, c: &mut Pooled) -> std::result::Result<(), ConnectError> {
        c.conn
            .batch_execute("SELECT 1")
            .map_err(|e| ConnectError(e.to_string()))
    }

    fn has_broken(&self, c: &mut Pooled) -> bool {
        c.broken
    }
}

#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout: Duration,
}

/// The pool, shared by every request.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    /// PostgreSQL only: connections that plan each statement once
    /// ([`Plans::Generic`]), opened as needed.
    generic: Option<r2d2::Pool<Manager>>,
    kind: BackendKind,
    /// SQLite allows one writer a file; taking turns in-process means a
    /// deferred transaction never fails to upgrade its lock. PostgreSQL
    /// needs none.
    sqlite_writer: Arc<Mutex<()>>,
    /// The turn of writers of the read register's own file (SQLite).
    sqlite_register_writer: Arc<Mutex<()>>,
    /// Imports' turns in this process ([`Db::import_turn`]).
    imports: Arc<RwLock<()>>,
    /// How many files the filters of lists pass, as last counted.
    shares: Arc<crate::list_routes::Shares>,
    /// The writes of files under way in this process.
    writes: Arc<crate::writes_in_flight::WritesInFlight>,
    /// Where the pool's connections go, for one of its own ([`Db::dedicated`]).
    target: Target,
}

/// An import's turn in this process, held until dropped.
pub enum ImportTurn<'a> {
    /// A commit: no other import beside it.
    Alone(RwLockWriteGuard<'a, ()>),
    /// A dry run: beside other dry runs.
    Beside(RwLockReadGuard<'a, ()>),
}

impl Db {
    pub fn connect(settings: &DbSettings) -> Result<Self> {
        let target = Target::parse(&settings.url)?;
        let kind = target.kind();
        if let Target::Sqlite { path } = &target {
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Error::Unavailable(format!("{}: {e}", dir.display())))?;
                }
            }
        }
        if let Target::Sqlite { .. } = &target {
            // WAL is a property of the file; switching needs the only lock,
            // so do it once here before the pool opens connections in parallel.
            target.establish().map_err(|e| Error::Unavailable(e.0))?;
        }
        let sqlite_writer = Arc::new(Mutex::new(()));
        let sqlite_register_writer = Arc::new(Mutex::new(()));
        if let Target::Sqlite { .. } = &target {
            checkpoint_in_background(
                &target,
                [
                    ("main", Arc::downgrade(&sqlite_writer)),
                    ("register", Arc::downgrade(&sqlite_register_writer)),
                ],
            );
        }
        let builder = || {
            r2d2::Pool::builder()
                .max_size(settings.pool_size.max(1))
                .connection_timeout(settings.connect_timeout)
                .test_on_check_out(false)
        };
        let generic = match &target {
            Target::Postgres { .. } => Some(
                builder()
                    .min_idle(Some(0))
                    .build(Manager(target.clone(), Plans::Generic))?,
            ),
            Target::Sqlite { .. } => None,
        };
        let pool = builder().build(Manager(target.clone(), Plans::ByValue))?;
        Ok(Self {
            target,
            pool,
            generic,
            kind,
            sqlite_writer,
            sqlite_register_writer,
            imports: Arc::default(),
            shares: Arc::default(),
            writes: Arc::default(),
        })
    }

    /// Takes an import's turn among the imports of this process before it
    /// takes a connection: a commit goes alone, dry runs beside each
    /// other. Imports waiting for their turn hold none of the pool's few
    /// connections, which a burst of imports queued inside the database
    /// would all have held, leaving none for anything else;
    /// [`crate::customers::begin_import`] still orders the imports of
    /// several processes (PostgreSQL).
    pub fn import_turn(&self, commits: bool) -> ImportTurn<'_> {
        if commits {
            ImportTurn::Alone(self.imports.write().unwrap_or_else(|p| p.into_inner()))
        } else {
            ImportTurn::Beside(self.imports.read().unwrap_or_else(|p| p.into_inner()))
        }
    }

    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// What is remembered of how many files the filters of lists pass
    /// ([`crate::list_routes`]).
    pub fn shares(&self) -> &Arc<crate::list_routes::Shares> {
        &self.shares
    }

    /// The writes of files under way in this process
    /// ([`crate::writes_in_flight`]).
    pub fn writes(&self) -> &Arc<crate::writes_in_flight::WritesInFlight> {
        &self.writes
    }

    /// A connection of its own, outside the pool, for a thread that must
    /// not wait behind the pool's users (a pool taken up by long imports).
    pub fn dedicated(&self) -> Result<DbConn> {
        self.target.establish().map_err(|e| Error::Unavailable(e.0))
    }

    /// Runs reads on one pooled connection.
    pub fn read<T>(&self, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        self.read_with(Plans::ByValue, f)
    }

    /// Runs reads on one pooled connection that plans as asked.
    pub fn read_with<T>(
        &self,
        plans: Plans,
        f: impl FnOnce(&mut DbConn) -> Result<T>,
    ) -> Result<T> {
        let pool = match (plans, &self.generic) {
            (Plans::Generic, Some(generic)) => generic,
            _ => &self.pool,
        };
        let mut pooled = pool.get()?;
        self.watch(&mut pooled, f)
    }

    /// Runs `f` in one transaction: everything it writes commits together or not at all.
    pub fn write<T>(&self, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        self.transaction_in_turn(&self.sqlite_writer, f)
    }

    /// Runs `f` in one transaction that writes the read register's tables
    /// and nothing else (it may read anything). On SQLite those tables are
    /// a file of their own with its own writer's turn, so such a write
    /// never waits for a long write of the files (an import); on
    /// PostgreSQL this is [`Db::write`].
    pub fn write_register<T>(&self, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        self.transaction_in_turn(&self.sqlite_register_writer, f)
    }

    /// `f` in one transaction, in the turn of `writers` on SQLite.
    fn transaction_in_turn<T>(
        &self,
        writers: &Mutex<()>,
        f: impl FnOnce(&mut DbConn) -> Result<T>,
    ) -> Result<T> {
        let _turn = in_turn(self.kind, writers);
        let mut pooled = self.pool.get()?;
        crate::writes_in_flight::held_to_the_end(|| self.watch(&mut pooled, |c| c.transaction(f)))
    }

    /// Runs `f` outside a transaction, taking the writer's turn on SQLite:
    /// for a single statement, which commits on its own.
    pub fn autocommit<T>(&self, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        let _turn = in_turn(self.kind, &self.sqlite_writer);
        let mut pooled = self.pool.get()?;
        self.watch(&mut pooled, f)
    }

    /// Runs `f`; a PostgreSQL connection that lost its server is not handed
    /// out again (on SQLite, `Unavailable` means a busy file, not a bad connection).
    ///
    /// A failure the error's words do not explain (a server whose messages
    /// are in another language, a connection ended at a moment libpq still
    /// called it open) is checked with `SELECT 1`: if the connection no
    /// longer answers, the failure was the connection's, and is
    /// `Unavailable` (503, retry) rather than a storage failure (500).
    fn watch<T>(&self, pooled: &mut Pooled, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        let mut out = f(&mut pooled.conn);
        if self.kind == BackendKind::Postgres {
            if matches!(out, Err(Error::Database(_)))
                && pooled.conn.batch_execute("SELECT 1").is_err()
            {
                out = Err(Error::Unavailable(
                    "the connection to the database was lost".into(),
                ));
            }
            if matches!(out, Err(Error::Unavailable(_))) {
                pooled.broken = true;
            }
        }
        out
    }

    /// Whether the database answers.
    pub fn ping(&self) -> Result<()> {
        self.read(|c| c.batch_execute("SELECT 1").map_err(Error::from))
    }
}

/// On SQLite, the in-process turn of `writers`, held until dropped.
fn in_turn(kind: BackendKind, writers: &Mutex<()>) -> Option<std::sync::MutexGuard<'_, ()>> {
    match kind {
        BackendKind::Sqlite => Some(writers.lock().unwrap_or_else(|p| p.into_inner())),
        BackendKind::Postgres => None,
    }
}

/// What `PRAGMA wal_checkpoint` answers.
#[derive(diesel::QueryableByName)]
struct Checkpointed {
    /// Frames in the log.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
}

/// SQLite moves the write-ahead log into the database file here, not in the
/// transaction that happens to fill it (connections run with
/// `wal_autocheckpoint = 0`): a commit only appends to the log.
///
/// Every 200 ms a PASSIVE checkpoint copies what it can without blocking
/// anyone. That alone never lets the log start over while reads go on
/// without pause (each reader pins the log as it was when it began), so
/// the log grew without end under load (1.2 GB in a 30 s bench) and every
/// commit appended to fresh file pages the kernel had to zero first. When
/// the log passes 16 MB, a RESTART checkpoint runs in the writer's turn
/// (each file's log — the database's and the read register's — in the turn
/// of that file's writers):
/// writers wait for it, readers move to the database file, and the next
/// commit writes the log from its start again, over pages already cached.
/// The thread ends when the last handle to the database is dropped.
fn checkpoint_in_background(
    target: &Target,
    files: [(&'static str, std::sync::Weak<Mutex<()>>); 2],
) {
    const LOG_LIMIT_FRAMES: i32 = 16 * 1024 * 1024 / 4096;
    let Target::Sqlite { .. } = target else {
        return;
    };
    let target = target.clone();
    let started = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut conn = None;
            loop {
                std::thread::sleep(Duration::from_millis(200));
                let Some(turns) = files
                    .iter()
                    .map(|(schema, w)| w.upgrade().map(|t| (*schema, t)))
                    .collect::<Option<Vec<_>>>()
                else {
                    return;
                };
                if conn.is_none() {
                    // A RESTART waits for readers while writers wait for it:
                    // at most 100 ms, then it gives up until the next round
                    // (a long read, such as a large export, must not stall
                    // every write for the usual busy timeout).
                    conn = match target.establish() {
                        Ok(DbConn::Sqlite(mut c)) => c
                            .batch_execute("PRAGMA busy_timeout = 100")
                            .ok()
                            .map(|()| c),
                        _ => None,
                    };
                }
                let Some(c) = conn.as_mut() else {
                    continue;
                };
                let checkpoint = |c: &mut diesel::SqliteConnection, schema: &str, mode: &str| {
                    diesel::sql_query(format!("PRAGMA {schema}.wal_checkpoint({mode})"))
                        .load::<Checkpointed>(c)
                        .map(|rows| rows.first().map_or(0, |r| r.log))
                };
                // Each file's log, a RESTART in that file's writer's turn.
                let done = turns.iter().try_for_each(|(schema, turn)| {
                    let frames = checkpoint(c, schema, "PASSIVE")?;
                    if frames >= LOG_LIMIT_FRAMES {
                        let _turn = turn.lock().unwrap_or_else(|p| p.into_inner());
                        checkpoint(c, schema, "RESTART")?;
                    }
                    Ok::<_, diesel::result::Error>(())
                });
                if let Err(e) = done {
                    tracing::warn!(error = %e, "checkpoint failed; retrying");
                    conn = None;
                }
            }
        });
    if let Err(e) = started {
        tracing::error!(error = %e, "cannot start the checkpoint thread");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A savepoint whose work failed is gone afterwards: none is left open
    /// for later ones to nest in.
    #[test]
    fn a_failed_savepoint_is_released() {
        let dir = std::env::temp_dir().join(format!("clientele-sp-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let url = format!("sqlite://{}", dir.join("sp.db").display());
        let mut conn = Target::parse(&url)
            .unwrap_or_else(|e| panic!("{e}"))
            .establish()
            .unwrap_or_else(|e| panic!("{e}"));
        let left_open = conn.transaction::<_, Error, _>(|c| {
            for _ in 0..3 {
                let failed: Result<()> = savepoint(c, |c| {
                    c.batch_execute("CREATE TABLE sp (x INTEGER)")?;
                    Err(Error::NotFound)
                });
                assert!(matches!(failed, Err(Error::NotFound)));
            }
            let kept: Result<()> =
                savepoint(c, |c| Ok(c.batch_execute("CREATE TABLE sp (x INTEGER)")?));
            assert!(kept.is_ok());
            Ok(c.batch_execute("RELEASE SAVEPOINT diesel_savepoint_1")
                .is_ok())
        });
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            !left_open.unwrap_or_else(|e| panic!("{e}")),
            "a savepoint was left open"
        );
    }

    #[test]
    fn scheme_decides_the_backend() {
        assert_eq!(
            Target::parse("sqlite://data/x.db").map(|t| t.kind()).ok(),
            Some(BackendKind::Sqlite)
        );
        assert_eq!(
            Target::parse("sqlite:x.db").map(|t| t.kind()).ok(),
            Some(BackendKind::Sqlite)
        );
        assert_eq!(
            Target::parse("postgres://u@h/db?sslmode=require")
                .map(|t| t.kind())
                .ok(),
            Some(BackendKind::Postgres)
        );
        assert!(Target::parse("mysql://x").is_err());
        assert!(Target::parse("x.db").is_err());
        assert!(Target::parse("sqlite://:memory:").is_err());
    }
}
