//! `clientele`: serve the API, migrate, write the OpenAPI document, manage
//! accounts, load demo data.

use clap::{Parser, Subcommand};
use clientele_core::SystemClock;
use clientele_persistence::{migrate, Db};
use clientele_server::config::Settings;
use clientele_server::{admin, backups, demo, telemetry};
use std::process::ExitCode;
use std::sync::Arc;

/// mimalloc: the server allocates many small, short-lived strings per request
/// (rows, JSON); glibc malloc spent about a tenth of the CPU on them (perf).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "clientele",
    version,
    about = "Clientele: customer management by the regulations, as a JSON API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default command).
    Serve {
        /// Also load the demo data set (units, one user of each role).
        #[arg(long)]
        demo: bool,
        /// Do not apply pending migrations at start.
        #[arg(long)]
        no_migrate: bool,
        /// Listen here instead of CLIENTELE_BIND.
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Write the OpenAPI document (to stdout, or a file).
    Openapi {
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        task: AdminTask,
    },
    /// Load the demo data set.
    SeedDemo,
    /// Write a consistent copy of the SQLite database, also while the server runs.
    Backup {
        /// Where to write it; must not exist.
        file: std::path::PathBuf,
    },
    /// Put a backup in place of the SQLite database. Stop the server first.
    Restore { file: std::path::PathBuf },
}

#[derive(Subcommand)]
enum AdminTask {
    /// Create a person's account. On an empty database the root company is created too.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// Code of the user's unit; may be left out while no unit exists.
        #[arg(long)]
        unit: Option<String>,
        /// Repeat for several roles.
        #[arg(long = "role", default_value = "admin")]
        roles: Vec<String>,
        #[arg(long)]
        clearance: Option<String>,
        /// Name of the root company made on an empty database.
        #[arg(long, default_value = "Company")]
        company_name: String,
        /// The password, from this environment variable (never from the command line).
        #[arg(long, default_value = "CLIENTELE_NEW_PASSWORD")]
        password_env: String,
    },
}

fn open_db(settings: &Settings, run_migrations: bool) -> Result<Db, String> {
    let db = Db::connect(&settings.db()).map_err(|e| format!("database: {e}"))?;
    if run_migrations {
        let applied = migrate::run_pending(&db).map_err(|e| e.to_string())?;
        for m in applied {
            tracing::info!(migration = %m, "applied");
        }
    }
    Ok(db)
}

fn serve(settings: Settings, demo_data: bool, no_migrate: bool) -> Result<(), String> {
    // The address first: one in use (a second server on the same data)
    // stops the start before migrations, demo data or a backup run.
    let listeners = clientele_http::listen(&settings.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
    let db = open_db(&settings, !no_migrate)?;
    if demo_data && demo::seed(&db).map_err(|e| e.to_string())? {
        tracing::info!("demo data loaded");
    }
    if demo_data {
        eprintln!(
            "demo mode: sign in as demo.admin / {} (service account {} / {})",
            demo::DEMO_PASSWORD,
            demo::DEMO_CLIENT_ID,
            demo::DEMO_CLIENT_SECRET
        );
    }
    let state =
        clientele_http::AppState::new(db.clone(), settings.api.clone(), Arc::new(SystemClock));
    backups::schedule(&settings, Arc::clone(&state.backups));
    let backend = db.kind().as_str();
    actix_web::rt::System::new().block_on(async move {
        let (server, addr) = clientele_http::start_on(state, listeners, settings.workers)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
        tracing::info!(%addr, backend, "clientele listening; docs at /docs");
        eprintln!("clientele listening on http://{addr} ({backend}); docs at http://{addr}/docs");
        server.await.map_err(|e| e.to_string())
    })
}

fn run(cli: Cli) -> Result<(), String> {
    let command = cli.command.unwrap_or(Command::Serve {
        demo: false,
        no_migrate: false,
        bind: None,
    });
    if let Command::Openapi { output } = &command {
        let json = clientele_http::openapi_json();
        return match output {
            Some(path) => {
                std::fs::write(path, json).map_err(|e| format!("{}: {e}", path.display()))
            }
            None => {
                print!("{json}");
                Ok(())
            }
        };
    }
    let mut settings = Settings::from_env().map_err(|e| e.to_string())?;
    telemetry::init(settings.log_format);
    match command {
        Command::Serve {
            demo,
            no_migrate,
            bind,
        } => {
            if let Some(b) = bind {
                settings.bind = b;
            }
            serve(settings, demo, no_migrate)
        }
        Command::Migrate => open_db(&settings, true).map(|_| ()),
        Command::Backup { file } => {
            clientele_persistence::backup::sqlite_copy(&settings.database_url, &file)
                .map_err(|e| e.to_string())?;
            eprintln!("backed up to {}", file.display());
            Ok(())
        }
        Command::Restore { file } => backups::restore(&settings, &file),
        Command::SeedDemo => {
            let db = open_db(&settings, true)?;
            let loaded = demo::seed(&db).map_err(|e| e.to_string())?;
            eprintln!(
                "{}",
                if loaded {
                    "demo data loaded"
                } else {
                    "demo data already present"
                }
            );
            Ok(())
        }
        Command::Admin {
            task:
                AdminTask::CreateUser {
                    username,
                    display_name,
                    unit,
                    roles,
                    clearance,
                    company_name,
                    password_env,
                },
        } => {
            let password = std::env::var(&password_env)
                .map_err(|_| format!("set the password in {password_env}"))?;
            let db = open_db(&settings, true)?;
            let user = admin::create_user(
                &db,
                admin::NewAccount {
                    username,
                    display_name,
                    password,
                    unit_code: unit,
                    roles,
                    clearance,
                    company_name,
                },
            )
            .map_err(|e| e.to_string())?;
            eprintln!("created user {} ({})", user.username, user.id);
            Ok(())
        }
        Command::Openapi { .. } => Ok(()),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clientele: {e}");
            ExitCode::FAILURE
        }
    }
}
