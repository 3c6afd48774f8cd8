//! Webhook subscriptions and their delivery log. Outbox events are fanned
//! out to the subscriptions that take their topic (one delivery row each),
//! then due deliveries are claimed, sent by the caller, and their outcome
//! recorded. On PostgreSQL both steps hold a transaction-level advisory
//! lock, so replicas never send the same delivery at the same time; a
//! claimed delivery is leased, so one whose sender died is tried again.

use crate::audit::{self, Change, WriteMeta};
use crate::error::{Error, Result};
use crate::page::Page;
use crate::schema::{outbox, webhook_deliveries, webhooks};
use crate::{DbConn, Timestamp};
use clientele_core::webhook::{subscribed, TopicPattern, WebhookUrl};
use clientele_core::{new_id, Cursor};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    /// JSON array of topic patterns.
    pub topics: String,
    #[serde(skip)]
    pub secret: String,
    pub active: bool,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl WebhookRow {
    pub fn topic_patterns(&self) -> Result<Vec<TopicPattern>> {
        let raw: Vec<String> =
            serde_json::from_str(&self.topics).map_err(|e| Error::Corrupt(e.to_string()))?;
        raw.iter()
            .map(|t| TopicPattern::parse(t).map_err(|e| Error::Corrupt(e.to_string())))
            .collect()
    }

    /// For the audit log: everything but the signing key.
    fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub topic: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

fn topics_json(topics: &[TopicPattern]) -> String {
    serde_json::Value::from(
        topics
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect::<Vec<_>>(),
    )
    .to_string()
}

pub fn create(
    conn: &mut DbConn,
    meta: &WriteMeta,
    url: &WebhookUrl,
    topics: &[TopicPattern],
    description: Option<String>,
    secret: String,
) -> Result<WebhookRow> {
    let row = WebhookRow {
        id: new_id().to_string(),
        url: url.as_str().to_owned(),
        description,
        topics: topics_json(topics),
        secret,
        active: true,
        version: 1,
        created_at: meta.at,
        updated_at: meta.at,
    };
    diesel::insert_into(webhooks::table)
        .values(&row)
        .execute(conn)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "created",
            entity_type: "webhook",
            entity_id: &row.id,
            before: None,
            after: Some(row.snapshot()),
        },
    )?;
    Ok(row)
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<WebhookRow> {
    Ok(webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)?)
}

/// Oldest first.
pub fn list(conn: &mut DbConn, limit: u32, after: Option<&Cursor>) -> Result<Page<WebhookRow>> {
    let mut q = webhooks::table.into_boxed();
    if let Some(c) = after {
        q = q.filter(webhooks::id.gt(c.id.clone()));
    }
    let rows = q
        .order(webhooks::id.asc())
        .limit(i64::from(limit) + 1)
        .select(WebhookRow::as_select())
        .load(conn)?;
    Ok(Page::by_id(rows, limit, |r| &r.id))
}

/// What a change may set; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct WebhookChanges {
    pub url: Option<WebhookUrl>,
    pub topics: Option<Vec<TopicPattern>>,
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
}

pub fn update(
    conn: &mut DbConn,
    meta: &WriteMeta,
    id: &str,
    expected_version: i64,
    changes: WebhookChanges,
) -> Result<WebhookRow> {
    let before = get(conn, id)?;
    if before.version != expected_version {
        return Err(Error::StaleVersion);
    }
    let mut after = before.clone();
    if let Some(u) = changes.url {
        after.url = u.as_str().to_owned();
    }
    if let Some(t) = changes.topics {
        after.topics = topics_json(&t);
    }
    if let Some(d) = changes.description {
        after.description = d;
    }
    if let Some(a) = changes.active {
        after.active = a;
    }
    after.version = expected_version + 1;
    after.updated_at = meta.at;
    let n = diesel::update(
        webhooks::table
            .filter(webhooks::id.eq(id))
            .filter(webhooks::version.eq(expected_version)),
    )
    .set((
        webhooks::url.eq(&after.url),
        webhooks::topics.eq(&after.topics),
        webhooks::description.eq(&after.description),
        webhooks::active.eq(after.active),
        webhooks::version.eq(after.version),
        webhooks::updated_at.eq(after.updated_at),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(Error::StaleVersion);
    }
    audited(conn, meta, "updated", &before, &after)?;
    Ok(after)
}

/// Replaces the signing secret; deliveries sent from now on use the new one.
pub fn set_secret(
    conn: &mut DbConn,
    meta: &WriteMeta,
    id: &str,
    secret: String,
) -> Result<WebhookRow> {
    let before = get(conn, id)?;
    diesel::update(webhooks::table.find(id))
        .set((
            webhooks::secret.eq(secret),
            webhooks::version.eq(before.version + 1),
            webhooks::updated_at.eq(meta.at),
        ))
        .execute(conn)?;
    let after = get(conn, id)?;
    audited(conn, meta, "secret_rotated", &before, &after)?;
    Ok(after)
}

/// The audit entry (and outbox event) of a change to a webhook.
fn audited(
    conn: &mut DbConn,
    meta: &WriteMeta,
    action: &str,
    before: &WebhookRow,
    after: &WebhookRow,
) -> Result<()> {
    audit::record(
        conn,
        meta,
        Change {
            action,
            entity_type: "webhook",
            entity_id: &after.id,
            before: Some(before.snapshot()),
            after: Some(after.snapshot()),
        },
    )
}

/// A webhook's deliveries, newest first; optionally of one status.
pub fn deliveries(
    conn: &mut DbConn,
    webhook_id: &str,
    status: Option<&str>,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<DeliveryRow>> {
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id.to_owned()))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(webhook_deliveries::status.eq(s.to_owned()));
    }
    if let Some(c) = after {
        q = q.filter(webhook_deliveries::id.lt(c.id.clone()));
    }
    let rows = q
        .order(webhook_deliveries::id.desc())
        .limit(i64::from(limit) + 1)
        .select(DeliveryRow::as_select())
        .load(conn)?;
    Ok(Page::by_id(rows, limit, |r| &r.id))
}

