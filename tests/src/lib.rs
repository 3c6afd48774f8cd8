//! Test harness: starts the real server on a free port over a database of
//! its own (an SQLite file, or a fresh PostgreSQL database when
//! `TEST_DATABASE_URL` is set, dropped afterwards) and talks to it over HTTP.

use clientele_core::SystemClock;
use clientele_http::{ApiConfig, AppState};
use clientele_persistence::{migrate, Db, DbSettings};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
pub const DEMO_PASSWORD: &str = clientele_server::demo::DEMO_PASSWORD;

/// Where a test's database lives, and how to remove it.
enum Store {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let root = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    format!("{root}/{name}{query}")
}

fn fresh_store() -> (Store, String) {
    let id = uuid::Uuid::now_v7().simple().to_string();
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("clientele_t_{id}");
            let mut admin = postgres_admin(&admin_url);
            admin(&format!("CREATE DATABASE {name}"));
            let url = with_database(&admin_url, &name);
            (Store::Postgres { admin_url, name }, url)
        }
        _ => {
            let dir = std::env::temp_dir().join(format!("clientele-test-{id}"));
            let url = format!("sqlite://{}", dir.join("test.db").display());
            (Store::Sqlite(dir), url)
        }
    }
}

/// Runs administrative SQL (CREATE/DROP DATABASE) outside any transaction.
fn postgres_admin(admin_url: &str) -> impl FnMut(&str) {
    use diesel_admin::run;
    let url = admin_url.to_owned();
    move |sql: &str| run(&url, sql)
}

mod diesel_admin {
    use clientele_persistence::connection::Target;
    use diesel::connection::SimpleConnection;

    pub fn run(url: &str, sql: &str) {
        let target = Target::parse(url).unwrap_or_else(|e| panic!("TEST_DATABASE_URL: {e}"));
        let mut conn = target
            .establish()
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL: {e}"));
        conn.batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// A running server with its own database and the demo data set.
pub struct TestServer {
    pub base: String,
    url: String,
    pub db: Db,
    handle: actix_web::dev::ServerHandle,
    store: Option<Store>,
    agent: ureq::Agent,
}

/// An answer: status, headers (lower-case names), body as JSON when it is JSON.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub text: String,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// A CSV answer's rows, each as its header's columns to its cells
    /// (for exports whose cells hold no comma or quote).
    pub fn csv_rows(&self) -> Vec<HashMap<String, String>> {
        let text = self.text.trim_start_matches('\u{feff}');
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
        lines
            .map(|line| {
                let cells: Vec<&str> = line.split(',').collect();
                assert_eq!(cells.len(), header.len(), "{line}");
                header
                    .iter()
                    .zip(cells)
                    .map(|(h, c)| ((*h).to_owned(), c.to_owned()))
                    .collect()
            })
            .collect()
    }

    /// A duplicate check's likely files: each file's id and its signs.
    pub fn likely_duplicates(&self) -> Vec<(String, Value)> {
        self.json["likely"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|l| {
                        (
                            l["file"]["id"].as_str().unwrap_or_default().to_owned(),
                            l["signs"].clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts an RFC 9457 problem with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(
            self.status, status,
            "expected {status} {code}, got {}: {}",
            self.status, self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "problem content type: {}",
            self.text
        );
        assert_eq!(self.json["status"], status, "{}", self.text);
        assert_eq!(self.json["code"], code, "{}", self.text);
        assert!(
            self.json["title"].is_string()
                && self.json["detail"].is_string()
                && self.json["type"].is_string()
        );
    }

    /// Asserts a problem with this status and code whose first field
    /// error names `field` (with `field_code` as its code).
    pub fn assert_refused_on(&self, status: u16, code: &str, field: &str, field_code: &str) {
        self.assert_problem(status, code);
        assert_eq!(self.json["errors"][0]["field"], field, "{}", self.text);
        assert_eq!(self.json["errors"][0]["code"], field_code, "{}", self.text);
    }
}

impl TestServer {
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    pub fn start_with(tune: impl FnOnce(&mut ApiConfig)) -> Self {
        let (store, url) = fresh_store();
        let db = connect(&url);
        migrate::run_pending(&db).unwrap_or_else(|e| panic!("migrate: {e}"));
        clientele_server::demo::seed(&db).unwrap_or_else(|e| panic!("seed: {e}"));
        let mut config = test_config();
        if let Store::Sqlite(dir) = &store {
            config.backups = Some(clientele_http::config::BackupPlace {
                database_url: url.clone(),
                dir: dir.join("backups"),
                keep: 2,
            });
        }
        tune(&mut config);
        Self::serve(url, db, config, Some(store))
    }

    /// A second server on this one's database, as a replica behind a load
    /// balancer is: its own process state, the same data. Drop it before
    /// this one, which owns the database.
    pub fn replica(&self) -> Self {
        Self::serve(self.url.clone(), connect(&self.url), test_config(), None)
    }

    fn serve(url: String, db: Db, config: ApiConfig, store: Option<Store>) -> Self {
        let state = AppState::new(db.clone(), config, Arc::new(SystemClock));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let (server, addr) = clientele_http::start(state, "127.0.0.1:0", 2)
                    .unwrap_or_else(|e| panic!("start: {e}"));
                let _ = tx.send((server.handle(), addr));
                let _ = server.await;
            });
        });
        let (handle, addr) = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("server did not start: {e}"));
        Self {
            url,
            base: format!("http://{addr}"),
            db,
            handle,
            store,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends any request; `body` is sent as is with the given content type.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Resp {
        let mut req = self.agent.request(method, &self.url(path));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = match body {
            Some((ct, bytes)) => req.set("content-type", ct).send_bytes(bytes),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| {
                resp.header(&n)
                    .map(|v| (n.to_ascii_lowercase(), v.to_owned()))
            })
            .collect();
        let text = resp.into_string().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            json,
        }
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = extra.to_vec();
        if let Some(a) = &auth {
            headers.push(("authorization", a));
        }
        let bytes = body.map(|b| b.to_string().into_bytes());
        self.raw(
            method,
            path,
            &headers,
            bytes.as_deref().map(|b| ("application/json", b)),
        )
    }

