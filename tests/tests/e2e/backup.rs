//! Backups (CUS-11): a consistent copy while the server runs, and restoring it.

use clientele_e2e::TestServer;
use serde_json::json;

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
