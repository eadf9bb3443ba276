//! Tests against a real SoftHSM2 token, each in a child process of its own.
//!
//! SoftHSM finds its tokens through `SOFTHSM2_CONF`, which is process-wide, and edition 2024
//! makes `std::env::set_var` unsafe (forbidden here). So each scenario is two tests:
//!
//! - an outer `#[test]` calls [`in_child`], which initialises a fresh token in a temporary
//!   directory ([`SoftHsm::init`]) and runs this test binary again with libtest's
//!   `--exact <inner> --ignored`, `SOFTHSM2_CONF` and [`Token`]'s variables set, and asserts
//!   that exactly that one test ran and passed;
//! - the inner test, `#[ignore]`d so a plain run skips it, starts with [`Token::from_env`],
//!   which fails loudly when run any other way. Child processes it starts (`pkcs11-tool`)
//!   inherit `SOFTHSM2_CONF`.

use std::path::PathBuf;
use std::process::Command;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::slot::Slot;
use secrecy::SecretString;
use vault_keymanager_pkcs11::{Pkcs11Config, Pkcs11KeyManager, SlotSelector};
use vault_testkit::key_managers::SoftHsm;

const MODULE: &str = "VAULT_PKCS11_TEST_MODULE";
const SLOT: &str = "VAULT_PKCS11_TEST_SLOT";
const TOKEN: &str = "VAULT_PKCS11_TEST_TOKEN";
const PIN: &str = "VAULT_PKCS11_TEST_PIN";

/// Runs the `#[ignore]`d test `inner` of this binary in a child process with a fresh token.
/// Returns without running it (after the testkit's loud notice) when SoftHSM2 or
/// `pkcs11-tool` is not installed, unless `CI=true`.
pub(crate) fn in_child(inner: &str) {
    let Some(hsm) = SoftHsm::init() else {
        return;
    };
    if hsm.pkcs11_tool().is_none() {
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = hsm
        .command(exe)
        .args([
            "--exact",
            inner,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MODULE, hsm.module_path())
        .env(SLOT, hsm.slot().to_string())
        .env(TOKEN, hsm.label())
        .env(PIN, hsm.pin())
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let said = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "{inner} failed in its child process:\n{said}"
    );
    // A name that matches nothing runs nothing, and succeeds.
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{inner} did not run exactly once:\n{said}"
    );
}

/// The token a child process was given.
pub(crate) struct Token {
    pub(crate) module: PathBuf,
    pub(crate) slot: u64,
    pub(crate) label: String,
    pub(crate) pin: String,
}

impl Token {
    /// Reads what [`in_child`] set; panics when this runs outside its child process.
    pub(crate) fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!(
                    "{name} is not set: this test runs in a child process of the test of the \
                     same name without `_in_child`, with SOFTHSM2_CONF set; run that one"
                )
            })
        };
        assert!(
            std::env::var_os("SOFTHSM2_CONF").is_some(),
            "SOFTHSM2_CONF is not set: run the outer test, not this one"
        );
        Self {
            module: PathBuf::from(var(MODULE)),
            slot: var(SLOT).parse().expect("a slot number"),
            label: var(TOKEN),
            pin: var(PIN),
        }
    }

    /// The configuration for `key_label`, selecting the token by its label.
    pub(crate) fn config(&self, key_label: &str) -> Pkcs11Config {
        Pkcs11Config {
            module: self.module.clone(),
            slot: SlotSelector::TokenLabel(self.label.clone()),
            pin: SecretString::from(self.pin.as_str()),
            key_label: key_label.to_owned(),
        }
    }

    pub(crate) fn manager(&self, config: Pkcs11Config) -> Pkcs11KeyManager {
        Pkcs11KeyManager::new(config).expect("the module loads")
    }

    /// Runs OpenSC's `pkcs11-tool` on the token, logged in, with `args`; its stdout.
    pub(crate) fn pkcs11_tool(&self, args: &[&str]) -> String {
        let out = Command::new("pkcs11-tool")
            .arg("--module")
            .arg(&self.module)
            .args(["--token-label", &self.label, "--login", "--pin", &self.pin])
            .args(args)
            .output()
            .expect("run pkcs11-tool");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "pkcs11-tool {args:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Generates an AES-256 key inside the token (never extractable), with `CKA_ID` = `id`.
    pub(crate) fn keygen(&self, label: &str, id: &str) {
        let said = self.pkcs11_tool(&[
            "--keygen",
            "--key-type",
            "AES:32",
            "--label",
            label,
            "--id",
            id,
        ]);
        assert!(said.contains("Secret Key Object; AES length 32"), "{said}");
    }

    /// This process's own handle on the module, for what `pkcs11-tool` cannot do, and the
    /// token's slot. The module is loaded once per process: the manager shares it.
    pub(crate) fn cryptoki(&self) -> (Pkcs11, Slot) {
        let pkcs11 = Pkcs11::new(&self.module).expect("load the module");
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => panic!("C_Initialize: {e}"),
        }
        (pkcs11, Slot::try_from(self.slot).expect("a slot id"))
    }
}
