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
use clientele_persistence::audit::files_concerned;
use clientele_persistence::webhooks::{self, Attempt, Due};
use clientele_persistence::Db;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Deliveries in flight at once, each on its own thread.
const SENDERS: usize = 16;
/// Of those, at most this many to one webhook: a receiver that hangs holds
/// a few senders until they time out, never all of them.
const PER_WEBHOOK: usize = 4;
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
    /// Looks for work every `every`, and again as soon as a sender is free;
    /// keeps finished deliveries and delivered events for `retention`
    /// (zero: for ever). Receivers' certificates may chain to the system's
    /// authorities or to `roots`.
    pub fn start(
        db: Db,
        clock: Arc<dyn Clock>,
        every: Duration,
        retention: Duration,
        roots: &[native_tls::Certificate],
    ) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let stats = Arc::new(Stats::default());
        let dispatcher = Dispatcher {
            db,
            clock,
            agent: agent(roots),
            stats: Arc::clone(&stats),
            in_flight: HashMap::new(),
        };
        let spawned = std::thread::Builder::new()
            .name("webhooks".into())
            .spawn(move || dispatcher.run(every, retention, &stopped));
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

/// The certificates of a PEM bundle (`-----BEGIN CERTIFICATE-----` blocks),
/// at least one; anything else in the file is ignored.
pub fn trust_roots(pem: &[u8]) -> Result<Vec<native_tls::Certificate>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let text = std::str::from_utf8(pem).map_err(|_| "not a PEM file (not text)".to_owned())?;
    let mut roots = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(len) = rest[start..].find(END) else {
            return Err("a certificate has no END line".into());
        };
        let block = &rest[start..start + len + END.len()];
        let cert = native_tls::Certificate::from_pem(block.as_bytes())
            .map_err(|e| format!("certificate {}: {e}", roots.len() + 1))?;
        roots.push(cert);
        rest = &rest[start + len + END.len()..];
    }
    if roots.is_empty() {
        return Err("no certificate in it".into());
    }
    Ok(roots)
}

