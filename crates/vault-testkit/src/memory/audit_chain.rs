//! The in-memory store's audit chains: linked as events are appended (`State::push_audit`),
//! read and cut here.

use vault_core::audit_chain::AuditChainStore;

use super::*;

impl AuditChainStore for MemoryStore {
    async fn chain_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        Ok(self.read().chain_heads.values().copied().collect())
    }

    async fn chain_events(
        &self,
        chain: AuditChain,
        from: u64,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let state = self.read();
        Ok(state
            .chain_order
            .range((chain, from)..=(chain, u64::MAX))
            .filter_map(|(_, key)| state.audit_events.get(key).cloned())
            .take(limit)
            .collect())
    }

    async fn count_unchained(&self, chain: AuditChain) -> Result<u64, StoreError> {
        let state = self.read();
        let count = state
            .audit_events
            .values()
            .filter(|e| e.chain.is_none() && AuditChain::of(e.organization_id) == chain)
            .count();
        Ok(count as u64)
    }

    async fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<bool, StoreError> {
        let mut state = self.write();
        let key = (checkpoint.chain, checkpoint.seq);
        if state.checkpoints.contains_key(&key) {
            return Ok(false);
        }
        state.checkpoints.insert(key, checkpoint.clone());
        Ok(true)
    }

    async fn list_checkpoints(
        &self,
        chain: AuditChain,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Checkpoint>, StoreError> {
        let state = self.read();
        let end = before.map_or(Bound::Included((chain, u64::MAX)), |before| {
            Bound::Excluded((chain, before))
        });
        Ok(state
            .checkpoints
            .range((Bound::Included((chain, 0)), end))
            .rev()
            .take(limit)
            .map(|(_, checkpoint)| checkpoint.clone())
            .collect())
    }

    async fn sink_cursors(&self, sink: &str) -> Result<Vec<(AuditChain, u64)>, StoreError> {
        let state = self.read();
        // Keyed by (sink, chain), and the installation's chain orders first: one sink's
        // cursors are one range.
        Ok(state
            .sink_cursors
            .range((sink.to_owned(), AuditChain::Installation)..)
            .take_while(|((name, _), _)| name == sink)
            .map(|((_, chain), seq)| (*chain, *seq))
            .collect())
    }

    async fn save_sink_cursor(
        &self,
        sink: &str,
        chain: AuditChain,
        seq: u64,
    ) -> Result<(), StoreError> {
        let mut state = self.write();
        let cursor = state
            .sink_cursors
            .entry((sink.to_owned(), chain))
            .or_insert(seq);
        // Forward only, as the SQL stores' upsert: a lower number changes nothing.
        *cursor = (*cursor).max(seq);
        Ok(())
    }

    async fn cut_chain(&self, checkpoint: &Checkpoint) -> Result<u64, StoreError> {
        let mut state = self.write();
        let state = &mut *state;
        let chain = checkpoint.chain;
        state
            .checkpoints
            .insert((chain, checkpoint.seq), checkpoint.clone());
        let cut: Vec<_> = state
            .chain_order
            .range((chain, 0)..=(chain, checkpoint.seq))
            .map(|(number, key)| (*number, *key))
            .collect();
        for (number, key) in &cut {
            state.chain_order.remove(number);
            state.audit_events.remove(key);
            state.audit_event_ids.remove(&key.1);
        }
        Ok(cut.len() as u64)
    }
}

/// Tampering done to the store's own state, so the tamper checks run in memory too.
impl crate::store_suite::Tamper for MemoryStore {
    async fn set_reason(&self, event: Uuid, reason: &str) {
        let mut state = self.write();
        let found = state.audit_events.values_mut().find(|e| e.id == event);
        found.expect("the event exists").reason = Some(reason.to_owned());
    }

    async fn delete_event(&self, event: Uuid) {
        let mut state = self.write();
        let key = *state
            .audit_events
            .keys()
            .find(|(_, id)| *id == event)
            .expect("the event exists");
        state.audit_events.remove(&key);
        state.chain_order.retain(|_, k| *k != key);
    }

    async fn swap_numbers(&self, a: Uuid, b: Uuid) {
        let mut state = self.write();
        let number = |state: &State, id: Uuid| {
            *state
                .chain_order
                .iter()
                .find(|(_, (_, e))| *e == id)
                .expect("the event is chained")
                .0
        };
        let (na, nb) = (number(&state, a), number(&state, b));
        let (ka, kb) = (state.chain_order[&na], state.chain_order[&nb]);
        state.chain_order.insert(na, kb);
        state.chain_order.insert(nb, ka);
        for (key, seq) in [(kb, na.1), (ka, nb.1)] {
            let event = state.audit_events.get_mut(&key).expect("the event exists");
            let mut link = event.chain.expect("a link");
            link.seq = seq;
            event.chain = Some(link);
        }
    }

    async fn move_event(&self, event: Uuid, to: OrganizationId) {
        let mut state = self.write();
        let key = *state
            .audit_events
            .keys()
            .find(|(_, id)| *id == event)
            .expect("the event exists");
        let mut moved = state.audit_events.remove(&key).expect("the event exists");
        let seq = moved.chain.expect("a link").seq;
        let from = AuditChain::of(moved.organization_id);
        moved.organization_id = Some(to);
        let new_key = (Some(to), event);
        state.chain_order.remove(&(from, seq));
        state
            .chain_order
            .insert((AuditChain::Organization(to), seq), new_key);
        state.audit_events.insert(new_key, moved);
    }

    async fn cut_tail(&self, chain: AuditChain, from: u64) {
        let mut state = self.write();
        let state = &mut *state;
        let cut: Vec<_> = state
            .chain_order
            .range((chain, from)..=(chain, u64::MAX))
            .map(|(number, key)| (*number, *key))
            .collect();
        for (number, key) in cut {
            state.chain_order.remove(&number);
            state.audit_events.remove(&key);
        }
        state
            .checkpoints
            .retain(|(c, seq), _| *c != chain || *seq < from);
        let last = state
            .chain_order
            .range((chain, 0)..(chain, from))
            .next_back()
            .map(|(_, key)| state.audit_events[key].chain.expect("a link"))
            .expect("events left before the cut");
        state.chain_heads.insert(
            chain,
            ChainHead {
                chain,
                seq: last.seq,
                hash: last.hash,
            },
        );
    }
}
