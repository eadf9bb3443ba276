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
        secret_hints -> Text,
        sealed -> Binary,
        key_id -> Text,
        expires_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
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
    }
}

diesel::table! {
    vault_meta (name) {
        name -> Text,
        value -> Binary,
        key_id -> Text,
    }
}

diesel::joinable!(credentials -> organizations (organization_id));
diesel::joinable!(access_keys -> organizations (organization_id));

diesel::allow_tables_to_appear_in_same_query!(organizations, credentials, access_keys, vault_meta);
