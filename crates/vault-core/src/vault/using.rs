//! Using a credential: what it adds to a request (OAuth2 tokens and signed JWTs from the
//! per-credential cache), and the proxy that sends a request with it, so the caller never
//! sees the secret.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use secrecy::SecretString;
use time::OffsetDateTime;

use super::{Vault, VaultError};
use crate::access_key::{Principal, Scope};
use crate::apply::{AppliedCredential, ProxyRequest, strip_hop_by_hop};
use crate::cipher::{Aad, CipherError};
use crate::credential::{
    CredentialKind, CredentialSecrets, JwtConfig, OAuth2Config, OAuth2Grant, StoredCredential,
};
use crate::grants::Via;
use crate::ids::CredentialId;
use crate::logs::{AuditAction, LogRecord, RequestLogEntry};
use crate::oauth2::{
    IssuedTokens, TokenEndpointError, TokenGrant, read_token_response, token_request,
};
use crate::store::Store;
use crate::token_cache::refresh_at;
use crate::upstream::UpstreamError;

/// What the upstream answered, hop-by-hop headers removed.
#[derive(Clone, Debug)]
pub struct ProxyResponse {
    /// The upstream's status.
    pub status: http::StatusCode,
    /// The upstream's headers, minus hop-by-hop ones.
    pub headers: http::HeaderMap,
    /// The upstream's body, as it came.
    pub body: Vec<u8>,
}

/// Why fetching a token failed, in a form queued callers can share.
#[derive(Clone)]
pub(super) enum FetchFailure {
    Endpoint(TokenEndpointError),
    Other(Arc<VaultError>),
}

impl From<FetchFailure> for VaultError {
    fn from(failure: FetchFailure) -> Self {
        match failure {
            FetchFailure::Endpoint(error) => Self::TokenEndpoint(error),
            FetchFailure::Other(shared) => Arc::try_unwrap(shared).unwrap_or_else(Self::Shared),
        }
    }
}

impl From<VaultError> for FetchFailure {
    fn from(error: VaultError) -> Self {
        Self::Other(Arc::new(error))
    }
}

/// What a failed token-endpoint call says about the endpoint, in fixed words.
const fn unreachable_problem(error: &UpstreamError) -> &'static str {
    match error {
        UpstreamError::ForbiddenAddress { .. } => {
            "is at a non-public address, which this vault does not call"
        }
        UpstreamError::Resolve { .. } => "did not resolve",
        UpstreamError::Timeout { .. } => "did not answer in time",
        UpstreamError::ResponseTooLarge { .. } => "answered with a response too large to read",
        UpstreamError::Disabled => "cannot be called: this vault has no upstream client",
        _ => "could not be reached",
    }
}

