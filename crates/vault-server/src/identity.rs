//! Identity-provider tokens beside access keys: the `idp_*` settings made into the
//! verifier the vault is built with.

use std::path::PathBuf;

use anyhow::{Context, bail};
use secrecy::{ExposeSecret as _, SecretString};
use vault_idp::{ClaimNames, IdpConfig, JwtIdentityVerifier};

use crate::settings::Settings;

/// The verifier the settings describe: `None` when `idp_issuer` is unset (identity-provider
/// tokens are then refused like any other non-key), else one whose configuration was
/// fully checked.
///
/// # Errors
/// `idp_*` settings without `idp_issuer`, no audience, no key, or a key that cannot be
/// used: each with what to fix. Never a secret.
pub fn verifier(settings: &Settings) -> anyhow::Result<Option<JwtIdentityVerifier>> {
    let Some(issuer) = settings
        .idp_issuer
        .as_deref()
        .filter(|issuer| !issuer.trim().is_empty())
    else {
        let stray = [
            ("idp_audience", settings.idp_audience.is_some()),
            ("idp_hs256_secrets", settings.idp_hs256_secrets.is_some()),
            (
                "idp_public_key_files",
                settings.idp_public_key_files.is_some(),
            ),
            ("idp_jwks_file", settings.idp_jwks_file.is_some()),
        ];
        if let Some((name, _)) = stray.iter().find(|(_, set)| *set) {
            bail!(
                "{name} is set but idp_issuer is not: set VAULT_IDP_ISSUER to accept \
                 identity-provider tokens, or unset {name}"
            );
        }
        return Ok(None);
    };
    let config = IdpConfig {
        issuer: issuer.to_owned(),
        audience: settings.idp_audience.clone().unwrap_or_default(),
        leeway_seconds: settings.idp_leeway_seconds,
        hs256_secrets: settings
            .idp_hs256_secrets
            .as_ref()
            .map(split_secrets)
            .unwrap_or_default(),
        public_key_files: settings
            .idp_public_key_files
            .as_deref()
            .map(split_paths)
            .unwrap_or_default(),
        jwks_file: settings.idp_jwks_file.clone(),
        claims: ClaimNames {
            organization: settings.idp_organization_claim.clone(),
            subject: settings.idp_subject_claim.clone(),
            scopes: settings.idp_scopes_claim.clone(),
            groups: settings.idp_groups_claim.clone(),
        },
    };
    let verifier = JwtIdentityVerifier::new(&config)
        .context("cannot set up identity-provider tokens (the idp_* settings)")?;
    tracing::info!(
        issuer = %config.issuer,
        audience = %config.audience,
        keys = ?verifier.describe_keys(),
        "identity-provider tokens are accepted beside access keys"
    );
    Ok(Some(verifier))
}

/// Comma- or newline-separated secrets, each trimmed (so a secret cannot hold a comma).
fn split_secrets(all: &SecretString) -> Vec<SecretString> {
    all.expose_secret()
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| SecretString::from(s.to_owned()))
        .collect()
}

fn split_paths(all: &str) -> Vec<PathBuf> {
    all.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_commas_and_trim() {
        let secrets = split_secrets(&SecretString::from(" a-secret ,\nb-secret,, ".to_owned()));
        let secrets: Vec<&str> = secrets.iter().map(|s| s.expose_secret()).collect();
        assert_eq!(secrets, ["a-secret", "b-secret"]);
        assert_eq!(
            split_paths("/a.pem, /b.pem,"),
            [PathBuf::from("/a.pem"), PathBuf::from("/b.pem")]
        );
    }
}
