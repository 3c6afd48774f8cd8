//! Backups (CUS-11): a consistent copy while the server runs, and restoring it.

use clientele_e2e::TestServer;
use serde_json::{json, Value};

#[test]
fn r_cus_11_backup_while_serving_and_restore() {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        // PostgreSQL is backed up with pg_dump; the command refuses it.
        let s = TestServer::start();
        let _ = s;
        let url = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
        let dest = std::env::temp_dir().join(format!("clientele-pg-{}.db", uuid::Uuid::now_v7()));
        assert!(clientele_persistence::backup::sqlite_copy(&url, &dest).is_err());
        return;
    }
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "北京备份验证有限公司", "nature": "private"}),
    );
    assert_eq!(made.status, 201);
    let id = made.json["id"].as_str().unwrap_or_default().to_owned();
    // Its read goes to the register's own file, and into the copy with it.
    assert_eq!(s.get(&format!("/api/v1/customers/{id}"), &am).status, 200);
    let url = s.database_url();
    let dir = std::env::temp_dir().join(format!("clientele-backup-{}", uuid::Uuid::now_v7()));
    let copy = dir.join("copy.db");
    // Writes keep coming while the copy is taken.
    std::thread::scope(|sc| {
        let writer = sc.spawn(|| {
            for i in 0..10 {
                let r = s.post(
                    "/api/v1/customers",
                    &am,
                    &json!({"name": format!("并发写入{i}有限公司"), "nature": "private"}),
                );
                assert_eq!(r.status, 201);
            }
        });
        clientele_persistence::backup::sqlite_copy(&url, &copy).unwrap_or_else(|e| panic!("{e}"));
        let _ = writer.join();
    });
    assert!(
        clientele_persistence::backup::sqlite_copy(&url, &copy).is_err(),
        "an existing file is not overwritten"
    );
    // Restore the copy over a new database file and read the customer back.
    let restored_db = dir.join("restored.db");
    let vars = [
        (
            "DATABASE_URL",
            format!("sqlite://{}", restored_db.display()),
        ),
        ("CLIENTELE_JWT_SECRET", "x".repeat(40)),
    ];
    let settings = clientele_server::config::Settings::load(|k| {
        vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    clientele_server::backups::restore(&settings, &copy).unwrap_or_else(|e| panic!("{e}"));
    // The copy is one file: it holds the register's tables itself.
    {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut alone = clientele_persistence::connection::open_sqlite(&copy.to_string_lossy())
            .unwrap_or_else(|e| panic!("{e}"));
        let reads = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM read_register WHERE customer_ids LIKE '%{id}%'"
        ))
        .get_result::<Count>(&mut alone)
        .map(|c| c.n);
        assert!(reads.as_ref().is_ok_and(|n| *n >= 1), "{reads:?}");
    }
    let db = clientele_persistence::Db::connect(&settings.db()).unwrap_or_else(|e| panic!("{e}"));
    // At start the restored register moves to its own file again.
    clientele_persistence::migrate::run_pending(&db).unwrap_or_else(|e| panic!("{e}"));
    let register =
        clientele_persistence::register_file::path_beside(&restored_db.to_string_lossy());
    assert!(std::path::Path::new(&register).is_file(), "{register}");
    let entries = {
        let f = clientele_persistence::customer_access::AccessFilter {
            customer_id: Some(id.clone()),
            action: Some("read".into()),
            ..Default::default()
        };
        db.write_register(move |c| {
            clientele_persistence::customer_access::index_pending(c)?;
            clientele_persistence::customer_access::list(c, &f, 20, None)
        })
        .map(|p| p.items.len())
    };
    assert_eq!(entries.ok(), Some(1), "the read came back with the copy");
    let found = db
        .read(move |c| clientele_persistence::customers::get(c, &id))
        .map(|v| v.row.name);
    assert_eq!(found.ok().as_deref(), Some("北京备份验证有限公司"));
    // Its search indexes came along: parts of two characters and more find it.
    use clientele_persistence::customers::{list, CustomerFilter, ListScope, Sort, SortKey};
    let named = |part: &str| {
        let filter = CustomerFilter {
            name_contains: Some(part.to_owned()),
            ..CustomerFilter::default()
        };
        let scope = ListScope {
            unit_path: None,
            clearance_rank: i32::MAX,
        };
        let sort = Sort {
            key: SortKey::Name,
            descending: false,
        };
        let shares = std::sync::Arc::clone(db.shares());
        db.read(move |c| list(c, &shares, &scope, &filter, sort, 20, None))
            .map(|p| p.items.len())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(named("备份"), 1);
    assert_eq!(named("备份验证"), 1);
    assert_eq!(named("验证有限"), 1);
    assert!(clientele_server::backups::restore(&settings, &dir.join("missing.db")).is_err());
    // A database whose register's file went missing does not start with an
    // empty register.
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{register}{suffix}"));
    }
    let db = clientele_persistence::Db::connect(&settings.db()).unwrap_or_else(|e| panic!("{e}"));
    let refused = clientele_persistence::migrate::run_pending(&db);
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains(&register)),
        "{refused:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// "Important data at once": an administrator takes a copy through the API
