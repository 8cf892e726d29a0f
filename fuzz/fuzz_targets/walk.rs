//! Fuzz target `walk`: the model's walks (vtop, translate, find_pmd, pte_offset_map[_lock]) over physical memory filled with arbitrary bytes.
//! The body is `runner::fuzzing::walk`, which `cargo test -p runner` also runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    runner::fuzzing::walk(data);
});
