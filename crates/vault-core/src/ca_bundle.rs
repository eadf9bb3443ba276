//! `caBundle`: CA certificates a credential pins its upstream's TLS certificate to (a
//! private PKI), for every type. The upstream adapter parses the certificates; the rules
//! here are the ones that need no parser: PEM framing, a size bound, and which changes
//! narrow the roots.

use std::fmt;
use std::sync::Arc;

use crate::validation::FieldError;

/// The largest certificate chain or CA bundle, PEM.
pub const MAX_PEM_BYTES: usize = 64 * 1024;

/// PEM `CERTIFICATE` blocks, trimmed. Cheap to clone: every use of the credential hands it
/// to the upstream adapter.
#[derive(Clone, PartialEq, Eq)]
pub struct CaBundle(Arc<str>);

impl CaBundle {
    /// Parses `caBundle` as given.
    ///
    /// # Errors
    /// Too large, not PEM certificates, or holding other blocks (a private key pasted in
    /// would be shown to every reader).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let text = pem_text("caBundle", raw, "CERTIFICATE")?;
        if pem_blocks(&text).any(|(label, _)| label != "CERTIFICATE") {
            return Err(FieldError::new(
                "caBundle",
                "must hold only certificates (BEGIN CERTIFICATE blocks)",
            ));
        }
        Ok(Self(text.into()))
    }

    /// The PEM text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when a change from `old` roots to `new` ones trusts no certificate `old` did
    /// not: every certificate of `new` is one of `old`'s. Going back to the system's roots
    /// (`new` = `None`) from pinned ones, or pinning where there were none, is not.
    #[must_use]
    pub fn narrows(old: Option<&Self>, new: Option<&Self>) -> bool {
        match (old, new) {
            (None, None) => true,
            (Some(old), Some(new)) => {
                let kept: Vec<String> = pem_blocks(&old.0).map(|(_, body)| body).collect();
                pem_blocks(&new.0).all(|(_, body)| kept.contains(&body))
            }
            (None | Some(_), _) => false,
        }
    }
}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaBundle({} certificates)", pem_blocks(&self.0).count())
    }
}

/// `raw` trimmed, when it is bounded PEM text starting with a `label` block.
pub(crate) fn pem_text(field: &str, raw: &str, label: &str) -> Result<String, FieldError> {
    let text = raw.trim();
    if text.len() > MAX_PEM_BYTES {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_PEM_BYTES} bytes"),
        ));
    }
    let controls = text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r');
    if controls
        || !text.starts_with(&format!("-----BEGIN {label}-----"))
        || !text.ends_with("-----")
    {
        return Err(FieldError::new(
            field,
            format!("must be PEM text (-----BEGIN {label}-----)"),
        ));
    }
    Ok(text.to_owned())
}

/// Each PEM block's label and its base64 body without whitespace.
fn pem_blocks(text: &str) -> impl Iterator<Item = (&str, String)> {
    text.split("-----BEGIN ").skip(1).map(|block| {
        let (label, rest) = block.split_once("-----").unwrap_or((block, ""));
        let body = rest.split("-----END ").next().unwrap_or_default();
        (label, body.split_whitespace().collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(bodies: &[&str]) -> CaBundle {
        let text: Vec<String> = bodies
            .iter()
            .map(|b| format!("-----BEGIN CERTIFICATE-----\n{b}\n-----END CERTIFICATE-----"))
            .collect();
        CaBundle::parse(&text.join("\n")).expect("a bundle")
    }

    #[test]
    fn only_certificate_blocks_are_taken() {
        let key = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n\
                   -----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----";
        assert_eq!(CaBundle::parse(key).expect_err("a key").field, "caBundle");
        assert!(CaBundle::parse("not pem").is_err());
        assert!(CaBundle::parse(&"A".repeat(MAX_PEM_BYTES + 1)).is_err());
        assert_eq!(
            format!("{:?}", bundle(&["AA==", "AB=="])),
            "CaBundle(2 certificates)"
        );
    }

    #[test]
    fn a_subset_of_the_old_roots_narrows_and_anything_else_widens() {
        let ab = bundle(&["AA==", "AB=="]);
        let a = bundle(&["AA=="]);
        // The same certificate, wrapped differently, is the same root.
        let a_wrapped =
            CaBundle::parse("-----BEGIN CERTIFICATE-----\nA\nA==\n-----END CERTIFICATE-----")
                .expect("a bundle");
        let c = bundle(&["AC=="]);
        assert!(CaBundle::narrows(Some(&ab), Some(&a)));
        assert!(CaBundle::narrows(Some(&a), Some(&a_wrapped)));
        assert!(CaBundle::narrows(None, None));
        assert!(!CaBundle::narrows(Some(&a), Some(&ab)));
        assert!(!CaBundle::narrows(Some(&a), Some(&c)));
        assert!(!CaBundle::narrows(None, Some(&a)), "pinning a new CA");
        assert!(
            !CaBundle::narrows(Some(&a), None),
            "back to every public root"
        );
    }
}
