//! Webhook subscriptions: managing them, and the background work that sends their
//! deliveries (see [`crate::webhooks`] for the model).

use secrecy::SecretString;

use super::{MAX_PAGE_SIZE, Page, Vault, VaultError, require};
use crate::access_key::{Principal, Scope};
use crate::cipher::Aad;
use crate::ids::{OrganizationId, WebhookDeliveryId, WebhookId};
use crate::logs::AuditAction;
use crate::store::{Store, StoreError};
use crate::validation::FieldError;
use crate::webhooks::{
    Delivery, MAX_WEBHOOKS_PER_ORGANIZATION, Webhook, WebhookEvent, WebhookFields, WebhookInput,
    WebhookSecret,
};

mod reminders;
mod sending;

pub use sending::DeliveryRun;

/// A subscription just made (or given a new secret), with its secret: shown this once.
#[derive(Debug)]
pub struct WebhookWithSecret {
    /// The subscription.
    pub webhook: Webhook,
    /// Its signing secret, `whsec_...`.
    pub secret: SecretString,
}

impl<S: Store> Vault<S> {
    /// Subscribes the caller's organization to events: the secret that signs deliveries
    /// is returned this once.
    ///
    /// # Errors
    /// No `webhooks:manage`, invalid fields (422), the organization's
    /// [`MAX_WEBHOOKS_PER_ORGANIZATION`] reached (422 on `url`), or a store failure.
    #[tracing::instrument(skip_all, fields(organization = %who.organization_id))]
    pub async fn create_webhook(
        &self,
        who: &Principal,
        input: &WebhookInput,
    ) -> Result<WebhookWithSecret, VaultError> {
        let created = self.insert_new_webhook(who, input).await;
        self.audit_if_refused(who, AuditAction::WebhookCreate, None, created)
            .await
    }

    async fn insert_new_webhook(
        &self,
        who: &Principal,
        input: &WebhookInput,
    ) -> Result<WebhookWithSecret, VaultError> {
        require(who, Scope::WebhooksManage)?;
        let fields = input.apply(None)?;
        self.check_receiver(&fields)?;
        let id = WebhookId::new();
        let now = self.clock.now();
        let (secret, sealed) = self.new_webhook_secret(who.organization_id, id)?;
        let webhook = Webhook {
            id,
            organization_id: who.organization_id,
            url: fields.url,
            description: fields.description,
            events: fields.events,
            days_ahead: fields.days_ahead,
            enabled: fields.enabled,
            secret: sealed,
            created_at: now,
            updated_at: now,
        };
        let audit = self.success(who, AuditAction::WebhookCreate, *id.as_uuid());
        match self.store.insert_webhook(&webhook, &audit).await {
            Err(StoreError::Conflict) => {
                return Err(FieldError::new(
                    "url",
                    format!(
                        "this organization has {MAX_WEBHOOKS_PER_ORGANIZATION} webhooks, the \
                         most it may have; delete one first"
                    ),
                )
                .into());
            }
            other => other?,
        }
        tracing::info!(webhook = %id, "webhook created");
        Ok(WebhookWithSecret { webhook, secret })
    }

    /// Refuses a receiver the upstream client would refuse from its URL alone (a literal
    /// private address, say), now rather than at every delivery. Names that resolve to
    /// such an address are refused when sending, like any destination.
    fn check_receiver(&self, fields: &WebhookFields) -> Result<(), VaultError> {
        self.upstream.check_destination(&fields.url).map_err(|_| {
            FieldError::new(
                "url",
                "must not name a private, loopback, link-local or otherwise non-public address",
            )
            .into()
        })
    }

    /// A fresh secret, and it sealed to the subscription.
    fn new_webhook_secret(
        &self,
        organization: OrganizationId,
        id: WebhookId,
    ) -> Result<(SecretString, crate::cipher::SealedBlob), VaultError> {
        let secret = WebhookSecret::generate(&*self.cipher)?;
        let sealed = self
            .cipher
            .seal(secret.as_bytes(), &Aad::webhook_secret(organization, id))?;
        Ok((secret.to_wire(), sealed))
    }

