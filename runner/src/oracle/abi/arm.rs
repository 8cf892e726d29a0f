//! The arm (32-bit, ARMv7, little-endian) loader ABI: `-marm
//! -march=armv7-a -mabi=aapcs-linux`, REL relocations (implicit addends),
//! AAPCS calls (r0-r3, a 64-bit argument in an even register pair, a
//! 64-bit result in r1:r0, the return through `lr`).
//!
//! Boot-time knobs: `pgprot_user` and `pgprot_kernel`, which
//! `build_mem_type_table()` (arch/arm/mm/mmu.c) computes at boot from the
//! CPU's cache policy, are given the values of the ARMv7 SMP write-alloc
//! policy the model assumes (`arch_arm::entry::{classic,lpae}::USER_PGPROT`):
//! `pgprot_user = L_PTE_PRESENT | L_PTE_YOUNG | user_pgprot` and
//! `pgprot_kernel = L_PTE_PRESENT | L_PTE_YOUNG | L_PTE_DIRTY | kern_pgprot`,
//! where on SMP both `user_pgprot` and `kern_pgprot` are
//! `L_PTE_MT_WRITEALLOC | L_PTE_SHARED`.

use std::collections::HashMap;

use unicorn_engine::unicorn_const::{Arch as UcArch, Mode};
use unicorn_engine::{RegisterARM, Unicorn};

use super::super::loader::{Region, Reloc};
use super::super::OracleError;
use super::{
    fits_signed, new_emulator, patch32, sext, Abi, Extern, RegCall, Section, SENTINEL, STACK_BASE,
    STACK_SIZE,
};

/// arm, classic 2-level (`lpae: false`, 32-bit `pteval_t`) or LPAE
/// (`lpae: true`, 64-bit `pteval_t`).
pub struct Arm {
    /// `CONFIG_ARM_LPAE`.
    pub lpae: bool,
}

impl Arm {
    /// `user_pgprot` as `build_mem_type_table()` (arch/arm/mm/mmu.c) leaves
    /// it on an ARMv7 SMP CPU with the default write-allocate cache policy:
    /// `cache_policies[CPOLICY_WRITEALLOC].pte` = `L_PTE_MT_WRITEALLOC`
    /// (`0x07 << 2` in pgtable-2level.h, AttrIndx `7 << 2` in
    /// pgtable-3level.h) ORed with `L_PTE_SHARED` for SMP (bit 10 on
    /// 2-level, `3 << 8` with LPAE).  Written here from the kernel headers,
    /// not taken from the model, so that the boot knob is an assumption
    /// about the CPU, not a copy of the value under test (the model's
    /// `USER_PGPROT` is compared with it in the tests).
    pub fn user_pgprot(&self) -> u64 {
        if self.lpae {
            0x7 << 2 | 0x3 << 8
        } else {
            0x7 << 2 | 1 << 10
        }
    }

    /// `(pgprot_user, pgprot_kernel)` as `build_mem_type_table()` sets
    /// them: `L_PTE_PRESENT | L_PTE_YOUNG | user_pgprot`, and the same with
    /// `L_PTE_DIRTY` (kern_pgprot carries the same cache policy and
    /// sharing on SMP).  `L_PTE_PRESENT` is bit 0 (2-level) or `3 << 0`
    /// (LPAE); `L_PTE_YOUNG` bit 1 or bit 10; `L_PTE_DIRTY` bit 6 or bit 55.
    pub fn pgprots(&self) -> (u64, u64) {
        let (present, young, dirty) = if self.lpae {
            (0x3, 1 << 10, 1 << 55)
        } else {
            (0x1, 1 << 1, 1 << 6)
        };
        let user = present | young | self.user_pgprot();
        (user, user | dirty)
    }
}

/// ARM's relocation types used here (ELF for the Arm Architecture).
mod r {
    pub const NONE: u32 = 0;
    pub const ABS32: u32 = 2;
    pub const REL32: u32 = 3;
    pub const CALL: u32 = 28;
    pub const JUMP24: u32 = 29;
    pub const V4BX: u32 = 40;
    pub const PREL31: u32 = 42;
    pub const MOVW_ABS_NC: u32 = 43;
    pub const MOVT_ABS: u32 = 44;
}

