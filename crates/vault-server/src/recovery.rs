//! `vault-server access-keys create`: the operator's way back into an existing
//! organization, for instance one whose keys were all revoked. It needs what the operator
//! alone has, the database and the encryption key, and no access key at all. The new key
//! is printed alone on stdout, once, and its creation is audited in the organization's log
//! with the actor subject [`OPERATOR_SUBJECT`](vault_core::vault::OPERATOR_SUBJECT).

use std::io::Write as _;

use anyhow::{Context as _, anyhow};
use vault_core::ids::OrganizationId;
use vault_core::{AccessKeyRequest, Store, VaultError};

use crate::app::{ServerVault, VaultJob, with_vault};
use crate::keyring::{self, KeyHierarchy, KeySource};
use crate::settings::Settings;

/// What the operator asks for.
#[derive(Clone, Debug)]
pub struct OperatorKey {
    /// The organization's id.
    pub organization: String,
    /// The key's name.
    pub name: String,
    /// Scope names (at least one).
    pub scopes: Vec<String>,
    /// Optional expiry, RFC 3339.
    pub expires_at: Option<String>,
}

impl VaultJob for OperatorKey {
    type Output = ();

    async fn run<S: Store>(self, vault: ServerVault<S>, keys: KeyHierarchy) -> anyhow::Result<()> {
        if let KeySource::DevFile(file) = keys.source() {
            eprintln!(
                "{}!!! ENCRYPTION_KEY is not set: this command uses the development key file {}.\n",
                keyring::dev_warning(file),
                file.display()
            );
        }
        let organization: OrganizationId = self
            .organization
            .parse()
            .map_err(|_| anyhow!("--org must be an organization id (a UUID)"))?;
        let request = AccessKeyRequest {
            name: Some(self.name),
            scopes: Some(self.scopes),
            expires_at: self.expires_at,
        };
        let issued = vault
            .create_access_key_as_operator(organization, &request)
            .await
            .map_err(|error| match error {
                VaultError::NotFound => anyhow!("no organization has the id {organization}"),
                VaultError::Invalid(errors) => anyhow!("{errors}"),
                other => anyhow::Error::new(other),
            })
            .context("cannot create the access key")?;
        tracing::info!(
            %organization,
            access_key = %issued.key.id,
            "created an access key as the operator; it follows on stdout"
        );
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", issued.token.expose())?;
        out.flush()?;
        Ok(())
    }
}

/// `vault-server access-keys create --org ID --name NAME --scope S [--scope S ...]
/// [--expires-at TIME]`.
///
/// # Errors
/// Any start-up failure, an unknown organization, or invalid fields.
pub async fn create_access_key(settings: &Settings, key: OperatorKey) -> anyhow::Result<()> {
    with_vault(settings, key).await
}
