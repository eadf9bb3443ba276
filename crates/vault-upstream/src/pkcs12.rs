//! PKCS#12 (`.p12`, `.pfx`) archives: the client certificate chain and key one holds,
//! turned into the PEM an `mtls` credential stores.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p12_keystore::error::Error as P12Error;
use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
use vault_core::upstream::TlsSettingsError;
use zeroize::Zeroizing;

mod limits;

/// The largest archive read, in bytes: a client identity takes a few KiB, and parsing
/// allocates (and derives a key) per bag.
const MAX_ARCHIVE_BYTES: usize = 64 * 1024;

/// What `open_pkcs12` says of an archive whose structure it cannot read.
const UNREADABLE: &str = "is not a PKCS#12 archive that can be read";

/// A PKCS#12 archive's client certificate chain and key, as PEM (leaf first).
pub(crate) struct PemIdentity {
    /// `CERTIFICATE` blocks: the key's certificate, then its issuers the archive holds.
    pub(crate) certificate_chain: String,
    /// One `PRIVATE KEY` (PKCS#8) block.
    pub(crate) private_key: Zeroizing<String>,
}

/// Opens `archive` with `password` and returns its one private key with the chain of
/// the certificate the archive links to that key (by local key id; whether the two
/// match is left to [`crate::tls_settings::parts`]).
///
/// An archive asking for more, or longer, key derivations than [`limits`] allows is
/// refused before any runs. Errors never carry the password or key material.
pub(crate) fn open_pkcs12(archive: &[u8], password: &str) -> Result<PemIdentity, TlsSettingsError> {
    if archive.len() > MAX_ARCHIVE_BYTES {
        return Err(TlsSettingsError::Pkcs12("must be at most 65536 bytes"));
    }
    // p12-keystore derives a key per MAC and encrypted part, each up to 1,000,000
    // iterations or 1 GiB of scrypt: bound that work before it starts.
    limits::check(archive)?;
    // Relaxed keeps a key whose certificate is missing, so it counts as a second key
    // instead of vanishing.
    let store =
        KeyStore::from_pkcs12(archive, password, Pkcs12ImportPolicy::Relaxed).map_err(refusal)?;
    let mut chains = store.entries().filter_map(|(_, entry)| match entry {
        KeyStoreEntry::PrivateKeyChain(chain) => Some(chain),
        KeyStoreEntry::Certificate(_) | KeyStoreEntry::Secret(_) => None,
    });
    let chain = match (chains.next(), chains.next()) {
        (Some(chain), None) if !chain.certs().is_empty() => chain,
        (Some(_), Some(_)) => {
            return Err(TlsSettingsError::Pkcs12("holds more than one private key"));
        }
        _ => {
            return Err(TlsSettingsError::Pkcs12(
                "holds no private key with its certificate",
            ));
        }
    };
    let certificate_chain = chain
        .certs()
        .iter()
        .map(|certificate| pem("CERTIFICATE", certificate.as_der()))
        .fold(String::new(), |chain, block| chain + block.as_str());
    Ok(PemIdentity {
        certificate_chain,
        private_key: pem("PRIVATE KEY", chain.key().as_der()),
    })
}

/// What `open_pkcs12` says of an archive the crate refused.
fn refusal(error: P12Error) -> TlsSettingsError {
    match error {
        // A failed MAC, or (without a MAC) a failed decryption: the password.
        P12Error::MacError(_) | P12Error::UnpadError => TlsSettingsError::Pkcs12Password,
        _ => TlsSettingsError::Pkcs12(UNREADABLE),
    }
}

