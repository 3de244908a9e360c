//! Tables, written by hand with portable types so one definition serves SQLite and PostgreSQL.
//! A test migrates each backend and loads every table through these definitions.

diesel::table! {
    organizations (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

// The organization's counters, apart from its row (migration 2026-12-07-700000_org_counters).
diesel::table! {
    org_counters (org_id) {
        org_id -> Text,
        queue_counter -> BigInt,
        user_count -> BigInt,
        users_version -> BigInt,
    }
}

diesel::joinable!(org_counters -> organizations (org_id));

diesel::table! {
    org_domains (org_id, domain) {
        org_id -> Text,
        domain -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    scim_tokens (id) {
        id -> Text,
        org_id -> Text,
        token_hash -> Text,
        description -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    seat_pools (org_id, tier) {
        org_id -> Text,
        tier -> Text,
        purchased -> BigInt,
        claimed -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    scim_users (id) {
        id -> Text,
        org_id -> Text,
        user_name -> Text,
        user_name_norm -> Text,
        external_id -> Nullable<Text>,
        display_name -> Nullable<Text>,
        active -> Bool,
        seat_status -> Text,
        seat_tier -> Nullable<Text>,
        seated_at -> Nullable<Timestamp>,
        pending_since -> Nullable<Timestamp>,
        queue_seq -> Nullable<BigInt>,
        source -> Text,
        resource -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    scim_user_emails (user_id, position) {
        user_id -> Text,
        org_id -> Text,
        position -> Integer,
        value -> Text,
        value_norm -> Text,
        email_type -> Nullable<Text>,
        is_primary -> Bool,
    }
}

diesel::table! {
    scim_groups (id) {
        id -> Text,
        org_id -> Text,
        display_name -> Text,
        display_name_norm -> Text,
        external_id -> Nullable<Text>,
        resource -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    scim_group_members (group_id, member_id) {
        group_id -> Text,
        member_id -> Text,
        org_id -> Text,
        member_type -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (org_id, at, id) {
        id -> Text,
        org_id -> Text,
        at -> Timestamp,
        actor -> Text,
        source -> Text,
        kind -> Text,
        subject_id -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    group_tier_policies (org_id, group_id) {
        org_id -> Text,
        group_id -> Text,
        tier -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(scim_tokens -> organizations (org_id));
diesel::joinable!(seat_pools -> organizations (org_id));
diesel::joinable!(scim_users -> organizations (org_id));
diesel::joinable!(scim_user_emails -> scim_users (user_id));
diesel::joinable!(scim_groups -> organizations (org_id));
diesel::joinable!(scim_group_members -> scim_groups (group_id));
diesel::joinable!(audit_log -> organizations (org_id));
diesel::joinable!(group_tier_policies -> scim_groups (group_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    org_counters,
    org_domains,
    scim_tokens,
    seat_pools,
    scim_users,
    scim_user_emails,
    scim_groups,
    scim_group_members,
    audit_log,
    group_tier_policies,
    org_members,
    contracts,
    invoices,
    invoice_lines,
    invitations,
    mail_outbox,
    sso_settings,
    sso_flows,
    signin_links,
    scim_deleted_emails,
);

// Owner members, contracts and invoices (migration 2026-11-21-000003_owner_billing).
diesel::table! {
    org_members (id) {
        id -> Text,
        org_id -> Text,
        email -> Text,
        email_norm -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contracts (org_id) {
        org_id -> Text,
        term_start -> Date,
        term_end -> Date,
        auto_renew -> Bool,
        currency -> Text,
        price_standard_minor -> BigInt,
        price_premium_minor -> BigInt,
        status -> Text,
        invoice_counter -> BigInt,
        renewed_through -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    invoices (id) {
        id -> Text,
        org_id -> Text,
        seq -> BigInt,
        number -> Text,
        kind -> Text,
        issued_on -> Date,
        term_start -> Date,
        term_end -> Date,
        currency -> Text,
        total_minor -> BigInt,
        idempotency_key -> Nullable<Text>,
        request_hash -> Nullable<Text>,
        request -> Text,
        issued_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invoice_lines (invoice_id, position) {
        invoice_id -> Text,
        position -> Integer,
        kind -> Text,
        tier -> Nullable<Text>,
        description -> Text,
        quantity -> BigInt,
        unit_price_minor -> BigInt,
        months_whole -> Integer,
        days_left -> Integer,
        days_in_period -> Integer,
        amount_minor -> BigInt,
    }
}

diesel::joinable!(org_members -> organizations (org_id));
diesel::joinable!(contracts -> organizations (org_id));
diesel::joinable!(invoices -> organizations (org_id));
diesel::joinable!(invoice_lines -> invoices (invoice_id));

// Invitations, the mail outbox and SSO settings (migration 2026-11-21-000004_owner_api).
diesel::table! {
    invitations (id) {
        id -> Text,
        org_id -> Text,
        email -> Text,
        email_norm -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Text,
        status -> Text,
        sent_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        voided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        org_id -> Text,
        kind -> Text,
        to_addr -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

// OpenID Connect sign-in (migration 2026-12-07-100000_oidc_signin).
diesel::table! {
    sso_settings (org_id) {
        org_id -> Text,
        issuer -> Text,
        client_id -> Text,
        client_secret -> Text,
        extra_scopes -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sso_flows (state_hash) {
        state_hash -> Text,
        org_id -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    scim_deleted_emails (org_id, email_norm) {
        org_id -> Text,
        email_norm -> Text,
        deleted_at -> Timestamp,
    }
}

diesel::table! {
    signin_links (id) {
        id -> Text,
        org_id -> Text,
        member_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(invitations -> organizations (org_id));
diesel::joinable!(mail_outbox -> organizations (org_id));
diesel::joinable!(sso_settings -> organizations (org_id));
diesel::joinable!(sso_flows -> organizations (org_id));
diesel::joinable!(signin_links -> organizations (org_id));

// Reports and monitoring (migration 2026-11-21-000005_reports).
diesel::table! {
    alert_settings (org_id) {
        org_id -> Text,
        free_seat_threshold -> BigInt,
        webhook_url -> Nullable<Text>,
        webhook_secret -> Nullable<Text>,
        last_free -> BigInt,
        last_queue_nonempty -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_outbox (id) {
        id -> Text,
        org_id -> Text,
        event -> Text,
        url -> Text,
        body -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

// Tier waits of the group tier policy (migration 2026-12-07-300001_tier_waits).
diesel::table! {
    tier_waits (org_id, user_id) {
        org_id -> Text,
        user_id -> Text,
        tier -> Text,
        seq -> BigInt,
        since -> Timestamp,
    }
}

diesel::joinable!(tier_waits -> scim_users (user_id));
diesel::allow_tables_to_appear_in_same_query!(tier_waits, scim_users);

// OAuth 2.0 client credentials (migration 2026-12-07-300002_oauth_clients).
diesel::table! {
    oauth_clients (id) {
        id -> Text,
        org_id -> Text,
        description -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_client_secrets (id) {
        id -> Text,
        client_id -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_access_tokens (id) {
        id -> Text,
        client_id -> Text,
        org_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(oauth_client_secrets -> oauth_clients (client_id));
diesel::joinable!(oauth_access_tokens -> oauth_clients (client_id));
diesel::allow_tables_to_appear_in_same_query!(
    oauth_clients,
    oauth_client_secrets,
    oauth_access_tokens
);

// Seat events and their webhook cursor (migration 2026-12-07-300003_seat_events).
diesel::table! {
    seat_events (org_id, seq) {
        org_id -> Text,
        seq -> BigInt,
        id -> Text,
        kind -> Text,
        subject_id -> Nullable<Text>,
        data -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    seat_event_cursors (org_id) {
        org_id -> Text,
        delivered_seq -> BigInt,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

// Provisioning log (migration 2026-12-07-300004_provisioning_log).
diesel::table! {
    provisioning_log (id) {
        id -> Text,
        org_id -> Text,
        at -> Timestamp,
        method -> Text,
        path -> Text,
        status -> Integer,
        scim_type -> Nullable<Text>,
        resource_type -> Nullable<Text>,
        resource_id -> Nullable<Text>,
        resource_name -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        token_id -> Nullable<Text>,
        duration_ms -> BigInt,
        decision -> Nullable<Text>,
    }
}

// Browser sessions (migration 2026-12-07-000001_web_sessions).
diesel::table! {
    web_sessions (id) {
        id -> Text,
        org_id -> Text,
        member_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(web_sessions -> org_members (member_id));
diesel::allow_tables_to_appear_in_same_query!(web_sessions, org_members);
