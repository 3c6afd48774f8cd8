//! How `clientele serve` starts, as an operator starts it.

use std::process::Command;

/// A server whose address is taken (a second server started on the same
/// machine by mistake) stops before it touches its database: no
/// migration, no demo data, no start-up backup.
#[test]
fn a_server_whose_address_is_taken_stops_before_its_database() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = taken.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let data =
        std::env::temp_dir().join(format!("clientele-start-up-{}", clientele_core::new_id()));
    let out = Command::new(env!("CARGO_BIN_EXE_clientele"))
        .args(["serve", "--demo"])
        .env_remove("DATABASE_URL")
        .env("CLIENTELE_DATA_DIR", &data)
        .env("CLIENTELE_BIND", addr.to_string())
        .output()
        .unwrap_or_else(|e| panic!("run clientele: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("cannot listen on"), "{stderr}");
    assert!(!data.join("clientele.db").exists(), "the database was made");
    assert!(!data.join("backups").exists(), "a backup was taken");
    let _ = std::fs::remove_dir_all(&data);
}