fn delivery(conn: &mut DbConn, webhook_id: &str, id: &str) -> Result<DeliveryRow> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .filter(webhook_deliveries::id.eq(id))
        .select(DeliveryRow::as_select())
        .first(conn)?)
}

/// Queues a delivery to be sent again at once, whatever its state: a failed
/// one after the receiver is fixed, a delivered one the receiver lost.
pub fn retry(
    conn: &mut DbConn,
    meta: &WriteMeta,
    webhook_id: &str,
    id: &str,
) -> Result<DeliveryRow> {
    let before = delivery(conn, webhook_id, id)?;
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::next_attempt_at.eq(Some(meta.at)),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "retried",
            entity_type: "webhook_delivery",
            entity_id: id,
            before: Some(serde_json::json!({"status": before.status})),
            after: Some(serde_json::json!({"status": "pending", "webhook_id": webhook_id})),
        },
    )?;
    delivery(conn, webhook_id, id)
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Whether this transaction may do the delivery work now. On PostgreSQL a
/// transaction-level advisory lock (another replica holding it: not now);
/// on SQLite one process writes at a time anyway.
fn exclusive(conn: &mut DbConn) -> Result<bool> {
    match conn {
        DbConn::Pg(c) => Ok(diesel::sql_query(
            "SELECT pg_try_advisory_xact_lock(7305441201) AS locked",
        )
        .get_result::<Locked>(c)?
        .locked),
        DbConn::Sqlite(_) => Ok(true),
    }
}

/// Events fanned out per run, at most.
const FAN_OUT_BATCH: i64 = 500;

/// Turns events not yet fanned out into one pending delivery per webhook
/// that takes their topic and existed when they happened; marks them fanned
/// out. Returns how many events it took (call again while it is the batch
/// size). Run inside one write transaction.
pub fn fan_out(conn: &mut DbConn, now: Timestamp) -> Result<usize> {
    if !exclusive(conn)? {
        return Ok(0);
    }
    let events: Vec<(String, Timestamp, String)> = outbox::table
        .filter(outbox::published_at.is_null())
        .order(outbox::id.asc())
        .limit(FAN_OUT_BATCH)
        .select((outbox::id, outbox::created_at, outbox::topic))
        .load(conn)?;
    if events.is_empty() {
        return Ok(0);
    }
    let hooks: Vec<WebhookRow> = webhooks::table
        .filter(webhooks::active.eq(true))
        .select(WebhookRow::as_select())
        .load(conn)?;
    let hooks: Vec<(WebhookRow, Vec<TopicPattern>)> = hooks
        .into_iter()
        .map(|h| h.topic_patterns().map(|t| (h, t)))
        .collect::<Result<_>>()?;
    for (event_id, at, topic) in &events {
        for (hook, topics) in &hooks {
            if hook.created_at <= *at && subscribed(topics, topic) {
                diesel::insert_into(webhook_deliveries::table)
                    .values(&DeliveryRow {
                        id: new_id().to_string(),
                        webhook_id: hook.id.clone(),
                        event_id: event_id.clone(),
                        topic: topic.clone(),
                        status: "pending".into(),
                        attempts: 0,
                        next_attempt_at: Some(now),
                        last_attempt_at: None,
                        last_status_code: None,
                        last_error: None,
                        delivered_at: None,
                        created_at: now,
                    })
                    .execute(conn)?;
            }
        }
    }
    let ids: Vec<&String> = events.iter().map(|e| &e.0).collect();
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
        .set(outbox::published_at.eq(Some(now)))
        .execute(conn)?;
    Ok(events.len())
}