    /// The organization's subscriptions, in creation order (there are at most
    /// [`MAX_WEBHOOKS_PER_ORGANIZATION`]: one page).
    ///
    /// # Errors
    /// No `webhooks:manage`, or a store failure.
    pub async fn webhooks(&self, who: &Principal) -> Result<Vec<Webhook>, VaultError> {
        require(who, Scope::WebhooksManage)?;
        Ok(self.store.list_webhooks(who.organization_id).await?)
    }

    /// One subscription.
    ///
    /// # Errors
    /// No `webhooks:manage`, not found, or a store failure.
    pub async fn webhook(&self, who: &Principal, id: WebhookId) -> Result<Webhook, VaultError> {
        require(who, Scope::WebhooksManage)?;
        self.store
            .get_webhook(who.organization_id, id)
            .await?
            .ok_or(VaultError::NotFound)
    }

    /// Changes the fields `input` names.
    ///
    /// # Errors
    /// No `webhooks:manage`, invalid fields, not found, or a store failure.
    #[tracing::instrument(skip(self, who, input), fields(organization = %who.organization_id))]
    pub async fn update_webhook(
        &self,
        who: &Principal,
        id: WebhookId,
        input: &WebhookInput,
    ) -> Result<Webhook, VaultError> {
        let updated = self.change_webhook(who, id, input).await;
        self.audit_if_refused(
            who,
            AuditAction::WebhookUpdate,
            Some(*id.as_uuid()),
            updated,
        )
        .await
    }

    async fn change_webhook(
        &self,
        who: &Principal,
        id: WebhookId,
        input: &WebhookInput,
    ) -> Result<Webhook, VaultError> {
        let current = self.webhook(who, id).await?;
        let fields = input.apply(Some(&WebhookFields::of(&current)))?;
        self.check_receiver(&fields)?;
        let webhook = Webhook {
            url: fields.url,
            description: fields.description,
            events: fields.events,
            days_ahead: fields.days_ahead,
            enabled: fields.enabled,
            updated_at: self.clock.now(),
            ..current
        };
        self.save_webhook(who, webhook).await
    }

    async fn save_webhook(&self, who: &Principal, webhook: Webhook) -> Result<Webhook, VaultError> {
        let audit = self.success(who, AuditAction::WebhookUpdate, *webhook.id.as_uuid());
        if !self.store.update_webhook(&webhook, &audit).await? {
            return Err(VaultError::NotFound);
        }
        Ok(webhook)
    }

