//! `ptlab`: the command-line front end.  Thin over the libraries: each
//! command parses its input, calls mm-core and the arch crates, and prints
//! human-readable text or `--json`.

use std::process::ExitCode;

use clap::Parser;

/// `println!` that ends the process quietly when stdout is closed (`ptlab
/// ... | head`) instead of panicking on the broken pipe.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

/// `print!` with the same broken-pipe handling as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

mod cmd;

use runner::{cli, configs, error, parse};

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
