//! The binary's libpq is built with TLS: `sslmode=require` works on a
//! fresh machine without system libraries.

#[test]
fn postgres_connections_can_require_tls() {
    use clientele_persistence::connection::Target;
    use diesel::connection::SimpleConnection;
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        return;
    };
    if url.is_empty() {
        return;
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    let tls_url = format!("{url}{sep}sslmode=require");
    let target = Target::parse(&tls_url).unwrap_or_else(|e| panic!("{e}"));
    let plain = Target::parse(&url).unwrap_or_else(|e| panic!("{e}"));
    let mut probe = plain.establish().unwrap_or_else(|e| panic!("{e}"));
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        ssl: String,
    }
    use diesel::RunQueryDsl;
    let rows: Vec<Setting> = diesel::sql_query("SHOW ssl")
        .load(&mut probe)
        .unwrap_or_default();
    let server_has_tls = rows.first().is_some_and(|r| r.ssl == "on");
    match target.establish() {
        Ok(mut conn) => {
            assert!(server_has_tls);
            conn.batch_execute("SELECT 1")
                .unwrap_or_else(|e| panic!("{e}"));
        }
        Err(e) => {
            // Without TLS on the server the refusal must come from the server, not from a libpq built without TLS.
            assert!(!server_has_tls, "TLS connection failed: {e}");
            assert!(!e.to_string().contains("not compiled in"), "{e}");
        }
    }
}
