//! Shared API machinery: keyset paging, ETag/If-Match, Idempotency-Key,
//! pooled connections, migrations both ways.

use clientele_e2e::TestServer;
use serde_json::json;

#[test]
fn keyset_pages_walk_every_row_once() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let hq = s.unit_id("HQ");
    for i in 0..7 {
        let r = s.post("/api/v1/units", &admin, &json!({"parent_id": hq, "code": format!("P{i}"), "name": "同名项目组", "kind": "branch"}));
        assert_eq!(r.status, 201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/units?limit=3&cursor={c}"),
            None => "/api/v1/units?limit=3".to_owned(),
        };
        let page = s.get(&path, &admin);
        assert_eq!(page.status, 200, "{}", page.text);
        let items = page.json["items"].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= 3);
        seen.extend(
            items
                .iter()
                .filter_map(|u| u["id"].as_str().map(str::to_owned)),
        );
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let total = 9 + 7;
    assert_eq!(seen.len(), total, "every unit once");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), total, "no unit twice, even with equal names");

    s.get("/api/v1/units?cursor=garbage", &admin)
        .assert_problem(400, "invalid_cursor");
    s.get("/api/v1/units?limit=0", &admin)
        .assert_problem(400, "invalid_query");
    s.get("/api/v1/units?limit=201", &admin)
        .assert_problem(400, "invalid_query");
    s.get("/api/v1/units?limit=abc", &admin)
        .assert_problem(400, "invalid_query");
    s.get("/api/v1/units?kind=castle", &admin)
        .assert_problem(400, "invalid_query");
}

#[test]
fn if_match_stops_a_lost_update() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let id = s.unit_id("SH");
    let read = s.get(&format!("/api/v1/units/{id}"), &admin);
    let etag = read.header("etag").unwrap_or_default().to_owned();
    assert_eq!(etag, "\"1\"");
    // Two editors read version 1; both try to write, at the same time.
    let path = format!("/api/v1/units/{id}");
    let statuses: Vec<u16> = std::thread::scope(|sc| {
        let a = sc.spawn(|| {
            s.patch(&path, &admin, &etag, &json!({"name": "上海子公司 A"}))
                .status
        });
        let b = sc.spawn(|| {
            s.patch(&path, &admin, &etag, &json!({"name": "上海子公司 B"}))
                .status
        });
        vec![a.join().unwrap_or(0), b.join().unwrap_or(0)]
    });
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec![200, 412],
        "one wins, the other is told: {statuses:?}"
    );
    let now = s.get(&path, &admin);
    assert_eq!(now.header("etag"), Some("\"2\""));
    // Missing, weak and malformed If-Match.
    s.call(
        "PATCH",
        &path,
        Some(&admin),
        Some(&json!({"name": "x"})),
        &[],
    )
    .assert_problem(428, "precondition_required");
    s.patch(&path, &admin, "W/\"2\"", &json!({"name": "x"}))
        .assert_problem(412, "precondition_failed");
    s.patch(&path, &admin, "2", &json!({"name": "x"}))
        .assert_problem(400, "invalid_header");
    assert_eq!(
        s.get(&path, &admin).json["version"],
        2,
        "refused updates change nothing"
    );
}

#[test]
fn idempotency_key_makes_retries_safe() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let hq = s.unit_id("HQ");
    let body = json!({"parent_id": hq, "code": "WH", "name": "武汉分公司", "kind": "branch"});
    let key = [("idempotency-key", "mobile-retry-1")];
    let first = s.call("POST", "/api/v1/units", Some(&admin), Some(&body), &key);
    assert_eq!(first.status, 201, "{}", first.text);
    let again = s.call("POST", "/api/v1/units", Some(&admin), Some(&body), &key);
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.json["id"], first.json["id"]);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    let listed = s.get("/api/v1/units?q=WH", &admin);
    assert_eq!(
        listed.json["items"].as_array().map(Vec::len),
        Some(1),
        "created once"
    );
    // Same key, another body.
    let other = json!({"parent_id": hq, "code": "WH2", "name": "武汉二", "kind": "branch"});
    s.call("POST", "/api/v1/units", Some(&admin), Some(&other), &key)
        .assert_problem(422, "idempotency_key_reused");
    // A failed request does not use up its key.
    let bad = json!({"parent_id": hq, "code": "", "name": "x", "kind": "branch"});
    let k2 = [("idempotency-key", "mobile-retry-2")];
    s.call("POST", "/api/v1/units", Some(&admin), Some(&bad), &k2)
        .assert_problem(422, "validation_failed");
    let fixed = s.call("POST", "/api/v1/units", Some(&admin), Some(&other), &k2);
    assert_eq!(fixed.status, 201, "{}", fixed.text);
    // Keys belong to the principal who used them: another account's retry runs on its own.
    let other_admin = s.token("demo.admin");
    assert_ne!(other_admin, admin);
    let long_key = "k".repeat(256);
    s.call(
        "POST",
        "/api/v1/units",
        Some(&admin),
        Some(&body),
        &[("idempotency-key", &long_key)],
    )
    .assert_problem(400, "invalid_header");
}

