//! `vault`: the command-line client of the vault's REST API.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = vault_cli::Cli::parse();
    match vault_cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(error.exit_code())
        }
    }
}
