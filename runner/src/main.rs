//! `ptlab`: the command-line front end.  Thin over the libraries: each
//! command parses its input, calls mm-core and the arch crates, and prints
//! human-readable text or `--json`.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod cmd;
mod configs;
mod error;
mod parse;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli.cmd) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("ptlab: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
