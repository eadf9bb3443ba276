//! The key managers, built from the settings: the one `key_manager` names, or the one
//! that wrapped the stored keyring (during a migration, when they differ).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use secrecy::{ExposeSecret, SecretString};
use vault_cipher_ring::StaticKeyManager;
use vault_core::{KeyManager, KeyManagerError};
use vault_keymanager_awskms::{AwsKmsKeyManager, KmsConfig};
use vault_keymanager_pkcs11::{Pkcs11Config, Pkcs11KeyManager, SlotSelector};
use vault_keymanager_transit::{TransitAuth, TransitConfig, TransitKeyManager};

use super::environment::StaticKeys;
use crate::settings::Settings;

/// The kinds, as `key_manager` and the stored keyring name them.
pub const KINDS: [&str; 4] = ["static", "transit", "awskms", "pkcs11"];

/// Builds the key manager of `kind` from the settings.
///
/// # Errors
/// An unknown kind, or a setting it needs that is missing or unreadable (the message
/// names the setting, never a secret).
pub fn build(
    kind: &str,
    settings: &Settings,
    statics: &StaticKeys,
) -> anyhow::Result<Arc<dyn KeyManager>> {
    let timeout = Duration::from_millis(settings.key_manager_timeout_ms.max(1));
    Ok(match kind {
        "static" => {
            let Some((current, previous)) = statics.keys.split_first() else {
                bail!(
                    "the static key manager needs ENCRYPTION_KEY (`vault-server keys generate` \
                     makes one)"
                );
            };
            Arc::new(StaticKeyManager::new(current, previous))
        }
        "transit" => Arc::new(
            TransitKeyManager::new(TransitConfig {
                address: required(settings.transit_address.as_ref(), "VAULT_TRANSIT_ADDRESS")?,
                mount: settings.transit_mount.clone(),
                key: required(settings.transit_key.as_ref(), "VAULT_TRANSIT_KEY")?,
                auth: transit_auth(settings)?,
                namespace: settings.transit_namespace.clone(),
                ca_file: settings.transit_ca_file.clone(),
                timeout,
            })
            .context("the transit key manager's settings (VAULT_TRANSIT_*) are refused")?,
        ),
        "awskms" => Arc::new(
            AwsKmsKeyManager::new(
                KmsConfig {
                    region: required(settings.awskms_region.as_ref(), "VAULT_AWSKMS_REGION")?,
                    key_id: required(settings.awskms_key_id.as_ref(), "VAULT_AWSKMS_KEY_ID")?,
                    endpoint: settings.awskms_endpoint.clone(),
                    timeout,
                },
                |name| std::env::var(name).ok(),
            )
            .context("the awskms key manager's settings (VAULT_AWSKMS_*) are refused")?,
        ),
        "pkcs11" => Arc::new(
            Pkcs11KeyManager::new(Pkcs11Config {
                module: required(settings.pkcs11_module.as_ref(), "VAULT_PKCS11_MODULE")?,
                slot: match (settings.pkcs11_slot, &settings.pkcs11_token_label) {
                    (Some(id), None) => SlotSelector::Id(id),
                    (None, Some(label)) => SlotSelector::TokenLabel(label.clone()),
                    _ => bail!("set exactly one of VAULT_PKCS11_SLOT and VAULT_PKCS11_TOKEN_LABEL"),
                },
                pin: secret(
                    settings.pkcs11_pin.as_ref(),
                    settings.pkcs11_pin_file.as_deref(),
                    "VAULT_PKCS11_PIN",
                )?
                .ok_or_else(|| {
                    anyhow!(
                        "the pkcs11 key manager needs VAULT_PKCS11_PIN or VAULT_PKCS11_PIN_FILE"
                    )
                })?,
                key_label: required(settings.pkcs11_key_label.as_ref(), "VAULT_PKCS11_KEY_LABEL")?,
            })
            .context("the pkcs11 key manager's settings (VAULT_PKCS11_*) are refused")?,
        ),
        other => bail!(
            "VAULT_KEY_MANAGER is {other:?}; it must be one of {}",
            KINDS.join(", ")
        ),
    })
}

