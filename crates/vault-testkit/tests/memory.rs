//! The store conformance suite on the in-memory store.

vault_testkit::store_conformance!(vault_testkit::memory::MemoryStore::new_async());

mod tampered {
    vault_testkit::audit_tamper_conformance!(async {
        let store = vault_testkit::memory::MemoryStore::new();
        Some((store.clone(), store))
    });
}
