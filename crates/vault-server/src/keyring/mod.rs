//! The key hierarchy (DESIGN.md §8): a key manager (a static key, Transit, AWS KMS, an
//! HSM) wraps the keyring of key-encryption keys, unwrapped once at start; those keys wrap
//! per-row data keys; the data keys seal the rows.
//!
//! - [`environment`]: the static keys, `ENCRYPTION_KEY` and `ENCRYPTION_KEYS_PREVIOUS` (or
//!   a development key file);
//! - [`managers`]: the key managers, built from the settings;
//! - [`hierarchy`]: the stored keyring, unwrapped, rotated, wrapped again, followed by
//!   every replica.

pub mod environment;
pub mod hierarchy;
pub mod managers;

pub use environment::{KeySource, dev_key_file, dev_warning};
pub use hierarchy::KeyHierarchy;