impl<S: Store> Vault<S> {
    /// What to attach to an outgoing request for credential `id`: headers and/or query
    /// parameters, per its type. OAuth2 tokens and signed JWTs come from a per-credential
    /// cache, fetched or signed once however many callers ask at the same time. Every use
    /// is audited; a use that cannot be audited is refused.
    ///
    /// # Errors
    /// Missing `credentials:use` scope, not found, [`VaultError::Expired`], a token
    /// endpoint failure, or a store or cipher failure. Never an empty result.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn apply_credential(
        &self,
        who: &Principal,
        id: CredentialId,
    ) -> Result<AppliedCredential, VaultError> {
        let audited = AtomicBool::new(false);
        let result = async {
            require_use(who)?;
            let stored = self.store.get_credential(who.organization_id, id).await?;
            let grant = self.authorize_use(who, id, None).await?;
            self.check_unexpired(&stored)?;
            let via = self.spend_grant(grant.as_ref()).await?;
            let applied = self.applied(who, &stored, via, &audited).await?;
            Ok((applied, via))
        }
        .await;
        let via = result.as_ref().ok().map(|(_, via)| *via);
        self.audit_outcome(who, id, result.as_ref().map(|_| ()), via, &audited)
            .await?;
        result.map(|(applied, _)| applied)
    }

    /// Sends `request` to its upstream with credential `id` applied, and returns what the
    /// upstream answered. The URL must be on one of the credential's `allowedHosts`;
    /// headers the caller sets never override the injected authentication. Every attempt
    /// is audited, and every request sent is written to the request log.
    ///
    /// The audit log tells refusals from uses: every check that can be made before anything
    /// leaves (scope, request, credential, `allowedHosts`, a literal non-public address,
    /// expiry) is made before the audit event, so a refusal is one `failure` event with its
    /// code. A use that passes them is audited as a `success` before anything is sent:
    /// before the request, and before an OAuth2 token request, which carries the client
    /// secret. Should either then fail (a token endpoint that refuses, a name resolving to a
    /// non-public address, no connection, a timeout), a second event, a `failure` with that
    /// code, records how it ended.
    ///
    /// # Errors
    /// Missing `credentials:use` scope, an invalid request, not found, expired, a
    /// destination outside `allowedHosts`, or an upstream, token-endpoint or store failure.
    #[tracing::instrument(skip(self, who, request), fields(organization = %who.organization_id))]
    pub async fn proxy(
        &self,
        who: &Principal,
        id: CredentialId,
        request: ProxyRequest,
    ) -> Result<ProxyResponse, VaultError> {
        let audited = AtomicBool::new(false);
        let prepared = async {
            require_use(who)?;
            let mut outgoing = request.validate()?;
            let stored = self.store.get_credential(who.organization_id, id).await?;
            let shape = (outgoing.method.as_str(), outgoing.url.path());
            let grant = self.authorize_use(who, id, Some(shape)).await?;
            if !stored.credential.allowed_hosts.allows(&outgoing.url) {
                return Err(VaultError::DestinationNotAllowed);
            }
            // Before the token fetch too: no secret goes to a token endpoint for a call
            // that could never be sent.
            self.upstream
                .check_destination(&outgoing.url)
                .map_err(VaultError::Upstream)?;
            self.check_unexpired(&stored)?;
            // Last: only a request that passed every other check spends budget.
            let via = self.spend_grant(grant.as_ref()).await?;
            let applied = self.applied(who, &stored, via, &audited).await?;
            applied
                .apply_to(&mut outgoing)
                .map_err(|_| VaultError::Unsendable)?;
            Ok((stored, outgoing, via))
        }
        .await;
        let via = prepared.as_ref().ok().map(|(_, _, via)| *via);
        self.audit_outcome(who, id, prepared.as_ref().map(|_| ()), via, &audited)
            .await?;
        let (stored, outgoing, via) = prepared?;

        let method = outgoing.method.to_string();
        let host = match (outgoing.url.host_str(), outgoing.url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => String::new(),
        };
        let path = outgoing.url.path().to_owned();
        let at = self.clock.now();
        let started = Instant::now();
        let sent = self.upstream.send(outgoing).await;
        let latency = started.elapsed();

        let credential = &stored.credential;
        let entry = RequestLogEntry {
            id: uuid::Uuid::now_v7(),
            organization_id: credential.organization_id,
            credential_id: credential.id,
            credential_name: credential.name.as_str().to_owned(),
            method,
            host,
            path,
            status: sent.as_ref().ok().map(|r| r.status.as_u16()),
            error: sent.as_ref().err().map(|e| e.code().to_owned()),
            latency_micros: i64::try_from(latency.as_micros()).unwrap_or(i64::MAX),
            at,
            access_key_id: who.access_key_id,
            actor_subject: who.subject.clone(),
            via: Some(via.to_string()),
        };
        if let Err(error) = self.store.append_log(LogRecord::Request(entry)).await {
            // The request has been sent; failing now would invite a retry of something
            // that happened. The use itself is in the audit log already.
            tracing::error!(%error, credential = %id, "could not write the request log");
        }
        if let Err(error) = &sent {
            self.audit_send_failure(who, id, error.code()).await;
        }

        let mut response = sent.map_err(VaultError::Upstream)?;
        if self.refusal_streaks.record(id, response.status.as_u16()) {
            self.publish_use_failed(credential, response.status.as_u16())
                .await;
        }
        if response.status == http::StatusCode::UNAUTHORIZED
            && matches!(
                credential.kind,
                CredentialKind::OAuth2(_) | CredentialKind::Jwt(_)
            )
        {
            // The upstream refused the token (revoked, rotated keys): the next use fetches
            // or signs a fresh one instead of repeating the refusal until it expires (a
            // connection's, by a refresh).
            self.tokens.invalidate(id);
            if matches!(&credential.kind, CredentialKind::OAuth2(c) if c.grant == OAuth2Grant::AuthorizationCode)
            {
                self.refused_tokens
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(id);
            }
        }
        strip_hop_by_hop(&mut response.headers);
        Ok(ProxyResponse {
            status: response.status,
            headers: response.headers,
            body: response.body,
        })
    }

    /// The credential's authentication, for a credential already read from the store.
    /// A token request sends the client secret out: the use is audited (and `audited` set)
    /// just before it, within the fetch that concurrent callers share.
    async fn applied(
        &self,
        who: &Principal,
        stored: &StoredCredential,
        via: Via,
        audited: &AtomicBool,
    ) -> Result<AppliedCredential, VaultError> {
        let credential = &stored.credential;
        let applied = match &credential.kind {
            CredentialKind::OAuth2(config) if config.grant == OAuth2Grant::AuthorizationCode => {
                let token = self
                    .tokens
                    .get_or_fetch(
                        credential.id,
                        credential.version,
                        || self.clock.now(),
                        || async {
                            self.connection_access_token(who, stored, config, via, audited)
                                .await
                                .map_err(FetchFailure::from)
                        },
                    )
                    .await
                    .map_err(VaultError::from)?;
                AppliedCredential::bearer(&token).map_err(|_| VaultError::Unsendable)?
            }
            CredentialKind::OAuth2(config) => {
                let token = self
                    .tokens
                    .get_or_fetch(
                        credential.id,
                        credential.version,
                        || self.clock.now(),
                        || async {
                            self.audit_use(who, credential.id, Ok(()), Some(via))
                                .await?;
                            audited.store(true, Ordering::Release);
                            self.fetch_token(stored, config).await
                        },
                    )
                    .await
                    .map_err(VaultError::from)?;
                AppliedCredential::bearer(&token).map_err(|_| VaultError::Unsendable)?
            }
            CredentialKind::Jwt(config) => {
                let token = self
                    .tokens
                    .get_or_fetch(
                        credential.id,
                        credential.version,
                        || self.clock.now(),
                        || async { self.sign_jwt(stored, config) },
                    )
                    .await
                    .map_err(VaultError::from)?;
                AppliedCredential::placed(&config.placement, &token)
                    .map_err(|_| VaultError::Unsendable)?
            }
            kind => kind.apply(&self.open_secrets(stored)?)?,
        };
        if applied.is_empty() {
            // Never hand back "nothing to add": the request would go out unauthenticated.
            return Err(VaultError::Unsendable);
        }
        Ok(applied.bind(&self.request_signer, self.clock.now().into(), credential))
    }

    /// Refuses an expired credential: it is never applied.
    fn check_unexpired(&self, stored: &StoredCredential) -> Result<(), VaultError> {
        match stored.credential.expires_at {
            Some(at) if at <= self.clock.now() => Err(VaultError::Expired { at }),
            _ => Ok(()),
        }
    }

    pub(super) fn open_secrets(
        &self,
        stored: &StoredCredential,
    ) -> Result<CredentialSecrets, VaultError> {
        let credential = &stored.credential;
        // Bound to the version too: an older blob put back over the row does not open.
        let aad = Aad::credential_secrets(
            credential.organization_id,
            credential.id,
            credential.version,
        );
        let plaintext = self.cipher.open(&stored.sealed, &aad)?;
        CredentialSecrets::from_plaintext(credential.kind.credential_type(), &plaintext)
            .map_err(|_| VaultError::Cipher(CipherError::Malformed))
    }

    async fn fetch_token(
        &self,
        stored: &StoredCredential,
        config: &OAuth2Config,
    ) -> Result<(SecretString, OffsetDateTime), FetchFailure> {
        let assertion = match config.grant {
            OAuth2Grant::JwtBearer => Some(self.bearer_assertion(stored, config)?),
            _ => None,
        };
        let grant = assertion
            .as_ref()
            .map_or(TokenGrant::ClientCredentials, TokenGrant::JwtBearer);
        let issued = self
            .call_token_endpoint(stored, config, grant)
            .await
            .map_err(|error| match error {
                VaultError::TokenEndpoint(error) => FetchFailure::Endpoint(error),
                other => FetchFailure::from(other),
            })?;
        tracing::info!(credential = %stored.credential.id, lifetime = issued.lifetime.whole_seconds(), "OAuth2 token fetched");
        Ok((
            issued.access_token,
            refresh_at(self.clock.now(), issued.lifetime),
        ))
    }

    /// Sends one token request of `grant` to the credential's token endpoint, which must
    /// still be among its `allowedHosts`, with the client's authentication.
    pub(super) async fn call_token_endpoint(
        &self,
        stored: &StoredCredential,
        config: &OAuth2Config,
        grant: TokenGrant<'_>,
    ) -> Result<IssuedTokens, VaultError> {
        stored
            .credential
            .kind
            .check_destinations(&stored.credential.allowed_hosts)
            .map_err(|_| VaultError::DestinationNotAllowed)?;
        let proof = self.client_proof(stored, config)?;
        let request = token_request(config, &proof, grant)
            .map_err(|_| VaultError::Cipher(CipherError::Malformed))?;
        let response = self.upstream.send(request).await.map_err(|error| {
            tracing::warn!(%error, credential = %stored.credential.id, "token endpoint unreachable");
            VaultError::TokenEndpoint(TokenEndpointError {
                status: None,
                error: None,
                problem: unreachable_problem(&error),
            })
        })?;
        read_token_response(&response).map_err(|error| {
            tracing::warn!(%error, credential = %stored.credential.id, "token endpoint refused");
            VaultError::TokenEndpoint(error)
        })
    }

    fn sign_jwt(
        &self,
        stored: &StoredCredential,
        config: &JwtConfig,
    ) -> Result<(SecretString, OffsetDateTime), FetchFailure> {
        let secrets = self.open_secrets(stored)?;
        let Some(key) = secrets.text(config.algorithm.key_field()) else {
            return Err(VaultError::Cipher(CipherError::Malformed).into());
        };
        let now = self.clock.now();
        let lifetime = time::Duration::seconds(i64::from(config.ttl_seconds));
        let claims = jwt_claims(config, now, lifetime);
        let token = self
            .signer
            .sign_with_key_id(config.algorithm, key, config.key_id.as_deref(), &claims)
            .map_err(VaultError::Signing)?;
        Ok((token, refresh_at(now, lifetime)))
    }

    /// Records that a use audited as sent ended without an answer. The use already has its
    /// event, so a failure to write this one is logged, not returned.
    async fn audit_send_failure(&self, who: &Principal, id: CredentialId, code: &str) {
        let written = self
            .audit_reason(
                Some(who.organization_id),
                super::audit::Actor::of(who),
                AuditAction::CredentialUse,
                Some(*id.as_uuid()),
                Some(code),
            )
            .await;
        if let Err(error) = written {
            tracing::error!(%error, credential = %id, "could not audit a failed send");
        }
    }

    /// Audits how a use was prepared: its one event, or, when a token request already
    /// audited it before going out, a failure event for a preparation that then failed.
    async fn audit_outcome(
        &self,
        who: &Principal,
        id: CredentialId,
        outcome: Result<(), &VaultError>,
        via: Option<Via>,
        audited: &AtomicBool,
    ) -> Result<(), VaultError> {
        if !audited.load(Ordering::Acquire) {
            return self.audit_use(who, id, outcome, via).await;
        }
        if let Err(error) = outcome {
            self.audit_send_failure(who, id, error.code()).await;
        }
        Ok(())
    }

    /// Writes the audit event of a use. A successful use that cannot be audited is refused:
    /// no credential leaves the vault unrecorded.
    pub(super) async fn audit_use(
        &self,
        who: &Principal,
        id: CredentialId,
        outcome: Result<(), &VaultError>,
        via: Option<Via>,
    ) -> Result<(), VaultError> {
        let mut event = self.event(
            Some(who.organization_id),
            super::audit::Actor::of(who),
            AuditAction::CredentialUse,
            Some(*id.as_uuid()),
            outcome.err().map(VaultError::code),
        );
        event.via = via.map(|via| via.to_string());
        let written = self.store.append_log(LogRecord::Audit(event)).await;
        match (written, outcome) {
            (Err(error), Ok(())) => Err(error.into()),
            (Err(error), Err(_)) => {
                tracing::error!(%error, credential = %id, "could not audit a refused use");
                Ok(())
            }
            (Ok(()), _) => Ok(()),
        }
    }
}

/// Refuses a principal that may use no credential at all.
fn require_use(who: &Principal) -> Result<(), VaultError> {
    if who.has(Scope::CredentialsUse) || who.has(Scope::CredentialsUseAll) {
        Ok(())
    } else {
        Err(VaultError::MissingScope(Scope::CredentialsUse))
    }
}

/// The claims of a fresh token: the template, then `iat`, `exp` and a random `jti`, which
/// the template cannot set.
fn jwt_claims(
    config: &JwtConfig,
    now: OffsetDateTime,
    lifetime: time::Duration,
) -> serde_json::Map<String, serde_json::Value> {
    let mut claims = config.claims.custom.clone();
    let template = &config.claims;
    for (name, value) in [
        ("iss", &template.iss),
        ("sub", &template.sub),
        ("aud", &template.aud),
    ] {
        if let Some(value) = value {
            claims.insert(name.to_owned(), value.clone().into());
        }
    }
    let iat = now.unix_timestamp();
    claims.insert("iat".to_owned(), iat.into());
    claims.insert("exp".to_owned(), (now + lifetime).unix_timestamp().into());
    claims.insert("jti".to_owned(), uuid::Uuid::new_v4().to_string().into());
    claims
}
