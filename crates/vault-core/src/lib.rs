#![doc = include_str!("../README.md")]

pub mod access_key;
pub mod apply;
pub mod audit_chain;
pub mod bundle;
pub mod ca_bundle;
pub mod cipher;
pub mod clock;
pub mod connections;
pub mod credential;
pub mod credential_cache;
pub mod credential_types;
pub mod destinations;
pub mod duration;
pub mod egress;
pub mod grants;
pub mod identity;
pub mod ids;
pub mod input;
pub mod jobs;
pub mod jwt;
pub mod key_manager;
pub mod keyring;
pub mod log_writer;
pub mod logs;
pub mod oauth2;
pub mod signing;
pub mod store;
#[cfg(test)]
mod test_support;
mod token_cache;
pub mod upstream;
pub mod validation;
pub mod vault;
pub mod versions;
pub mod webhooks;
mod write_lock;

pub use access_key::{AccessKey, IssuedAccessKey, KeyBinding, Organization, Principal, Scope};
pub use apply::{AppliedCredential, ProxyRequest};
pub use bundle::{BundleCipher, BundleError, BundleIdentity, BundleRecipient, NoBundleCipher};
pub use cipher::{Aad, Cipher, CipherError, KeyId, SealedBlob};
pub use clock::{Clock, SystemClock};
pub use credential::{
    Credential, CredentialKind, CredentialSecrets, CredentialType, StoredCredential,
};
pub use egress::AllowedHosts;
pub use identity::{IdentityError, IdentityRefusal, IdentityVerifier, VerifiedIdentity};
pub use ids::{AccessKeyId, CredentialId, GrantId, OrganizationId, WebhookDeliveryId, WebhookId};
pub use input::{CredentialFields, Patch, PlacementInput};
pub use jwt::{JwtSigner, NoJwtSigner};
pub use key_manager::{KeyManager, KeyManagerError, WrappedKeyring};
pub use signing::{NoRequestSigner, RequestSigner};
pub use store::{Store, StoreError};
pub use upstream::{NoUpstream, Upstream};
pub use validation::{FieldError, ValidationErrors};
pub use vault::{
    AccessKeyRequest, KeyStatus, ListRequest, LogListRequest, NotReady, OpenError, Page,
    ProxyResponse, RewrapBatch, RewrapFailure, Vault, VaultError,
};
