//! Webhooks: signed deliveries of outbox events to a receiver, with retries
//! and a delivery log; the envelope carries no file contents (CUS-08).

use clientele_e2e::TestServer;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the receiver got: lower-case headers and the body.
type Received = Arc<Mutex<Vec<(HashMap<String, String>, String)>>>;

/// A receiver on a free port answering with the scripted statuses in turn
/// (204 once they run out); its address and what it received.
fn receiver(script: &[u16]) -> (String, Received) {
    receiver_with(script, None)
}

/// The same, over TLS when given an acceptor (`https://`).
fn receiver_with(script: &[u16], tls: Option<native_tls::TlsAcceptor>) -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let got: Received = Arc::default();
    let seen = Arc::clone(&got);
    let mut script: VecDeque<u16> = script.iter().copied().collect();
    let scheme = if tls.is_some() { "https" } else { "http" };
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            match &tls {
                // A handshake the client refused is no request.
                Some(tls) => {
                    if let Ok(stream) = tls.accept(stream) {
                        answer(stream, &seen, &mut script);
                    }
                }
                None => answer(stream, &seen, &mut script),
            }
        }
    });
    (format!("{scheme}://{addr}/hooks"), got)
}

/// Reads one request, keeps it, answers with the next scripted status.
fn answer(stream: impl Read + Write, seen: &Received, script: &mut VecDeque<u16>) {
    let mut reader = BufReader::new(stream);
    let mut headers = HashMap::new();
    let mut line = String::new();
    let _ = reader.read_line(&mut line); // the request line
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    let _ = reader.read_exact(&mut body);
    seen.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((headers, String::from_utf8_lossy(&body).into_owned()));
    let status = script.pop_front().unwrap_or(204);
    let mut stream = reader.into_inner();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    let _ = stream.flush();
}

/// A receiver that takes connections and never answers; its address and
/// how many connections it holds.
fn hanging_receiver() -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let held = Arc::new(Mutex::new(0));
    let counted = Arc::clone(&held);
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().flatten() {
            open.push(stream);
            *counted.lock().unwrap_or_else(|p| p.into_inner()) = open.len();
        }
    });
    (format!("http://{addr}/hooks"), held)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn count(got: &Received) -> usize {
    got.lock().unwrap_or_else(|p| p.into_inner()).len()
}

fn verify(secret: &str, signature: &str, body: &str) -> bool {
    let Some((t, v1)) = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == v1
}

fn all_events_fanned_out(s: &TestServer) -> bool {
    use clientele_persistence::schema::outbox;
    use diesel::prelude::*;
    s.db.read(|c| {
        Ok(outbox::table
            .filter(outbox::published_at.is_null())
            .count()
            .get_result::<i64>(c)?)
    })
    .is_ok_and(|n| n == 0)
}

fn deliveries(s: &TestServer, token: &str, hook: &str) -> Vec<Value> {
    let r = s.get(&format!("/api/v1/webhooks/{hook}/deliveries"), token);
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["items"].as_array().cloned().unwrap_or_default()
}

