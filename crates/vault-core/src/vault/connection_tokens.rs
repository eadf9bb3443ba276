//! The access token of a connected `oauth2` credential, kept fresh across replicas through
//! the database (see [`crate::connections`]): one replica refreshes each generation, under
//! a lease it takes by compare-and-set; the others use the still-valid token meanwhile, or
//! wait for the new one. The rotated refresh token is stored before the new access token
//! is used, so a crash never leaves the only copy of it in a dead process.

use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::SecretString;
use time::{Duration, OffsetDateTime};

use super::audit::Actor;
use super::{Vault, VaultError};
use crate::access_key::Principal;
use crate::cipher::Aad;
use crate::connections::{Connection, ConnectionStatus, ConnectionTokens, Expected, Lease};
use crate::credential::{OAuth2Config, StoredCredential};
use crate::grants::Via;
use crate::logs::AuditAction;
use crate::oauth2::{TokenEndpointError, TokenGrant};
use crate::store::Store;
use crate::token_cache::refresh_at;

/// How often a replica looks again while another one refreshes an expired token.
const POLL: std::time::Duration = std::time::Duration::from_millis(100);
/// While another replica refreshes, the still-valid token is used for this long before
/// the row is read again.
const RECHECK: Duration = Duration::milliseconds(250);

/// A token an upstream refused is refreshed at once only if it is at least this old (or a
/// quarter of its lifetime, if less): an upstream that refuses every token (a wrong path,
/// a missing permission) then costs a few refreshes a lifetime, not one per use.
const REFUSED_MIN_AGE: Duration = Duration::seconds(30);

/// A refresh that could not happen now (the endpoint failed): the old token is used for
/// this long, if it lives that long, before trying again.
const RETRY_AFTER: Duration = Duration::seconds(1);

/// A refresh, as it goes out: the connection it refreshes, under which lease.
struct Refresh<'a> {
    stored: &'a StoredCredential,
    config: &'a OAuth2Config,
    connection: Connection,
    tokens: ConnectionTokens,
    lease: Lease,
}

