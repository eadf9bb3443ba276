//! The vault server: configuration, wiring of the adapters, telemetry, admin subcommands.
//! `main.rs` only parses the command line and calls in here.

pub mod app;
pub mod audit;
pub mod background;
pub mod identity;
pub mod key_commands;
pub mod keyring;
pub mod recovery;
pub mod reference;
pub mod retention;
pub mod settings;
pub mod telemetry;
pub mod webhooks;

pub use app::{Application, bootstrap, migrate, open_sqlite_vault, serve, with_vault};
pub use key_commands::{generate_key, keys_status, rewrap};
pub use settings::Settings;
