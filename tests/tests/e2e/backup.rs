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
    let db = clientele_persistence::Db::connect(&settings.db()).unwrap_or_else(|e| panic!("{e}"));
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
        db.read(move |c| list(c, &scope, &filter, sort, 20, None))
            .map(|p| p.items.len())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(named("备份"), 1);
    assert_eq!(named("备份验证"), 1);
    assert_eq!(named("验证有限"), 1);
    assert!(clientele_server::backups::restore(&settings, &dir.join("missing.db")).is_err());
    let _ = std::fs::remove_dir_all(dir);
}
