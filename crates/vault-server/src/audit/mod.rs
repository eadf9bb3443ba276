//! The tamper-evident audit log's server side: the job that checkpoints the chains, and
//! the `audit` admin commands. The chain itself is `vault-audit`'s, and the stores'.

pub mod checkpoints;
pub mod commands;

pub use checkpoints::AuditCheckpoints;
