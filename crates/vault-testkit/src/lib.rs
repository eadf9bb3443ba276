#![doc = include_str!("../README.md")]

pub mod at_rest;
pub mod cipher_suite;
pub mod key_manager_suite;
#[cfg(feature = "key-managers")]
pub mod key_managers;
pub mod memory;
pub mod store_suite;

/// Skips (loudly) or fails (under `CI=true`, as CI sets it) a test that cannot get an
/// outside tool: `why` says what is missing, and the notice names the `install` script.
///
/// # Panics
/// Under `CI=true`: a missing tool is a failure there, never a silent skip.
pub fn tool_unavailable<T>(why: &str, install: &str) -> Option<T> {
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "{why}, and CI=true requires it: run {install} (make test does)"
    );
    eprintln!("\n*** SKIPPED: {why}; run {install} (under CI=true this is a failure) ***\n");
    None
}
