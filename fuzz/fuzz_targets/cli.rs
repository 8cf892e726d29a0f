//! Fuzz target `cli`: the ptlab command line (clap) and the value parsers on arbitrary argv.
//! The body is `runner::fuzzing::cli`, which `cargo test -p runner` also runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    runner::fuzzing::cli(data);
});