/// `der` as a PEM block labelled `label` (RFC 7468: 64-column base64). Each buffer is
/// allocated at its final size, so no reallocation leaves a copy of a key behind.
fn pem(label: &str, der: &[u8]) -> Zeroizing<String> {
    let base64 = Zeroizing::new(STANDARD.encode(der));
    let framing = "-----BEGIN -----\n-----END -----\n".len() + 2 * label.len();
    let mut pem = Zeroizing::new(String::with_capacity(
        framing + base64.len() + base64.len().div_ceil(64),
    ));
    pem.push_str("-----BEGIN ");
    pem.push_str(label);
    pem.push_str("-----\n");
    let mut rest = base64.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        pem.push_str(line);
        pem.push('\n');
        rest = tail;
    }
    pem.push_str("-----END ");
    pem.push_str(label);
    pem.push_str("-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use der::asn1::{ObjectIdentifier, OctetString};
    use der::{Any, Decode as _, Encode as _};
    use p12_keystore::{Certificate, PrivateKey, PrivateKeyChain};
    use pkcs12::cms::content_info::ContentInfo;
    use pkcs12::pfx::{Pfx, Version};
    use pkcs12::safe_bag::SafeBag;
    use pkcs12::{PKCS_12_PKCS8_KEY_BAG_OID, PKCS_12_SECRET_BAG_OID};
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;

    use super::limits::{
        ID_DATA, MAX_DERIVATIONS, MAX_ITERATIONS, SCRYPT, SecretBag, TOO_MANY_DERIVATIONS,
        TOO_MANY_ITERATIONS,
    };
    use super::*;

    /// Runs `openssl` with `args` (split at spaces) in `dir`: its standard output, or
    /// its standard error if it fails.
    fn try_openssl(dir: &Path, args: &str) -> Result<Vec<u8>, String> {
        let output = Command::new("openssl")
            .args(args.split_whitespace())
            .current_dir(dir)
            .output()
            .unwrap_or_else(|error| {
                panic!("these tests make archives with the `openssl` command ({error}): install it")
            });
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    fn openssl(dir: &Path, args: &str) -> Vec<u8> {
        try_openssl(dir, args).unwrap_or_else(|error| panic!("openssl {args}: {error}"))
    }

    /// A CA and a leaf it issued (EC P-256): `ca.pem`, `ca.key`, `leaf.pem`, `leaf.key`.
    fn pki() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let new_key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
        openssl(
            dir.path(),
            &format!("req -x509 {new_key} -keyout ca.key -out ca.pem -subj /CN=ca -days 2"),
        );
        openssl(
            dir.path(),
            &format!("req {new_key} -keyout leaf.key -out leaf.csr -subj /CN=leaf"),
        );
        openssl(
            dir.path(),
            "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 -out leaf.pem",
        );
        dir
    }

    /// `openssl pkcs12 -export` of the leaf and the CA, with password `pw`.
    fn export(dir: &Path, options: &str) -> Result<Vec<u8>, String> {
        let common = "pkcs12 -export -in leaf.pem -certfile ca.pem -passout pass:pw";
        try_openssl(dir, &format!("{common} {options}"))
    }

    fn der(dir: &Path, certificate: &str) -> Vec<u8> {
        openssl(dir, &format!("x509 -in {certificate} -outform DER"))
    }

    /// Checks `identity` is the leaf, then the CA, with the leaf's key.
    fn assert_leaf_identity(dir: &Path, identity: &PemIdentity) {
        let chain = CertificateDer::pem_slice_iter(identity.certificate_chain.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("PEM certificates");
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].as_ref(), der(dir, "leaf.pem"));
        assert_eq!(chain[1].as_ref(), der(dir, "ca.pem"));
        assert!(
            identity
                .private_key
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        std::fs::write(dir.join("out.key"), identity.private_key.as_bytes()).expect("write");
        let public = |key: &str| openssl(dir, &format!("pkey -in {key} -pubout -outform DER"));
        assert_eq!(public("out.key"), public("leaf.key"));
    }

    #[test]
    fn pkcs12_modern_archive_gives_leaf_then_ca_and_the_leafs_key() {
        let dir = pki();
        let archive = export(dir.path(), "-inkey leaf.key").expect("export");
        assert_leaf_identity(dir.path(), &open_pkcs12(&archive, "pw").expect("opens"));
    }

    #[test]
    fn pkcs12_legacy_archive_opens() {
        let dir = pki();
        // RC2 and 3DES; without OpenSSL's legacy provider, 3DES alone.
        let archive = export(dir.path(), "-inkey leaf.key -legacy")
            .or_else(|_| {
                let pbe = "-keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1";
                export(dir.path(), &format!("-inkey leaf.key {pbe}"))
            })
            .expect("export");
        assert_leaf_identity(dir.path(), &open_pkcs12(&archive, "pw").expect("opens"));
    }

    #[test]
    fn pkcs12_wrong_password_is_refused() {
        let dir = pki();
        let archive = export(dir.path(), "-inkey leaf.key").expect("export");
        let error = open_pkcs12(&archive, "hunter2").err().expect("refused");
        assert_eq!(error, TlsSettingsError::Pkcs12Password);
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn pkcs12_refuses_what_is_not_an_archive() {
        let unreadable = TlsSettingsError::Pkcs12("is not a PKCS#12 archive that can be read");
        let garbage = open_pkcs12(b"-----BEGIN CERTIFICATE-----\n", "pw").err();
        assert_eq!(garbage, Some(unreadable));
        let large = open_pkcs12(&vec![0x30; MAX_ARCHIVE_BYTES + 1], "pw").err();
        assert_eq!(
            large,
            Some(TlsSettingsError::Pkcs12("must be at most 65536 bytes"))
        );
    }

    #[test]
    fn pkcs12_archive_without_a_key_is_refused() {
        let dir = pki();
        let archive = export(dir.path(), "-nokeys").expect("export");
        let reason = "holds no private key with its certificate";
        assert_eq!(
            open_pkcs12(&archive, "pw").err(),
            Some(TlsSettingsError::Pkcs12(reason))
        );
    }

    #[test]
    fn pkcs12_pem_is_written_without_reallocating() {
        for size in [0, 1, 47, 48, 49, 1000] {
            let block = pem("PRIVATE KEY", &vec![7; size]);
            assert_eq!(block.capacity(), block.len(), "{size} bytes");
        }
    }

    #[test]
    fn pkcs12_archive_with_two_keys_is_refused() {
        // `openssl pkcs12` exports one key; the crate's own writer makes two.
        let dir = pki();
        let mut store = KeyStore::new();
        for name in ["leaf", "ca"] {
            let key = openssl(
                dir.path(),
                &format!("pkcs8 -topk8 -nocrypt -in {name}.key -outform DER"),
            );
            let key = PrivateKey::from_der(&key).expect("PKCS#8");
            let certificate = Certificate::from_der(&der(dir.path(), &format!("{name}.pem")));
            let chain = PrivateKeyChain::new(name, key, [certificate.expect("certificate")]);
            store.add_entry(name, KeyStoreEntry::PrivateKeyChain(chain));
        }
        let archive = store.writer("pw").write().expect("write");
        let reason = "holds more than one private key";
        assert_eq!(
            open_pkcs12(&archive, "pw").err(),
            Some(TlsSettingsError::Pkcs12(reason))
        );
    }

    /// `open_pkcs12`'s refusal of `archive` (password `pw`), which must be `reason`.
    fn assert_refused(archive: &[u8], reason: &'static str) {
        assert_eq!(
            open_pkcs12(archive, "pw").err(),
            Some(TlsSettingsError::Pkcs12(reason))
        );
    }

    /// The leaf's key as a PKCS#8 `EncryptedPrivateKeyInfo` (DER), password `pw`.
    fn encrypted_key(dir: &Path, options: &str) -> Vec<u8> {
        let pkcs8 = "pkcs8 -topk8 -in leaf.key -outform DER -passout pass:pw";
        openssl(dir, &format!("{pkcs8} {options}"))
    }

    /// A MAC-less archive (as `openssl -nomac` writes) whose one unencrypted content info
    /// holds `bags`: (bag type, bag value).
    fn archive_of(bags: Vec<(ObjectIdentifier, Vec<u8>)>) -> Vec<u8> {
        let data = |der: Vec<u8>| ContentInfo {
            content_type: ID_DATA,
            content: Any::encode_from(&OctetString::new(der).expect("octets")).expect("data"),
        };
        let bags = bags
            .into_iter()
            .map(|(bag_id, bag_value)| SafeBag {
                bag_id,
                bag_value,
                bag_attributes: None,
            })
            .collect::<Vec<_>>();
        let safes = vec![data(bags.to_der().expect("bags"))];
        let pfx = Pfx {
            version: Version::V3,
            auth_safe: data(safes.to_der().expect("safes")),
            mac_data: None,
        };
        pfx.to_der().expect("PFX")
    }

    #[test]
    fn pkcs12_encryption_iterations_above_the_cap_are_refused() {
        // 200000 is within p12-keystore's own cap (1000000): the wording shows ours ran.
        let dir = pki();
        let iter = "-inkey leaf.key -iter 200000 -nomaciter";
        for pbe in [
            "-certpbe NONE",
            "-keypbe NONE",
            "-keypbe PBE-SHA1-3DES -certpbe NONE",
            "-keypbe NONE -certpbe PBE-SHA1-3DES",
        ] {
            let archive = export(dir.path(), &format!("{iter} {pbe}")).expect("export");
            assert_refused(&archive, TOO_MANY_ITERATIONS);
        }
    }

    #[test]
    fn pkcs12_mac_iterations_above_the_cap_are_refused() {
        let dir = pki();
        let archive = export(dir.path(), "-inkey leaf.key -iter 200000").expect("export");
        assert_refused(&archive, TOO_MANY_ITERATIONS);
        assert!(TOO_MANY_ITERATIONS.contains(&format!(" {MAX_ITERATIONS} ")));
        // A count p12-keystore accepts (and would spend seconds on) with cheap encryption.
        let archive = export(dir.path(), "-inkey leaf.key").expect("export");
        let mut pfx = Pfx::from_der(&archive).expect("PFX");
        pfx.mac_data.as_mut().expect("MAC").iterations = 900_000;
        assert_refused(&pfx.to_der().expect("PFX"), TOO_MANY_ITERATIONS);
    }

    #[test]
    fn pkcs12_scrypt_is_refused_in_a_key_bag_and_a_secret_bag() {
        let dir = pki();
        let scrypt = encrypted_key(dir.path(), "-scrypt");
        let key_bag = archive_of(vec![(PKCS_12_PKCS8_KEY_BAG_OID, scrypt.clone())]);
        assert_refused(&key_bag, SCRYPT);
        let secret = SecretBag {
            secret_type: PKCS_12_PKCS8_KEY_BAG_OID,
            value: OctetString::new(scrypt).expect("octets"),
            bag_attributes: None,
        };
        let secret_bag = archive_of(vec![(
            PKCS_12_SECRET_BAG_OID,
            secret.to_der().expect("bag"),
        )]);
        assert_refused(&secret_bag, SCRYPT);
        // The same archive with PBKDF2 reaches p12-keystore, which reads the key (and
        // finds no certificate for it).
        let pbkdf2 = encrypted_key(dir.path(), "-v2 aes-256-cbc -iter 2048");
        let key_bag = archive_of(vec![(PKCS_12_PKCS8_KEY_BAG_OID, pbkdf2)]);
        assert_refused(&key_bag, "holds no private key with its certificate");
    }

    #[test]
    fn pkcs12_more_than_eight_key_derivations_are_refused() {
        let dir = pki();
        let key = encrypted_key(dir.path(), "-v2 aes-256-cbc -iter 1");
        let keys = |count| archive_of(vec![(PKCS_12_PKCS8_KEY_BAG_OID, key.clone()); count]);
        assert_refused(&keys(MAX_DERIVATIONS + 1), TOO_MANY_DERIVATIONS);
        assert!(TOO_MANY_DERIVATIONS.contains(&format!(" {MAX_DERIVATIONS} ")));
        // Eight reach p12-keystore, which finds no certificate for them.
        let reason = "holds no private key with its certificate";
        assert_refused(&keys(MAX_DERIVATIONS), reason);
    }
}
