//! Fuzz target `elf`: the guest walkers' ELF loaders (sparc64, powerpc) and the oracle's relocatable-object loader on arbitrary bytes.
//! The body is `runner::fuzzing::elf`, which `cargo test -p runner` also runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    runner::fuzzing::elf(data);
});
