//! The store conformance suite through `MeteredStore`: the decorator forwards every call
//! faithfully (results, errors, atomicity).

use std::sync::Arc;

use vault_metrics::{MeteredStore, Metrics};
use vault_testkit::memory::MemoryStore;

async fn fresh_store() -> MeteredStore<MemoryStore> {
    MeteredStore::new(MemoryStore::new(), Arc::new(Metrics::new()))
}

vault_testkit::store_conformance!(fresh_store());