/// before an important change, sees the copies kept (the newest few, as the
/// schedule keeps them), and the copy holds the archive as it was. Others
/// may not; PostgreSQL is backed up with its own tools.
#[test]
fn r_cus_11_an_administrator_takes_a_copy_at_once() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let on_postgres = std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty());
    s.call("POST", "/api/v1/backups", None, None, &[])
        .assert_problem(401, "unauthorized");
    s.call(
        "POST",
        "/api/v1/backups",
        Some(&s.token("demo.manager.bj")),
        None,
        &[],
    )
    .assert_problem(403, "forbidden");
    s.get("/api/v1/backups", &s.token("demo.am.bj"))
        .assert_problem(403, "forbidden");
    let audit_before = s.audit_count();
    let take = || s.call("POST", "/api/v1/backups", Some(&admin), None, &[]);
    if on_postgres {
        take().assert_problem(409, "backups_elsewhere");
        let listed = s.get("/api/v1/backups", &admin);
        assert_eq!(listed.status, 200, "{}", listed.text);
        assert_eq!(listed.json["backend"], "postgres");
        assert_eq!(listed.json["copies"], json!([]));
        assert_eq!(s.audit_count(), audit_before);
        return;
    }
    let first = take();
    assert_eq!(first.status, 201, "{}", first.text);
    assert!(first.json["size_bytes"].as_u64().is_some_and(|n| n > 0));
    // A second within the same second is refused; the next second's is taken.
    let again = take();
    if again.status == 409 {
        again.assert_problem(409, "backup_exists");
    }
    let mut names = vec![first.json["name"].clone()];
    for _ in 0..2 {
        std::thread::sleep(std::time::Duration::from_millis(1_100));
        let next = take();
        assert_eq!(next.status, 201, "{}", next.text);
        names.push(next.json["name"].clone());
    }
    // Two are kept (the test server's setting), newest first.
    let listed = s.get("/api/v1/backups", &s.token("demo.auditor"));
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.json["backend"], "sqlite");
    assert_eq!(listed.json["keep"], 2);
    let kept: Vec<Value> = listed.json["copies"]
        .as_array()
        .map(|a| a.iter().map(|c| c["name"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(
        kept,
        [names[2].clone(), names[1].clone()],
        "{}",
        listed.text
    );
    // Each is in the audit log, with who took it.
    assert!(s.audit_count() >= audit_before + 3);
    // The copy is the archive: the demo's files are in it.
    let dir = std::path::PathBuf::from(
        s.database_url()
            .trim_start_matches("sqlite://")
            .trim_end_matches("test.db"),
    )
    .join("backups")
    .join(names[2].as_str().unwrap_or_default());
    let copy = clientele_persistence::Db::connect(&clientele_persistence::DbSettings {
        url: format!("sqlite://{}", dir.display()),
        pool_size: 1,
        connect_timeout: std::time::Duration::from_secs(5),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let files: i64 = copy
        .read(|c| {
            use clientele_persistence::schema::customers;
            use diesel::prelude::*;
            Ok(customers::table.count().get_result(c)?)
        })
        .unwrap_or_default();
    assert!(files > 0, "the copy holds the files");
}
