//! The s390x (z/Architecture, big-endian) loader ABI: modules are built
//! `-fPIC -march=z13 -mindirect-branch=thunk-extern
//! -mfunction-return=thunk-extern -mnop-mcount -mfentry`; RELA relocations
//! (`R_390_*`, with a synthesized GOT for `R_390_GOTENT`); calls pass
//! r2-r5, return in r2 through r14 (every `br %r14` is `jg
//! __s390_indirect_jump_r14`, the expoline thunk, provided as a plain
//! `br %r14`).
//!
//! Boot-time knobs:
//! * lowcore at absolute 0 (the unpatched `get_lowcore()` alternative, the
//!   v6.6 behaviour: lowcore relocation is 6.11+), with `machine_flags` =
//!   `MACHINE_FLAG_NX | MACHINE_FLAG_EDAT1 | MACHINE_FLAG_EDAT2` (a z14 or
//!   later machine): the model's `s390x` configurations assume
//!   `MACHINE_HAS_NX`, so `mk_pte_phys()`/`massage_pgprot_pmd()` keep
//!   `_PAGE_NOEXEC` (arch-s390/src/entry.rs);
//! * `vm_layout` with `identity_base` 0 (6.10+ moved the identity mapping;
//!   0 reproduces v6.6's `__pa` = identity).

use unicorn_engine::unicorn_const::{Arch as UcArch, Mode, Prot};
use unicorn_engine::{RegisterS390X, Unicorn};

use super::super::loader::{Region, Reloc, CODE_BASE, CODE_SIZE};
use super::super::OracleError;
use super::{
    emu_err, fits_signed, new_emulator, wr16, Abi, Extern, RegCall, SENTINEL, STACK_BASE,
    STACK_SIZE,
};

/// s390x with the model's boot-time machine.
pub struct S390;

/// Offset of `machine_flags` in `struct lowcore` (asm/lowcore.h, 6.12).
pub const LOWCORE_MACHINE_FLAGS: u64 = 0x3c8;
/// `MACHINE_FLAG_EDAT1` (asm/setup.h).
pub const MACHINE_FLAG_EDAT1: u64 = 1 << 7;
/// `MACHINE_FLAG_EDAT2` (asm/setup.h).
pub const MACHINE_FLAG_EDAT2: u64 = 1 << 8;
/// `MACHINE_FLAG_NX` (asm/setup.h).
pub const MACHINE_FLAG_NX: u64 = 1 << 15;
/// `UC_CPU_S390X_Z14` (unicorn/s390x.h): the emulated CPU, a z14, the
/// first with the instruction-execution-protection facility (NX); the
/// default "qemu" model lacks z13 instructions the kernel is built for
/// (`-march=z13`: `risbgnz` in `vm_get_page_prot()`).
pub const UC_CPU_S390X_Z14: i32 = 31;
/// PSW mask bit EA (IBM bit 31): extended addressing.
pub const PSW_MASK_EA: u64 = 0x0000_0001_0000_0000;
/// PSW mask bit BA (IBM bit 32): basic addressing; EA|BA = 64-bit mode.
pub const PSW_MASK_BA: u64 = 0x0000_0000_8000_0000;
/// The flags the model's machine has.
pub const MACHINE_FLAGS: u64 = MACHINE_FLAG_NX | MACHINE_FLAG_EDAT1 | MACHINE_FLAG_EDAT2;

/// The synthesized GOT: the last page of the section region (the objects'
/// sections fill it from the bottom and are far smaller).  A slot holds a
/// symbol's address; zero is free.
pub const GOT_BASE: u64 = CODE_BASE + CODE_SIZE - GOT_BYTES;
/// Its size.
pub const GOT_BYTES: u64 = 0x1000;

/// s390's relocation types used here (s390x ELF ABI supplement).
mod r {
    pub const NONE: u32 = 0;
    pub const R16: u32 = 3;
    pub const R32: u32 = 4;
    pub const PC32: u32 = 5;
    pub const PC16DBL: u32 = 17;
    pub const PLT16DBL: u32 = 18;
    pub const PC32DBL: u32 = 19;
    pub const PLT32DBL: u32 = 20;
    pub const R64: u32 = 22;
    pub const PC64: u32 = 23;
    pub const GOTENT: u32 = 26;
}

