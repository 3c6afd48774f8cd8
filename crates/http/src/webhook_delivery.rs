//! Webhook delivery: a background thread that fans outbox events out to the
//! subscriptions that take them and sends each due delivery as a signed
//! `POST`, retrying with back-off (at least once, in no guaranteed order:
//! receivers deduplicate by event id).
//!
//! What is sent is the event's envelope — id, type, entity, when, who, the
//! request — never the file's contents: files do not leave the archive
//! unregistered (CUS-08). A receiver that needs the file reads it through
//! the API with its service account, whose scope and read register apply.

use clientele_core::webhook::retry_after;
use clientele_core::Clock;
use clientele_persistence::webhooks::{self, Attempt, Due};
use clientele_persistence::Db;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Deliveries claimed and sent together (each on its own thread).
const BATCH: i64 = 16;
/// How long one attempt may take, connecting included.
const TIMEOUT: Duration = Duration::from_secs(10);
/// A claimed delivery is due again after this, if its outcome was never
/// recorded (the process died while sending).
const LEASE: Duration = Duration::from_secs(120);
/// Most characters of an error kept in the log.
const MAX_ERROR: usize = 500;
/// How often finished deliveries and old events are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The delivery thread; it ends when this is dropped.
pub struct WebhookWorker {
    _stop: mpsc::Sender<()>,
    stats: Arc<Stats>,
}

/// Attempts by outcome, and deliveries given up.
#[derive(Default)]
struct Stats {
    delivered: AtomicU64,
    failed: AtomicU64,
    given_up: AtomicU64,
}

impl WebhookWorker {
    /// Looks for work every `every`; keeps finished deliveries and
    /// delivered events for `retention` (zero: for ever).
    pub fn start(db: Db, clock: Arc<dyn Clock>, every: Duration, retention: Duration) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let agent = agent();
        let stats = Arc::new(Stats::default());
        let counted = Arc::clone(&stats);
        let spawned = std::thread::Builder::new()
            .name("webhooks".into())
            .spawn(move || {
                let mut pruned: Option<std::time::Instant> = None;
                loop {
                    match stopped.recv_timeout(every) {
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            run(&db, clock.as_ref(), &agent, &counted);
                            if !retention.is_zero()
                                && pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY)
                            {
                                prune(&db, clock.as_ref(), retention);
                                pruned = Some(std::time::Instant::now());
                            }
                        }
                        _ => return,
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the webhook delivery thread");
        }
        Self { _stop: stop, stats }
    }

    /// Prometheus counters of delivery attempts.
    pub fn render_metrics(&self) -> String {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "# HELP clientele_webhook_attempts_total Webhook delivery attempts, by outcome.\n\
             # TYPE clientele_webhook_attempts_total counter\n\
             clientele_webhook_attempts_total{{outcome=\"delivered\"}} {}\n\
             clientele_webhook_attempts_total{{outcome=\"failed\"}} {}\n\
             # HELP clientele_webhook_deliveries_given_up_total Deliveries that failed every attempt.\n\
             # TYPE clientele_webhook_deliveries_given_up_total counter\n\
             clientele_webhook_deliveries_given_up_total {}\n",
            n(&self.stats.delivered),
            n(&self.stats.failed),
            n(&self.stats.given_up),
        )
    }
}

fn agent() -> ureq::Agent {
    let builder = ureq::AgentBuilder::new()
        .timeout(TIMEOUT)
        .redirects(0)
        .user_agent(concat!("clientele-webhooks/", env!("CARGO_PKG_VERSION")));
    match native_tls::TlsConnector::new() {
        Ok(tls) => builder.tls_connector(Arc::new(tls)).build(),
        Err(e) => {
            tracing::error!(error = %e, "no TLS for webhooks: https deliveries will fail");
            builder.build()
        }
    }
}

fn naive(clock: &dyn Clock) -> clientele_persistence::Timestamp {
    clock.now().naive_utc()
}

/// One round: fan out everything new, then send everything due.
fn run(db: &Db, clock: &dyn Clock, agent: &ureq::Agent, stats: &Stats) {
    loop {
        let now = naive(clock);
        match db.write(|c| webhooks::fan_out(c, now)) {
            Ok(n) if n > 0 => continue,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "webhook fan-out failed; next round retries");
                return;
            }
        }
    }
    loop {
        let now = naive(clock);
        let lease = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let due = match db.write(|c| webhooks::claim_due(c, now, lease, BATCH)) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "claiming webhook deliveries failed");
                return;
            }
        };
        let claimed = due.len();
        std::thread::scope(|s| {
            for d in &due {
                s.spawn(move || {
                    let attempt = send(agent, d, clock);
                    let attempts = d.attempts + 1;
                    let counter = match (&attempt.error, attempt.retry_at) {
                        (None, _) => &stats.delivered,
                        (Some(_), Some(_)) => &stats.failed,
                        (Some(_), None) => {
                            stats.failed.fetch_add(1, Ordering::Relaxed);
                            &stats.given_up
                        }
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) =
                        db.write(|c| webhooks::record_attempt(c, &d.id, attempts, &attempt))
                    {
                        tracing::warn!(error = %e, delivery = %d.id, "cannot record a webhook attempt");
                    }
                });
            }
        });
        if i64::try_from(claimed).unwrap_or(0) < BATCH {
            return;
        }
    }
}

