#![doc = include_str!("../README.md")]

pub mod hashing;
pub mod signing;
pub mod verify;
pub mod walk;

pub use hashing::{digest, link, next_link};
pub use signing::{CheckpointKey, CheckpointSigner};
pub use verify::{
    ChainReport, Checkpointed, Cut, Recent, checkpoint_chain, cut_chain_before, verify_chain,
    verify_chains, verify_recent,
};
pub use walk::{BreakKind, ChainBreak, ChainWalk};