    /// Replaces a subscription's signing secret: the new one is returned this once, and
    /// every delivery from now on (retries included) is signed with it.
    ///
    /// # Errors
    /// No `webhooks:manage`, not found, or a store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn rotate_webhook_secret(
        &self,
        who: &Principal,
        id: WebhookId,
    ) -> Result<WebhookWithSecret, VaultError> {
        let rotated = async {
            let current = self.webhook(who, id).await?;
            let (secret, sealed) = self.new_webhook_secret(who.organization_id, id)?;
            let webhook = Webhook {
                secret: sealed,
                updated_at: self.clock.now(),
                ..current
            };
            let webhook = self.save_webhook(who, webhook).await?;
            tracing::info!(webhook = %id, "webhook secret replaced");
            Ok(WebhookWithSecret { webhook, secret })
        }
        .await;
        self.audit_if_refused(
            who,
            AuditAction::WebhookUpdate,
            Some(*id.as_uuid()),
            rotated,
        )
        .await
    }

    /// Deletes a subscription and its deliveries.
    ///
    /// # Errors
    /// No `webhooks:manage`, not found, or a store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn delete_webhook(&self, who: &Principal, id: WebhookId) -> Result<(), VaultError> {
        let deleted = async {
            require(who, Scope::WebhooksManage)?;
            let audit = self.success(who, AuditAction::WebhookDelete, *id.as_uuid());
            if self
                .store
                .delete_webhook(who.organization_id, id, &audit)
                .await?
            {
                Ok(())
            } else {
                Err(VaultError::NotFound)
            }
        }
        .await;
        self.audit_if_refused(
            who,
            AuditAction::WebhookDelete,
            Some(*id.as_uuid()),
            deleted,
        )
        .await
    }

    /// A subscription's deliveries, newest first, `limit` (1 to 100) per page.
    ///
    /// # Errors
    /// No `webhooks:manage`, not found, an invalid cursor or limit, or a store failure.
    pub async fn webhook_deliveries(
        &self,
        who: &Principal,
        id: WebhookId,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Delivery>, VaultError> {
        self.webhook(who, id).await?;
        let limit = super::paging::page_limit(limit)?.unwrap_or(super::DEFAULT_PAGE_SIZE);
        let before = cursor
            .map(|raw| {
                raw.parse::<WebhookDeliveryId>()
                    .map_err(|_| FieldError::new("cursor", "is not a cursor this API gave"))
            })
            .transpose()?;
        let fetch = usize::try_from(limit.min(MAX_PAGE_SIZE)).unwrap_or(50);
        let mut items = self
            .store
            .list_deliveries(who.organization_id, id, before, fetch + 1)
            .await?;
        let next_cursor = if items.len() > fetch {
            items.truncate(fetch);
            items.last().map(|d| d.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Sends a delivery again: a new delivery of the same message (same `webhook-id`, so a
    /// receiver that took the first can drop it), due now, with the whole retry schedule
    /// ahead of it.
    ///
    /// # Errors
    /// No `webhooks:manage`, not found, or a store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn replay_webhook_delivery(
        &self,
        who: &Principal,
        id: WebhookId,
        delivery: WebhookDeliveryId,
    ) -> Result<Delivery, VaultError> {
        let replayed = async {
            self.webhook(who, id).await?;
            let original = self
                .store
                .get_delivery(who.organization_id, id, delivery)
                .await?
                .ok_or(VaultError::NotFound)?;
            let replay = original.replay(self.clock.now());
            let audit = self.success(who, AuditAction::WebhookReplay, *id.as_uuid());
            self.store
                .insert_deliveries(std::slice::from_ref(&replay), Some(&audit))
                .await?;
            Ok(replay)
        }
        .await;
        self.audit_if_refused(
            who,
            AuditAction::WebhookReplay,
            Some(*id.as_uuid()),
            replayed,
        )
        .await
    }

    /// Addresses `event` to every enabled subscription that takes its type: the
    /// organization's, or with `None` (an installation-wide event such as a key rotation)
    /// every organization's. Returns how many deliveries it made.
    ///
    /// # Errors
    /// A store failure: nothing was addressed, and the caller may publish again.
    pub async fn publish_webhook_event(
        &self,
        organization: Option<OrganizationId>,
        event: &WebhookEvent,
    ) -> Result<usize, VaultError> {
        let subscribed = match organization {
            Some(organization) => self.store.list_webhooks(organization).await?,
            None => self.store.webhooks_wanting(&[event.event_type]).await?,
        };
        let deliveries: Vec<Delivery> = subscribed
            .iter()
            .filter(|w| w.wants(event.event_type))
            .map(|w| Delivery::new(w, event))
            .collect();
        if !deliveries.is_empty() {
            self.store.insert_deliveries(&deliveries, None).await?;
        }
        Ok(deliveries.len())
    }

    /// Tells subscribers that the upstream keeps refusing `credential`'s uses. A failure
    /// is logged, not returned: the use it follows has been answered.
    pub(super) async fn publish_use_failed(
        &self,
        credential: &crate::credential::Credential,
        status: u16,
    ) {
        let event = WebhookEvent::new(
            crate::webhooks::EventType::CredentialUseFailed,
            self.clock.now(),
            serde_json::json!({
                "credentialId": credential.id,
                "name": credential.name.as_str(),
                "status": status,
                "consecutiveRefusals": crate::webhooks::USE_FAILED_AFTER,
            }),
        );
        if let Err(error) = self
            .publish_webhook_event(Some(credential.organization_id), &event)
            .await
        {
            tracing::error!(%error, credential = %credential.id, "could not publish credential.use_failed");
        }
    }

    /// Deletes up to `limit` of the settled deliveries (succeeded or failed) made more
    /// than `days` ago; how many. Pending ones stay, however old: they are still due.
    ///
    /// # Errors
    /// A store failure.
    pub async fn prune_webhook_deliveries(
        &self,
        days: u32,
        limit: usize,
    ) -> Result<u64, VaultError> {
        let Some(cutoff) = self
            .clock
            .now()
            .checked_sub(time::Duration::days(i64::from(days)))
        else {
            return Ok(0);
        };
        Ok(self.store.prune_deliveries(cutoff, limit).await?)
    }
}
