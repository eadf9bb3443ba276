//! Bounds on the key derivations a PKCS#12 archive asks for, checked before p12-keystore
//! runs any of them: it accepts up to 1,000,000 iterations per derivation and scrypt up
//! to 1 GiB, and a 64 KiB archive from an API caller can ask for many derivations.
//!
//! The walk decrypts nothing. It reads the structures p12-keystore 0.4.1 reads
//! (`archive.rs`, `codec.rs`), with the same parsers, so it sees every derivation
//! p12-keystore would run, except those of bags inside an encrypted content info: only
//! decrypting it shows them, and p12-keystore's own caps are all that bound them.

use der::asn1::{ContextSpecific, ObjectIdentifier, OctetString};
use der::{Any, Decode as _, Sequence};
use pkcs5::pbes2;
use pkcs12::cms::cert::x509::attr::Attributes;
use pkcs12::cms::cert::x509::spki::AlgorithmIdentifierOwned;
use pkcs12::cms::encrypted_data::EncryptedData;
use pkcs12::pbe_params::{EncryptedPrivateKeyInfo, Pkcs12PbeParams};
use pkcs12::safe_bag::SafeContents;
use pkcs12::{AuthenticatedSafe, PKCS_12_PKCS8_KEY_BAG_OID, PKCS_12_SECRET_BAG_OID, Pfx};
use vault_core::upstream::TlsSettingsError;

use super::UNREADABLE;

/// The most iterations one key derivation may take: OpenSSL writes 2048, Windows 2000,
/// Java 10000.
pub(super) const MAX_ITERATIONS: u32 = 100_000;

/// The most key derivations one archive may ask for (the MAC, each encrypted content
/// info, each encrypted key): a client identity takes three.
pub(super) const MAX_DERIVATIONS: usize = 8;

pub(super) const TOO_MANY_ITERATIONS: &str = "asks for more than 100000 iterations to derive a key";
pub(super) const TOO_MANY_DERIVATIONS: &str = "asks for more than 8 key derivations";
pub(super) const SCRYPT: &str = "derives a key with scrypt, which is not accepted";

/// `id-data` and `id-encryptedData` (RFC 5652), the content types p12-keystore reads.
pub(super) const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");

/// The arc of PKCS#12's own encryption schemes (`pbeWithSHAAnd3-KeyTripleDES-CBC`, ...),
/// whose parameters are `pkcs-12PbeParams`.
const PKCS12_PBE_IDS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1");

/// Refuses `archive` if it does not parse, or if opening it would take more key
/// derivations, or longer ones, than [`MAX_DERIVATIONS`] and [`MAX_ITERATIONS`] allow.
pub(super) fn check(archive: &[u8]) -> Result<(), TlsSettingsError> {
    walk(archive).map_err(|Refusal(reason)| TlsSettingsError::Pkcs12(reason))
}

/// Why the walk stopped: an archive that does not parse is [`UNREADABLE`].
struct Refusal(&'static str);

impl From<der::Error> for Refusal {
    fn from(_: der::Error) -> Self {
        Self(UNREADABLE)
    }
}

/// Mirrors `Pkcs12Archive::from_pkcs12` and `codec::parse_auth_safe`.
fn walk(archive: &[u8]) -> Result<(), Refusal> {
    let pfx = Pfx::from_der(archive)?;
    let mut budget = Budget::default();
    if let Some(mac) = &pfx.mac_data {
        budget.derive(mac.iterations.into())?;
    }
    if pfx.auth_safe.content_type != ID_DATA {
        return Err(Refusal(UNREADABLE));
    }
    let safes = pfx.auth_safe.content.decode_as::<OctetString>()?;
    for safe in AuthenticatedSafe::from_der(safes.as_bytes())? {
        match safe.content_type {
            ID_DATA => {
                let bags = safe.content.decode_as::<OctetString>()?;
                for bag in SafeContents::from_der(bags.as_bytes())? {
                    match bag.bag_id {
                        PKCS_12_PKCS8_KEY_BAG_OID => {
                            let key = ContextSpecific::<EncryptedPrivateKeyInfo>::from_der(
                                &bag.bag_value,
                            )?;
                            budget.decrypt(&key.value.encryption_algorithm)?;
                        }
                        PKCS_12_SECRET_BAG_OID => {
                            let secret =
                                SecretBag::from_der(Any::from_der(&bag.bag_value)?.value())?;
                            // p12-keystore skips a secret it cannot read as a key.
                            if let Ok(key) =
                                EncryptedPrivateKeyInfo::from_der(secret.value.as_bytes())
                            {
                                budget.decrypt(&key.encryption_algorithm)?;
                            }
                        }
                        // Certificates and plain keys: nothing to derive.
                        _ => {}
                    }
                }
            }
            ID_ENCRYPTED_DATA => {
                let content = safe.content.decode_as::<EncryptedData>()?.enc_content_info;
                if content.encrypted_content.is_some() {
                    budget.decrypt(&content.content_enc_alg)?;
                }
            }
            _ => return Err(Refusal(UNREADABLE)),
        }
    }
    Ok(())
}

/// p12-keystore's secret bag (`codec::SecretBag`), which it decrypts when `value` holds
/// an `EncryptedPrivateKeyInfo`.
#[derive(Sequence)]
pub(super) struct SecretBag {
    pub(super) secret_type: ObjectIdentifier,
    #[asn1(context_specific = "0")]
    pub(super) value: OctetString,
    pub(super) bag_attributes: Option<Attributes>,
}

/// The key derivations counted so far.
#[derive(Default)]
struct Budget {
    derivations: usize,
}

impl Budget {
    /// Counts one derivation of `iterations` (a negative count derives nothing long).
    fn derive(&mut self, iterations: i64) -> Result<(), Refusal> {
        self.derivations += 1;
        if self.derivations > MAX_DERIVATIONS {
            Err(Refusal(TOO_MANY_DERIVATIONS))
        } else if iterations > i64::from(MAX_ITERATIONS) {
            Err(Refusal(TOO_MANY_ITERATIONS))
        } else {
            Ok(())
        }
    }

    /// Counts the derivation decrypting with `algorithm` takes (as `codec::decrypt`).
    fn decrypt(&mut self, algorithm: &AlgorithmIdentifierOwned) -> Result<(), Refusal> {
        let parameters = algorithm.parameters.as_ref().ok_or(Refusal(UNREADABLE));
        if algorithm.oid == pbes2::PBES2_OID {
            match parameters?.decode_as::<pbes2::Parameters>()?.kdf {
                pbes2::Kdf::Pbkdf2(pbkdf2) => self.derive(pbkdf2.iteration_count.into()),
                // scrypt, whose cost is memory (p12-keystore allows 1 GiB): no client
                // identity needs it.
                _ => Err(Refusal(SCRYPT)),
            }
        } else if algorithm.oid.parent() == Some(PKCS12_PBE_IDS) {
            let pbe = parameters?.decode_as::<Pkcs12PbeParams>()?;
            self.derive(pbe.iterations.into())
        } else {
            // p12-keystore refuses other schemes before deriving a key.
            Ok(())
        }
    }
}
