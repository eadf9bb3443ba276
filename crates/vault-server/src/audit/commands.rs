//! `vault-server audit verify`: walks every audit chain (or one organization's), checks
//! every checkpoint's signature with the installation's key, and reports the first break
//! of each chain; with `--from-checkpoint`, also against checkpoints kept outside the
//! vault (a copy of `GET /audit-events/checkpoints`), which is what shows a tail cut off.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use vault_audit::{ChainReport, CheckpointSigner, verify_chains};
use vault_core::audit_chain::{AuditChain, Checkpoint};
use vault_core::ids::OrganizationId;
use vault_core::{Store, Vault};
use vault_http::CheckpointDocument;

use crate::app::{ServerVault, VaultJob, with_vault};
use crate::keyring::hierarchy::KeyHierarchy;
use crate::settings::Settings;

/// What to verify.
#[derive(Clone, Debug, Default)]
pub struct VerifyRequest {
    /// Only this organization's chain (its id), or `installation` for the installation's
    /// own; every chain when absent.
    pub organization: Option<String>,
    /// Files of checkpoints kept outside the vault.
    pub from_checkpoints: Vec<PathBuf>,
}

/// `vault-server audit verify`.
///
/// # Errors
/// Any start-up failure, a store failure, unreadable checkpoint files, or a chain that
/// does not verify (after printing why).
pub async fn verify(settings: &Settings, request: VerifyRequest) -> anyhow::Result<()> {
    let only = match request.organization.as_deref() {
        None => None,
        Some("installation") => Some(AuditChain::Installation),
        Some(raw) => Some(AuditChain::Organization(OrganizationId::from_uuid(
            uuid::Uuid::try_parse(raw)
                .with_context(|| format!("--org {raw:?} is not an organization id"))?,
        ))),
    };
    let mut outside = Vec::new();
    for path in &request.from_checkpoints {
        outside.extend(read_checkpoints(path)?);
    }
    with_vault(settings, Verify { only, outside }).await
}

struct Verify {
    only: Option<AuditChain>,
    outside: Vec<Checkpoint>,
}

impl VaultJob for Verify {
    type Output = ();

    async fn run<S: Store>(self, vault: ServerVault<S>, _keys: KeyHierarchy) -> anyhow::Result<()> {
        let reports = verify_vault(&vault, self.only, &self.outside).await?;
        let mut out = std::io::stdout().lock();
        let mut broken = 0;
        for report in &reports {
            writeln!(out, "{}", describe(report))?;
            broken += usize::from(report.broken.is_some());
        }
        if broken > 0 {
            bail!(
                "the audit log does not verify: {broken} of {} chains are broken",
                reports.len()
            );
        }
        Ok(())
    }
}

/// Verifies `vault`'s chains with the installation's checkpoint key.
///
/// # Errors
/// A store failure, or keys that do not open the stored signing key.
pub async fn verify_vault<S: Store>(
    vault: &Vault<S>,
    only: Option<AuditChain>,
    outside: &[Checkpoint],
) -> anyhow::Result<Vec<ChainReport>> {
    // Only loaded, never made: with no key stored, no checkpoint can verify, and one that
    // exists says the key was removed.
    let signer = match CheckpointSigner::load(vault.store(), vault.cipher()).await? {
        Some(signer) => signer,
        None => CheckpointSigner::generate().context("cannot make a placeholder key")?,
    };
    Ok(verify_chains(vault.store(), signer.public_key(), only, outside).await?)
}

/// One line per chain.
#[must_use]
pub fn describe(report: &ChainReport) -> String {
    let span = match (report.first, report.last) {
        (Some(first), Some(last)) => format!("events {first} to {last}"),
        _ => "no events".to_owned(),
    };
    let unchained = if report.unchained > 0 {
        format!(
            "; {} older events predate the chain and are not covered",
            report.unchained
        )
    } else {
        String::new()
    };
    match &report.broken {
        None => format!(
            "ok      {}: {span} verified, {} checkpoints{unchained}",
            report.chain, report.checkpoints
        ),
        Some(broken) => format!("BROKEN  {broken}{unchained}"),
    }
}

/// The checkpoints in a file: one checkpoint, a list of them, or a page of
/// `GET /audit-events/checkpoints` as saved.
fn read_checkpoints(path: &Path) -> anyhow::Result<Vec<Checkpoint>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let items = match value {
        serde_json::Value::Object(mut page) if page.contains_key("items") => {
            page.remove("items").unwrap_or_default()
        }
        serde_json::Value::Array(_) => value,
        single => serde_json::Value::Array(vec![single]),
    };
    let documents: Vec<CheckpointDocument> = serde_json::from_value(items)
        .with_context(|| format!("{} does not hold checkpoints", path.display()))?;
    documents
        .iter()
        .map(|d| {
            d.checkpoint()
                .map_err(|field| anyhow::anyhow!("{}: a checkpoint's {field}", path.display()))
        })
        .collect()
}