/// Removes what the retention period has passed, a batch per transaction.
fn prune(db: &Db, clock: &dyn Clock, retention: Duration) {
    let before = naive(clock) - chrono::Duration::from_std(retention).unwrap_or_default();
    loop {
        match db.write(|c| webhooks::prune(c, before)) {
            Ok((d, e)) if (d.max(e) as i64) < webhooks::PRUNE_BATCH => return,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "pruning webhook deliveries failed");
                return;
            }
        }
    }
}

/// The body sent: the stored event without its data, with its id and the
/// ids of the customer files it concerns (`customer_ids`: the file itself,
/// or the file a contact, document or request hangs on, or both ends of a
/// relation, the file a merge absorbed), so a receiver knows which file to
/// read again.
pub fn envelope(event_id: &str, payload: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(payload).unwrap_or_else(|_| serde_json::json!({}));
    if let Some(o) = v.as_object_mut() {
        let data = o.remove("data").unwrap_or_default();
        let mut files: Vec<serde_json::Value> = Vec::new();
        if o.get("entity_type").and_then(|t| t.as_str()) == Some("customer") {
            files.extend(o.get("entity_id").cloned());
        }
        for key in ["customer_id", "from_id", "to_id", "absorbed_id"] {
            files.extend(data.get(key).filter(|v| v.is_string()).cloned());
        }
        if !files.is_empty() {
            o.insert("customer_ids".into(), files.into());
        }
        o.insert("id".into(), event_id.into());
    }
    v.to_string()
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`.
pub fn signature(secret: &str, unix: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{unix}.{body}").as_bytes());
    format!("t={unix},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn send(agent: &ureq::Agent, d: &Due, clock: &dyn Clock) -> Attempt {
    let body = envelope(&d.event_id, &d.payload);
    let sent = clock.now();
    let answer = agent
        .post(&d.url)
        .set("content-type", "application/json")
        .set("clientele-event-id", &d.event_id)
        .set("clientele-event-type", &d.topic)
        .set("clientele-delivery-id", &d.id)
        .set(
            "clientele-signature",
            &signature(&d.secret, sent.timestamp(), &body),
        )
        .send_string(&body);
    let (status_code, error) = match answer {
        Ok(r) if (200..300).contains(&r.status()) => (Some(i32::from(r.status())), None),
        Ok(r) => (
            Some(i32::from(r.status())),
            Some(format!(
                "answered {} (redirects are not followed)",
                r.status()
            )),
        ),
        Err(ureq::Error::Status(code, _)) => {
            (Some(i32::from(code)), Some(format!("answered {code}")))
        }
        Err(e) => (None, Some(e.to_string().chars().take(MAX_ERROR).collect())),
    };
    let at = naive(clock);
    let retry_at = error
        .as_ref()
        .and_then(|_| retry_after(d.attempts + 1))
        .map(|wait| at + chrono::Duration::from_std(wait).unwrap_or_default());
    Attempt {
        at,
        status_code,
        error,
        retry_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_carries_no_data() {
        let stored = r#"{"type":"customer.created","entity_id":"c1","data":{"name":"秘密公司"}}"#;
        let body = envelope("e1", stored);
        assert!(
            !body.contains("秘密公司") && !body.contains("\"data\""),
            "{body}"
        );
        assert!(body.contains("\"id\":\"e1\"") && body.contains("customer.created"));
        let files = |stored: &str| -> serde_json::Value {
            serde_json::from_str::<serde_json::Value>(&envelope("e", stored)).unwrap_or_default()
                ["customer_ids"]
                .clone()
        };
        assert_eq!(
            files(r#"{"entity_type":"customer","entity_id":"c1","data":{"id":"c1"}}"#),
            serde_json::json!(["c1"])
        );
        assert_eq!(
            files(
                r#"{"entity_type":"contact","entity_id":"k1","data":{"customer_id":"c2","name":"王"}}"#
            ),
            serde_json::json!(["c2"])
        );
        assert_eq!(
            files(
                r#"{"entity_type":"relation","entity_id":"r1","data":{"from_id":"c1","to_id":"c2"}}"#
            ),
            serde_json::json!(["c1", "c2"])
        );
        assert_eq!(
            files(r#"{"entity_type":"org_unit","entity_id":"u1","data":{"name":"x"}}"#),
            serde_json::Value::Null
        );
    }

    #[test]
    fn signatures_are_hmac_sha256_of_time_and_body() {
        // Known answer, from Python's hmac: HMAC-SHA256("key", "1.{}").
        let s = signature("key", 1, "{}");
        assert_eq!(
            s,
            "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
        assert_ne!(s, signature("other", 1, "{}"));
        assert_ne!(s, signature("key", 2, "{}"));
    }
}