/// An answer holding a secret shown once (a service account's, a webhook's)
/// is not kept for replay, so the secret is never stored in the clear; a
/// retry still does not create a second one: it is told where the first is.
#[test]
fn idempotent_retries_never_store_or_replay_a_secret() {
    use clientele_persistence::schema::idempotency_keys;
    use diesel::prelude::*;
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    for (path, body) in [
        (
            "/api/v1/service-accounts",
            json!({"client_id": "erp.idem", "display_name": "ERP", "unit_id": s.unit_id("HQ")}),
        ),
        (
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/in", "topics": ["customer.*"]}),
        ),
    ] {
        let key = [("idempotency-key", "secret-retry")];
        let first = s.call("POST", path, Some(&admin), Some(&body), &key);
        assert_eq!(first.status, 201, "{}", first.text);
        assert_eq!(first.header("cache-control"), Some("no-store"));
        let secret = ["client_secret", "secret"]
            .iter()
            .find_map(|k| first.json[*k].as_str())
            .unwrap_or_default()
            .to_owned();
        assert!(secret.len() > 20, "{}", first.text);
        let again = s.call("POST", path, Some(&admin), Some(&body), &key);
        again.assert_problem(409, "secret_not_replayed");
        assert!(!again.text.contains(&secret));
        assert_eq!(again.header("location"), first.header("location"));
        let stored =
            s.db.read(|c| {
                Ok(idempotency_keys::table
                    .select(idempotency_keys::response_body)
                    .load::<Option<String>>(c)?)
            })
            .unwrap_or_default();
        assert!(
            stored.iter().flatten().all(|b| !b.contains(&secret)),
            "a secret was kept: {stored:?}"
        );
        s.db.write(|c| Ok(diesel::delete(idempotency_keys::table).execute(c)?))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// PostgreSQL sessions ask for untranslated messages, by which the errors
/// diesel does not classify are known (a deadlock, a connection ended);
/// an account that may not change that still connects.
#[test]
fn postgresql_sessions_word_errors_in_english_where_they_may() {
    use clientele_persistence::connection::{execute_batch, Target};
    use diesel::prelude::*;
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return;
    }
    let url = s.database_url();
    let language = |url: &str| -> String {
        let target = Target::parse(url).unwrap_or_else(|e| panic!("{e}"));
        match target.establish().unwrap_or_else(|e| panic!("{e}")) {
            clientele_persistence::DbConn::Pg(mut pg) => {
                diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
                    "current_setting('lc_messages')",
                ))
                .get_result(&mut pg)
                .unwrap_or_else(|e| panic!("{e}"))
            }
            clientele_persistence::DbConn::Sqlite(_) => unreachable!("a PostgreSQL target"),
        }
    };
    assert_eq!(language(&url), "C");
    // A plain account (no right to set lc_messages) connects all the same.
    let role = format!("clientele_plain_{}", std::process::id());
    let admin = || {
        Target::parse(&url)
            .unwrap_or_else(|e| panic!("{e}"))
            .establish()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    execute_batch(admin(), &format!("CREATE ROLE {role} LOGIN")).unwrap_or_else(|e| panic!("{e}"));
    let plain_url = url.replacen("://postgres@", &format!("://{role}@"), 1);
    let plain = std::panic::catch_unwind(|| language(&plain_url));
    execute_batch(admin(), &format!("DROP ROLE {role}")).unwrap_or_else(|e| panic!("{e}"));
    assert!(plain.is_ok(), "a plain account could not connect");
}

#[test]
fn pooled_connections_recover_when_postgresql_drops_them() {
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return; // only a database server can drop a connection under us
    }
    // Open every pooled connection, then have the server end them all.
    let held: Vec<_> = (0..4).map(|_| s.db.ping()).collect();
    assert!(held.iter().all(Result::is_ok));
    let target = clientele_persistence::connection::Target::parse(&s.database_url())
        .unwrap_or_else(|e| panic!("{e}"));
    let admin = target.establish().unwrap_or_else(|e| panic!("{e}"));
    clientele_persistence::connection::execute_batch(
        admin,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // A dead connection fails one request (503), then is replaced.
    let failures = (0..12).filter(|_| s.db.ping().is_err()).count();
    assert!(failures <= 4, "{failures} failures for a pool of 4");
    for _ in 0..8 {
        assert!(s.db.ping().is_ok(), "the pool holds no dead connection");
    }
}

