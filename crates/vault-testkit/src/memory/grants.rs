//! The in-memory store's grants and their budget counters.

use vault_core::grants::{Grant, Grantee, Window};
use vault_core::ids::GrantId;
use vault_core::store::{BudgetSpend, GrantStore};

use super::*;

impl GrantStore for MemoryStore {
    async fn insert_grant(&self, grant: &Grant, audit: &AuditEvent) -> Result<(), StoreError> {
        let mut state = self.write();
        if state.grants.values().any(|g| g.id == grant.id) {
            return Err(StoreError::Conflict);
        }
        if !state
            .credentials
            .contains_key(&(grant.organization_id, grant.credential_id))
        {
            return Err(StoreError::NotFound);
        }
        state.check_audit(audit)?;
        state
            .grants
            .insert((grant.organization_id, grant.id), grant.clone());
        state.push_audit(audit);
        Ok(())
    }

    async fn list_grants(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
    ) -> Result<Vec<Grant>, StoreError> {
        let state = self.read();
        Ok(state
            .grants
            .range(org_range(organization, None, GrantId::from_uuid))
            .map(|(_, grant)| grant)
            .filter(|grant| grant.credential_id == credential)
            .cloned()
            .collect())
    }

    async fn grants_of(
        &self,
        organization: OrganizationId,
        grantees: &[Grantee],
    ) -> Result<Vec<Grant>, StoreError> {
        let state = self.read();
        Ok(state
            .grants
            .range(org_range(organization, None, GrantId::from_uuid))
            .map(|(_, grant)| grant)
            .filter(|grant| grantees.contains(&grant.grantee))
            .cloned()
            .collect())
    }

    async fn delete_grant(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        id: GrantId,
        audit: &AuditEvent,
    ) -> Result<Grant, StoreError> {
        let mut state = self.write();
        match state.grants.get(&(organization, id)) {
            Some(grant) if grant.credential_id == credential => {}
            _ => return Err(StoreError::NotFound),
        }
        state.check_audit(audit)?;
        let grant = state
            .grants
            .remove(&(organization, id))
            .ok_or(StoreError::NotFound)?;
        state.grant_usage.retain(|(grant, _, _), _| *grant != id);
        state.push_audit(audit);
        Ok(grant)
    }

    async fn spend_budget(
        &self,
        organization: OrganizationId,
        grant: GrantId,
        caps: &[(Window, u64)],
        now: OffsetDateTime,
    ) -> Result<BudgetSpend, StoreError> {
        let mut state = self.write();
        if !state.grants.contains_key(&(organization, grant)) {
            return Err(StoreError::NotFound);
        }
        let counters: Vec<((GrantId, Window, i64), u64)> = caps
            .iter()
            .map(|&(window, cap)| ((grant, window, window.start(now)), cap))
            .collect();
        for (key, cap) in &counters {
            if state.grant_usage.get(key).copied().unwrap_or(0) >= *cap {
                return Ok(BudgetSpend::Exhausted(key.1));
            }
        }
        for (key, _) in counters {
            *state.grant_usage.entry(key).or_insert(0) += 1;
        }
        Ok(BudgetSpend::Spent)
    }
}