/// The 16-bit immediate of an ARM-state `movw`/`movt` (imm4:imm12).
fn movw_imm(insn: u32) -> u32 {
    (insn >> 4 & 0xf000) | (insn & 0xfff)
}

/// `insn` with its `movw`/`movt` immediate replaced by `v` (16 bits).
fn movw_set(insn: u32, v: u32) -> u32 {
    (insn & 0xfff0_f000) | ((v & 0xf000) << 4) | (v & 0xfff)
}

/// `R_ARM_*` relocation arithmetic (REL: the addend is encoded in the
/// place, per type).
///
/// # Errors
/// [`OracleError::Load`] for an unhandled type, a branch out of range or a
/// place outside the region.
pub fn relocate_arm(r: &mut Region<'_>, rel: Reloc) -> Result<(), OracleError> {
    let (s, p) = (rel.sym as u32, rel.place as u32);
    let w = r.rd32(rel.place)?;
    match rel.kind {
        r::NONE | r::V4BX => Ok(()),
        r::ABS32 => {
            let a = rel.addend.map_or(w, |a| a as u32);
            r.wr32(rel.place, s.wrapping_add(a))
        }
        r::REL32 => {
            let a = rel.addend.map_or(w, |a| a as u32);
            r.wr32(rel.place, s.wrapping_add(a).wrapping_sub(p))
        }
        r::CALL | r::JUMP24 => {
            let a = rel
                .addend
                .unwrap_or_else(|| sext(u64::from(w & 0x00ff_ffff), 24) << 2);
            let v = i64::from(s) + a - i64::from(p);
            fits_signed(v, 26, "R_ARM_CALL/JUMP24", rel.place)?;
            patch32(r, rel.place, 0x00ff_ffff, (v >> 2) as u32)
        }
        r::PREL31 => {
            let a = rel
                .addend
                .unwrap_or_else(|| sext(u64::from(w & 0x7fff_ffff), 31));
            let v = i64::from(s) + a - i64::from(p);
            patch32(r, rel.place, 0x7fff_ffff, v as u32)
        }
        r::MOVW_ABS_NC | r::MOVT_ABS => {
            let a = rel
                .addend
                .unwrap_or_else(|| sext(u64::from(movw_imm(w)), 16));
            let v = (i64::from(s) + a) as u32;
            let v = if rel.kind == r::MOVT_ABS { v >> 16 } else { v };
            r.wr32(rel.place, movw_set(w, v & 0xffff))
        }
        t => Err(OracleError::Load(format!(
            "unhandled arm relocation type {t}"
        ))),
    }
}

/// AAPCS argument words: a value wider than 32 bits takes the next even
/// register pair, low word first.
pub fn aapcs_words(args: &[(u64, u32)]) -> Vec<u64> {
    let mut w = Vec::new();
    for &(v, bits) in args {
        if bits > 32 {
            if w.len() % 2 == 1 {
                w.push(0);
            }
            w.push(v & 0xffff_ffff);
            w.push(v >> 32);
        } else {
            w.push(v & 0xffff_ffff);
        }
    }
    w
}

const ARM_CALL: RegCall = RegCall {
    pc: RegisterARM::PC as i32,
    sp: (RegisterARM::SP as i32, STACK_BASE + STACK_SIZE - 0x100),
    link: Some((RegisterARM::LR as i32, SENTINEL)),
    args: &[
        RegisterARM::R0 as i32,
        RegisterARM::R1 as i32,
        RegisterARM::R2 as i32,
        RegisterARM::R3 as i32,
    ],
    ret: &[RegisterARM::R0 as i32],
    until: SENTINEL,
};