/// List pages whose filters are unselective run on PostgreSQL connections
/// that plan each statement once, once their values are known to be
/// common; everything else keeps PostgreSQL's planning by value. Both
/// kinds of list answer the same files.
#[test]
fn list_pages_are_planned_once_unless_a_filter_is_selective() {
    use clientele_persistence::customers::{CustomerFilter, ListScope};
    use clientele_persistence::list_routes::{Probe, Route, Shares};
    use clientele_persistence::{DbConn, Plans};
    let unselective = CustomerFilter {
        status: Some("active".into()),
        region_prefix: Some("11".into()),
        nature: Some("private".into()),
        ..CustomerFilter::default()
    };
    let s = TestServer::start();
    let scope = ListScope {
        unit_path: None,
        clearance_rank: i32::MAX,
    };
    // Values not counted yet are planned for what they are; a list without
    // such filters needs no count.
    let shares = Shares::default();
    assert_eq!(unselective.plans(&shares, &scope), Plans::ByValue);
    assert_eq!(
        CustomerFilter::default().plans(&shares, &scope),
        Plans::Generic
    );
    // The demo archive is small: every value is rare there, and gathered.
    let route =
        s.db.read(|c| shares.route(c, &scope, &unselective.probes()));
    assert!(matches!(route, Ok(Route::Gather(_))), "{route:?}");
    assert_eq!(unselective.plans(&shares, &scope), Plans::ByValue);
    // Where many files hold every value, one plan serves them all.
    let admin = s.token("demo.admin");
    let mut csv = String::from("external_id,name,nature,region_code,status\n");
    for k in 0..300 {
        csv.push_str(&format!(
            "PLAN-{k:03},计划测试{k:03}号有限公司,private,110105,active\n"
        ));
    }
    let imported = s.import_csv(&admin, &csv, false);
    assert_eq!(imported.status, 200, "{}", imported.text);
    let shares = Shares::default();
    let route =
        s.db.read(|c| shares.route(c, &scope, &unselective.probes()));
    assert_eq!(route.ok(), Some(Route::Walk));
    assert_eq!(unselective.plans(&shares, &scope), Plans::Generic);
    assert_eq!(
        shares.remembered(&scope, &[Probe::Status("active".into())]),
        Some(Route::Walk)
    );
    for selective in [
        CustomerFilter {
            tag: Some("vip".into()),
            ..unselective.clone()
        },
        CustomerFilter {
            updated_since: Some(chrono::Utc::now().naive_utc()),
            ..unselective.clone()
        },
        CustomerFilter {
            owner_user_id: Some("u".into()),
            ..unselective.clone()
        },
        CustomerFilter {
            unit_path: Some("/a/b/".into()),
            ..unselective.clone()
        },
        // A part of a name: PostgreSQL's trigram indexes need its value.
        CustomerFilter {
            name_contains: Some("华联".into()),
            ..unselective.clone()
        },
        CustomerFilter {
            quick: Some("bjhl".into()),
            ..unselective.clone()
        },
    ] {
        assert_eq!(
            selective.plans(&shares, &scope),
            Plans::ByValue,
            "{selective:?}"
        );
    }

    let manager = s.token("demo.manager.bj");
    let all = s.get("/api/v1/customers?limit=100", &manager);
    assert_eq!(all.status, 200, "{}", all.text);
    let active = all.json["items"]
        .as_array()
        .map(|v| v.iter().filter(|c| c["status"] == "active").count())
        .unwrap_or_default();
    assert!(active > 0, "{}", all.text);
    let page = s.get("/api/v1/customers?status=active&limit=100", &manager);
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.json["items"].as_array().map(Vec::len), Some(active));
    let since = s.get(
        "/api/v1/customers?status=active&updated_since=2000-01-01T00:00:00Z&limit=100",
        &manager,
    );
    assert_eq!(since.status, 200, "{}", since.text);
    assert_eq!(since.json["items"].as_array().map(Vec::len), Some(active));

    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return; // SQLite plans each prepared statement once anyway
    }
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        mode: String,
    }
    let setting = |plans: Plans, name: &str| {
        s.db.read_with(plans, |c| match c {
            DbConn::Pg(pg) => {
                use diesel::RunQueryDsl;
                diesel::sql_query(format!("SELECT current_setting('{name}') AS mode"))
                    .get_result::<Setting>(pg)
                    .map(|s| s.mode)
                    .map_err(Into::into)
            }
            DbConn::Sqlite(_) => Ok(String::new()),
        })
        .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(
        setting(Plans::Generic, "plan_cache_mode"),
        "force_generic_plan"
    );
    assert_eq!(setting(Plans::ByValue, "plan_cache_mode"), "auto");
    // Lists of common values walk their order's index: a generic plan
    // that guessed them rare gathered and sorted every file in sight
    // (14 ms a page at 10 000 files, against 0.09 ms walking).
    assert_eq!(setting(Plans::Generic, "enable_sort"), "off");
    assert_eq!(setting(Plans::ByValue, "enable_sort"), "on");
    // Nor do pages wait for parallel workers to start (a rare search part
    // at a million files: 13 ms with them, under 2 ms without).
    for plans in [Plans::Generic, Plans::ByValue] {
        assert_eq!(setting(plans, "max_parallel_workers_per_gather"), "0");
    }
}

