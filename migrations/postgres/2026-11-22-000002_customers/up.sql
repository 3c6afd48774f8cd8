-- Customer archives (CUS-01..11): files, tags, contacts, relations, document
-- records, field-level change history, the read register, outside access.

CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('customer_code', 0);

CREATE TABLE customers (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_normalized TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    credit_code TEXT UNIQUE,
    legal_representative TEXT,
    nature TEXT NOT NULL CHECK (nature IN ('government', 'state_owned', 'private', 'individual', 'foreign', 'other')),
    industry TEXT,
    region_code TEXT,
    region_name TEXT,
    address TEXT,
    size TEXT CHECK (size IS NULL OR size IN ('micro', 'small', 'medium', 'large')),
    registered_capital_fen BIGINT CHECK (registered_capital_fen IS NULL OR registered_capital_fen >= 0),
    trading_since DATE,
    service_area TEXT,
    sales_capacity TEXT,
    potential TEXT,
    credit_standing TEXT,
    trading_terms TEXT,
    vulnerable BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL CHECK (status IN ('prospect', 'active', 'dormant', 'archived')),
    external_id TEXT UNIQUE,
    owner_user_id TEXT REFERENCES users (id),
    owner_unit_id TEXT NOT NULL REFERENCES org_units (id),
    secrecy_level TEXT NOT NULL REFERENCES secrecy_levels (code),
    shared BOOLEAN NOT NULL DEFAULT FALSE,
    merged_into_id TEXT REFERENCES customers (id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_customers_name ON customers (name, id);
CREATE INDEX ix_customers_created ON customers (created_at, id);
CREATE INDEX ix_customers_updated ON customers (updated_at, id);
CREATE INDEX ix_customers_unit_name ON customers (owner_unit_id, name, id);
CREATE INDEX ix_customers_normalized ON customers (name_normalized);
CREATE INDEX ix_customers_region ON customers (region_code);
CREATE INDEX ix_customers_owner ON customers (owner_user_id);

CREATE TABLE customer_tags (
    customer_id TEXT NOT NULL REFERENCES customers (id),
    tag TEXT NOT NULL,
    PRIMARY KEY (customer_id, tag)
);
CREATE INDEX ix_customer_tags_tag ON customer_tags (tag, customer_id);

CREATE TABLE customer_contacts (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    name TEXT NOT NULL,
    title TEXT,
    phone TEXT,
    mobile TEXT,
    email TEXT,
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    note TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_customer_contacts_customer ON customer_contacts (customer_id, id);

CREATE TABLE customer_relations (
    id TEXT PRIMARY KEY NOT NULL,
    from_id TEXT NOT NULL REFERENCES customers (id),
    to_id TEXT NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL CHECK (kind IN ('parent_of', 'same_group', 'related')),
    note TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    CHECK (from_id <> to_id)
);
CREATE INDEX ix_customer_relations_from ON customer_relations (from_id);
CREATE INDEX ix_customer_relations_to ON customer_relations (to_id);

CREATE TABLE customer_documents (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    category TEXT NOT NULL CHECK (category IN ('sales', 'contract', 'certificate', 'hand_over', 'maintenance', 'compensation', 'litigation', 'lease', 'other')),
    title TEXT NOT NULL,
    reference_no TEXT,
    doc_date DATE,
    keeper_unit_id TEXT REFERENCES org_units (id),
    location TEXT,
    external_url TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_customer_documents_customer ON customer_documents (customer_id, id);

CREATE TABLE customer_changes (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    at TIMESTAMP NOT NULL,
    actor_id TEXT,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    request_id TEXT
);
CREATE INDEX ix_customer_changes_customer ON customer_changes (customer_id, id);

CREATE TABLE customer_access_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT,
    grant_id TEXT,
    client_ip TEXT,
    request_id TEXT
);
CREATE INDEX ix_customer_access_customer ON customer_access_log (customer_id, id);
CREATE INDEX ix_customer_access_actor ON customer_access_log (actor_id, id);

CREATE TABLE outside_access_requests (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    requested_by TEXT NOT NULL REFERENCES users (id),
    outside_party TEXT NOT NULL,
    purpose TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    days INTEGER NOT NULL CHECK (days BETWEEN 1 AND 90),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused')),
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    decision_note TEXT,
    valid_until TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_outside_access_customer ON outside_access_requests (customer_id);
CREATE INDEX ix_outside_access_requester ON outside_access_requests (requested_by, status);

-- The read register and the change history are evidence: append-only.
CREATE FUNCTION clientele_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER customer_access_log_no_change BEFORE UPDATE OR DELETE ON customer_access_log
FOR EACH ROW EXECUTE FUNCTION clientele_append_only();
CREATE TRIGGER customer_changes_no_delete BEFORE DELETE ON customer_changes
FOR EACH ROW EXECUTE FUNCTION clientele_append_only();