impl Abi for Arm {
    fn name(&self) -> &'static str {
        if self.lpae {
            "arm-lpae"
        } else {
            "arm"
        }
    }
    fn knobs(&self) -> Vec<String> {
        let (u, k) = self.pgprots();
        vec![format!(
            "ARMv7 SMP write-alloc (build_mem_type_table): pgprot_user = {u:#x}, pgprot_kernel = {k:#x}, protection_map[] |= user_pgprot {:#x} (an ARMv7 SMP CPU assumed; the model's USER_PGPROT is checked against it)",
            self.user_pgprot()
        )]
    }
    fn externs(&self) -> Vec<Extern> {
        let (u, k) = self.pgprots();
        let bytes = |v: u64| {
            if self.lpae {
                v.to_le_bytes().to_vec()
            } else {
                (v as u32).to_le_bytes().to_vec()
            }
        };
        vec![
            Extern {
                name: "pgprot_user",
                bytes: bytes(u),
            },
            Extern {
                name: "pgprot_kernel",
                bytes: bytes(k),
            },
            // The unwinder's personality routine is only named by
            // .ARM.exidx, which is never executed.
            Extern {
                name: "__aeabi_unwind_cpp_pr0",
                bytes: vec![0; 4],
            },
        ]
    }
    fn relocate(&self, r: &mut Region<'_>, rel: Reloc) -> Result<(), OracleError> {
        relocate_arm(r, rel)
    }
    /// `build_mem_type_table()` (mm/mmu.c) ORs `user_pgprot` into each of
    /// the 16 `protection_map[]` entries at boot; do the same in the
    /// linked `mmu.o` (no table, no patch: `vm_get_page_prot()` is then
    /// not linked either).
    fn patch(
        &self,
        r: &mut Region<'_>,
        _sections: &[Section],
        symbols: &HashMap<String, u64>,
    ) -> Result<usize, OracleError> {
        let Some(&map) = symbols.get("protection_map") else {
            return Ok(0);
        };
        let user = self.user_pgprot();
        let size = if self.lpae { 8 } else { 4 };
        for i in 0..16 {
            let at = map + i * size;
            r.wr32(at, r.rd32(at)? | user as u32)?;
            if self.lpae {
                r.wr32(at + 4, r.rd32(at + 4)? | (user >> 32) as u32)?;
            }
        }
        Ok(16)
    }
    fn emulator(&self) -> Result<Unicorn<'static, ()>, OracleError> {
        new_emulator(UcArch::ARM, Mode::ARM | Mode::LITTLE_ENDIAN, None, &[])
    }
    fn call(
        &self,
        uc: &mut Unicorn<'static, ()>,
        addr: u64,
        args: &[(u64, u32)],
        ret_bits: u32,
    ) -> Result<u64, OracleError> {
        // A 64-bit result comes back in r1:r0.
        let rc = if ret_bits > 32 {
            RegCall {
                ret: &[RegisterARM::R1 as i32, RegisterARM::R0 as i32],
                ..ARM_CALL
            }
        } else {
            ARM_CALL
        };
        let v = rc.run(uc, addr, &aapcs_words(args), |_, pc| pc == SENTINEL)?;
        Ok(v & mm_core::helpers::mask(ret_bits))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{region, rel};
    use super::*;

    #[test]
    fn abs32_rel32_implicit_addends() {
        let mut m = vec![0u8; 16];
        m[0..4].copy_from_slice(&8u32.to_le_bytes());
        m[4..8].copy_from_slice(&4u32.to_le_bytes());
        let mut r = region(&mut m, false);
        relocate_arm(&mut r, rel(r::ABS32, 0x1000, 0x20_0000)).unwrap();
        relocate_arm(&mut r, rel(r::REL32, 0x1004, 0x1100)).unwrap();
        assert_eq!(u32::from_le_bytes(m[0..4].try_into().unwrap()), 0x20_0008);
        assert_eq!(
            u32::from_le_bytes(m[4..8].try_into().unwrap()),
            0x1100 + 4 - 0x1004
        );
    }

    #[test]
    fn movw_movt_split_the_address() {
        // movw r3, #0 ; movt r3, #0  (e3003000, e3403000)
        let mut m = vec![0u8; 8];
        m[0..4].copy_from_slice(&0xe300_3000u32.to_le_bytes());
        m[4..8].copy_from_slice(&0xe340_3000u32.to_le_bytes());
        let mut r = region(&mut m, false);
        relocate_arm(&mut r, rel(r::MOVW_ABS_NC, 0x1000, 0x0020_5678)).unwrap();
        relocate_arm(&mut r, rel(r::MOVT_ABS, 0x1004, 0x0020_5678)).unwrap();
        let w0 = u32::from_le_bytes(m[0..4].try_into().unwrap());
        let w1 = u32::from_le_bytes(m[4..8].try_into().unwrap());
        assert_eq!(w0, 0xe305_3678, "movw r3, #0x5678");
        assert_eq!(w1, 0xe340_3020, "movt r3, #0x0020");
        assert_eq!(movw_imm(w0), 0x5678);
        assert_eq!(movw_imm(w1), 0x0020);
    }

    #[test]
    fn call_prel31_and_unknown() {
        // bl with addend -8 (0xfffffe), prel31 with addend 0.
        let mut m = vec![0u8; 8];
        m[0..4].copy_from_slice(&0xebff_fffeu32.to_le_bytes());
        let mut r = region(&mut m, false);
        relocate_arm(&mut r, rel(r::CALL, 0x1000, 0x1100)).unwrap();
        relocate_arm(&mut r, rel(r::PREL31, 0x1004, 0x1000)).unwrap();
        let w0 = u32::from_le_bytes(m[0..4].try_into().unwrap());
        // (0x1100 - 8 - 0x1000) >> 2 = 0x3e
        assert_eq!(w0, 0xeb00_003e);
        let w1 = u32::from_le_bytes(m[4..8].try_into().unwrap());
        assert_eq!(w1, 0x7fff_fffc, "-4 in 31 bits");
        let mut r = region(&mut m, false);
        let e = relocate_arm(&mut r, rel(99, 0x1000, 0)).unwrap_err();
        assert!(e.to_string().contains("type 99"), "{e}");
        let mut r = region(&mut m, false);
        assert!(relocate_arm(&mut r, rel(r::CALL, 0x1000, 0x1000_0000)).is_err());
    }

    #[test]
    fn aapcs_pairs_are_even() {
        assert_eq!(
            aapcs_words(&[(5, 32), (0x1_0000_0002, 64)]),
            vec![5, 0, 2, 1]
        );
        assert_eq!(aapcs_words(&[(0x3_0000_0004, 64)]), vec![4, 3]);
    }

    #[test]
    fn protection_map_gets_user_pgprot() {
        let mut m = vec![0u8; 0x100];
        m[0x10..0x14].copy_from_slice(&0x30fu32.to_le_bytes());
        let syms = HashMap::from([("protection_map".to_string(), 0x1010u64)]);
        let mut r = region(&mut m, false);
        assert_eq!(Arm { lpae: false }.patch(&mut r, &[], &syms).unwrap(), 16);
        assert_eq!(u32::from_le_bytes(m[0x10..0x14].try_into().unwrap()), 0x71f);
        assert_eq!(u32::from_le_bytes(m[0x4c..0x50].try_into().unwrap()), 0x41c);
        assert_eq!(m[0x50], 0, "only 16 entries");
        let mut m = vec![0u8; 0x100];
        let mut r = region(&mut m, false);
        assert_eq!(Arm { lpae: true }.patch(&mut r, &[], &syms).unwrap(), 16);
        assert_eq!(u32::from_le_bytes(m[0x88..0x8c].try_into().unwrap()), 0x31c);
        let mut r = region(&mut m, false);
        assert_eq!(
            Arm { lpae: false }
                .patch(&mut r, &[], &HashMap::new())
                .unwrap(),
            0
        );
    }

    #[test]
    fn pgprots_follow_the_model() {
        use arch_arm::entry::{classic, lpae};
        // The model's boot assumption is the kernel's value on this CPU.
        assert_eq!(Arm { lpae: false }.user_pgprot(), classic::USER_PGPROT);
        assert_eq!(Arm { lpae: true }.user_pgprot(), lpae::USER_PGPROT);
        assert_eq!(Arm { lpae: false }.pgprots(), (0x41f, 0x45f));
        let (u, k) = Arm { lpae: true }.pgprots();
        assert_eq!(u, 0x3 | 1 << 10 | 3 << 8 | 7 << 2);
        assert_eq!(k, u | 1 << 55);
    }
}
