//! Connecting an `oauth2` credential with the authorization-code grant: the authorization
//! request (PKCE S256, a single-use `state` bound to the credential and the principal),
//! the callback that exchanges the code for tokens, and revoking them when the credential
//! is deleted.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use time::{Duration, OffsetDateTime};

use super::audit::Actor;
use super::{Vault, VaultError, require};
use crate::access_key::{Principal, Scope};
use crate::cipher::Aad;
use crate::connections::{
    ConnectState, Connection, ConnectionStatus, ConnectionTokens, Expected, StateHash,
};
use crate::credential::{CredentialKind, OAuth2Config, OAuth2Grant, StoredCredential};
use crate::ids::{CredentialId, OrganizationId};
use crate::logs::AuditAction;
use crate::oauth2::{TokenGrant, authorization_url, revocation_request};
use crate::store::Store;

/// How long a connect flow's `state` is accepted.
pub const CONNECT_STATE_LIFETIME: Duration = Duration::minutes(10);
/// How often saving new tokens is tried again when a refresh wrote meanwhile.
const SAVE_ATTEMPTS: usize = 5;

/// A connect flow started: where to send the user.
#[derive(Clone)]
pub struct ConnectStart {
    /// The provider's authorization URL, with `state` and the PKCE challenge.
    pub authorization_url: String,
    /// When the flow stops being accepted.
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for ConnectStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL carries the single-use state.
        f.debug_struct("ConnectStart")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What the provider sent the user's browser back with.
#[derive(Clone, Default)]
pub struct CallbackParams {
    /// The `state` of the authorization request.
    pub state: Option<String>,
    /// The authorization code, on success.
    pub code: Option<String>,
    /// The OAuth2 `error`, on refusal (`access_denied`).
    pub error: Option<String>,
}

impl std::fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The state and the code are secrets until used.
        f.debug_struct("CallbackParams")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// A credential a callback connected.
#[derive(Clone, Debug)]
pub struct Connected {
    /// Its organization.
    pub organization_id: OrganizationId,
    /// The credential.
    pub credential_id: CredentialId,
    /// Its name, for the page the user sees.
    pub name: String,
}

/// A credential's connection as views show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// Pending, connected or needing a reconnect.
    pub status: ConnectionStatus,
    /// When a user last connected it.
    pub connected_at: Option<OffsetDateTime>,
    /// Why it needs a reconnect (the provider's error code).
    pub reason: Option<String>,
}

impl ConnectionInfo {
    /// The view of `connection` (`None`: never connected).
    #[must_use]
    pub fn of(connection: Option<&Connection>) -> Self {
        connection.map_or(
            Self {
                status: ConnectionStatus::Pending,
                connected_at: None,
                reason: None,
            },
            |c| Self {
                status: c.status,
                connected_at: Some(c.connected_at),
                reason: c.reason.clone(),
            },
        )
    }
}

/// The credential's authorization-code configuration, or why it has none.
pub(super) fn authorization_code(stored: &StoredCredential) -> Result<&OAuth2Config, VaultError> {
    match &stored.credential.kind {
        CredentialKind::OAuth2(config) if config.grant == OAuth2Grant::AuthorizationCode => {
            Ok(config)
        }
        _ => Err(VaultError::NotConnectable),
    }
}

