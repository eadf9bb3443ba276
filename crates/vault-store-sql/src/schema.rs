//! The tables, as `migrations/sqlite` and `migrations/postgres` create them: one schema for
//! both, its ids, times and JSON in the column types of `types` (which each database
//! stores its own way), the rest in diesel's. Written by hand: `diesel print-schema` would
//! give each database's own types.

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    organizations (id) {
        id -> Id,
        name -> Text,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    credentials (id) {
        id -> Id,
        organization_id -> Id,
        name -> Text,
        description -> Nullable<Text>,
        credential_type -> Text,
        public_fields -> Json,
        allowed_hosts -> Json,
        secret_hints -> Json,
        sealed -> Binary,
        key_id -> Text,
        expires_at -> Nullable<Instant>,
        created_at -> Instant,
        updated_at -> Instant,
        version -> BigInt,
        restore_floor -> BigInt,
        secret_version -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    access_keys (id) {
        id -> Id,
        organization_id -> Id,
        name -> Text,
        key_hash -> Binary,
        scopes -> Json,
        created_by -> Nullable<Id>,
        created_at -> Instant,
        expires_at -> Nullable<Instant>,
        last_used_at -> Nullable<Instant>,
        revoked_at -> Nullable<Instant>,
        binding -> Nullable<Binary>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    vault_meta (name) {
        name -> Text,
        value -> Binary,
        key_id -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    request_logs (id) {
        id -> Id,
        organization_id -> Id,
        credential_id -> Id,
        credential_name -> Text,
        method -> Text,
        host -> Text,
        path -> Text,
        status -> Nullable<Integer>,
        error -> Nullable<Text>,
        latency_micros -> BigInt,
        at -> Instant,
        access_key_id -> Nullable<Id>,
        actor_subject -> Nullable<Text>,
        via -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    audit_events (id) {
        id -> Id,
        organization_id -> Nullable<Id>,
        actor -> Nullable<Id>,
        action -> Text,
        target -> Nullable<Id>,
        outcome -> Text,
        reason -> Nullable<Text>,
        at -> Instant,
        actor_subject -> Nullable<Text>,
        occurrences -> BigInt,
        via -> Nullable<Text>,
        digest -> Nullable<Binary>,
        chain_seq -> Nullable<BigInt>,
        previous_hash -> Nullable<Binary>,
        chain_hash -> Nullable<Binary>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Id;

    audit_chain_heads (chain_key) {
        chain_key -> Id,
        seq -> BigInt,
        hash -> Binary,
        previous_hash -> Binary,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant};

    audit_checkpoints (chain_key, seq) {
        chain_key -> Id,
        seq -> BigInt,
        hash -> Binary,
        at -> Instant,
        kind -> Text,
        key_id -> Text,
        signature -> Binary,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Id;

    audit_sink_cursors (sink, chain_key) {
        sink -> Text,
        chain_key -> Id,
        seq -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    credential_versions (credential_id, number) {
        credential_id -> Id,
        organization_id -> Id,
        number -> BigInt,
        sealed -> Binary,
        key_id -> Text,
        secret_hints -> Json,
        created_at -> Instant,
        created_by -> Nullable<Id>,
        restored_from -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    grants (id) {
        id -> Id,
        organization_id -> Id,
        credential_id -> Id,
        grantee -> Text,
        permission -> Text,
        rules -> Json,
        budget -> Nullable<Json>,
        expires_at -> Nullable<Instant>,
        granted_by -> Nullable<Id>,
        created_at -> Instant,
        parent_id -> Nullable<Id>,
        binding -> Nullable<Binary>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    grant_usage (grant_id, time_window, window_start) {
        grant_id -> crate::types::Id,
        time_window -> Text,
        window_start -> BigInt,
        used -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    oauth_connections (credential_id) {
        credential_id -> Id,
        organization_id -> Id,
        status -> Text,
        generation -> BigInt,
        sealed -> Nullable<Binary>,
        key_id -> Nullable<Text>,
        access_expires_at -> Nullable<Instant>,
        lease_holder -> Nullable<Id>,
        lease_until -> Nullable<Instant>,
        reason -> Nullable<Text>,
        connected_at -> Instant,
        updated_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    oauth_connect_states (state_hash) {
        state_hash -> Binary,
        organization_id -> Id,
        credential_id -> Id,
        access_key_id -> Nullable<Id>,
        subject -> Nullable<Text>,
        redirect_uri -> Text,
        expires_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Instant;

    keyring (id) {
        id -> SmallInt,
        generation -> BigInt,
        manager -> Text,
        manager_key -> Text,
        wrapped -> Binary,
        handover -> Nullable<Binary>,
        handover_key_id -> Nullable<Text>,
        changed_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant};

    webhooks (id) {
        id -> Id,
        organization_id -> Id,
        url -> Text,
        description -> Nullable<Text>,
        events -> Text,
        days_ahead -> Text,
        enabled -> Bool,
        sealed -> Binary,
        key_id -> Text,
        created_at -> Instant,
        updated_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant, Json};

    webhook_deliveries (id) {
        id -> Id,
        webhook_id -> Id,
        organization_id -> Id,
        message_id -> Text,
        event_type -> Text,
        payload -> Json,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Instant>,
        last_attempt_at -> Nullable<Instant>,
        response_status -> Nullable<Integer>,
        error -> Nullable<Text>,
        replay_of -> Nullable<Id>,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Id, Instant};

    webhook_reminders (webhook_id, subject_kind, subject_id, expires_at, days_ahead) {
        webhook_id -> Id,
        subject_kind -> Text,
        subject_id -> Id,
        expires_at -> Instant,
        days_ahead -> Integer,
        created_at -> Instant,
    }
}

diesel::joinable!(credentials -> organizations (organization_id));
diesel::joinable!(grants -> credentials (credential_id));
diesel::joinable!(grant_usage -> grants (grant_id));
diesel::joinable!(access_keys -> organizations (organization_id));
diesel::joinable!(request_logs -> organizations (organization_id));
diesel::joinable!(audit_events -> organizations (organization_id));
diesel::joinable!(credential_versions -> credentials (credential_id));
diesel::joinable!(oauth_connections -> credentials (credential_id));
diesel::joinable!(oauth_connect_states -> credentials (credential_id));
diesel::joinable!(webhooks -> organizations (organization_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_reminders -> webhooks (webhook_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    credentials,
    access_keys,
    vault_meta,
    keyring,
    request_logs,
    audit_events,
    audit_chain_heads,
    audit_checkpoints,
    audit_sink_cursors,
    credential_versions,
    grants,
    grant_usage,
    oauth_connections,
    oauth_connect_states,
    webhooks,
    webhook_deliveries,
    webhook_reminders,
);
