//! Secrets never reach the database in the clear: credentials of every type are created and
//! updated through a real `Vault` with the real cipher, then every row of every table is
//! read back as text, and every `bytea` column as raw bytes and in PostgreSQL's escape
//! encoding, and searched for the secret values.

use diesel::QueryableByName;
use diesel::sql_types::{Bytea, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::store::{CredentialStore, OrganizationStore};
use vault_core::{
    CredentialFields, CredentialId, CredentialSecrets, CredentialType, Principal, SystemClock,
    Vault,
};
use vault_store_postgres::{PgOptions, PgStore, testing};
use vault_testkit::store_suite::{sample_credential, sample_organization};

fn canary(label: &str) -> String {
    format!("CANARY-{label}-{}", Uuid::new_v4())
}

fn secret(text: &str) -> Option<SecretString> {
    Some(SecretString::from(text.to_owned()))
}

fn pem(body: &str) -> String {
    format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// The secret values of an opened credential (every header value, for custom).
fn opened_values(secrets: &CredentialSecrets) -> Vec<String> {
    match secrets {
        CredentialSecrets::Value(s)
        | CredentialSecrets::Password(s)
        | CredentialSecrets::ClientSecret(s)
        | CredentialSecrets::JwtSecret(s)
        | CredentialSecrets::JwtPrivateKey(s) => vec![s.expose_secret().to_owned()],
        CredentialSecrets::Headers(map) => {
            map.values().map(|s| s.expose_secret().to_owned()).collect()
        }
    }
}

struct Case {
    kind: CredentialType,
    name: String,
    fields: CredentialFields,
    /// What `open_credential` must return after the updates.
    current: Vec<String>,
    /// Every secret value this credential ever had.
    all: Vec<String>,
    /// A patch replacing the secrets, if this case is updated.
    update: Option<CredentialFields>,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |kind: CredentialType,
                   fill: &dyn Fn(&mut CredentialFields, &str),
                   first: String,
                   second: Option<String>| {
        let name = format!("canary-name-{}", Uuid::new_v4());
        let mut fields = CredentialFields {
            name: Some(name.clone()),
            ..CredentialFields::default()
        };
        fill(&mut fields, &first);
        let update = second.as_ref().map(|second| {
            let mut patch = CredentialFields::default();
            fill(&mut patch, second);
            patch
        });
        let current = vec![second.clone().unwrap_or_else(|| first.clone())];
        let all = [Some(first), second].into_iter().flatten().collect();
        cases.push(Case {
            kind,
            name,
            fields,
            current,
            all,
            update,
        });
    };

    add(
        CredentialType::ApiKey,
        &|f, v| f.value = secret(v),
        canary("api-key"),
        Some(canary("api-key-2")),
    );
    add(
        CredentialType::BearerToken,
        &|f, v| f.value = secret(v),
        canary("bearer"),
        Some(canary("bearer-2")),
    );
    add(
        CredentialType::BasicAuth,
        &|f, v| {
            if f.name.is_some() {
                f.username = Some("service-user".to_owned());
            }
            f.password = secret(v);
        },
        canary("password"),
        Some(canary("password-2")),
    );
    add(
        CredentialType::OAuth2,
        &|f, v| {
            if f.name.is_some() {
                f.client_id = Some("client-id".to_owned());
                f.token_url = Some("https://auth.example.com/oauth/token".to_owned());
            }
            f.client_secret = secret(v);
        },
        canary("client-secret"),
        Some(canary("client-secret-2")),
    );
    add(
        CredentialType::Jwt,
        &|f, v| {
            if f.name.is_some() {
                f.algorithm = Some("HS256".to_owned());
            }
            f.secret = secret(v);
        },
        canary("hmac"),
        Some(canary("hmac-2")),
    );
    add(
        CredentialType::Jwt,
        &|f, v| {
            if f.name.is_some() {
                f.algorithm = Some("RS256".to_owned());
            }
            f.private_key = secret(&pem(v));
        },
        canary("pem"),
        None,
    );
    add(
        CredentialType::Custom,
        &|f, v| {
            f.headers = Some(vec![(
                "X-Upstream-Token".to_owned(),
                SecretString::from(v.to_owned()),
            )]);
        },
        canary("header"),
        Some(canary("header-2")),
    );
    // The PEM case stores the armoured key: compare against what open returns.
    for case in &mut cases {
        if case.kind == CredentialType::Jwt && case.all[0].starts_with("CANARY-pem") {
            case.current = vec![pem(&case.all[0])];
        }
    }
    cases
}

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
        .expect("the vault opens on a fresh database");
    let (organization, admin) = vault
        .create_organization("canary organization")
        .await
        .expect("an organization");
    let who = Principal::system(organization.id);

    let cases = cases();
    let mut created: Vec<(CredentialId, &Case)> = Vec::new();
    for case in &cases {
        let credential = vault
            .create_credential(&who, case.kind, &case.fields)
            .await
            .unwrap_or_else(|error| panic!("creating the {} credential: {error:?}", case.kind));
        created.push((credential.id, case));
    }
    for (id, case) in &created {
        if let Some(patch) = &case.update {
            let updated = vault
                .update_credential(&who, *id, patch)
                .await
                .unwrap_or_else(|error| panic!("updating the {} credential: {error:?}", case.kind));
            assert_eq!(updated.version, 2, "{}: one update, one version", case.kind);
        }
    }

    // The canaries are really there, behind the cipher: a store that kept them in the
    // clear would be caught by the search below.
    for (id, case) in &created {
        let (_, secrets) = vault
            .open_credential(&who, *id)
            .await
            .unwrap_or_else(|error| panic!("opening the {} credential: {error:?}", case.kind));
        assert_eq!(
            opened_values(&secrets),
            case.current,
            "{}: the opened secret is not the latest value",
            case.kind
        );
    }

    // A positive control for the bytea search: a credential written straight to the store
    // (no cipher) whose "sealed" bytes are plaintext. The search must find it.
    let control_organization = sample_organization();
    store
        .insert_organization(&control_organization)
        .await
        .expect("the control organization");
    let control_marker = canary("bytea-control");
    let mut control = sample_credential(control_organization.id, CredentialType::BearerToken);
    control.sealed.bytes = [
        &[0x01, 0x02, 0xff][..],
        control_marker.as_bytes(),
        &[0x00, 0x7f],
    ]
    .concat();
    store
        .insert_credential(&control)
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

    for (_, case) in &created {
        assert!(
            !anywhere(&case.name).is_empty(),
            "positive control: the credential name {} is not found, so the search cannot be \
             trusted",
            case.name
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

    for (_, case) in &created {
        for value in &case.all {
            let places = anywhere(value);
            assert!(
                places.is_empty(),
                "the {} secret {value} is stored in the clear, in {places:?}",
                case.kind
            );
        }
    }
    let token = admin.token.expose();
    let places = anywhere(token);
    assert!(
        places.is_empty(),
        "the access-key token is stored in the clear, in {places:?}"
    );

    drop(conn);
    drop(vault);
    store.close();
}