impl<S: Store> Vault<S> {
    /// Starts connecting credential `id`: a single-use `state` bound to it and to `who`,
    /// valid for [`CONNECT_STATE_LIFETIME`], and the provider's authorization URL that
    /// carries it with a PKCE S256 challenge. The provider sends the user back to
    /// `redirect_uri` (the vault's `/oauth/callback`).
    ///
    /// # Errors
    /// Missing `credentials:write`, not found, [`VaultError::NotConnectable`], or a store
    /// or cipher failure.
    #[tracing::instrument(skip(self, who, redirect_uri), fields(organization = %who.organization_id))]
    pub async fn start_connect(
        &self,
        who: &Principal,
        id: CredentialId,
        redirect_uri: &str,
    ) -> Result<ConnectStart, VaultError> {
        require(who, Scope::CredentialsWrite)?;
        let stored = self.store.get_credential(who.organization_id, id).await?;
        let config = authorization_code(&stored)?;
        let mut random = zeroize::Zeroizing::new([0u8; 32]);
        self.cipher.fill_random(random.as_mut())?;
        let state = zeroize::Zeroizing::new(URL_SAFE_NO_PAD.encode(random.as_ref()));
        let challenge =
            URL_SAFE_NO_PAD.encode(self.cipher.digest(
                secrecy::ExposeSecret::expose_secret(&self.pkce_verifier(&state)).as_bytes(),
            ));
        let url = authorization_url(config, redirect_uri, &state, &challenge)
            .map_err(|_| VaultError::Cipher(crate::cipher::CipherError::Malformed))?;
        let now = self.clock.now();
        let expires_at = now + CONNECT_STATE_LIFETIME;
        let record = ConnectState {
            hash: self.state_hash(&state),
            organization_id: who.organization_id,
            credential_id: id,
            access_key_id: who.access_key_id,
            subject: who.subject.clone(),
            redirect_uri: redirect_uri.to_owned(),
            expires_at,
        };
        self.store.insert_connect_state(&record, now).await?;
        tracing::info!(credential = %id, "connect started");
        Ok(ConnectStart {
            authorization_url: url.into(),
            expires_at,
        })
    }

    /// The connections of those of `credentials` that have one (authorization-code
    /// `oauth2` credentials), for the views of credentials a use case just gave `who`
    /// (no scope of its own: a status is no more than the view shows): one store read,
    /// none when no credential has one.
    ///
    /// # Errors
    /// A store failure.
    pub async fn connections(
        &self,
        who: &Principal,
        credentials: &[&crate::credential::Credential],
    ) -> Result<std::collections::HashMap<CredentialId, ConnectionInfo>, VaultError> {
        let ids: Vec<CredentialId> = credentials
            .iter()
            .filter(|c| {
                matches!(&c.kind, CredentialKind::OAuth2(config) if config.grant == OAuth2Grant::AuthorizationCode)
            })
            .map(|c| c.id)
            .collect();
        if ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let found = self.store.connections_of(who.organization_id, &ids).await?;
        Ok(ids
            .into_iter()
            .map(|id| {
                let connection = found.iter().find(|c| c.credential_id == id);
                (id, ConnectionInfo::of(connection))
            })
            .collect())
    }

    /// Ends a connect flow: takes its `state` (once; a replay finds nothing), exchanges the
    /// code with the PKCE verifier, and stores the tokens sealed. Every outcome is audited
    /// as `connection.connect`; a failure leaves the credential as it was.
    ///
    /// # Errors
    /// [`VaultError::InvalidConnectState`], [`VaultError::AuthorizationRefused`], not found
    /// (the credential was deleted meanwhile), [`VaultError::NotConnectable`], a token
    /// endpoint failure, or a store or cipher failure.
    #[tracing::instrument(skip_all)]
    pub async fn complete_connect(&self, params: &CallbackParams) -> Result<Connected, VaultError> {
        let Some(state) = self.take_state(params).await? else {
            // Nobody to attribute it to: audited within the budget of such failures.
            self.audit_unattributed(AuditAction::ConnectionConnect, "invalid-connect-state")
                .await;
            return Err(VaultError::InvalidConnectState);
        };
        let actor = Actor {
            key: state.access_key_id,
            subject: state.subject.as_deref(),
        };
        let outcome = self.exchange(&state, params).await;
        let failure = outcome.as_ref().err();
        match failure {
            // Written with the tokens, in their transaction.
            None => {}
            Some(error) => {
                let reason = match error {
                    VaultError::AuthorizationRefused(Some(code))
                    | VaultError::TokenEndpoint(crate::oauth2::TokenEndpointError {
                        error: Some(code),
                        ..
                    }) => code.clone(),
                    other => other.code().to_owned(),
                };
                let written = self
                    .audit_reason(
                        Some(state.organization_id),
                        actor,
                        AuditAction::ConnectionConnect,
                        Some(*state.credential_id.as_uuid()),
                        Some(&reason),
                    )
                    .await;
                if let Err(error) = written {
                    tracing::error!(%error, "could not audit a failed connect");
                }
            }
        }
        outcome
    }

