//! Rows as stored, and their translation to and from domain values.
//!
//! Decoding checks everything the domain's constructors check (UUIDs, name rules, the JSON
//! of public fields and hints, the type tag agreeing with the public fields, hash lengths,
//! times within range), so a row edited behind the vault's back surfaces as a
//! [`StoreError::Backend`] naming the column, never as a panic and never with the
//! offending value in the message.

mod access_keys;
mod connections;
mod credentials;
mod grants;
mod logs;
mod organizations;
mod sealed;
mod versions;
mod webhooks;

pub use access_keys::{AccessKeyRow, AccessKeySummaryRow};
pub use connections::{ConnectStateRow, ConnectionRow, ConnectionUpdate};
pub use credentials::{CredentialRow, CredentialSummaryRow, CredentialUpdate};
pub use grants::GrantRow;
pub use logs::{AuditEventRow, ChainHeadRow, CheckpointRow, RequestLogRow, UsageRow};
pub use organizations::{KeyringRow, MetaRow, OrganizationRow};
pub use sealed::{
    KeyCountRow, SealedConnectionRow, SealedCredentialRow, SealedVersionRow, SealedWebhookRow,
};
pub use versions::{VersionInfoRow, VersionRow};
pub use webhooks::{
    AttemptUpdate, DeliveryRow, ReminderRow, WebhookRow, WebhookUpdate, reminder_subject,
};

use vault_core::store::StoreError;

use crate::types::DbId;

/// `Debug` of rows that shows their type only: a row holds sealed bytes or a key's hash,
/// which have no place in a log.
macro_rules! debug_by_name {
    ($($row:ident),+ $(,)?) => {
        $(
            impl std::fmt::Debug for $row {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.debug_struct(stringify!($row)).finish_non_exhaustive()
                }
            }
        )+
    };
}

debug_by_name!(
    OrganizationRow,
    CredentialSummaryRow,
    CredentialRow,
    CredentialUpdate,
    AccessKeySummaryRow,
    AccessKeyRow,
    RequestLogRow,
    AuditEventRow,
    ChainHeadRow,
    CheckpointRow,
    VersionInfoRow,
    VersionRow,
    SealedCredentialRow,
    SealedVersionRow,
    MetaRow,
    KeyCountRow,
    GrantRow,
    ConnectionRow,
    ConnectionUpdate,
    ConnectStateRow,
    SealedConnectionRow,
    SealedWebhookRow,
    WebhookRow,
    WebhookUpdate,
    DeliveryRow,
    AttemptUpdate,
    ReminderRow,
);

/// An id that may be absent, as a domain id.
fn optional_id<T>(
    id: Option<DbId>,
    column: &'static str,
    make: impl FnOnce(uuid::Uuid) -> T,
) -> Result<Option<T>, StoreError> {
    id.map(|id| id.decode(column).map(make)).transpose()
}
