//! The tamper-evident audit log's server side: the job that checkpoints the chains, the
//! jobs that stream them to sinks, and the `audit` admin commands. The chain itself is
//! `vault-audit`'s and the stores'; the sinks are `vault-audit-sinks`'.

pub mod checkpoints;
pub mod commands;
pub mod streaming;

pub use checkpoints::AuditCheckpoints;
pub use streaming::AuditStreaming;
