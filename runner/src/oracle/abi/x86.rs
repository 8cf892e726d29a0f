//! The x86 loader ABIs: x86_64 (`-mcmodel=kernel`, SysV register calls)
//! and i386 (2-level and PAE, `asmlinkage`: every argument on the stack,
//! a 64-bit result in edx:eax).  Relocations: `R_X86_64_*` (RELA) and
//! `R_386_*` (REL).

use unicorn_engine::unicorn_const::{Arch as UcArch, Mode};
use unicorn_engine::{RegisterX86, Unicorn};

use super::super::loader::{Region, Reloc};
use super::super::OracleError;
use super::{emu_err, new_emulator, Abi, Extern, RegCall, SENTINEL, STACK_BASE, STACK_SIZE};

fn x86_emulator(mode: Mode) -> Result<Unicorn<'static, ()>, OracleError> {
    new_emulator(UcArch::X86, mode, None, &[])
}

/// The x86 globals, shared by both x86 ABIs.
fn x86_externs() -> Vec<Extern> {
    vec![
        // Every `ret` is `jmp __x86_return_thunk` (-mfunction-return=thunk-extern).
        Extern {
            name: "__x86_return_thunk",
            bytes: vec![0xc3],
        },
        Extern {
            name: "__fentry__",
            bytes: vec![0xc3],
        },
        // A CPU with NX and PGE: massage_pgprot()/check_pgprot() keep every bit.
        Extern {
            name: "__supported_pte_mask",
            bytes: u64::MAX.to_le_bytes().to_vec(),
        },
        // No PTI clearing of _PAGE_GLOBAL in PAGE_KERNEL*.
        Extern {
            name: "__default_kernel_pte_mask",
            bytes: u64::MAX.to_le_bytes().to_vec(),
        },
        // CONFIG_DYNAMIC_PHYSICAL_MASK: 52 bits, no SME.
        Extern {
            name: "physical_mask",
            bytes: ((1u64 << 52) - 1).to_le_bytes().to_vec(),
        },
        Extern {
            name: "sme_me_mask",
            bytes: 0u64.to_le_bytes().to_vec(),
        },
        // No CPU feature bits: X86_FEATURE_SHSTK and LA57 off (the
        // unpatched alternatives test these bits at run time).
        Extern {
            name: "boot_cpu_data",
            bytes: vec![0; 512],
        },
        // CONFIG_X86_5LEVEL with LA57 off at boot: 4-level values.
        Extern {
            name: "pgdir_shift",
            bytes: 39u32.to_le_bytes().to_vec(),
        },
        Extern {
            name: "ptrs_per_p4d",
            bytes: 1u32.to_le_bytes().to_vec(),
        },
    ]
}

fn x86_knobs() -> Vec<String> {
    vec![
        "NX supported: __supported_pte_mask = ~0 (arch-x86: NX present)".into(),
        "no X86_FEATURE_SHSTK, no LA57: boot_cpu_data all zero (arch-x86: no shadow stacks, 4-level)"
            .into(),
        "no SME: sme_me_mask = 0, physical_mask = 2^52-1; no PTI: __default_kernel_pte_mask = ~0"
            .into(),
    ]
}

/// x86_64 (`-mcmodel=kernel`, SysV calls).
pub struct X86_64;

/// i386 (2-level and PAE), `asmlinkage` (stack) calls.
pub struct I386;

/// `R_X86_64_*` relocation arithmetic (RELA).
///
/// # Errors
/// [`OracleError::Load`] for an unhandled type or an out-of-range value.
pub fn relocate_x86_64(r: &mut Region<'_>, rel: Reloc) -> Result<(), OracleError> {
    let a = rel.addend.unwrap_or(0);
    let sa = rel.sym.wrapping_add(a as u64);
    match rel.kind {
        0 => Ok(()),                // R_X86_64_NONE
        1 => r.wr64(rel.place, sa), // R_X86_64_64
        2 | 4 => {
            // R_X86_64_PC32, R_X86_64_PLT32: S + A - P, signed 32
            let v = sa.wrapping_sub(rel.place) as i64;
            if i32::try_from(v).is_err() {
                return Err(OracleError::Load(format!(
                    "R_X86_64_PC32 at {:#x}: {v:#x} out of range",
                    rel.place
                )));
            }
            r.wr32(rel.place, v as u32)
        }
        10 => {
            // R_X86_64_32: zero-extended
            if sa > u64::from(u32::MAX) {
                return Err(OracleError::Load(format!(
                    "R_X86_64_32 value {sa:#x} out of range"
                )));
            }
            r.wr32(rel.place, sa as u32)
        }
        11 => {
            // R_X86_64_32S: sign-extended
            if i32::try_from(sa as i64).is_err() {
                return Err(OracleError::Load(format!(
                    "R_X86_64_32S value {sa:#x} out of range"
                )));
            }
            r.wr32(rel.place, sa as u32)
        }
        24 => r.wr64(rel.place, sa.wrapping_sub(rel.place)), // R_X86_64_PC64
        t => Err(OracleError::Load(format!(
            "unhandled x86_64 relocation type {t}"
        ))),
    }
}