fn agent(roots: &[native_tls::Certificate]) -> ureq::Agent {
    let builder = ureq::AgentBuilder::new()
        .timeout(TIMEOUT)
        .redirects(0)
        .user_agent(concat!("clientele-webhooks/", env!("CARGO_PKG_VERSION")));
    let mut tls = native_tls::TlsConnector::builder();
    for root in roots {
        tls.add_root_certificate(root.clone());
    }
    match tls.build() {
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

/// The delivery thread's state: what it has handed to senders, by webhook.
struct Dispatcher {
    db: Db,
    clock: Arc<dyn Clock>,
    agent: ureq::Agent,
    stats: Arc<Stats>,
    in_flight: HashMap<String, usize>,
}

impl Dispatcher {
    fn run(mut self, every: Duration, retention: Duration, stopped: &mpsc::Receiver<()>) {
        // Senders report the webhook of each finished delivery here.
        let (finished, done) = mpsc::channel::<String>();
        let mut pruned: Option<std::time::Instant> = None;
        loop {
            if !matches!(stopped.try_recv(), Err(mpsc::TryRecvError::Empty)) {
                return;
            }
            self.fan_out();
            self.dispatch(&finished);
            if !retention.is_zero() && pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                prune(&self.db, self.clock.as_ref(), retention);
                pruned = Some(std::time::Instant::now());
            }
            if let Ok(hook) = done.recv_timeout(every) {
                self.finished(&hook);
                while let Ok(hook) = done.try_recv() {
                    self.finished(&hook);
                }
            }
        }
    }

    fn finished(&mut self, hook: &str) {
        if let Some(n) = self.in_flight.get_mut(hook) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.in_flight.remove(hook);
            }
        }
    }

    /// Turns every new event into its deliveries.
    fn fan_out(&self) {
        loop {
            let now = naive(self.clock.as_ref());
            match self.db.write(|c| webhooks::fan_out(c, now)) {
                Ok(n) if n > 0 => continue,
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook fan-out failed; next round retries");
                    return;
                }
            }
        }
    }

    /// Hands due deliveries to free senders, oldest first, at most
    /// [`PER_WEBHOOK`] in flight to one webhook.
    fn dispatch(&mut self, finished: &mpsc::Sender<String>) {
        loop {
            let busy: usize = self.in_flight.values().sum();
            let free = SENDERS.saturating_sub(busy);
            if free == 0 {
                return;
            }
            let skip: Vec<String> = self
                .in_flight
                .iter()
                .filter(|(_, n)| **n >= PER_WEBHOOK)
                .map(|(hook, _)| hook.clone())
                .collect();
            let mut counted = self.in_flight.clone();
            let mut refused = false;
            let admit = |hook: &str| {
                let n = counted.entry(hook.to_owned()).or_default();
                *n += 1;
                refused |= *n > PER_WEBHOOK;
                *n <= PER_WEBHOOK
            };
            let now = naive(self.clock.as_ref());
            let lease = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
            let limit = i64::try_from(free).unwrap_or(0);
            let due = match self
                .db
                .write(|c| webhooks::claim_due(c, now, lease, limit, &skip, admit))
            {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming webhook deliveries failed");
                    return;
                }
            };
            let claimed = due.len();
            for d in due {
                *self.in_flight.entry(d.webhook_id.clone()).or_default() += 1;
                self.spawn(d, finished.clone());
            }
            // Fewer than asked and none held back: nothing more is due.
            if claimed < free && !refused {
                return;
            }
        }
    }

    fn spawn(&mut self, d: Due, finished: mpsc::Sender<String>) {
        let (db, clock, agent, stats) = (
            self.db.clone(),
            Arc::clone(&self.clock),
            self.agent.clone(),
            Arc::clone(&self.stats),
        );
        let hook = d.webhook_id.clone();
        let spawned = std::thread::Builder::new()
            .name("webhook-send".into())
            .spawn(move || {
                deliver(&db, clock.as_ref(), &agent, &stats, &d);
                let _ = finished.send(d.webhook_id);
            });
        if let Err(e) = spawned {
            // The lease brings the delivery back later.
            tracing::warn!(error = %e, "cannot start a webhook sender");
            self.finished(&hook);
        }
    }
}

/// Sends one delivery and records how it went.
fn deliver(db: &Db, clock: &dyn Clock, agent: &ureq::Agent, stats: &Stats, d: &Due) {
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
    if let Err(e) = db.write(|c| webhooks::record_attempt(c, &d.id, attempts, &attempt)) {
        tracing::warn!(error = %e, delivery = %d.id, "cannot record a webhook attempt");
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

/// The body sent: the stored event with its id. An event names the
/// customer files it concerns (`customer_ids`, see
/// [`files_concerned`]) and
/// carries none of their contents. Events written by earlier releases
/// still carry the changed state as `data`: it is left out here and the
/// files are named from it.
pub fn envelope(event_id: &str, payload: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(payload).unwrap_or_else(|_| serde_json::json!({}));
    if let Some(o) = v.as_object_mut() {
        if let Some(data) = o.remove("data") {
            let field = |k: &str| o.get(k).and_then(|t| t.as_str()).unwrap_or_default();
            let files = files_concerned(field("entity_type"), field("entity_id"), Some(&data));
            if !files.is_empty() {
                o.insert("customer_ids".into(), files.into());
            }
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
    fn an_event_is_sent_as_stored_with_its_id() {
        let stored = r#"{"type":"customer.created","entity_type":"customer","entity_id":"c1","customer_ids":["c1"]}"#;
        let sent: serde_json::Value =
            serde_json::from_str(&envelope("e1", stored)).unwrap_or_default();
        assert_eq!(
            sent,
            serde_json::json!({"id": "e1", "type": "customer.created", "entity_type": "customer",
                "entity_id": "c1", "customer_ids": ["c1"]})
        );
    }

    #[test]
    fn an_earlier_release_s_event_is_sent_without_its_data() {
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
