//! Table definitions, written by hand to match `migrations/{sqlite,postgres}`.

diesel::table! {
    secrecy_levels (code) {
        code -> Text,
        rank -> Integer,
        name -> Text,
        version -> BigInt,
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
    regions (code) {
        code -> Text,
        name -> Text,
        parent_code -> Nullable<Text>,
        active -> Bool,
        version -> BigInt,
        updated_at -> Timestamp,
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

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    customers (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        name_normalized -> Text,
        name_folded -> Text,
        credit_code -> Nullable<Text>,
        legal_representative -> Nullable<Text>,
        nature -> Text,
        industry -> Nullable<Text>,
        region_code -> Nullable<Text>,
        region_name -> Nullable<Text>,
        address -> Nullable<Text>,
        size -> Nullable<Text>,
        registered_capital_fen -> Nullable<BigInt>,
        trading_since -> Nullable<Date>,
        service_area -> Nullable<Text>,
        sales_capacity -> Nullable<Text>,
        potential -> Nullable<Text>,
        credit_standing -> Nullable<Text>,
        trading_terms -> Nullable<Text>,
        vulnerable -> Bool,
        status -> Text,
        external_id -> Nullable<Text>,
        owner_user_id -> Nullable<Text>,
        owner_unit_id -> Text,
        secrecy_level -> Text,
        shared -> Bool,
        merged_into_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        tags -> Text,
        business_policy -> Nullable<Text>,
        sales_history -> Nullable<Text>,
        attitude_to_us -> Nullable<Text>,
        competitor_relations -> Nullable<Text>,
        credit_problems -> Nullable<Text>,
        customer_type -> Nullable<Text>,
        name_sort -> Text,
        name_mnemonic -> Text,
    }
}

diesel::table! {
    customer_tags (customer_id, tag) {
        customer_id -> Text,
        tag -> Text,
    }
}

diesel::table! {
    tags_to_fold (customer_id) {
        customer_id -> Text,
    }
}

diesel::table! {
    names_to_fold (customer_id) {
        customer_id -> Text,
    }
}

diesel::table! {
    customer_contacts (id) {
        id -> Text,
        customer_id -> Text,
        name -> Text,
        title -> Nullable<Text>,
        phone -> Nullable<Text>,
        mobile -> Nullable<Text>,
        email -> Nullable<Text>,
        is_primary -> Bool,
        note -> Nullable<Text>,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        phone_key -> Nullable<Text>,
        mobile_key -> Nullable<Text>,
        email_key -> Nullable<Text>,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    contacts_to_key (contact_id) {
        contact_id -> Text,
    }
}

diesel::table! {
    customer_relations (id) {
        id -> Text,
        from_id -> Text,
        to_id -> Text,
        kind -> Text,
        note -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    customer_documents (id) {
        id -> Text,
        customer_id -> Text,
        category -> Text,
        title -> Text,
        reference_no -> Nullable<Text>,
        doc_date -> Nullable<Date>,
        keeper_unit_id -> Nullable<Text>,
        location -> Nullable<Text>,
        external_url -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    customer_changes (id) {
        id -> Text,
        customer_id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        entity -> Text,
        entity_id -> Text,
        field -> Text,
        old_value -> Nullable<Text>,
        new_value -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    read_register (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Text,
        action -> Text,
        detail -> Nullable<Text>,
        grant_id -> Nullable<Text>,
        client_ip -> Nullable<Text>,
        request_id -> Nullable<Text>,
        customer_ids -> Text,
    }
}

diesel::table! {
    read_register_files (customer_id, entry_id) {
        customer_id -> Text,
        entry_id -> Text,
    }
}

diesel::joinable!(read_register_files -> read_register (entry_id));

diesel::table! {
    read_register_unindexed (entry_id) {
        entry_id -> Text,
    }
}

diesel::table! {
    outside_access_requests (id) {
        id -> Text,
        customer_id -> Text,
        requested_by -> Text,
        outside_party -> Text,
        purpose -> Text,
        legal_basis -> Text,
        days -> Integer,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
        valid_until -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        revoked_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
        revocation_note -> Nullable<Text>,
        reader_id -> Text,
    }
}

diesel::table! {
    export_requests (id) {
        id -> Text,
        requested_by -> Text,
        unit_path -> Text,
        filter -> Text,
        purpose -> Text,
        days -> Integer,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
        valid_until -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(customers -> org_units (owner_unit_id));
diesel::joinable!(customers -> secrecy_levels (secrecy_level));
diesel::joinable!(customer_tags -> customers (customer_id));
diesel::joinable!(customer_contacts -> customers (customer_id));
diesel::joinable!(customer_documents -> customers (customer_id));
diesel::joinable!(customer_changes -> customers (customer_id));
diesel::joinable!(outside_access_requests -> customers (customer_id));

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        topics -> Text,
        secret -> Text,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event_id -> Text,
        topic -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_deliveries -> outbox (event_id));

diesel::allow_tables_to_appear_in_same_query!(
    refresh_tokens,
    sessions,
    user_roles,
    login_failures,
    approval_rules,
    regions,
    audit_log,
    outbox,
    idempotency_keys,
    customers,
    counters,
    customer_tags,
    tags_to_fold,
    names_to_fold,
    customer_contacts,
    contacts_to_key,
    customer_relations,
    customer_documents,
    customer_changes,
    read_register,
    read_register_files,
    read_register_unindexed,
    outside_access_requests,
    export_requests,
    org_units,
    secrecy_levels,
    users,
    webhooks,
    webhook_deliveries,
);
