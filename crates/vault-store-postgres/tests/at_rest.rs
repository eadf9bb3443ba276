//! Secrets never reach the database in the clear: the testkit's canary scenario writes and
//! updates credentials of every type through a real `Vault` with the real cipher, then every row of every table is
//! read back as text, and every `bytea` column as raw bytes and in PostgreSQL's escape
//! encoding, and searched for the secret values.

use diesel::QueryableByName;
use diesel::sql_types::{Bytea, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::logs::AuditAction;
use vault_core::store::{CredentialStore, CredentialWrite, OrganizationStore};
use vault_core::{CredentialType, SystemClock, Vault};
use vault_store_postgres::{PgOptions, PgStore, testing};
use vault_testkit::at_rest::{contains, write_canaries};
use vault_testkit::store_suite::{sample_change_audit, sample_credential, sample_organization};

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    table_schema: String,
    #[diesel(sql_type = Text)]
    table_name: String,
}

#[derive(QueryableByName)]
struct ByteaColumn {
    #[diesel(sql_type = Text)]
    table_schema: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct RowText {
    #[diesel(sql_type = Text)]
    text: String,
}

#[derive(QueryableByName)]
struct RowBytes {
    #[diesel(sql_type = Bytea)]
    bytes: Vec<u8>,
}

/// Everything stored in the database, as PostgreSQL prints it: one entry per row of every
/// table (`t::text`, where `bytea` shows as hex), plus every `bytea` value raw and in the
/// escape encoding (printable bytes as themselves), each labelled with where it came from.
async fn dump(conn: &mut AsyncPgConnection) -> Vec<(String, Vec<u8>)> {
    let tables: Vec<TableName> = diesel::sql_query(
        "SELECT table_schema::text AS table_schema, table_name::text AS table_name \
         FROM information_schema.tables \
         WHERE table_type = 'BASE TABLE' \
           AND table_schema NOT IN ('pg_catalog', 'information_schema') \
         ORDER BY 1, 2",
    )
    .load(conn)
    .await
    .expect("the table list");
    let names: Vec<String> = tables.iter().map(|t| t.table_name.clone()).collect();
    for expected in ["organizations", "credentials", "access_keys", "vault_meta"] {
        assert!(
            names.iter().any(|n| n == expected),
            "table {expected} is not in the table list {names:?}: the scan would miss it"
        );
    }

    let mut found = Vec::new();
    for table in &tables {
        let rows: Vec<RowText> = diesel::sql_query(format!(
            "SELECT t::text AS text FROM \"{}\".\"{}\" t",
            table.table_schema, table.table_name
        ))
        .load(conn)
        .await
        .expect("a table's rows as text");
        for row in rows {
            found.push((table.table_name.clone(), row.text.into_bytes()));
        }
    }

    let columns: Vec<ByteaColumn> = diesel::sql_query(
        "SELECT table_schema::text AS table_schema, table_name::text AS table_name, \
                column_name::text AS column_name \
         FROM information_schema.columns \
         WHERE data_type = 'bytea' \
           AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .load(conn)
    .await
    .expect("the bytea column list");
    assert!(
        columns.len() >= 3,
        "expected the bytea columns credentials.sealed, access_keys.key_hash, vault_meta.value"
    );
    for column in &columns {
        let place = format!("{}.{}", column.table_name, column.column_name);
        let from = format!(
            "FROM \"{}\".\"{}\" WHERE \"{col}\" IS NOT NULL",
            column.table_schema,
            column.table_name,
            col = column.column_name
        );
        let raw: Vec<RowBytes> =
            diesel::sql_query(format!("SELECT \"{}\" AS bytes {from}", column.column_name))
                .load(conn)
                .await
                .expect("a bytea column's values");
        found.extend(raw.into_iter().map(|r| (format!("{place} (raw)"), r.bytes)));
        let escaped: Vec<RowText> = diesel::sql_query(format!(
            "SELECT encode(\"{}\", 'escape') AS text {from}",
            column.column_name
        ))
        .load(conn)
        .await
        .expect("a bytea column's values, escape-encoded");
        found.extend(
            escaped
                .into_iter()
                .map(|r| (format!("{place} (escape)"), r.text.into_bytes())),
        );
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_table_in_the_clear() {
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let store = PgStore::connect(database.url(), PgOptions::default())
        .await
        .expect("a store on the fresh database");
    let cipher = RingCipher::new(
        KeyEncryptionKey::generate().expect("a random key-encryption key"),
        vec![],
    );
    let vault = Vault::open(store.clone(), cipher, SystemClock)
        .await
        .expect("the vault opens on a fresh database")
        .with_jwt_signer(vault_jwt::JsonWebTokenSigner);
    let canaries = write_canaries(&vault).await;

    // A positive control for the bytea search: a credential written straight to the store
    // (no cipher) whose "sealed" bytes are plaintext. The search must find it.
    let control_organization = sample_organization();
    store
        .insert_organization(&control_organization)
        .await
        .expect("the control organization");
    let control_marker = format!("CANARY-bytea-control-{}", uuid::Uuid::new_v4());
    let mut control = sample_credential(control_organization.id, CredentialType::BearerToken);
    control.sealed.bytes = [
        &[0x01, 0x02, 0xff][..],
        control_marker.as_bytes(),
        &[0x00, 0x7f],
    ]
    .concat();
    let audit = sample_change_audit(
        control_organization.id,
        AuditAction::CredentialCreate,
        *control.credential.id.as_uuid(),
    );
    store
        .insert_credential(
            &control,
            &CredentialWrite {
                versions: &[],
                keep_versions: 0,
                audit: &audit,
            },
        )
        .await
        .expect("the control credential");

    let mut conn = AsyncPgConnection::establish(database.url())
        .await
        .expect("a raw connection");
    let found = dump(&mut conn).await;
    let anywhere = |needle: &str| -> Vec<&str> {
        found
            .iter()
            .filter(|(_, bytes)| contains(bytes, needle))
            .map(|(place, _)| place.as_str())
            .collect()
    };

    for name in &canaries.names {
        assert!(
            !anywhere(name).is_empty(),
            "positive control: the credential name {name} is not found, so the search cannot \
             be trusted"
        );
    }
    let control_places = anywhere(&control_marker);
    for place in ["credentials.sealed (raw)", "credentials.sealed (escape)"] {
        assert!(
            control_places.contains(&place),
            "positive control: plaintext in credentials.sealed is not found in {place} \
             (found in {control_places:?}), so the bytea search cannot be trusted"
        );
    }

    for value in &canaries.secrets {
        let places = anywhere(value);
        assert!(
            places.is_empty(),
            "the secret {value} is stored in the clear, in {places:?}"
        );
    }
    let places = anywhere(&canaries.token);
    assert!(
        places.is_empty(),
        "the access-key token is stored in the clear, in {places:?}"
    );

    drop(conn);
    drop(vault);
    store.close();
}
