-- Webhooks: subscriptions to outbox events, and one delivery row per event
-- and subscription, with its attempts (the delivery log).
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    description TEXT,
    -- JSON array of topic patterns.
    topics TEXT NOT NULL,
    -- Signing key, shown once at creation.
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id),
    event_id TEXT NOT NULL REFERENCES outbox (id),
    topic TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    last_attempt_at TIMESTAMP,
    last_status_code INTEGER,
    last_error TEXT,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX ix_webhook_deliveries_log ON webhook_deliveries (webhook_id, id);
-- Pruning events asks whether a delivery still refers to them.
CREATE INDEX ix_webhook_deliveries_event ON webhook_deliveries (event_id);

-- Events from before webhooks existed go to no one: mark them fanned out,
-- so the first run does not walk the whole history.
UPDATE outbox SET published_at = created_at WHERE published_at IS NULL;
