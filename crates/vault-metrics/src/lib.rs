#![doc = include_str!("../README.md")]

mod cipher;
mod registry;
mod store;
mod upstream;

pub use cipher::MeteredCipher;
pub use registry::{CONTENT_TYPE, Metrics};
pub use store::MeteredStore;
pub use upstream::MeteredUpstream;
