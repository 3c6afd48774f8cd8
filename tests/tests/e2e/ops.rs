//! Health, readiness, metrics, docs, request ids, browser origins.

use clientele_e2e::TestServer;

#[test]
fn healthz_readyz_and_metrics() {
    let s = TestServer::start();
    let h = s.raw("GET", "/healthz", &[], None);
    assert_eq!(h.status, 200);
    assert_eq!(h.json["status"], "ok");
    let r = s.raw("GET", "/readyz", &[], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "ready");
    let backend = if std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(r.json["database"], backend);
    let m = s.raw("GET", "/metrics", &[], None);
    assert_eq!(m.status, 200);
    assert!(m
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain")));
    assert!(
        m.text.contains(
            "clientele_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{}",
        m.text
    );
    assert!(m.text.contains(
        "clientele_http_request_duration_seconds_bucket{method=\"GET\",route=\"/readyz\""
    ));
    // How far a sync's moment lags: nothing is under way, so little; the
    // floors are exchanged on PostgreSQL only (at start, then 4 a second).
    let lag: f64 = m
        .text
        .lines()
        .find_map(|l| l.strip_prefix("clientele_changes_complete_lag_seconds "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::MAX);
    assert!((0.0..5.0).contains(&lag), "{lag}");
    let exchanged = m.text.lines().find_map(|l| {
        l.strip_prefix("clientele_sync_floor_exchanges_total{outcome=\"ok\"} ")
            .and_then(|v| v.parse::<u64>().ok())
    });
    if backend == "postgres" {
        assert!(exchanged.is_some_and(|n| n >= 1), "{}", m.text);
    } else {
        assert_eq!(exchanged, Some(0), "{}", m.text);
    }
}

#[test]
fn request_id_is_echoed_or_generated() {
    let s = TestServer::start();
    let mine = s.raw("GET", "/healthz", &[("x-request-id", "abc-123")], None);
    assert_eq!(mine.header("x-request-id"), Some("abc-123"));
    let made = s.raw("GET", "/healthz", &[], None);
    let id = made.header("x-request-id").unwrap_or_default();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    // A silly id is replaced, not echoed.
    let long = "x".repeat(300);
    let replaced = s.raw("GET", "/healthz", &[("x-request-id", &long)], None);
    assert_ne!(replaced.header("x-request-id"), Some(long.as_str()));
    // Problems carry it too.
    let p = s.raw(
        "GET",
        "/api/v1/nothing-here",
        &[("x-request-id", "req-42")],
        None,
    );
    assert_eq!(p.json["request_id"], "req-42");
}

#[test]
fn openapi_and_offline_docs_are_served() {
    let s = TestServer::start();
    let spec = s.raw("GET", "/openapi.json", &[], None);
    assert_eq!(spec.status, 200);
    assert_eq!(spec.json["openapi"], "3.1.0");
    assert!(spec.json["paths"]["/api/v1/auth/token"]["post"].is_object());
    assert!(spec.json["components"]["securitySchemes"]["bearer"].is_object());
    let docs = s.raw("GET", "/docs/", &[], None);
    assert_eq!(docs.status, 200);
    assert!(docs.text.contains("swagger"), "docs page");
    // The page's assets come from this server, not from the internet.
    assert!(!docs.text.contains("https://"), "docs must work offline");
    let js = s.raw("GET", "/docs/swagger-ui-bundle.js", &[], None);
    assert_eq!(js.status, 200);
    let redirect = s.raw("GET", "/docs", &[], None);
    assert_eq!(redirect.status, 200, "/docs redirects to the page");
}

/// A front-end served from another origin (configured) may send the
/// headers the API reads and read the headers it answers with: the
/// `ETag` to change a file, and a list's `X-Changes-Complete-Until` to
/// sync. Another origin gets no grant.
#[test]
fn a_browser_front_end_on_another_origin_reads_the_answer_headers() {
    let s = TestServer::start_with(|c| c.cors_origins = vec!["https://app.example.com".into()]);
    let admin = s.token("demo.admin");
    let bearer = format!("Bearer {admin}");
    let origin = ("origin", "https://app.example.com");
    let preflight = s.raw(
        "OPTIONS",
        "/api/v1/customers/01900000-0000-7000-8000-000000000000",
        &[
            origin,
            ("access-control-request-method", "PATCH"),
            (
                "access-control-request-headers",
                "authorization,content-type,if-match",
            ),
        ],
        None,
    );
    assert_eq!(preflight.status, 200, "{}", preflight.text);
    let allowed = preflight
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_owned();
    assert!(allowed.contains("if-match"), "{allowed}");
    let list = s.raw(
        "GET",
        "/api/v1/customers?limit=1",
        &[origin, ("authorization", bearer.as_str())],
        None,
    );
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(
        list.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    let exposed = list
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_owned();
    for h in [
        "etag",
        "x-changes-complete-until",
        "x-next-cursor",
        "location",
    ] {
        assert!(exposed.contains(h), "{h} not in {exposed}");
    }
    let elsewhere = s.raw(
        "GET",
        "/api/v1/customers?limit=1",
        &[
            ("origin", "https://evil.example.com"),
            ("authorization", bearer.as_str()),
        ],
        None,
    );
    assert_eq!(elsewhere.header("access-control-allow-origin"), None);
}