fn required<T: Clone>(value: Option<&T>, name: &str) -> anyhow::Result<T> {
    value
        .cloned()
        .ok_or_else(|| anyhow!("{name} is not set, and this key manager needs it"))
}

/// Transit's authentication: a token (or its file), else AppRole.
fn transit_auth(settings: &Settings) -> anyhow::Result<TransitAuth> {
    if let Some(token) = secret(
        settings.transit_token.as_ref(),
        settings.transit_token_file.as_deref(),
        "VAULT_TRANSIT_TOKEN",
    )? {
        return Ok(TransitAuth::Token(token));
    }
    let Some(role_id) = &settings.transit_approle_role_id else {
        bail!(
            "the transit key manager needs a token (VAULT_TRANSIT_TOKEN or \
             VAULT_TRANSIT_TOKEN_FILE) or AppRole (VAULT_TRANSIT_APPROLE_ROLE_ID and a secret id)"
        );
    };
    let secret_id = secret(
        settings.transit_approle_secret_id.as_ref(),
        settings.transit_approle_secret_id_file.as_deref(),
        "VAULT_TRANSIT_APPROLE_SECRET_ID",
    )?
    .ok_or_else(|| {
        anyhow!(
            "AppRole needs VAULT_TRANSIT_APPROLE_SECRET_ID or VAULT_TRANSIT_APPROLE_SECRET_ID_FILE"
        )
    })?;
    Ok(TransitAuth::AppRole {
        mount: settings.transit_approle_mount.clone(),
        role_id: role_id.expose_secret().to_owned(),
        secret_id,
    })
}

/// A secret given directly or as a file (whose trailing newline is dropped); both set is
/// an error, as a silent choice between them would be.
fn secret(
    value: Option<&SecretString>,
    file: Option<&Path>,
    name: &str,
) -> anyhow::Result<Option<SecretString>> {
    match (value, file) {
        (Some(_), Some(_)) => bail!("set {name} or {name}_FILE, not both"),
        (Some(value), None) => Ok(Some(value.clone())),
        (None, Some(path)) => {
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {name}_FILE {}", path.display()))?,
            );
            let trimmed = text.trim_end_matches(['\n', '\r']);
            if trimmed.is_empty() {
                bail!("{name}_FILE {} is empty", path.display());
            }
            Ok(Some(SecretString::from(trimmed.to_owned())))
        }
        (None, None) => Ok(None),
    }
}

/// Which settings to look at for `error` of the key manager of `kind`: the message names
/// them, never their values.
#[must_use]
pub fn hint(kind: &str, error: &KeyManagerError) -> &'static str {
    match (kind, error) {
        ("static", _) => "check ENCRYPTION_KEY and ENCRYPTION_KEYS_PREVIOUS",
        ("transit", KeyManagerError::Unreachable(_)) => {
            "check VAULT_TRANSIT_ADDRESS, VAULT_TRANSIT_CA_FILE and that the server is up and unsealed"
        }
        ("transit", KeyManagerError::Denied(_)) => {
            "check VAULT_TRANSIT_TOKEN (or VAULT_TRANSIT_TOKEN_FILE, or the AppRole settings) and its policy"
        }
        ("transit", _) => "check VAULT_TRANSIT_KEY and VAULT_TRANSIT_MOUNT",
        ("awskms", KeyManagerError::Unreachable(_)) => {
            "check VAULT_AWSKMS_REGION and VAULT_AWSKMS_ENDPOINT"
        }
        ("awskms", KeyManagerError::Denied(_)) => {
            "check the AWS credentials (environment, web identity or profile) and their IAM policy"
        }
        ("awskms", _) => "check VAULT_AWSKMS_KEY_ID (an enabled symmetric key)",
        ("pkcs11", KeyManagerError::Unreachable(_)) => {
            "check VAULT_PKCS11_MODULE, and VAULT_PKCS11_SLOT or VAULT_PKCS11_TOKEN_LABEL"
        }
        ("pkcs11", KeyManagerError::Denied(_)) => {
            "check VAULT_PKCS11_PIN (or VAULT_PKCS11_PIN_FILE)"
        }
        ("pkcs11", _) => "check VAULT_PKCS11_KEY_LABEL (an AES key allowed to encrypt and decrypt)",
        _ => "check the key manager's settings",
    }
}
