#![doc = include_str!("../README.md")]

pub mod cipher_suite;
pub mod memory;
pub mod store_suite;