#[test]
fn r_cus_08_webhooks_send_signed_events_without_file_contents() {
    let s = TestServer::start_with(|c| c.webhook_poll = Duration::from_millis(100));
    let admin = s.token("demo.admin");
    let mgr = s.token("demo.manager.bj");
    let new_file = |name: &str| {
        let r = s.post(
            "/api/v1/customers",
            &mgr,
            &json!({"name": name, "nature": "private", "credit_standing": "AA"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        r.json["id"].as_str().unwrap_or_default().to_owned()
    };
    let before = new_file("北京订阅之前有限公司");
    let (url, got) = receiver(&[500]);

    // Bad subscriptions change nothing.
    let audit = s.audit_count();
    for (body, field) in [
        (
            json!({"url": "ftp://erp.example.com/in", "topics": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://u:p@erp.example.com/", "topics": ["*"]}),
            "url",
        ),
        (json!({"url": url, "topics": ["Customer"]}), "topics[0]"),
        (json!({"url": url, "topics": []}), "topics"),
    ] {
        let r = s.post("/api/v1/webhooks", &admin, &body);
        r.assert_problem(422, "validation_failed");
        assert!(
            r.json["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|f| f["field"] == field)),
            "{field}: {}",
            r.text
        );
    }
    s.post(
        "/api/v1/webhooks",
        &mgr,
        &json!({"url": url, "topics": ["*"]}),
    )
    .assert_problem(403, "forbidden");
    assert_eq!(s.audit_count(), audit);

    let made = s.post(
        "/api/v1/webhooks",
        &admin,
        &json!({"url": url, "topics": ["customer.*"], "description": "ERP"}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let secret = made.json["secret"].as_str().unwrap_or_default().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let hook = made.json["webhook"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let path = format!("/api/v1/webhooks/{hook}");
    assert_eq!(made.header("location"), Some(path.as_str()));
    let read = s.get(&path, &s.token("demo.auditor"));
    assert_eq!(read.status, 200, "{}", read.text);
    assert!(!read.text.contains(&secret) && read.json.get("secret").is_none());
    assert_eq!(read.json["topics"], json!(["customer.*"]));

    // A new file: the first attempt is refused (500), logged and scheduled
    // again with back-off.
    let file = new_file("北京机密名称有限公司");
    wait_until("the first attempt", || count(&got) >= 1);
    wait_until("its outcome in the log", || {
        deliveries(&s, &admin, &hook)
            .first()
            .is_some_and(|d| d["attempts"] == 1)
    });
    let log = deliveries(&s, &admin, &hook);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["last_status_code"], 500);
    assert_eq!(log[0]["topic"], "customer.created");
    let next: chrono::DateTime<chrono::Utc> = log[0]["next_attempt_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no next attempt: {log:?}"));
    assert!(next > chrono::Utc::now() + chrono::Duration::seconds(15));

    {
        let seen = got.lock().unwrap_or_else(|p| p.into_inner());
        let (headers, body) = &seen[0];
        assert_eq!(headers["clientele-event-type"], "customer.created");
        assert_eq!(headers["content-type"], "application/json");
        assert!(
            verify(&secret, &headers["clientele-signature"], body),
            "{headers:?}"
        );
        assert!(!verify(
            "whsec_other",
            &headers["clientele-signature"],
            body
        ));
        let event: Value = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(event["entity_id"], file.as_str());
        assert_eq!(event["customer_ids"], json!([file]));
        assert_eq!(event["id"], headers["clientele-event-id"].as_str());
        assert!(
            !body.contains("机密名称") && !body.contains("AA") && event.get("data").is_none(),
            "the file's contents left the archive: {body}"
        );
    }

    // Retried by hand, it is delivered.
    let delivery = log[0]["id"].as_str().unwrap_or_default().to_owned();
    let retried = s.post(
        &format!("{path}/deliveries/{delivery}/retry"),
        &admin,
        &json!({}),
    );
    assert_eq!(retried.status, 200, "{}", retried.text);
    wait_until("the delivery", || {
        deliveries(&s, &admin, &hook)
            .first()
            .is_some_and(|d| d["status"] == "delivered")
    });
    let done = &deliveries(&s, &admin, &hook)[0];
    assert_eq!(
        (done["attempts"].as_i64(), done["last_status_code"].as_i64()),
        (Some(2), Some(204))
    );

    let metrics = s.raw("GET", "/metrics", &[], None).text;
    for line in [
        "clientele_webhook_attempts_total{outcome=\"delivered\"} 1",
        "clientele_webhook_attempts_total{outcome=\"failed\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }

    // A new secret signs what is sent from now on; the old one nothing.
    let rotated = s.post(&format!("{path}/secret"), &admin, &json!({}));
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let fresh = rotated.json["secret"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(fresh.starts_with("whsec_") && fresh != secret);
    assert_eq!(rotated.header("etag"), Some("\"2\""));
    s.post(&format!("{path}/secret"), &mgr, &json!({}))
        .assert_problem(403, "forbidden");
    let retried = s.post(
        &format!("{path}/deliveries/{delivery}/retry"),
        &admin,
        &json!({}),
    );
    assert_eq!(retried.status, 200, "{}", retried.text);
    wait_until("the third attempt", || count(&got) >= 3);
    {
        let seen = got.lock().unwrap_or_else(|p| p.into_inner());
        let (headers, body) = &seen[2];
        assert!(verify(&fresh, &headers["clientele-signature"], body));
        assert!(!verify(&secret, &headers["clientele-signature"], body));
    }

    // Only subscribed topics, only events after the subscription.
    let unit = s.post(
        "/api/v1/units",
        &admin,
        &json!({"parent_id": s.unit_id("HQ"), "code": "WH", "name": "武汉分公司", "kind": "branch"}),
    );
    assert_eq!(unit.status, 201, "{}", unit.text);
    wait_until("the fan-out", || all_events_fanned_out(&s));
    let topics: Vec<Value> = deliveries(&s, &admin, &hook)
        .iter()
        .map(|d| d["topic"].clone())
        .collect();
    assert_eq!(topics, vec![json!("customer.created")]);
    assert!(got
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .all(|(_, body)| !body.contains(&before)));

    // An inactive webhook gets nothing; a stale version is refused.
    s.patch(&path, &admin, "\"1\"", &json!({"active": false}))
        .assert_problem(412, "precondition_failed");
    let off = s.patch(&path, &admin, "\"2\"", &json!({"active": false}));
    assert_eq!(
        (off.status, off.json["active"].as_bool()),
        (200, Some(false))
    );
    new_file("北京停用之后有限公司");
    wait_until("the fan-out", || all_events_fanned_out(&s));
    assert_eq!(deliveries(&s, &admin, &hook).len(), 1);
    let pending = s.get(&format!("{path}/deliveries?status=pending"), &admin);
    assert_eq!(pending.json["items"], json!([]), "{}", pending.text);
    s.get(&format!("{path}/deliveries?status=lost"), &admin)
        .assert_problem(400, "invalid_query");
}

/// Replicas share the work: with three delivery threads on one database
/// (the server's and two more, as other replicas would run), every event is
/// sent once.
#[test]
fn webhooks_from_several_replicas_send_each_event_once() {
    use clientele_http::webhook_delivery::WebhookWorker;
    let s = TestServer::start_with(|c| c.webhook_poll = Duration::from_millis(50));
    let clock = Arc::new(clientele_core::SystemClock);
    let _replicas: Vec<WebhookWorker> = (0..2)
        .map(|_| {
            WebhookWorker::start(
                s.db.clone(),
                clock.clone(),
                Duration::from_millis(50),
                Duration::ZERO,
                &[],
            )
        })
        .collect();
    let admin = s.token("demo.admin");
    let (url, got) = receiver(&[]);
    let made = s.post(
        "/api/v1/webhooks",
        &admin,
        &json!({"url": url, "topics": ["customer.created"]}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let mgr = s.token("demo.manager.bj");
    for i in 0..20 {
        let r = s.post(
            "/api/v1/customers",
            &mgr,
            &json!({"name": format!("北京复制{i}有限公司"), "nature": "private"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    wait_until("twenty deliveries", || count(&got) >= 20);
    std::thread::sleep(Duration::from_millis(500));
    let seen = got.lock().unwrap_or_else(|p| p.into_inner());
    let ids: std::collections::HashSet<&str> = seen
        .iter()
        .map(|(h, _)| h["clientele-event-id"].as_str())
        .collect();
    assert_eq!((seen.len(), ids.len()), (20, 20));
}

/// A claimed delivery is leased: no one else claims it until the lease runs
/// out (then it is due again, as when a sender died mid-send). On
/// PostgreSQL a replica finds the work taken while another one's claim is
/// still open.
#[test]
fn webhook_claims_are_leased_and_exclusive() {
    use clientele_persistence::webhooks::{claim_due, fan_out};
    use clientele_persistence::BackendKind;
    // The server's own delivery thread stays idle: this test claims by hand.
    let s = TestServer::start_with(|c| c.webhook_poll = Duration::from_secs(3600));
    let admin = s.token("demo.admin");
    let (url, _got) = receiver(&[]);
    let made = s.post(
        "/api/v1/webhooks",
        &admin,
        &json!({"url": url, "topics": ["customer.*"]}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let r = s.post(
        "/api/v1/customers",
        &s.token("demo.manager.bj"),
        &json!({"name": "北京租约有限公司", "nature": "private"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let now = chrono::Utc::now().naive_utc() + chrono::Duration::seconds(1);
    let lease = now + chrono::Duration::seconds(120);
    let fanned =
        s.db.write(|c| fan_out(c, now))
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(fanned >= 1);
    if s.db.kind() == BackendKind::Postgres {
        let (held, holding) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let db = s.db.clone();
        let first = std::thread::spawn(move || {
            db.write(|c| {
                let mine = claim_due(c, now, lease, 16, &[], |_| true)?;
                let _ = held.send(mine.len());
                let _ = released.recv();
                Ok(mine.len())
            })
        });
        let mine = holding
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mine, 1);
        // Claimed elsewhere meanwhile: nothing (without the lock it would
        // wait for the first claim's row locks, then take the same row).
        let db = s.db.clone();
        let second =
            std::thread::spawn(move || db.write(|c| claim_due(c, now, lease, 16, &[], |_| true)));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !second.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let waited = !second.is_finished();
        let _ = release.send(());
        let other = second
            .join()
            .map_err(|_| "panicked")
            .and_then(|r| r.map_err(|_| "failed"));
        assert!(!waited, "the second claim waited for the first");
        assert_eq!(other.map(|v| v.len()), Ok(0), "taken twice");
        let claimed = first
            .join()
            .map_err(|_| "panicked")
            .and_then(|r| r.map_err(|_| "failed"));
        assert_eq!(claimed, Ok(1));
    } else {
        let mine = s.db.write(|c| claim_due(c, now, lease, 16, &[], |_| true));
        assert_eq!(mine.map(|v| v.len()).ok(), Some(1));
    }
    let again = s.db.write(|c| claim_due(c, now, lease, 16, &[], |_| true));
    assert_eq!(
        again.map(|v| v.len()).ok(),
        Some(0),
        "claimed during its lease"
    );
    let later = lease + chrono::Duration::seconds(1);
    let expired =
        s.db.write(|c| claim_due(c, later, later, 16, &[], |_| true));
    assert_eq!(
        expired.map(|v| v.len()).ok(),
        Some(1),
        "not due after its lease"
    );
}

/// After the retention period, finished deliveries and the events no
/// delivery needs any more are pruned; what is still pending stays.
#[test]
fn webhook_deliveries_and_events_are_pruned_after_retention() {
    use clientele_persistence::schema::{outbox, webhook_deliveries};
    use clientele_persistence::webhooks::prune;
    use diesel::prelude::*;
    let s = TestServer::start_with(|c| c.webhook_poll = Duration::from_millis(50));
    let admin = s.token("demo.admin");
    let (up, _got) = receiver(&[]);
    let (down, _) = receiver(&[503; 64]);
    for url in [&up, &down] {
        let r = s.post(
            "/api/v1/webhooks",
            &admin,
            &json!({"url": url, "topics": ["customer.created"]}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = s.post(
        "/api/v1/customers",
        &s.token("demo.manager.bj"),
        &json!({"name": "北京保留期有限公司", "nature": "private"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let count_where = |status: &'static str| {
        s.db.read(move |c| {
            Ok(webhook_deliveries::table
                .filter(webhook_deliveries::status.eq(status))
                .filter(webhook_deliveries::attempts.gt(0))
                .count()
                .get_result::<i64>(c)?)
        })
        .unwrap_or(0)
    };
    wait_until("one delivered, one retrying", || {
        count_where("delivered") == 1 && count_where("pending") == 1
    });
    let events = || {
        s.db.read(|c| Ok(outbox::table.count().get_result::<i64>(c)?))
            .unwrap_or(0)
    };
    let before = events();
    let now = chrono::Utc::now().naive_utc();
    let kept = s.db.write(|c| prune(c, now - chrono::Duration::days(30)));
    assert_eq!(kept.ok(), Some((0, 0)), "nothing is old enough yet");
    let later = now + chrono::Duration::days(31);
    let (deliveries, pruned) =
        s.db.write(|c| prune(c, later))
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(deliveries, 1, "the delivered one");
    assert!(pruned >= 1 && events() == before - i64::try_from(pruned).unwrap_or(0));
    assert_eq!(count_where("pending"), 1, "the pending delivery stays");
    let event_kept = s.db.read(|c| {
        Ok(webhook_deliveries::table
            .inner_join(outbox::table)
            .count()
            .get_result::<i64>(c)?)
    });
    assert_eq!(event_kept.ok(), Some(1), "with its event");
}

/// A receiver that never answers holds a few senders until they time out;
/// deliveries to every other receiver go on meanwhile.
#[test]
fn a_hanging_receiver_does_not_hold_up_the_others() {
    let s = TestServer::start_with(|c| c.webhook_poll = Duration::from_millis(50));
    let admin = s.token("demo.admin");
    let (stuck, held) = hanging_receiver();
    let (up, got) = receiver(&[]);
    for url in [&stuck, &up] {
        let r = s.post(
            "/api/v1/webhooks",
            &admin,
            &json!({"url": url, "topics": ["customer.created"]}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let mgr = s.token("demo.manager.bj");
    let started = Instant::now();
    for i in 0..24 {
        let r = s.post(
            "/api/v1/customers",
            &mgr,
            &json!({"name": format!("北京挂起{i}有限公司"), "nature": "private"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    // Attempts time out after 10 s: all 24 here well before then means no
    // delivery waited for the stuck receiver.
    while count(&got) < 24 {
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{} of 24 delivered while a receiver hung",
            count(&got)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let stuck_open = *held.lock().unwrap_or_else(|p| p.into_inner());
    assert!(
        (1..=4).contains(&stuck_open),
        "{stuck_open} senders held by the stuck receiver"
    );
}

/// Receivers behind a company's own certificate authority: with the CA
/// configured, delivered over TLS; without it, refused as untrusted (and
/// retried later), nothing sent.
#[test]
fn webhooks_trust_a_configured_certificate_authority() {
    let identity = native_tls::Identity::from_pkcs8(
        include_bytes!("../../fixtures/tls/receiver.pem"),
        include_bytes!("../../fixtures/tls/receiver.key"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let acceptor =
        || native_tls::TlsAcceptor::new(identity.clone()).unwrap_or_else(|e| panic!("{e}"));
    let roots =
        clientele_http::webhook_delivery::trust_roots(include_bytes!("../../fixtures/tls/ca.pem"))
            .unwrap_or_else(|e| panic!("{e}"));
    for trusted in [true, false] {
        let s = TestServer::start_with(|c| {
            c.webhook_poll = Duration::from_millis(50);
            if trusted {
                c.webhook_roots = roots.clone();
            }
        });
        let admin = s.token("demo.admin");
        let (url, got) = receiver_with(&[], Some(acceptor()));
        assert!(url.starts_with("https://127.0.0.1:"), "{url}");
        let made = s.post(
            "/api/v1/webhooks",
            &admin,
            &json!({"url": url, "topics": ["customer.created"]}),
        );
        assert_eq!(made.status, 201, "{}", made.text);
        let hook = made.json["webhook"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let r = s.post(
            "/api/v1/customers",
            &s.token("demo.manager.bj"),
            &json!({"name": "北京证书有限公司", "nature": "private"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        wait_until("the attempt", || {
            deliveries(&s, &admin, &hook)
                .first()
                .is_some_and(|d| d["attempts"] == 1)
        });
        let d = &deliveries(&s, &admin, &hook)[0];
        if trusted {
            assert_eq!(d["status"], "delivered", "{d}");
            assert_eq!(count(&got), 1);
        } else {
            assert_eq!(d["status"], "pending", "{d}");
            assert!(
                d["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("certificate")),
                "{d}"
            );
            assert_eq!(count(&got), 0);
        }
    }
}

#[test]
fn trust_roots_take_pem_bundles_only() {
    use clientele_http::webhook_delivery::trust_roots;
    let ca = include_str!("../../fixtures/tls/ca.pem");
    let bundle = format!("# company roots\n{ca}\n{ca}");
    assert_eq!(trust_roots(bundle.as_bytes()).map(|r| r.len()), Ok(2));
    assert!(trust_roots(b"").is_err());
    assert!(trust_roots(b"not a certificate").is_err());
    let cut = &ca[..ca.len() - 30];
    assert!(trust_roots(cut.as_bytes()).is_err());
    let garbled = ca.replacen("MI", "xx", 1);
    assert!(trust_roots(garbled.as_bytes()).is_err());
}

/// The fan-out's query for the events still waiting goes through an index
/// that finds them in order, however many published events are kept beside them
/// and however stale the statistics (taken here while all were waiting):
/// otherwise the planner walked every event ever kept (28 ms a poll, every
/// second, at 10 000 events).
#[test]
fn fan_out_finds_waiting_events_through_their_own_index() {
    use clientele_persistence::DbConn;
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    #[derive(QueryableByName)]
    struct PgPlan {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }
    #[derive(QueryableByName)]
    struct LitePlan {
        #[diesel(sql_type = Text)]
        detail: String,
    }
    let s = TestServer::start();
    let waiting = "SELECT id, created_at, topic FROM outbox \
                   WHERE published_at IS NULL ORDER BY id LIMIT 500";
    let plan = s
        .db
        .write(|c| match c {
            DbConn::Pg(pg) => {
                pg.batch_execute(
                    "INSERT INTO outbox (id, created_at, topic, entity_type, entity_id, payload) \
                     SELECT 'zz' || lpad(g::text, 6, '0'), now(), 'customer.created', \
                            'customer', 'x', '{}' FROM generate_series(1, 5000) g; \
                     ANALYZE outbox; UPDATE outbox SET published_at = now();",
                )?;
                let lines: Vec<PgPlan> = diesel::sql_query(format!("EXPLAIN {waiting}")).load(pg)?;
                Ok(lines.into_iter().map(|l| l.line).collect::<Vec<_>>().join("\n"))
            }
            DbConn::Sqlite(lite) => {
                lite.batch_execute(
                    "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 5000) \
                     INSERT INTO outbox (id, created_at, topic, entity_type, entity_id, payload) \
                     SELECT printf('zz%06d', n), '2026-01-01 00:00:00', 'customer.created', \
                            'customer', 'x', '{}' FROM g; \
                     ANALYZE outbox; UPDATE outbox SET published_at = '2026-01-01 00:00:01';",
                )?;
                let lines: Vec<LitePlan> =
                    diesel::sql_query(format!("EXPLAIN QUERY PLAN {waiting}")).load(lite)?;
                Ok(lines.into_iter().map(|l| l.detail).collect::<Vec<_>>().join("\n"))
            }
        })
        .unwrap_or_else(|e| panic!("{e}"));
    // SQLite reads the NULLs of (published_at, id) in id order; PostgreSQL
    // needs the partial index.
    let served = match s.db.kind() {
        clientele_persistence::BackendKind::Postgres => plan.contains("ix_outbox_to_fan_out"),
        clientele_persistence::BackendKind::Sqlite => {
            plan.contains("ix_outbox_unpublished (published_at=?)") && !plan.contains("TEMP B-TREE")
        }
    };
    assert!(served, "{plan}");
}
