//! The library half of `ptlab`: the command-line definitions, the
//! configuration registry, the value parsers, the runner's errors and the
//! kernel oracle, shared by the `ptlab` binary (`src/main.rs`, which adds
//! the commands) and by the fuzz targets (`fuzz/`, whose bodies are in
//! [`fuzzing`] so that `cargo test` runs them too).

pub mod cli;
pub mod configs;
pub mod error;
pub mod fuzzing;
pub mod oracle;
pub mod parse;