    /// Audits a failure nobody can be named for, within the budget that keeps such
    /// events (anyone can cause them) from flooding the log.
    async fn audit_unattributed(&self, action: AuditAction, reason: &str) {
        let admission = self
            .unattributed_failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .admit(self.clock.now());
        if !admission.write {
            return;
        }
        if let Err(error) = self
            .audit_reason(None, Actor::NONE, action, None, Some(reason))
            .await
        {
            tracing::error!(%error, "could not audit a refused connect callback");
        }
    }

    /// The state the callback names, if it is a live one; it is gone afterwards either way.
    async fn take_state(
        &self,
        params: &CallbackParams,
    ) -> Result<Option<ConnectState>, VaultError> {
        let Some(raw) = params.state.as_deref().filter(|s| s.len() <= 128) else {
            return Ok(None);
        };
        let state = self.store.take_connect_state(&self.state_hash(raw)).await?;
        Ok(state.filter(|s| self.clock.now() < s.expires_at))
    }

    async fn exchange(
        &self,
        state: &ConnectState,
        params: &CallbackParams,
    ) -> Result<Connected, VaultError> {
        if params.error.is_some() || params.code.is_none() {
            let code = params
                .error
                .clone()
                .filter(|e| crate::oauth2::is_error_code(e));
            return Err(VaultError::AuthorizationRefused(code));
        }
        let code = params.code.as_deref().unwrap_or_default();
        let stored = self
            .store
            .get_credential(state.organization_id, state.credential_id)
            .await?;
        let config = authorization_code(&stored)?;
        let raw_state = params.state.as_deref().unwrap_or_default();
        let verifier = self.pkce_verifier(raw_state);
        let grant = TokenGrant::AuthorizationCode {
            code,
            verifier: &verifier,
            redirect_uri: &state.redirect_uri,
        };
        let sent_at = self.clock.now();
        let issued = self.call_token_endpoint(&stored, config, grant).await?;
        let actor = Actor {
            key: state.access_key_id,
            subject: state.subject.as_deref(),
        };
        let audit = self.event(
            Some(state.organization_id),
            actor,
            AuditAction::ConnectionConnect,
            Some(*state.credential_id.as_uuid()),
            None,
        );
        let tokens = ConnectionTokens {
            access_token: issued.access_token,
            refresh_token: issued.refresh_token,
        };
        // The token's lifetime runs from when the provider issued it: no later than then.
        self.save_new_tokens(&stored, &tokens, sent_at + issued.lifetime, &audit)
            .await?;
        self.tokens.invalidate(state.credential_id);
        tracing::info!(credential = %state.credential_id, "credential connected");
        Ok(Connected {
            organization_id: state.organization_id,
            credential_id: state.credential_id,
            name: stored.credential.name.as_str().to_owned(),
        })
    }

    /// Stores tokens a user just connected, as the next generation of whatever is stored
    /// (a refresh may write between the read and the write: then again, on top of it).
    async fn save_new_tokens(
        &self,
        stored: &StoredCredential,
        tokens: &ConnectionTokens,
        expires_at: OffsetDateTime,
        audit: &crate::logs::AuditEvent,
    ) -> Result<(), VaultError> {
        let credential = &stored.credential;
        for _ in 0..SAVE_ATTEMPTS {
            let current = self
                .store
                .get_connection(credential.organization_id, credential.id)
                .await?;
            let generation = current.as_ref().map_or(1, |c| c.generation + 1);
            // A connect that ends a needed reconnect says so in its (successful) event:
            // what `oauth.reconnected` webhooks are sent from.
            let mut audit = audit.clone();
            if current
                .as_ref()
                .is_some_and(|c| c.status == ConnectionStatus::NeedsReconnect)
            {
                audit.reason = Some(crate::webhooks::RECONNECTED_REASON.to_owned());
            }
            let now = self.clock.now();
            let connection = Connection {
                organization_id: credential.organization_id,
                credential_id: credential.id,
                status: ConnectionStatus::Connected,
                generation,
                sealed: Some(self.cipher.seal(
                    &tokens.to_plaintext(),
                    &Aad::connection_tokens(credential.organization_id, credential.id, generation),
                )?),
                access_expires_at: Some(expires_at),
                lease: None,
                reason: None,
                connected_at: now,
                updated_at: now,
            };
            let expected = Expected {
                generation: current.map(|c| c.generation),
                holder: None,
            };
            if self
                .store
                .save_connection(&connection, expected, Some(&audit))
                .await?
            {
                return Ok(());
            }
        }
        Err(VaultError::Conflict)
    }

