//! Runaway code under the oracle's call path stops at the instruction
//! budget with an error naming the budget and the pc
//! (`runner::oracle::abi::MAX_INSNS`).

use runner::oracle::abi::{self, MAX_INSNS};
use runner::oracle::loader::CODE_BASE;
use unicorn_engine::unicorn_const::Prot;

/// Call the endless loop `code` through the ABI called `name` and return
/// the error's text.
fn call_endless_loop(name: &str, code: &[u8]) -> String {
    let abi = abi::by_name(name).expect("abi");
    let mut uc = abi.emulator().expect("emulator");
    // 8K: sparc64's page size; a multiple of every other one.
    uc.mem_map(CODE_BASE, 0x2000, Prot::ALL).expect("map code");
    uc.mem_write(CODE_BASE, code).expect("write code");
    let e = abi
        .call(&mut uc, CODE_BASE, &[(1, 64), (2, 64)], 64)
        .expect_err("an endless loop must not return");
    e.to_string()
}

#[test]
fn every_abi_stops_at_the_budget() {
    for (name, code) in [
        // `jmp $`, the same bytes in 32- and 64-bit mode.
        ("x86_64", &[0xeb, 0xfe][..]),
        ("i386", &[0xeb, 0xfe]),
        // `b .` (A32, little-endian).
        ("arm", &[0xfe, 0xff, 0xff, 0xea]),
        ("arm-lpae", &[0xfe, 0xff, 0xff, 0xea]),
        // `j .` (brc 15,0).
        ("s390x", &[0xa7, 0xf4, 0x00, 0x00]),
        // `ba,a .`.
        ("sparc64-sun4u", &[0x30, 0x80, 0x00, 0x00]),
        ("sparc64-sun4v", &[0x30, 0x80, 0x00, 0x00]),
    ] {
        let msg = call_endless_loop(name, code);
        assert!(
            msg.contains(&format!("budget of {MAX_INSNS} instructions"))
                && msg.contains(&format!("pc {CODE_BASE:#x}")),
            "{name}: {msg}"
        );
    }
}
