#![doc = include_str!("../README.md")]

pub mod at_rest;
pub mod cipher_suite;
pub mod memory;
pub mod store_suite;