/// A delivery to send now.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: String,
    /// The webhook it is for.
    pub webhook_id: String,
    pub url: String,
    pub secret: String,
    pub event_id: String,
    pub topic: String,
    /// The outbox event as stored.
    pub payload: String,
    pub attempts: i32,
}

/// Claims up to `limit` pending deliveries due at `now` to active webhooks
/// not in `skip`, oldest first, leasing them until `lease_until` (then, if
/// no outcome was recorded, they are due again). `admit` is asked about
/// each candidate's webhook in turn; a delivery it refuses stays pending,
/// untouched. Run inside one write transaction.
pub fn claim_due(
    conn: &mut DbConn,
    now: Timestamp,
    lease_until: Timestamp,
    limit: i64,
    skip: &[String],
    mut admit: impl FnMut(&str) -> bool,
) -> Result<Vec<Due>> {
    if limit <= 0 || !exclusive(conn)? {
        return Ok(Vec::new());
    }
    type Row = (String, String, String, String, String, String, String, i32);
    let rows: Vec<Row> = webhook_deliveries::table
        .inner_join(webhooks::table)
        .inner_join(outbox::table)
        .filter(webhook_deliveries::status.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(webhooks::active.eq(true))
        .filter(webhooks::id.ne_all(skip))
        .order(webhook_deliveries::next_attempt_at.asc())
        .limit(limit)
        .select((
            webhook_deliveries::id,
            webhooks::id,
            webhooks::url,
            webhooks::secret,
            webhook_deliveries::event_id,
            webhook_deliveries::topic,
            outbox::payload,
            webhook_deliveries::attempts,
        ))
        .load(conn)?;
    let due: Vec<Due> = rows
        .into_iter()
        .filter(|r| admit(&r.1))
        .map(
            |(id, webhook_id, url, secret, event_id, topic, payload, attempts)| Due {
                id,
                webhook_id,
                url,
                secret,
                event_id,
                topic,
                payload,
                attempts,
            },
        )
        .collect();
    let ids: Vec<&String> = due.iter().map(|d| &d.id).collect();
    if !ids.is_empty() {
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(ids)))
            .set(webhook_deliveries::next_attempt_at.eq(Some(lease_until)))
            .execute(conn)?;
    }
    Ok(due)
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: Timestamp,
    /// The receiver's status code, if it answered.
    pub status_code: Option<i32>,
    /// Why it failed; `None`: delivered.
    pub error: Option<String>,
    /// When to try again after a failure; `None`: give up.
    pub retry_at: Option<Timestamp>,
}

/// Records an attempt on a claimed delivery.
pub fn record_attempt(conn: &mut DbConn, id: &str, attempts: i32, a: &Attempt) -> Result<()> {
    let (status, next, delivered) = match (&a.error, a.retry_at) {
        (None, _) => ("delivered", None, Some(a.at)),
        (Some(_), Some(retry)) => ("pending", Some(retry), None),
        (Some(_), None) => ("failed", None, None),
    };
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::attempts.eq(attempts),
            webhook_deliveries::next_attempt_at.eq(next),
            webhook_deliveries::last_attempt_at.eq(Some(a.at)),
            webhook_deliveries::last_status_code.eq(a.status_code),
            webhook_deliveries::last_error.eq(&a.error),
            webhook_deliveries::delivered_at.eq(delivered),
        ))
        .execute(conn)?;
    Ok(())
}

/// Rows removed by one pruning step, at most.
pub const PRUNE_BATCH: i64 = 5_000;

/// Removes up to [`PRUNE_BATCH`] finished deliveries (delivered, or failed
/// for good) whose last attempt was before `before`, and up to as many
/// events fanned out before `before` that no delivery refers to any more.
/// Pending deliveries and their events stay. The audit log keeps the
/// history; the outbox is only the queue. Returns (deliveries, events).
pub fn prune(conn: &mut DbConn, before: Timestamp) -> Result<(usize, usize)> {
    let done: Vec<String> = webhook_deliveries::table
        .filter(webhook_deliveries::status.ne("pending"))
        .filter(webhook_deliveries::last_attempt_at.lt(before))
        .select(webhook_deliveries::id)
        .limit(PRUNE_BATCH)
        .load(conn)?;
    let deliveries = if done.is_empty() {
        0
    } else {
        diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&done)))
            .execute(conn)?
    };
    let unreferenced = diesel::dsl::not(diesel::dsl::exists(
        webhook_deliveries::table.filter(webhook_deliveries::event_id.eq(outbox::id)),
    ));
    let old: Vec<String> = outbox::table
        .filter(outbox::published_at.lt(before))
        .filter(unreferenced)
        .select(outbox::id)
        .limit(PRUNE_BATCH)
        .load(conn)?;
    let events = if old.is_empty() {
        0
    } else {
        diesel::delete(outbox::table.filter(outbox::id.eq_any(&old))).execute(conn)?
    };
    Ok((deliveries, events))
}