/// `R_386_*` relocation arithmetic (REL: the addend is the word at P).
///
/// # Errors
/// [`OracleError::Load`] for an unhandled type.
pub fn relocate_i386(r: &mut Region<'_>, rel: Reloc) -> Result<(), OracleError> {
    let a = match rel.addend {
        Some(a) => a as u32,
        None => r.rd32(rel.place)?,
    };
    match rel.kind {
        0 => Ok(()),                                            // R_386_NONE
        1 => r.wr32(rel.place, a.wrapping_add(rel.sym as u32)), // R_386_32
        2 | 4 => r.wr32(
            // R_386_PC32, R_386_PLT32
            rel.place,
            a.wrapping_add(rel.sym as u32)
                .wrapping_sub(rel.place as u32),
        ),
        t => Err(OracleError::Load(format!(
            "unhandled i386 relocation type {t}"
        ))),
    }
}

/// The stack slot holding the return address (x86_64) or the return
/// address and the arguments (i386).
const X86_SP: u64 = STACK_BASE + STACK_SIZE - 0x108;

const X86_64_CALL: RegCall = RegCall {
    pc: RegisterX86::RIP as i32,
    sp: (RegisterX86::RSP as i32, X86_SP),
    link: None,
    args: &[
        RegisterX86::RDI as i32,
        RegisterX86::RSI as i32,
        RegisterX86::RDX as i32,
        RegisterX86::RCX as i32,
    ],
    ret: &[RegisterX86::RAX as i32],
    until: SENTINEL,
};

const I386_CALL: RegCall = RegCall {
    pc: RegisterX86::EIP as i32,
    sp: (RegisterX86::ESP as i32, X86_SP),
    link: None,
    args: &[],
    ret: &[RegisterX86::EDX as i32, RegisterX86::EAX as i32],
    until: SENTINEL,
};

impl Abi for X86_64 {
    fn name(&self) -> &'static str {
        "x86_64"
    }
    fn knobs(&self) -> Vec<String> {
        x86_knobs()
    }
    fn externs(&self) -> Vec<Extern> {
        x86_externs()
    }
    fn relocate(&self, r: &mut Region<'_>, rel: Reloc) -> Result<(), OracleError> {
        relocate_x86_64(r, rel)
    }
    fn emulator(&self) -> Result<Unicorn<'static, ()>, OracleError> {
        x86_emulator(Mode::MODE_64)
    }
    fn call(
        &self,
        uc: &mut Unicorn<'static, ()>,
        addr: u64,
        args: &[(u64, u32)],
        ret_bits: u32,
    ) -> Result<u64, OracleError> {
        uc.mem_write(X86_SP, &SENTINEL.to_le_bytes())
            .map_err(|e| emu_err("stack", e))?;
        X86_64_CALL.call(uc, addr, args, ret_bits, |_, pc| pc == SENTINEL)
    }
}