/// The GOT slot holding `sym`, allocating the first free one.
fn got_slot(r: &mut Region<'_>, sym: u64) -> Result<u64, OracleError> {
    for slot in (GOT_BASE..GOT_BASE + GOT_BYTES).step_by(8) {
        let v = u64::from(r.rd32(slot)?) << 32 | u64::from(r.rd32(slot + 4)?);
        if v == sym {
            return Ok(slot);
        }
        if v == 0 {
            r.wr64(slot, sym)?;
            return Ok(slot);
        }
    }
    Err(OracleError::Load(format!(
        "s390 GOT full ({GOT_BYTES} bytes) at symbol {sym:#x}"
    )))
}

/// `R_390_*` relocation arithmetic (RELA, big-endian).
///
/// # Errors
/// [`OracleError::Load`] for an unhandled type, an out-of-range value or a
/// place outside the region.
pub fn relocate_s390(r: &mut Region<'_>, rel: Reloc) -> Result<(), OracleError> {
    let a = rel.addend.unwrap_or(0);
    let sa = rel.sym.wrapping_add(a as u64);
    let pcrel = sa.wrapping_sub(rel.place) as i64;
    match rel.kind {
        r::NONE => Ok(()),
        r::R16 => {
            if sa > 0xffff {
                return Err(OracleError::Load(format!("R_390_16 value {sa:#x}")));
            }
            wr16(r, rel.place, sa as u16)
        }
        r::R32 => {
            if sa > u64::from(u32::MAX) {
                return Err(OracleError::Load(format!("R_390_32 value {sa:#x}")));
            }
            r.wr32(rel.place, sa as u32)
        }
        r::PC32 => {
            fits_signed(pcrel, 32, "R_390_PC32", rel.place)?;
            r.wr32(rel.place, pcrel as u32)
        }
        r::PC16DBL | r::PLT16DBL => {
            fits_signed(pcrel >> 1, 16, "R_390_PC16DBL", rel.place)?;
            wr16(r, rel.place, (pcrel >> 1) as u16)
        }
        r::PC32DBL | r::PLT32DBL => {
            fits_signed(pcrel >> 1, 32, "R_390_PC32DBL", rel.place)?;
            r.wr32(rel.place, (pcrel >> 1) as u32)
        }
        r::R64 => r.wr64(rel.place, sa),
        r::PC64 => r.wr64(rel.place, pcrel as u64),
        r::GOTENT => {
            // (G + GOT + A - P) >> 1: the slot's address, relative, in
            // halfwords.
            let slot = got_slot(r, rel.sym)?;
            let v = slot.wrapping_add(a as u64).wrapping_sub(rel.place) as i64;
            fits_signed(v >> 1, 32, "R_390_GOTENT", rel.place)?;
            r.wr32(rel.place, (v >> 1) as u32)
        }
        t => Err(OracleError::Load(format!(
            "unhandled s390 relocation type {t}"
        ))),
    }
}

/// `nopr` (`bcr 0,%r0`): the sentinel's instruction; the call stops after
/// it.
const NOPR: [u8; 2] = [0x07, 0x00];
/// `br %r14`.
const BR_R14: [u8; 2] = [0x07, 0xfe];

const S390_CALL: RegCall = RegCall {
    pc: RegisterS390X::PC as i32,
    // 160 bytes of register save area below the caller's frame.
    sp: (RegisterS390X::R15 as i32, STACK_BASE + STACK_SIZE - 0x200),
    link: Some((RegisterS390X::R14 as i32, SENTINEL)),
    args: &[
        RegisterS390X::R2 as i32,
        RegisterS390X::R3 as i32,
        RegisterS390X::R4 as i32,
        RegisterS390X::R5 as i32,
    ],
    ret: &[RegisterS390X::R2 as i32],
    until: SENTINEL + 2,
};

