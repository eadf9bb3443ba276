//! The in-memory store's OAuth2 connections and connect flows in progress.

use vault_core::connections::{
    ConnectState, Connection, ConnectionStatus, Expected, Lease, StateHash,
};
use vault_core::store::ConnectionStore;

use super::*;

impl State {
    /// Deletes a credential's connection and connect states (with the credential).
    pub(super) fn delete_connection_of(&mut self, credential: CredentialId) {
        self.connections.remove(&credential);
        self.connect_states
            .retain(|_, state| state.credential_id != credential);
    }

    /// Deletes the connect states key `id` started (with its revocation).
    pub(super) fn end_connect_states_of_key(
        &mut self,
        organization: OrganizationId,
        id: AccessKeyId,
    ) {
        self.connect_states.retain(|_, state| {
            state.organization_id != organization || state.access_key_id != Some(id)
        });
    }
}

/// Whether `stored` (the row there is, if any) is what a write `expected`.
fn is_as_expected(stored: Option<&Connection>, expected: Expected) -> bool {
    match (stored, expected.generation) {
        (None, None) => true,
        (Some(stored), Some(generation)) => {
            stored.generation == generation
                && expected
                    .holder
                    .is_none_or(|holder| stored.lease.is_some_and(|l| l.holder == holder))
        }
        _ => false,
    }
}

impl ConnectionStore for MemoryStore {
    async fn get_connection(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
    ) -> Result<Option<Connection>, StoreError> {
        Ok(self
            .read()
            .connections
            .get(&credential)
            .filter(|c| c.organization_id == organization)
            .cloned())
    }

    async fn connections_of(
        &self,
        organization: OrganizationId,
        credentials: &[CredentialId],
    ) -> Result<Vec<Connection>, StoreError> {
        let state = self.read();
        // In credential id order, as the SQL stores return them.
        Ok(state
            .connections
            .values()
            .filter(|c| c.organization_id == organization && credentials.contains(&c.credential_id))
            .cloned()
            .collect())
    }

    async fn save_connection(
        &self,
        connection: &Connection,
        expected: Expected,
        audit: Option<&AuditEvent>,
    ) -> Result<bool, StoreError> {
        // As the SQL stores refuse to encode it: a pending connection is no row.
        if connection.status == ConnectionStatus::Pending {
            return Err(StoreError::Backend(
                "a pending connection is the absence of a row".into(),
            ));
        }
        let mut state = self.write();
        let (organization, credential) = (connection.organization_id, connection.credential_id);
        if !state.credentials.contains_key(&(organization, credential)) {
            return Err(StoreError::NotFound);
        }
        // The row of a credential is its organization's: the credential check covers it.
        if !is_as_expected(state.connections.get(&credential), expected) {
            return Ok(false);
        }
        if let Some(audit) = audit {
            state.check_audit(audit)?;
            state.push_audit(audit);
        }
        state.connections.insert(credential, connection.clone());
        Ok(true)
    }

    async fn take_lease(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        generation: i64,
        lease: Lease,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut state = self.write();
        match state.connections.get_mut(&credential) {
            Some(stored)
                if stored.organization_id == organization
                    && stored.generation == generation
                    && stored.status == ConnectionStatus::Connected
                    && stored.lease.is_none_or(|held| held.until < now) =>
            {
                stored.lease = Some(lease);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn insert_connect_state(
        &self,
        connect: &ConnectState,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut state = self.write();
        state.connect_states.retain(|_, s| s.expires_at >= now);
        if state.connect_states.contains_key(&connect.hash.0) {
            return Err(StoreError::Conflict);
        }
        // The SQL stores' foreign keys: the credential and the organization must exist.
        if !state.credential_ids.contains_key(&connect.credential_id)
            || !state.organizations.contains_key(&connect.organization_id)
        {
            return Err(StoreError::NotFound);
        }
        state.connect_states.insert(connect.hash.0, connect.clone());
        Ok(())
    }

    async fn take_connect_state(
        &self,
        hash: &StateHash,
    ) -> Result<Option<ConnectState>, StoreError> {
        Ok(self.write().connect_states.remove(&hash.0))
    }
}