impl<S: Store> Vault<S> {
    /// The access token to send for a connected credential, and until when this process
    /// may keep using it without looking at the database again.
    pub(super) async fn connection_access_token(
        &self,
        who: &Principal,
        stored: &StoredCredential,
        config: &OAuth2Config,
        via: Via,
        audited: &AtomicBool,
    ) -> Result<(SecretString, OffsetDateTime), VaultError> {
        let credential = &stored.credential;
        let (organization, id) = (credential.organization_id, credential.id);
        let refused = self
            .refused_tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&id);
        // Bounded by count, not by the clock: a pinned test clock never moves.
        let waits = self.refresh_lease.whole_milliseconds() / POLL.as_millis() as i128 + 2;
        for _ in 0..waits {
            let connection = self
                .store
                .get_connection(organization, id)
                .await?
                .ok_or(VaultError::NotConnected(id))?;
            if connection.status != ConnectionStatus::Connected {
                return Err(VaultError::ReconnectRequired(id));
            }
            let sealed = connection
                .sealed
                .as_ref()
                .ok_or(VaultError::ReconnectRequired(id))?;
            let tokens = self.open_tokens(&connection, sealed)?;
            let now = self.clock.now();
            let expires = connection.access_expires_at.unwrap_or(now);
            let mut due = refresh_at(connection.updated_at, expires - connection.updated_at);
            let age = now - connection.updated_at;
            if refused && age >= REFUSED_MIN_AGE.min((expires - connection.updated_at) / 4) {
                due = due.min(now);
            }
            if now < due {
                return Ok((tokens.access_token, due));
            }
            if connection.lease.is_none_or(|lease| lease.until <= now) {
                let lease = Lease {
                    holder: uuid::Uuid::new_v4(),
                    until: now + self.refresh_lease,
                };
                let taken = self
                    .store
                    .take_lease(organization, id, connection.generation, lease, now)
                    .await?;
                if taken {
                    let refresh = Refresh {
                        stored,
                        config,
                        connection,
                        tokens,
                        lease,
                    };
                    return self.refresh(who, refresh, via, audited).await;
                }
                // Another replica took it first: see what it does.
                continue;
            }
            if now < expires {
                // Another replica is refreshing; the token still works meanwhile.
                return Ok((tokens.access_token, (now + RECHECK).min(expires)));
            }
            self.clock.sleep(POLL).await;
        }
        Err(VaultError::TokenEndpoint(TokenEndpointError {
            status: None,
            error: None,
            problem: "was being called by another replica, which did not finish in time",
        }))
    }

    /// Refreshes under a lease this replica holds, and stores the result before using it.
    async fn refresh(
        &self,
        who: &Principal,
        refresh: Refresh<'_>,
        via: Via,
        audited: &AtomicBool,
    ) -> Result<(SecretString, OffsetDateTime), VaultError> {
        let Refresh {
            stored,
            config,
            connection,
            tokens,
            lease,
        } = refresh;
        let id = connection.credential_id;
        let expected = Expected {
            generation: Some(connection.generation),
            holder: Some(lease.holder),
        };
        let expires = connection
            .access_expires_at
            .unwrap_or(connection.updated_at);
        let Some(refresh_token) = tokens.refresh_token.as_ref() else {
            // No refresh token was issued: the access token is all there is.
            return if self.clock.now() < expires {
                self.release(&connection, expected).await?;
                Ok((tokens.access_token, expires))
            } else {
                self.lose(&connection, expected, "no-refresh-token").await
            };
        };
        // The refresh sends the client secret and the refresh token out: like a token
        // request of the client-credentials grant, the use is audited before it.
        if !audited.load(Ordering::Acquire) {
            self.audit_use(who, id, Ok(()), Some(via)).await?;
            audited.store(true, Ordering::Release);
        }
        // The token's lifetime runs from when the provider issued it: no later than now.
        let sent_at = self.clock.now();
        let issued = match self
            .call_token_endpoint(stored, config, TokenGrant::Refresh(refresh_token))
            .await
        {
            Ok(issued) => issued,
            Err(VaultError::TokenEndpoint(error))
                if error.error.as_deref() == Some("invalid_grant") =>
            {
                return self.lose(&connection, expected, "invalid_grant").await;
            }
            Err(error) => {
                // Not the grant's fault: someone may try again soon; the old token serves
                // while it lives.
                self.release(&connection, expected).await?;
                let now = self.clock.now();
                if now < expires {
                    tracing::warn!(%error, credential = %id, "refresh failed; the current token is used until it expires");
                    return Ok((tokens.access_token, (now + RETRY_AFTER).min(expires)));
                }
                return Err(error);
            }
        };
        let now = self.clock.now();
        let generation = connection.generation + 1;
        let next_tokens = ConnectionTokens {
            access_token: issued.access_token,
            // RFC 6749 §6: a server that does not rotate sends none; the old one stays.
            refresh_token: issued.refresh_token.or(tokens.refresh_token),
        };
        let next = Connection {
            generation,
            sealed: Some(self.cipher.seal(
                &next_tokens.to_plaintext(),
                &Aad::connection_tokens(connection.organization_id, id, generation),
            )?),
            access_expires_at: Some(sent_at + issued.lifetime),
            lease: None,
            updated_at: now,
            ..connection
        };
        if !self.store.save_connection(&next, expected, None).await? {
            // The lease outlived the token request's timeout only if something stalled:
            // another replica took over this generation, and what this one got is lost.
            tracing::error!(credential = %id, "a refresh finished after its lease was taken over; its tokens were dropped");
            return Err(VaultError::Conflict);
        }
        tracing::info!(credential = %id, generation, lifetime = issued.lifetime.whole_seconds(), "OAuth2 connection refreshed");
        Ok((
            next_tokens.access_token,
            refresh_at(sent_at, issued.lifetime),
        ))
    }

    /// Gives the lease back without new tokens.
    async fn release(&self, connection: &Connection, expected: Expected) -> Result<(), VaultError> {
        let released = Connection {
            lease: None,
            ..connection.clone()
        };
        self.store
            .save_connection(&released, expected, None)
            .await?;
        Ok(())
    }

    /// Marks the connection as needing a reconnect (the provider refused its refresh
    /// token), audited as `connection.lost`, and drops its tokens.
    async fn lose<T>(
        &self,
        connection: &Connection,
        expected: Expected,
        reason: &str,
    ) -> Result<T, VaultError> {
        let id = connection.credential_id;
        let lost = connection.needing_reconnect(reason, self.clock.now());
        let audit = self.event(
            Some(connection.organization_id),
            Actor::NONE,
            AuditAction::ConnectionLost,
            Some(*id.as_uuid()),
            Some(reason),
        );
        self.store
            .save_connection(&lost, expected, Some(&audit))
            .await?;
        tracing::warn!(credential = %id, reason, "OAuth2 connection needs a reconnect");
        Err(VaultError::ReconnectRequired(id))
    }
}
