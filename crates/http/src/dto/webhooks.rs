//! Webhook subscriptions and their delivery log.

use super::{page_of, utc};
use chrono::{DateTime, Utc};
use clientele_persistence::webhooks::{DeliveryRow, WebhookRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// A topic pattern: `*`, `<entity>.*` or `<entity>.<action>`.
#[derive(Debug, ToSchema)]
#[schema(
    value_type = String,
    max_length = 64,
    pattern = "^(\\*|[a-z][a-z0-9_]*\\.(\\*|[a-z][a-z0-9_]*))$",
    example = "customer.*"
)]
pub struct TopicPatternDto(pub String);

/// A subscription: events whose type matches one of `topics` are sent to
/// `url` as signed `POST`s.
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: uuid::Uuid,
    pub url: String,
    pub description: Option<String>,
    /// `*`, `<entity>.*` or `<entity>.<action>`, e.g. `customer.*`. Events
    /// sent: `customer.` created, updated, archived, merged (the absorbed
    /// file), absorbed (the survivor), imported, reverted; `contact.`
    /// created, updated, removed; `document.` created, updated; `relation.`
    /// created, ended; `outside_access_request.` requested, approved,
    /// refused, revoked; `export_request.` requested, approved, refused, withdrawn;
    /// `user.` created, updated, credentials_changed; `org_unit.`
    /// created, updated; `approval_rule.` created, updated, deleted;
    /// `session.` signed_in, signed_out; `webhook.` created, updated,
    /// secret_rotated; `webhook_delivery.retried`.
    pub topics: Vec<String>,
    /// An inactive webhook gets no new deliveries and sends none.
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Self {
            id: r.id.parse().unwrap_or_default(),
            topics: serde_json::from_str(&r.topics).unwrap_or_default(),
            url: r.url,
            description: r.description,
            active: r.active,
            version: r.version,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

page_of!(WebhookPage, Webhook);

/// A subscription and its signing secret, shown only in this answer (at
/// creation and at rotation).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    /// Key of the `Clientele-Signature` HMAC-SHA256; keep it with the receiver.
    pub secret: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Absolute `https://` or `http://` address, without credentials.
    #[validate(length(min = 8, max = 2000))]
    #[schema(
        min_length = 8,
        max_length = 2000,
        pattern = "^https?://[^\\s#@]+$",
        example = "https://erp.example.com/hooks/clientele"
    )]
    pub url: String,
    #[validate(length(min = 1, max = 50))]
    #[schema(value_type = Vec<TopicPatternDto>, min_items = 1, max_items = 50, example = json!(["customer.*"]))]
    pub topics: Vec<String>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub description: Option<String>,
}

/// Fields to change; absent ones stay. `description: null` clears it.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChanges {
    #[validate(length(min = 8, max = 2000))]
    #[schema(
        nullable = false,
        min_length = 8,
        max_length = 2000,
        pattern = "^https?://[^\\s#@]+$"
    )]
    #[serde(default, deserialize_with = "super::present")]
    pub url: Option<String>,
    #[validate(length(min = 1, max = 50))]
    #[schema(nullable = false, value_type = Option<Vec<TopicPatternDto>>, min_items = 1, max_items = 50)]
    #[serde(default, deserialize_with = "super::present")]
    pub topics: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 200))]
    #[schema(max_length = 200, value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatusDto {
    /// Waiting for its next attempt.
    Pending,
    Delivered,
    /// Every attempt failed; `retry` queues it again.
    Failed,
}

impl DeliveryStatusDto {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// One event sent (or to be sent) to one webhook, with its last attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    pub id: uuid::Uuid,
    pub webhook_id: uuid::Uuid,
    /// The event's id, also sent as `Clientele-Event-Id`.
    pub event_id: uuid::Uuid,
    pub topic: String,
    #[schema(value_type = DeliveryStatusDto)]
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's answer to the last attempt, if it answered.
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<DeliveryRow> for WebhookDelivery {
    fn from(r: DeliveryRow) -> Self {
        Self {
            id: r.id.parse().unwrap_or_default(),
            webhook_id: r.webhook_id.parse().unwrap_or_default(),
            event_id: r.event_id.parse().unwrap_or_default(),
            topic: r.topic,
            status: r.status,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at.map(utc),
            last_attempt_at: r.last_attempt_at.map(utc),
            last_status_code: r.last_status_code,
            last_error: r.last_error,
            delivered_at: r.delivered_at.map(utc),
            created_at: utc(r.created_at),
        }
    }
}

page_of!(WebhookDeliveryPage, WebhookDelivery);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatusDto>,
}