impl Abi for S390 {
    fn name(&self) -> &'static str {
        "s390x"
    }
    fn knobs(&self) -> Vec<String> {
        vec![
            format!(
                "lowcore at 0 (unpatched get_lowcore()), machine_flags = {MACHINE_FLAGS:#x}: MACHINE_HAS_NX, EDAT1, EDAT2 (arch-s390: NX kept)"
            ),
            "vm_layout.identity_base = 0 (v6.6 __pa/__va identity)".into(),
        ]
    }
    fn externs(&self) -> Vec<Extern> {
        let mut layout = Vec::new();
        for v in [0u64, 0, 0, 1 << 53] {
            layout.extend(v.to_be_bytes());
        }
        vec![
            Extern {
                name: "__s390_indirect_jump_r14",
                bytes: BR_R14.to_vec(),
            },
            Extern {
                name: "__fentry__",
                bytes: BR_R14.to_vec(),
            },
            Extern {
                name: "vm_layout",
                bytes: layout,
            },
        ]
    }
    fn relocate(&self, r: &mut Region<'_>, rel: Reloc) -> Result<(), OracleError> {
        relocate_s390(r, rel)
    }
    fn emulator(&self) -> Result<Unicorn<'static, ()>, OracleError> {
        let mut uc = new_emulator(
            UcArch::S390X,
            Mode::BIG_ENDIAN,
            Some(UC_CPU_S390X_Z14),
            &NOPR,
        )?;
        // 64-bit addressing, DAT off: the initial PSW mask is 0, 24-bit
        // addressing, which would wrap the stack into the lowcore page.
        uc.reg_write(RegisterS390X::PSWM, PSW_MASK_EA | PSW_MASK_BA)
            .map_err(|e| emu_err("psw", e))?;
        uc.mem_map(0, 0x2000, Prot::ALL)
            .map_err(|e| emu_err("map lowcore", e))?;
        uc.mem_write(LOWCORE_MACHINE_FLAGS, &MACHINE_FLAGS.to_be_bytes())
            .map_err(|e| emu_err("write lowcore", e))?;
        Ok(uc)
    }
    fn call(
        &self,
        uc: &mut Unicorn<'static, ()>,
        addr: u64,
        args: &[(u64, u32)],
        ret_bits: u32,
    ) -> Result<u64, OracleError> {
        S390_CALL.call(uc, addr, args, ret_bits, |_, pc| pc == SENTINEL + 2)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{be32, region, rela};
    use super::*;

    #[test]
    fn abs_and_pc_relative_halfwords() {
        let mut m = vec![0u8; 32];
        let mut r = region(&mut m, true);
        relocate_s390(&mut r, rela(r::R64, 0x1000, 0x20_0000, 8)).unwrap();
        // brasl at 0x1008, field at 0x100a: target 0x1100 + 2 - 0x100a
        relocate_s390(&mut r, rela(r::PC32DBL, 0x100a, 0x1100, 2)).unwrap();
        relocate_s390(&mut r, rela(r::PC32, 0x1010, 0x1000, 0)).unwrap();
        relocate_s390(&mut r, rela(r::PC16DBL, 0x1014, 0x1020, 0)).unwrap();
        assert_eq!(&m[0..8], &0x20_0008u64.to_be_bytes());
        assert_eq!(be32(&m, 0xa), (0x1102 - 0x100a) / 2);
        assert_eq!(be32(&m, 0x10) as i32, -0x10);
        assert_eq!(&m[0x14..0x16], &6u16.to_be_bytes());
    }

    #[test]
    fn gotent_allocates_and_reuses_slots() {
        let mut m = vec![0u8; (CODE_SIZE) as usize];
        let mut r = Region {
            mem: &mut m,
            base: CODE_BASE,
            big_endian: true,
        };
        let p = CODE_BASE + 0x12;
        relocate_s390(&mut r, rela(r::GOTENT, p, 0x20_0100, 2)).unwrap();
        relocate_s390(&mut r, rela(r::GOTENT, p + 8, 0x20_0100, 2)).unwrap();
        relocate_s390(&mut r, rela(r::GOTENT, p + 16, 0x20_0200, 2)).unwrap();
        let o = (GOT_BASE - CODE_BASE) as usize;
        assert_eq!(&m[o..o + 8], &0x20_0100u64.to_be_bytes());
        assert_eq!(&m[o + 8..o + 16], &0x20_0200u64.to_be_bytes());
        let f = |at: u64| be32(&m, (at - CODE_BASE) as usize);
        assert_eq!(u64::from(f(p)), (GOT_BASE + 2 - p) / 2);
        assert_eq!(u64::from(f(p + 8)), (GOT_BASE + 2 - p - 8) / 2);
        assert_eq!(u64::from(f(p + 16)), (GOT_BASE + 8 + 2 - p - 16) / 2);
    }

    #[test]
    fn range_and_unknown_type() {
        let mut m = vec![0u8; 8];
        let mut r = region(&mut m, true);
        assert!(relocate_s390(&mut r, rela(r::R32, 0x1000, 1 << 32, 0)).is_err());
        assert!(relocate_s390(&mut r, rela(r::PC16DBL, 0x1000, 0x10_1000, 0)).is_err());
        let e = relocate_s390(&mut r, rela(61, 0x1000, 0, 0)).unwrap_err();
        assert!(e.to_string().contains("type 61"), "{e}");
    }

    #[test]
    fn machine_flags_are_the_models() {
        assert_eq!(MACHINE_FLAGS, 0x8180);
    }
}