    pub fn get(&self, path: &str, token: &str) -> Resp {
        self.call("GET", path, Some(token), None, &[])
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.call("POST", path, Some(token), Some(body), &[])
    }

    pub fn patch(&self, path: &str, token: &str, etag: &str, body: &Value) -> Resp {
        self.call(
            "PATCH",
            path,
            Some(token),
            Some(body),
            &[("if-match", etag)],
        )
    }

    /// `POST /customers/import` of a CSV text, as a dry run or a commit.
    pub fn import_csv(&self, token: &str, csv: &str, dry_run: bool) -> Resp {
        self.upload_csv("/api/v1/customers/import", token, csv, dry_run)
    }

    /// `POST /customers/contacts/import` of a CSV text, as a dry run or a commit.
    pub fn import_contacts_csv(&self, token: &str, csv: &str, dry_run: bool) -> Resp {
        self.upload_csv("/api/v1/customers/contacts/import", token, csv, dry_run)
    }

    fn upload_csv(&self, path: &str, token: &str, csv: &str, dry_run: bool) -> Resp {
        let auth = format!("Bearer {token}");
        self.raw(
            "POST",
            &format!("{path}?dry_run={dry_run}"),
            &[("authorization", &auth)],
            Some(("text/csv", csv.as_bytes())),
        )
    }

    /// Signs in with the password grant; the whole token answer.
    pub fn password_grant(&self, username: &str, password: &str) -> Resp {
        self.call(
            "POST",
            "/api/v1/auth/token",
            None,
            Some(&serde_json::json!({"grant_type": "password", "username": username, "password": password})),
            &[],
        )
    }

