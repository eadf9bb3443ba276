//! Recording audit events, and reading the audit and request logs.

use super::paging::{page_limit, paginate, parse_cursor};
use super::{DEFAULT_PAGE_SIZE, Page, Vault, VaultError, require};
use crate::access_key::{Principal, Scope};
use crate::audit_chain::{AuditChain, Checkpoint};
use crate::ids::{AccessKeyId, CredentialId, OrganizationId};
use crate::logs::{
    AuditAction, AuditEvent, AuditOutcome, AuditQuery, LogRecord, RequestLogEntry, RequestLogQuery,
};
use crate::store::{Store, StoreError};
use crate::validation::{FieldError, ValidationErrors};

/// A credential's uses per hour and status class, and its last use.
#[derive(Clone, Debug, PartialEq)]
pub struct CredentialUsage {
    /// The first hour counted.
    pub since: time::OffsetDateTime,
    /// When it was counted.
    pub until: time::OffsetDateTime,
    /// The hours with uses, in time then class order; hours without are absent.
    pub buckets: Vec<crate::logs::UsageBucket>,
    /// The most recent use, if it is still in the request log.
    pub last_use: Option<RequestLogEntry>,
}

/// Raw parameters of a log listing, as a caller gives them.
#[derive(Clone, Debug, Default)]
pub struct LogListRequest {
    /// Page size (1 to 100, default 50).
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Request log: only entries of this credential.
    pub credential_id: Option<String>,
    /// Audit log: only events of this action (`credential.update`, ...).
    pub action: Option<String>,
    /// Audit log: only events about this credential or access key id.
    pub target: Option<String>,
}

/// A validated log listing: page size, cursor, and the listing's own filters.
struct Listing<F> {
    limit: u32,
    before: Option<uuid::Uuid>,
    filters: F,
}

impl<F> Listing<F> {
    /// Validates paging and, with `filters`, the listing's own parameters, reporting every
    /// invalid one at once.
    fn parse(
        request: &LogListRequest,
        filters: impl FnOnce(&mut ValidationErrors) -> F,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let limit = errors.take(page_limit(request.limit)).flatten();
        let before = request
            .cursor
            .as_deref()
            .and_then(|c| errors.take(parse_cursor(c)));
        let filters = filters(&mut errors);
        errors.finish(|| Self {
            limit: limit.unwrap_or(DEFAULT_PAGE_SIZE),
            before,
            filters,
        })
    }

    /// What to ask the store for: one more than a page, to know whether another follows.
    const fn fetch(&self) -> usize {
        self.limit as usize + 1
    }
}

fn uuid_field(field: &str, raw: &str) -> Result<uuid::Uuid, FieldError> {
    uuid::Uuid::try_parse(raw).map_err(|_| FieldError::new(field, "must be an id"))
}

/// Who acted, as an audit event records it: the access key, or the identity provider's
/// subject, or neither (the vault itself, an unknown caller).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Actor<'a> {
    pub(super) key: Option<AccessKeyId>,
    pub(super) subject: Option<&'a str>,
}

impl<'a> Actor<'a> {
    /// The vault itself, or a caller nobody knows.
    pub(super) const NONE: Self = Self {
        key: None,
        subject: None,
    };

    /// The principal's access key or subject.
    pub(super) fn of(who: &'a Principal) -> Self {
        Self {
            key: who.access_key_id,
            subject: who.subject.as_deref(),
        }
    }
}

impl<S: Store> Vault<S> {
    /// Records an audit event. Failures carry the error's stable code as their reason.
    pub(super) async fn audit(
        &self,
        organization_id: Option<OrganizationId>,
        actor: Actor<'_>,
        action: AuditAction,
        target: Option<uuid::Uuid>,
        outcome: Result<(), &VaultError>,
    ) -> Result<(), StoreError> {
        self.audit_reason(
            organization_id,
            actor,
            action,
            target,
            outcome.err().map(VaultError::code),
        )
        .await
    }

