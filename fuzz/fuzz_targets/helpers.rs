//! Fuzz target `helpers`: every model helper by kernel name on one configuration (first byte), on arbitrary values; debug_vm_pgtable identities with the fuzzer's seed; mkX -> X() after arbitrary transform sequences.
//! The body is `runner::fuzzing::helpers`, which `cargo test -p runner` also runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    runner::fuzzing::helpers(data);
});
