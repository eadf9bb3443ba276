//! The tables, as `migrations/sqlite` creates them.

diesel::table! {
    organizations (id) {
        id -> Binary,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    credentials (id) {
        id -> Binary,
        organization_id -> Binary,
        name -> Text,
        description -> Nullable<Text>,
        credential_type -> Text,
        public_fields -> Text,
        allowed_hosts -> Text,
        secret_hints -> Text,
        sealed -> Binary,
        key_id -> Text,
        expires_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
        restore_floor -> BigInt,
        secret_version -> BigInt,
    }
}

diesel::table! {
    access_keys (id) {
        id -> Binary,
        organization_id -> Binary,
        name -> Text,
        key_hash -> Binary,
        scopes -> Text,
        created_by -> Nullable<Binary>,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        binding -> Nullable<Binary>,
    }
}

diesel::table! {
    vault_meta (name) {
        name -> Text,
        value -> Binary,
        key_id -> Text,
    }
}

diesel::table! {
    request_logs (id) {
        id -> Binary,
        organization_id -> Binary,
        credential_id -> Binary,
        credential_name -> Text,
        method -> Text,
        host -> Text,
        path -> Text,
        status -> Nullable<Integer>,
        error -> Nullable<Text>,
        latency_micros -> BigInt,
        at -> BigInt,
        access_key_id -> Nullable<Binary>,
        actor_subject -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Binary,
        organization_id -> Nullable<Binary>,
        actor -> Nullable<Binary>,
        action -> Text,
        target -> Nullable<Binary>,
        outcome -> Text,
        reason -> Nullable<Text>,
        at -> BigInt,
        actor_subject -> Nullable<Text>,
        occurrences -> BigInt,
    }
}

diesel::table! {
    credential_versions (credential_id, number) {
        credential_id -> Binary,
        organization_id -> Binary,
        number -> BigInt,
        sealed -> Binary,
        key_id -> Text,
        secret_hints -> Text,
        created_at -> BigInt,
        created_by -> Nullable<Binary>,
        restored_from -> Nullable<BigInt>,
    }
}

diesel::joinable!(credentials -> organizations (organization_id));
diesel::joinable!(access_keys -> organizations (organization_id));
diesel::joinable!(request_logs -> organizations (organization_id));
diesel::joinable!(audit_events -> organizations (organization_id));
diesel::joinable!(credential_versions -> credentials (credential_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    credentials,
    access_keys,
    vault_meta,
    request_logs,
    audit_events,
    credential_versions,
);