/// An answered write is on the disk (CUS-08: register entries are never
/// lost): every SQLite connection flushes the log at each commit, not only
/// at checkpoints, so a power loss cannot roll back what was acknowledged.
#[test]
fn r_cus_08_sqlite_commits_are_flushed_before_the_answer() {
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Sqlite {
        return; // PostgreSQL's synchronous_commit is the server's
    }
    #[derive(diesel::QueryableByName)]
    struct Sync {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        synchronous: i32,
    }
    // The database file and the read register's own file alike.
    for schema in ["main", "register"] {
        for _ in 0..4 {
            let level = s.db.read(move |c| {
                use diesel::RunQueryDsl;
                diesel::sql_query(format!("PRAGMA {schema}.synchronous"))
                    .get_result::<Sync>(c)
                    .map(|s| s.synchronous)
                    .map_err(Into::into)
            });
            assert_eq!(level.ok(), Some(2), "{schema}: 2 is FULL");
        }
    }
}

/// The SQLite write-ahead log must start over even while reads never pause
/// (each reader pins the log as it began) and a writer keeps writing;
/// otherwise it grows without end. 96 MB written in small commits (paced a
/// little, as requests are) beside a reader that never stops: the log stays
/// near the 16 MB at which the background checkpoint restarts it (44 MB at
/// worst seen with the whole suite running beside it; without the restart
/// it grows past the 96 MB written).
#[test]
fn sqlite_log_stays_bounded_under_endless_reads() {
    use diesel::connection::SimpleConnection;
    let s = TestServer::start();
    let url = s.database_url();
    let Some(path) = url.strip_prefix("sqlite://") else {
        return; // PostgreSQL manages its own log.
    };
    let wal = format!("{path}-wal");
    let made = s.db.write(|c| {
        c.batch_execute("CREATE TABLE scratch (b BLOB NOT NULL)")
            .map_err(Into::into)
    });
    assert!(made.is_ok(), "{made:?}");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (db, stop) = (s.db.clone(), std::sync::Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = db.read(|c| {
                    c.batch_execute("SELECT count(*) FROM scratch")
                        .map_err(Into::into)
                });
            }
        })
    };
    let mut largest = 0;
    for _ in 0..4_000 {
        let wrote = s.db.write(|c| {
            c.batch_execute("INSERT INTO scratch (b) VALUES (randomblob(24000))")
                .map_err(Into::into)
        });
        assert!(wrote.is_ok(), "{wrote:?}");
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().is_ok());
    assert!(
        largest < 64 * 1024 * 1024,
        "the log grew to {largest} bytes for 96 MB written"
    );
}

/// The register finds a grant's reads by an index of its own, on SQLite in
/// the register's file (where no migration can put it), and the query
/// takes it rather than walking the register.
#[test]
fn r_cus_08_the_register_finds_a_grant_by_its_index() {
    use clientele_persistence::BackendKind;
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }
    let s = TestServer::start();
    let sql = match s.db.kind() {
        BackendKind::Sqlite => {
            "EXPLAIN QUERY PLAN SELECT id FROM read_register \
             WHERE grant_id = 'g' ORDER BY id DESC LIMIT 21"
        }
        BackendKind::Postgres => {
            "SELECT indexdef AS detail FROM pg_indexes WHERE indexname = 'ix_read_register_grant'"
        }
    };
    let lines = s.db.read(move |c| {
        use diesel::RunQueryDsl;
        diesel::sql_query(sql).load::<Line>(c).map_err(Into::into)
    });
    let text = lines
        .map(|l| {
            l.into_iter()
                .map(|l| l.detail)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(text.contains("ix_read_register_grant"), "{text}");
    if s.db.kind() == BackendKind::Postgres {
        assert!(text.contains("WHERE (grant_id IS NOT NULL)"), "{text}");
    }
}

/// Every migration goes both ways: all of them revert (newest first, on a
/// database holding the demo data) and apply again, leaving nothing pending.
#[test]
fn every_migration_reverts_and_applies_again() {
    use clientele_persistence::migrate;
    let s = TestServer::start();
    let applied = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(applied >= 11);
    let reverted = migrate::revert_all(&s.db).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reverted.len(), applied, "{reverted:?}");
    assert_eq!(migrate::pending(&s.db).map(|p| p.len()).ok(), Some(applied));
    let again = migrate::run_pending(&s.db).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.len(), applied);
    assert_eq!(migrate::pending(&s.db).map(|p| p.len()).ok(), Some(0));
}