    /// Records an audit event with an explicit failure reason (`None`: success).
    pub(super) async fn audit_reason(
        &self,
        organization_id: Option<OrganizationId>,
        actor: Actor<'_>,
        action: AuditAction,
        target: Option<uuid::Uuid>,
        failure: Option<&str>,
    ) -> Result<(), StoreError> {
        let event = self.event(organization_id, actor, action, target, failure);
        self.store.append_log(LogRecord::Audit(event)).await
    }

    /// An audit event of now, with an explicit failure reason (`None`: success).
    pub(super) fn event(
        &self,
        organization_id: Option<OrganizationId>,
        actor: Actor<'_>,
        action: AuditAction,
        target: Option<uuid::Uuid>,
        failure: Option<&str>,
    ) -> AuditEvent {
        AuditEvent {
            id: uuid::Uuid::now_v7(),
            organization_id,
            actor: actor.key,
            actor_subject: actor.subject.map(str::to_owned),
            action,
            target,
            outcome: if failure.is_some() {
                AuditOutcome::Failure
            } else {
                AuditOutcome::Success
            },
            reason: failure.map(str::to_owned),
            at: self.clock.now(),
            count: 1,
            via: None,
            chain: None,
        }
    }

    /// The audit event of a successful change, written by the store in the change's own
    /// transaction.
    pub(super) fn success(
        &self,
        who: &Principal,
        action: AuditAction,
        target: uuid::Uuid,
    ) -> AuditEvent {
        AuditEvent {
            id: uuid::Uuid::now_v7(),
            organization_id: Some(who.organization_id),
            actor: who.access_key_id,
            actor_subject: who.subject.clone(),
            action,
            target: Some(target),
            outcome: AuditOutcome::Success,
            reason: None,
            at: self.clock.now(),
            count: 1,
            via: None,
            chain: None,
        }
    }

    /// Audits the outcome of one step of a use case if it is a refusal or a failure: what
    /// every change does with its result. (A success is audited by the step itself, in the
    /// same commit as the change.) Nothing changed on a refusal, so a failed write of its
    /// event is logged rather than returned: the caller gets the error that matters.
    ///
    /// It takes the step's result, not the step: an async fn holding another future by
    /// value makes its own future that much larger, and nested ones overflowed a worker
    /// thread's stack in debug builds.
    pub(super) async fn audit_if_refused<T>(
        &self,
        who: &Principal,
        action: AuditAction,
        target: Option<uuid::Uuid>,
        result: Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        if let Err(error) = &result {
            let event = Err(error);
            let written = self
                .audit(
                    Some(who.organization_id),
                    Actor::of(who),
                    action,
                    target,
                    event,
                )
                .await;
            if let Err(write_error) = written {
                tracing::error!(error = %write_error, action = action.as_str(), "could not write an audit event");
            }
        }
        result
    }

