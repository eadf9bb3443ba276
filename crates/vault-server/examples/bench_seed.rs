//! Seeds a database for `make bench`'s rewrap measurement: an organization and `COUNT`
//! api_key credentials, written through the library (many at once) rather than over HTTP,
//! so 100,000 of them take seconds, not minutes. Uses the server's own configuration
//! (`DATABASE_URL`, `ENCRYPTION_KEY`, ...). Prints the admin access key, then writes the
//! credential ids, one per line, to the file named by the second argument.
//!
//! `cargo run --release --example bench_seed -- 100000 ids.txt`
#![expect(
    clippy::print_stdout,
    reason = "prints the access key for the benchmark script"
)]

use std::io::Write;

use futures::StreamExt;
use secrecy::SecretString;
use vault_core::{CredentialFields, CredentialType, Principal, Store};
use vault_server::app::{ServerVault, VaultJob};
use vault_server::keyring::KeyHierarchy;
use vault_server::{Settings, with_vault};

struct Seed {
    count: usize,
    ids_file: std::path::PathBuf,
}

impl VaultJob for Seed {
    type Output = ();

    async fn run<S: Store>(self, vault: ServerVault<S>, _keys: KeyHierarchy) -> anyhow::Result<()> {
        let (organization, admin) = vault.create_organization("bench").await?;
        let who = Principal::system(organization.id);
        let vault = &vault;
        let who = &who;
        let ids: Vec<String> = futures::stream::iter(0..self.count)
            .map(|i| async move {
                let fields = CredentialFields {
                    name: Some(format!("seed {i}")),
                    ..CredentialFields::default()
                }
                .with(
                    "value",
                    Some(SecretString::from(format!(
                        "sk_seed_{i:08}_0123456789abcdef"
                    ))),
                );
                vault
                    .create_credential(who, CredentialType::ApiKey, &fields)
                    .await
                    .map(|c| c.id.to_string())
            })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let mut file = std::fs::File::create(&self.ids_file)?;
        for id in &ids {
            writeln!(file, "{id}")?;
        }
        println!("{}", admin.token.expose());
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let count = args.next().map_or(Ok(100_000), |c| c.parse())?;
    let ids_file = args.next().unwrap_or_else(|| "ids.txt".to_owned()).into();
    let settings = Settings::load(None).map_err(|e| anyhow::anyhow!("{e}"))?;
    actix_web::rt::System::new().block_on(with_vault(&settings, Seed { count, ids_file }))
}