    /// Revokes a deleted credential's refresh token (or access token) at the provider's
    /// RFC 7009 endpoint, best effort, and audits how it went as `connection.revoke`.
    pub(super) async fn revoke_connection(
        &self,
        who: &Principal,
        stored: &StoredCredential,
        tokens: ConnectionTokens,
    ) {
        let credential = &stored.credential;
        let CredentialKind::OAuth2(config) = &credential.kind else {
            return;
        };
        let token = tokens.refresh_token.unwrap_or(tokens.access_token);
        let outcome = async {
            let proof = self.client_proof(stored, config)?;
            let request = revocation_request(config, &proof, &token)
                .map_err(|_| VaultError::DestinationNotAllowed)?;
            self.upstream
                .check_destination(&request.url)
                .map_err(VaultError::Upstream)?;
            let response = self
                .upstream
                .send(request)
                .await
                .map_err(VaultError::Upstream)?;
            // RFC 7009 §2.2: 200 whether or not the token was valid.
            if response.status.is_success() {
                Ok(())
            } else {
                Err(VaultError::TokenEndpoint(crate::oauth2::response_refusal(
                    &response,
                    "refused the revocation",
                )))
            }
        }
        .await;
        if let Err(error) = &outcome {
            tracing::warn!(%error, credential = %credential.id, "token revocation failed");
        }
        let written = self
            .audit(
                Some(credential.organization_id),
                Actor::of(who),
                AuditAction::ConnectionRevoke,
                Some(*credential.id.as_uuid()),
                outcome.as_ref().copied(),
            )
            .await;
        if let Err(error) = written {
            tracing::error!(%error, credential = %credential.id, "could not audit a token revocation");
        }
    }

    /// After a change of an authorization-code credential's client id or token endpoint,
    /// its tokens belong to a client or provider it no longer names: the connection moves
    /// to `needs-reconnect` (audited as `connection.lost`, reason `client-changed`) rather
    /// than sending the old refresh token to the new endpoint. The change itself is
    /// committed already, so a failure here is logged, not returned.
    pub(super) async fn end_connection_of_another_client(
        &self,
        who: &Principal,
        before: &crate::credential::Credential,
        after: &crate::credential::Credential,
    ) {
        let (CredentialKind::OAuth2(old), CredentialKind::OAuth2(new)) =
            (&before.kind, &after.kind)
        else {
            return;
        };
        if new.grant != OAuth2Grant::AuthorizationCode
            || (old.client_id == new.client_id && old.token_url == new.token_url)
        {
            return;
        }
        let ended = async {
            for _ in 0..SAVE_ATTEMPTS {
                if self.end_connection(who, after).await? {
                    return Ok(());
                }
            }
            Err(VaultError::Conflict)
        }
        .await;
        if let Err(error) = ended {
            tracing::error!(%error, credential = %after.id, "could not end the connection of a changed client");
        }
    }

