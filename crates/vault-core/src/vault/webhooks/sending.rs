//! Sending due deliveries: sign, POST through the vault's upstream client (so the same
//! address guard as the proxy applies), record how it went.

use std::collections::HashMap;

use http::{HeaderMap, HeaderValue, Method, header};

use super::super::{Vault, VaultError};
use crate::cipher::Aad;
use crate::ids::WebhookId;
use crate::store::Store;
use crate::upstream::{OutgoingRequest, RequestPurpose};
use crate::webhooks::{AttemptResult, Delivery, Webhook, WebhookSecret};

/// Deliveries sent at the same time by one run.
const CONCURRENT_SENDS: usize = 8;

/// What one run of [`Vault::send_due_webhooks`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryRun {
    /// Deliveries the receiver took (2xx).
    pub delivered: usize,
    /// Attempts that failed (each retried later, or failed for good).
    pub failed: usize,
}

impl<S: Store> Vault<S> {
    /// Sends up to `limit` due deliveries and records each attempt. Run by one replica at a
    /// time (the background job's exclusion), so no delivery is sent twice at once; one
    /// whose attempt was made but not recorded (a crash between) is sent again: delivery
    /// is at least once, and receivers drop repeats by `webhook-id`.
    ///
    /// # Errors
    /// A store failure reading the due deliveries; a failure recording one attempt ends
    /// the run after the attempts in flight.
    pub async fn send_due_webhooks(&self, limit: usize) -> Result<DeliveryRun, VaultError> {
        let due = self.store.due_deliveries(self.clock.now(), limit).await?;
        if due.is_empty() {
            return Ok(DeliveryRun::default());
        }
        let mut webhooks: HashMap<WebhookId, Option<Webhook>> = HashMap::new();
        for delivery in &due {
            if let std::collections::hash_map::Entry::Vacant(entry) =
                webhooks.entry(delivery.webhook_id)
            {
                let webhook = self
                    .store
                    .get_webhook(delivery.organization_id, delivery.webhook_id)
                    .await?;
                entry.insert(webhook);
            }
        }
        // A subscription deleted meanwhile took its deliveries with it.
        let sendable: Vec<(&Webhook, &Delivery)> = due
            .iter()
            .filter_map(|d| Some((webhooks.get(&d.webhook_id)?.as_ref()?, d)))
            .collect();
        let mut run = DeliveryRun::default();
        for group in sendable.chunks(CONCURRENT_SENDS) {
            // Futures built in a plain loop (not a closure): the run's future stays `Send`.
            let mut attempts = Vec::with_capacity(group.len());
            for (webhook, delivery) in group {
                attempts.push(self.attempt(webhook, delivery));
            }
            for (delivery, result) in futures::future::join_all(attempts).await {
                self.record(delivery, &result, &mut run).await?;
            }
        }
        Ok(run)
    }

    /// Records how an attempt at `delivery` went.
    async fn record(
        &self,
        delivery: &Delivery,
        result: &AttemptResult,
        run: &mut DeliveryRun,
    ) -> Result<(), VaultError> {
        let record = delivery.after_attempt(self.clock.now(), result);
        if result.succeeded() {
            run.delivered += 1;
        } else {
            run.failed += 1;
            tracing::info!(
                webhook = %delivery.webhook_id,
                delivery = %delivery.id,
                attempts = record.attempts,
                status = record.status.as_str(),
                error = result.error.as_deref().unwrap_or_default(),
                "a webhook delivery failed"
            );
        }
        self.store.record_attempt(&record).await?;
        Ok(())
    }

    /// One attempt at `delivery`: its outcome, never an error (a failure is an outcome).
    async fn attempt<'d>(
        &self,
        webhook: &Webhook,
        delivery: &'d Delivery,
    ) -> (&'d Delivery, AttemptResult) {
        let result = match self.signed_request(webhook, delivery) {
            Ok(request) => match self.upstream.send(request).await {
                Ok(response) => {
                    let status = response.status.as_u16();
                    AttemptResult {
                        response_status: Some(status),
                        error: (!response.status.is_success())
                            .then(|| format!("the receiver answered {status}")),
                    }
                }
                // Upstream errors name the host and the cause, never the URL.
                Err(error) => AttemptResult {
                    response_status: None,
                    error: Some(error.to_string()),
                },
            },
            Err(error) => AttemptResult {
                response_status: None,
                error: Some(error.to_string()),
            },
        };
        (delivery, result)
    }

    /// The POST of `delivery` to `webhook`, signed with its secret at this instant.
    fn signed_request(
        &self,
        webhook: &Webhook,
        delivery: &Delivery,
    ) -> Result<OutgoingRequest, VaultError> {
        let opened = self.cipher.open(
            &webhook.secret,
            &Aad::webhook_secret(webhook.organization_id, webhook.id),
        )?;
        let secret = WebhookSecret::from_bytes(&opened)?;
        let body = serde_json::to_vec(&delivery.payload).unwrap_or_default();
        let signed = secret.sign(&*self.cipher, &delivery.message_id, self.clock.now(), &body);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static("vault-webhooks/1"),
        );
        for (name, value) in [
            ("webhook-id", signed.id),
            ("webhook-timestamp", signed.timestamp),
            ("webhook-signature", signed.signature),
        ] {
            // Ids, digits and base64: always valid header values.
            if let Ok(value) = HeaderValue::try_from(value) {
                headers.insert(name, value);
            }
        }
        Ok(OutgoingRequest {
            method: Method::POST,
            url: webhook.url.clone(),
            headers,
            body,
            purpose: RequestPurpose::Webhook,
            tls: None,
        })
    }
}
