//! The store conformance suite on the in-memory store.

vault_testkit::store_conformance!(vault_testkit::memory::MemoryStore::new_async());