    /// One try of [`Self::end_connection_of_another_client`]: `false` when a refresh wrote
    /// between the read and the write.
    async fn end_connection(
        &self,
        who: &Principal,
        after: &crate::credential::Credential,
    ) -> Result<bool, VaultError> {
        let Some(connection) = self
            .store
            .get_connection(after.organization_id, after.id)
            .await?
            .filter(|c| c.status == ConnectionStatus::Connected)
        else {
            return Ok(true);
        };
        let reason = "client-changed";
        let lost = connection.needing_reconnect(reason, self.clock.now());
        let audit = self.event(
            Some(after.organization_id),
            Actor::of(who),
            AuditAction::ConnectionLost,
            Some(*after.id.as_uuid()),
            Some(reason),
        );
        // Whoever holds the lease: a refresh in flight then fails its own write and
        // drops what it got, which is what is wanted.
        let expected = Expected {
            generation: Some(connection.generation),
            holder: None,
        };
        Ok(self
            .store
            .save_connection(&lost, expected, Some(&audit))
            .await?)
    }

    /// A credential about to be deleted, with its connection's tokens, when it has a
    /// revocation endpoint and live tokens to revoke. Best effort: anything that fails
    /// here is logged, and the delete goes on.
    pub(super) async fn revocable_tokens(
        &self,
        who: &Principal,
        id: CredentialId,
    ) -> Option<(StoredCredential, ConnectionTokens)> {
        let found = async {
            let stored = self.store.get_credential(who.organization_id, id).await?;
            let revocable = authorization_code(&stored).is_ok_and(|c| c.revocation_url.is_some());
            if !revocable {
                return Ok(None);
            }
            let Some(connection) = self.store.get_connection(who.organization_id, id).await? else {
                return Ok(None);
            };
            let Some(sealed) = connection.sealed.as_ref() else {
                return Ok(None);
            };
            let tokens = self.open_tokens(&connection, sealed)?;
            Ok::<_, VaultError>(Some((stored, tokens)))
        }
        .await;
        found.unwrap_or_else(|error| {
            if !matches!(error, VaultError::NotFound) {
                tracing::warn!(%error, credential = %id, "could not read the tokens to revoke");
            }
            None
        })
    }

    /// A connection's tokens, opened.
    pub(super) fn open_tokens(
        &self,
        connection: &Connection,
        sealed: &crate::cipher::SealedBlob,
    ) -> Result<ConnectionTokens, VaultError> {
        let aad = Aad::connection_tokens(
            connection.organization_id,
            connection.credential_id,
            connection.generation,
        );
        let plaintext = self.cipher.open(sealed, &aad)?;
        ConnectionTokens::from_plaintext(&plaintext)
            .ok_or(VaultError::Cipher(crate::cipher::CipherError::Malformed))
    }

    /// The stored form of a `state`: its keyed hash, so a database reader cannot replay it.
    fn state_hash(&self, state: &str) -> StateHash {
        StateHash(self.keyed(b"oauth-connect-state", state))
    }

    /// The PKCE verifier of a `state`: derived from it under the vault's key rather than
    /// stored, so nothing a database reader sees completes a code exchange. 43 characters
    /// of base64url, as RFC 7636 §4.1 asks.
    fn pkce_verifier(&self, state: &str) -> SecretString {
        SecretString::from(URL_SAFE_NO_PAD.encode(self.keyed(b"oauth-pkce-verifier", state)))
    }

    fn keyed(&self, label: &[u8], state: &str) -> [u8; 32] {
        let mut message =
            zeroize::Zeroizing::new(Vec::with_capacity(label.len() + 1 + state.len()));
        message.extend_from_slice(label);
        message.push(0);
        message.extend_from_slice(state.as_bytes());
        self.cipher.keyed_hash(&self.token_hash_key, &message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_state_or_the_code() {
        let start = ConnectStart {
            authorization_url: "https://a.example/authorize?state=st4te-canary".to_owned(),
            expires_at: OffsetDateTime::UNIX_EPOCH,
        };
        let callback = CallbackParams {
            state: Some("st4te-canary".to_owned()),
            code: Some("c0de-canary".to_owned()),
            error: Some("access_denied".to_owned()),
        };
        let shown = format!("{start:?} {callback:?}");
        assert!(!shown.contains("canary"), "{shown}");
        assert!(shown.contains("access_denied"), "{shown}");
    }
}