impl Abi for I386 {
    fn name(&self) -> &'static str {
        "i386"
    }
    fn knobs(&self) -> Vec<String> {
        x86_knobs()
    }
    fn externs(&self) -> Vec<Extern> {
        x86_externs()
    }
    fn relocate(&self, r: &mut Region<'_>, rel: Reloc) -> Result<(), OracleError> {
        relocate_i386(r, rel)
    }
    fn emulator(&self) -> Result<Unicorn<'static, ()>, OracleError> {
        x86_emulator(Mode::MODE_32)
    }
    fn call(
        &self,
        uc: &mut Unicorn<'static, ()>,
        addr: u64,
        args: &[(u64, u32)],
        ret_bits: u32,
    ) -> Result<u64, OracleError> {
        // asmlinkage: return address, then every argument on the stack,
        // a 64-bit one as two words, low first.
        let mut st: Vec<u8> = (SENTINEL as u32).to_le_bytes().to_vec();
        for &(v, bits) in args {
            if bits > 32 {
                st.extend(v.to_le_bytes());
            } else {
                st.extend((v as u32).to_le_bytes());
            }
        }
        uc.mem_write(X86_SP, &st).map_err(|e| emu_err("stack", e))?;
        let v = I386_CALL.run(uc, addr, &[], |_, pc| pc == SENTINEL)?;
        let v = if ret_bits > 32 { v } else { v & 0xffff_ffff };
        Ok(v & mm_core::helpers::mask(ret_bits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(mem: &mut [u8]) -> Region<'_> {
        super::super::testutil::region(mem, false)
    }

    #[test]
    fn x86_64_abs64_and_pc32() {
        let mut m = vec![0u8; 32];
        let mut r = region(&mut m);
        relocate_x86_64(
            &mut r,
            Reloc {
                kind: 1,
                place: 0x1000,
                sym: 0x20_0000,
                addend: Some(8),
            },
        )
        .unwrap();
        relocate_x86_64(
            &mut r,
            Reloc {
                kind: 2,
                place: 0x1010,
                sym: 0x1000,
                addend: Some(-4),
            },
        )
        .unwrap();
        relocate_x86_64(
            &mut r,
            Reloc {
                kind: 4,
                place: 0x1014,
                sym: 0x2000,
                addend: Some(-4),
            },
        )
        .unwrap();
        assert_eq!(u64::from_le_bytes(m[0..8].try_into().unwrap()), 0x20_0008);
        // S + A - P = 0x1000 - 4 - 0x1010 = -0x14
        assert_eq!(i32::from_le_bytes(m[16..20].try_into().unwrap()), -0x14);
        assert_eq!(
            i32::from_le_bytes(m[20..24].try_into().unwrap()),
            0x2000 - 4 - 0x1014
        );
    }

    #[test]
    fn x86_64_32s_range_and_unknown_type() {
        let mut m = vec![0u8; 16];
        let mut r = region(&mut m);
        relocate_x86_64(
            &mut r,
            Reloc {
                kind: 11,
                place: 0x1000,
                sym: 0x10_0000,
                addend: Some(0x6b),
            },
        )
        .unwrap();
        assert_eq!(u32::from_le_bytes(m[0..4].try_into().unwrap()), 0x10_006b);
        let mut r = region(&mut m);
        assert!(relocate_x86_64(
            &mut r,
            Reloc {
                kind: 11,
                place: 0x1000,
                sym: 0x1_0000_0000,
                addend: Some(0)
            }
        )
        .is_err());
        let e = relocate_x86_64(
            &mut r,
            Reloc {
                kind: 42,
                place: 0x1000,
                sym: 0,
                addend: None,
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("type 42"), "{e}");
        // outside the region
        assert!(relocate_x86_64(
            &mut r,
            Reloc {
                kind: 1,
                place: 0x100c,
                sym: 0,
                addend: Some(0)
            }
        )
        .is_err());
    }

    #[test]
    fn i386_rel_implicit_addends() {
        let mut m = vec![0u8; 16];
        m[0..4].copy_from_slice(&8u32.to_le_bytes()); // implicit addend of R_386_32
        m[4..8].copy_from_slice(&(-4i32 as u32).to_le_bytes()); // of R_386_PC32
        let mut r = region(&mut m);
        relocate_i386(
            &mut r,
            Reloc {
                kind: 1,
                place: 0x1000,
                sym: 0x20_0000,
                addend: None,
            },
        )
        .unwrap();
        relocate_i386(
            &mut r,
            Reloc {
                kind: 2,
                place: 0x1004,
                sym: 0x1100,
                addend: None,
            },
        )
        .unwrap();
        assert_eq!(u32::from_le_bytes(m[0..4].try_into().unwrap()), 0x20_0008);
        assert_eq!(
            u32::from_le_bytes(m[4..8].try_into().unwrap()),
            0x1100 - 4 - 0x1004
        );
    }
}
