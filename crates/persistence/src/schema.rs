//! Table definitions, written by hand to match `migrations/{sqlite,postgres}`.

diesel::table! {
    secrecy_levels (code) {
        code -> Text,
        rank -> Integer,
        name -> Text,
    }
}

diesel::table! {
    org_units (id) {
        id -> Text,
        parent_id -> Nullable<Text>,
        path -> Text,
        code -> Text,
        name -> Text,
        kind -> Text,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        kind -> Text,
        username -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        unit_id -> Text,
        clearance -> Text,
        password_hash -> Text,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        grant_type -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
        client_ip -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        session_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        subject -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    approval_rules (id) {
        id -> Text,
        subject -> Text,
        role -> Text,
        limit_minor -> Nullable<BigInt>,
        currency -> Text,
        note -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        request_id -> Nullable<Text>,
        client_ip -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        created_at -> Timestamp,
        topic -> Text,
        entity_type -> Text,
        entity_id -> Text,
        payload -> Text,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (principal_id, idem_key) {
        principal_id -> Text,
        idem_key -> Text,
        method -> Text,
        path -> Text,
        request_hash -> Text,
        status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> org_units (unit_id));
diesel::joinable!(users -> secrecy_levels (clearance));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    secrecy_levels,
    org_units,
    users,
    user_roles,
    sessions,
    refresh_tokens,
    login_failures,
    approval_rules,
    audit_log,
    outbox,
    idempotency_keys,
);
