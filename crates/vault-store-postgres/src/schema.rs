//! The tables, as `migrations/postgres` creates them.

diesel::table! {
    organizations (id) {
        id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    credentials (id) {
        id -> Uuid,
        organization_id -> Uuid,
        name -> Text,
        description -> Nullable<Text>,
        credential_type -> Text,
        public_fields -> Json,
        allowed_hosts -> Json,
        secret_hints -> Json,
        sealed -> Bytea,
        key_id -> Text,
        expires_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> BigInt,
        restore_floor -> BigInt,
        secret_version -> BigInt,
    }
}

diesel::table! {
    access_keys (id) {
        id -> Uuid,
        organization_id -> Uuid,
        name -> Text,
        key_hash -> Bytea,
        scopes -> Json,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        binding -> Nullable<Bytea>,
    }
}

diesel::table! {
    vault_meta (name) {
        name -> Text,
        value -> Bytea,
        key_id -> Text,
    }
}

diesel::table! {
    request_logs (id) {
        id -> Uuid,
        organization_id -> Uuid,
        credential_id -> Uuid,
        credential_name -> Text,
        method -> Text,
        host -> Text,
        path -> Text,
        status -> Nullable<Integer>,
        error -> Nullable<Text>,
        latency_micros -> BigInt,
        at -> Timestamptz,
        access_key_id -> Nullable<Uuid>,
        actor_subject -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Uuid,
        organization_id -> Nullable<Uuid>,
        actor -> Nullable<Uuid>,
        action -> Text,
        target -> Nullable<Uuid>,
        outcome -> Text,
        reason -> Nullable<Text>,
        at -> Timestamptz,
        actor_subject -> Nullable<Text>,
        occurrences -> BigInt,
    }
}

diesel::table! {
    credential_versions (credential_id, number) {
        credential_id -> Uuid,
        organization_id -> Uuid,
        number -> BigInt,
        sealed -> Bytea,
        key_id -> Text,
        secret_hints -> Json,
        created_at -> Timestamptz,
        created_by -> Nullable<Uuid>,
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
