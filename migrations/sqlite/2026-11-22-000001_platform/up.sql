-- Platform foundation: organisation, identity, sessions, approval authority,
-- audit log, outbox, idempotency keys. Same version name as the PostgreSQL set.

CREATE TABLE secrecy_levels (
    code TEXT PRIMARY KEY NOT NULL CHECK (length(code) BETWEEN 1 AND 16),
    rank INTEGER NOT NULL UNIQUE,
    name TEXT NOT NULL
);
INSERT INTO secrecy_levels (code, rank, name) VALUES ('C', 1, '普通 general'), ('B', 2, '秘密 confidential'), ('A', 3, '机密 secret');

CREATE TABLE org_units (
    id TEXT PRIMARY KEY NOT NULL,
    parent_id TEXT REFERENCES org_units (id),
    path TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('company', 'department', 'branch', 'subsidiary', 'project_team')),
    active BOOLEAN NOT NULL DEFAULT 1,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_org_units_parent ON org_units (parent_id);
CREATE INDEX ix_org_units_name ON org_units (name, id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('person', 'service')),
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    unit_id TEXT NOT NULL REFERENCES org_units (id),
    clearance TEXT NOT NULL REFERENCES secrecy_levels (code),
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_users_unit ON users (unit_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'account_manager', 'service_agent', 'quality', 'legal', 'auditor', 'integration')),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    grant_type TEXT NOT NULL CHECK (grant_type IN ('password', 'client_credentials')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_reason TEXT,
    client_ip TEXT
);
CREATE INDEX ix_sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX ix_refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE login_failures (
    id TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX ix_login_failures_subject ON login_failures (subject, at);

CREATE TABLE approval_rules (
    id TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'account_manager', 'service_agent', 'quality', 'legal', 'auditor', 'integration')),
    limit_minor BIGINT CHECK (limit_minor IS NULL OR limit_minor >= 0),
    currency TEXT NOT NULL CHECK (length(currency) = 3),
    note TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (subject, role)
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    request_id TEXT,
    client_ip TEXT
);
CREATE INDEX ix_audit_log_entity ON audit_log (entity_type, entity_id, id);
CREATE INDEX ix_audit_log_actor ON audit_log (actor_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    created_at TIMESTAMP NOT NULL,
    topic TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    published_at TIMESTAMP
);
CREATE INDEX ix_outbox_unpublished ON outbox (published_at, id);

CREATE TABLE idempotency_keys (
    principal_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (principal_id, idem_key)
);
CREATE INDEX ix_idempotency_keys_created ON idempotency_keys (created_at);

-- ORG-02 seed: contracts above 4,000 CNY need contract approval; the
-- amounts are defaults of the source documents, editable through the API.
INSERT INTO approval_rules (id, subject, role, limit_minor, currency, note, version, created_at, updated_at) VALUES
    ('019aabb0-0000-7000-8000-000000000001', 'contract', 'account_manager', 400000, 'CNY', 'ORG-02: up to 4,000 CNY without contract approval', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('019aabb0-0000-7000-8000-000000000002', 'contract', 'manager', 100000000, 'CNY', 'contract approval up to 1,000,000 CNY', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('019aabb0-0000-7000-8000-000000000003', 'contract', 'admin', NULL, 'CNY', 'group management: any amount', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('019aabb0-0000-7000-8000-000000000004', 'complaint_extension', 'manager', NULL, 'CNY', 'CMP-03: extension approved by the responsible manager', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);