    /// An access token for a demo user.
    pub fn token(&self, username: &str) -> String {
        let r = self.password_grant(username, DEMO_PASSWORD);
        assert_eq!(r.status, 200, "sign in {username}: {}", r.text);
        r.json["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The archive as an older version of the application left it, then
    /// upgraded: reverts the migrations, newest first, down to `version`
    /// (itself included), and runs them again with what follows them
    /// (`migrate::run_pending`).
    pub fn upgrade_from(&self, version: &str) {
        while clientele_persistence::migrate::revert_last(&self.db)
            .unwrap_or_else(|e| panic!("{e}"))
            != version
        {}
        clientele_persistence::migrate::run_pending(&self.db).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Adds a contact to `file` as `token` (it must be taken: 201); its id.
    pub fn add_contact(&self, token: &str, file: &str, body: Value) -> String {
        let made = self.post(&format!("/api/v1/customers/{file}/contacts"), token, &body);
        assert_eq!(made.status, 201, "{}", made.text);
        made.json["id"].as_str().unwrap_or_default().to_owned()
    }

    /// The newest change in `file`'s history of field `field` of
    /// `entity_id` (the file or one of its parts); empty when there is none.
    pub fn change_of(&self, token: &str, file: &str, entity_id: &str, field: &str) -> String {
        let h = self.get(
            &format!("/api/v1/customers/{file}/history?limit=200"),
            token,
        );
        h.json["items"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|e| e["entity_id"] == entity_id && e["field"] == field)
                    .and_then(|e| e["id"].as_str().map(str::to_owned))
            })
            .unwrap_or_default()
    }

    /// Reverts `change` of `file`'s history as `token`, with `If-Match`.
    pub fn revert(&self, token: &str, file: &str, change: &str, etag: &str) -> Resp {
        self.call(
            "POST",
            &format!("/api/v1/customers/{file}/history/{change}/revert"),
            Some(token),
            None,
            &[("if-match", etag)],
        )
    }

    /// Opens a private customer's file by this name as `token`; its id.
    pub fn private_file(&self, token: &str, name: &str) -> String {
        let made = self.post(
            "/api/v1/customers",
            token,
            &serde_json::json!({"name": name, "nature": "private"}),
        );
        assert_eq!(made.status, 201, "{name}: {}", made.text);
        made.json["id"].as_str().unwrap_or_default().to_owned()
    }

    pub fn unit_id(&self, code: &str) -> String {
        let owned = code.to_owned();
        self.db
            .read(move |c| clientele_persistence::units::find_by_code(c, &owned))
            .ok()
            .flatten()
            .map(|u| u.id)
            .unwrap_or_else(|| panic!("no unit {code}"))
    }

    /// The id of a user by username.
    pub fn user_id(&self, username: &str) -> String {
        let name = username.to_owned();
        self.db
            .read(move |c| clientele_persistence::users::credentials(c, &name))
            .ok()
            .flatten()
            .map(|u| u.id)
            .unwrap_or_else(|| panic!("no user {username}"))
    }

    /// The topics of the outbox events of one file, oldest first.
    pub fn customer_event_topics(&self, id: &str) -> Vec<String> {
        let id = id.to_owned();
        self.db
            .read(move |c| clientele_persistence::outbox::for_entity(c, "customer", &id))
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.topic)
            .collect()
    }

    /// Rows in the audit log: a write that fails must not add one.
    pub fn audit_count(&self) -> i64 {
        use diesel::prelude::*;
        self.db
            .read(|c| {
                Ok(clientele_persistence::schema::audit_log::table
                    .count()
                    .get_result::<i64>(c)?)
            })
            .unwrap_or(-1)
    }
}

/// The API's settings in tests: small body limits, to reach them cheaply.
fn test_config() -> ApiConfig {
    let mut config = ApiConfig::with_secret(SECRET.as_bytes().to_vec());
    config.max_body_bytes = 64 * 1024;
    config.max_import_bytes = 256 * 1024;
    config
}

fn connect(url: &str) -> Db {
    Db::connect(&DbSettings {
        url: url.to_owned(),
        pool_size: 4,
        connect_timeout: Duration::from_secs(10),
    })
    .unwrap_or_else(|e| panic!("connect: {e}"))
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::System::new().block_on(handle.stop(false));
        match self.store.take() {
            Some(Store::Sqlite(dir)) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Some(Store::Postgres { admin_url, name }) => {
                let mut admin = postgres_admin(&admin_url);
                admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
            None => {}
        }
    }
}

impl TestServer {
    /// The database URL this server runs on.
    pub fn database_url(&self) -> String {
        self.url.clone()
    }

    /// An access token for any account.
    pub fn token_with(&self, username: &str, password: &str) -> String {
        let r = self.password_grant(username, password);
        assert_eq!(r.status, 200, "sign in {username}: {}", r.text);
        r.json["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// A repeatable stream of choices for one client of a load (xorshift).
pub struct Draw(u64);

impl Draw {
    pub fn new(client: u64) -> Self {
        Self(0x9E37_79B9_7F4A_7C15 ^ (client + 1).wrapping_mul(0xA24B))
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Runs `clients` threads side by side, each calling `op(client, step,
/// draw)` `steps` times with a [`Draw`] of its own; returns what the calls
/// reported as failures (and a client that panicked).
pub fn side_by_side(
    clients: u64,
    steps: u64,
    op: impl Fn(u64, u64, &mut Draw) -> Option<String> + Sync,
) -> Vec<String> {
    std::thread::scope(|sc| {
        let handles: Vec<_> = (0..clients)
            .map(|client| {
                let op = &op;
                sc.spawn(move || {
                    let mut draw = Draw::new(client);
                    (0..steps)
                        .filter_map(|step| op(client, step, &mut draw))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec!["a client panicked".into()])
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced_in_urls() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h/db?sslmode=require", "x"),
            "postgres://u@h/x?sslmode=require"
        );
    }
}