    /// Lists the request log, newest first.
    ///
    /// # Errors
    /// Missing `credentials:read` scope, invalid parameters, or a store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn list_request_logs(
        &self,
        who: &Principal,
        request: &LogListRequest,
    ) -> Result<Page<RequestLogEntry>, VaultError> {
        require(who, Scope::CredentialsRead)?;
        let listing = Listing::parse(request, |errors| {
            request
                .credential_id
                .as_deref()
                .and_then(|raw| errors.take(uuid_field("credentialId", raw)))
                .map(CredentialId::from_uuid)
        })?;
        let query = RequestLogQuery {
            credential_id: listing.filters,
            before: listing.before,
            limit: listing.fetch(),
        };
        let items = self
            .store
            .list_request_logs(who.organization_id, &query)
            .await?;
        Ok(paginate(items, listing.limit as usize, |e| e.id))
    }

    /// A credential's uses over the `days` (1 to 31) before now, per hour and status
    /// class, with its last use: what its usage chart shows.
    ///
    /// # Errors
    /// Missing `credentials:read` scope, `days` out of range, not found, or a store
    /// failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn credential_usage(
        &self,
        who: &Principal,
        id: CredentialId,
        days: u32,
    ) -> Result<CredentialUsage, VaultError> {
        require(who, Scope::CredentialsRead)?;
        if !(1..=31).contains(&days) {
            return Err(FieldError::new("days", "must be a whole number from 1 to 31").into());
        }
        self.store.get_credential(who.organization_id, id).await?;
        let now = self.clock.now();
        // From the start of the hour `days` ago, so the first bar is a whole hour.
        let since = (now - time::Duration::days(i64::from(days)))
            .replace_minute(0)
            .and_then(|t| t.replace_second(0))
            .and_then(|t| t.replace_nanosecond(0))
            .unwrap_or(now);
        let mut buckets = self
            .store
            .credential_usage(who.organization_id, id, since)
            .await?;
        buckets.sort_by_key(|b| (b.hour, b.status_class));
        let query = RequestLogQuery {
            credential_id: Some(id),
            before: None,
            limit: 1,
        };
        let last_use = self
            .store
            .list_request_logs(who.organization_id, &query)
            .await?
            .into_iter()
            .next();
        Ok(CredentialUsage {
            since,
            until: now,
            buckets,
            last_use,
        })
    }

    /// The head of the organization's audit chain (`None` before its first event), for
    /// a look at the chain's state.
    ///
    /// # Errors
    /// Missing `audit:read` scope, or a store failure.
    pub async fn audit_chain_head(
        &self,
        who: &Principal,
    ) -> Result<Option<crate::audit_chain::ChainHead>, VaultError> {
        require(who, Scope::AuditRead)?;
        let chain = AuditChain::Organization(who.organization_id);
        Ok(self
            .store
            .chain_heads()
            .await?
            .into_iter()
            .find(|head| head.chain == chain))
    }

    /// Lists the signed checkpoints of the organization's audit chain, newest first. The
    /// cursor is the number of the last checkpoint of the previous page.
    ///
    /// # Errors
    /// Missing `audit:read` scope, invalid parameters, or a store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn list_audit_checkpoints(
        &self,
        who: &Principal,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Checkpoint>, VaultError> {
        require(who, Scope::AuditRead)?;
        let mut errors = ValidationErrors::default();
        let limit = errors.take(page_limit(limit)).flatten();
        let before = cursor.and_then(|raw| {
            errors.take(
                raw.parse::<u64>()
                    .map_err(|_| FieldError::new("cursor", "is not a cursor this API returned")),
            )
        });
        errors.finish(|| ())?;
        let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE) as usize;
        let chain = AuditChain::Organization(who.organization_id);
        let mut items = self
            .store
            .list_checkpoints(chain, before, limit + 1)
            .await?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|last| last.seq.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Lists the audit log, newest first.
    ///
    /// # Errors
    /// Missing `audit:read` scope, invalid parameters, or a store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn list_audit_events(
        &self,
        who: &Principal,
        request: &LogListRequest,
    ) -> Result<Page<AuditEvent>, VaultError> {
        require(who, Scope::AuditRead)?;
        let listing = Listing::parse(request, |errors| {
            let action = request.action.as_deref().and_then(|raw| {
                errors.take(raw.parse::<AuditAction>().map_err(|_| {
                    FieldError::new(
                        "action",
                        format!(
                            "must be one of {}",
                            AuditAction::ALL.map(AuditAction::as_str).join(", ")
                        ),
                    )
                }))
            });
            let target = request
                .target
                .as_deref()
                .and_then(|raw| errors.take(uuid_field("target", raw)));
            (action, target)
        })?;
        let (action, target) = listing.filters;
        let query = AuditQuery {
            action,
            target,
            before: listing.before,
            limit: listing.fetch(),
        };
        let items = self
            .store
            .list_audit_events(who.organization_id, &query)
            .await?;
        Ok(paginate(items, listing.limit as usize, |e| e.id))
    }
}
