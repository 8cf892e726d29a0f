//! Runaway code under the oracle's call path stops at the instruction
//! budget with an error naming the budget and the pc
//! (`runner::oracle::abi::MAX_INSNS`).

use runner::oracle::abi::{self, MAX_INSNS};
use runner::oracle::loader::CODE_BASE;
use unicorn_engine::unicorn_const::Prot;

/// Call an endless loop (`jmp $`, the same bytes in 32- and 64-bit mode)
/// through the ABI called `name` and return the error's text.
fn call_endless_loop(name: &str) -> String {
    let abi = abi::by_name(name).expect("abi");
    let mut uc = abi.emulator().expect("emulator");
    uc.mem_map(CODE_BASE, 0x1000, Prot::ALL).expect("map code");
    uc.mem_write(CODE_BASE, &[0xeb, 0xfe]).expect("write code");
    let e = abi
        .call(&mut uc, CODE_BASE, &[(1, 64), (2, 64)], 64)
        .expect_err("an endless loop must not return");
    e.to_string()
}

#[test]
fn x86_wrappers_stop_at_the_budget() {
    for name in ["x86_64", "i386"] {
        let msg = call_endless_loop(name);
        assert!(
            msg.contains(&format!("budget of {MAX_INSNS} instructions"))
                && msg.contains(&format!("pc {CODE_BASE:#x}")),
            "{name}: {msg}"
        );
    }
}
