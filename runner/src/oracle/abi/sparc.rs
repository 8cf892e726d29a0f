//! The sparc64 (big-endian, `-mcmodel=medlow -mcpu=ultrasparc`) loader
//! ABI: RELA relocations (`R_SPARC_*`), calls with %o0-%o3 and the result
//! in %o0.
//!
//! Unicorn 2.1.5's sparc64 mishandles `jmpl`/`retl` (a TT_UNALIGNED trap),
//! so the wrappers are built with `-fno-delayed-branch` (the Makefile):
//! every wrapper is a leaf whose result is final when it reaches `retl`,
//! and the call stops there, through a code hook.
//!
//! Boot-time knob: sun4u or sun4v.  The kernel is compiled for sun4u;
//! `sun4v_patch()` (arch/sparc/kernel/setup_64.c) rewrites the instructions
//! listed in `.sun4v_1insn_patch` (`{u32 addr; u32 insn}`) and
//! `.sun4v_2insn_patch` (`{u32 addr; u32 insns[2]}`) on a sun4v machine.
//! The `sparc64-sun4v` loader does the same; `.sun_m7_2insn_patch` is left
//! alone (the model's sun4v is a T4-class chip, not an M7).

use std::collections::HashMap;

use unicorn_engine::unicorn_const::{Arch as UcArch, Mode, Prot};
use unicorn_engine::{RegisterSPARC, Unicorn};

use super::super::loader::{Region, Reloc, CODE_BASE, CODE_SIZE};
use super::super::OracleError;
use super::{
    emu_err, fits_signed, new_emulator, patch32, Abi, Extern, RegCall, Section, STACK_BASE,
    STACK_SIZE,
};

/// sparc64, sun4u as compiled or sun4v as patched at boot.
pub struct Sparc64 {
    /// Apply the sun4v patch tables.
    pub sun4v: bool,
}

/// `retl` (`jmpl %o7 + 8, %g0`).
pub const RETL: u32 = 0x81c3_e008;
/// Where %g6 (`current_thread_info()`) points: a zeroed page.
pub const THREAD_INFO: u64 = 0x3200_0000;
/// The stack bias of the 64-bit SPARC ABI.
const STACK_BIAS: u64 = 2047;

/// sparc's relocation types used here (SPARC ELF ABI).
mod r {
    pub const NONE: u32 = 0;
    pub const R32: u32 = 3;
    pub const DISP32: u32 = 6;
    pub const WDISP30: u32 = 7;
    pub const WDISP22: u32 = 8;
    pub const HI22: u32 = 9;
    pub const R13: u32 = 11;
    pub const LO10: u32 = 12;
    pub const UA32: u32 = 23;
    pub const R64: u32 = 32;
    pub const WDISP19: u32 = 41;
    pub const UA64: u32 = 54;
}

/// `R_SPARC_*` relocation arithmetic (RELA, big-endian).
///
/// # Errors
/// [`OracleError::Load`] for an unhandled type, an out-of-range value or a
/// place outside the region.
pub fn relocate_sparc(r: &mut Region<'_>, rel: Reloc) -> Result<(), OracleError> {
    let a = rel.addend.unwrap_or(0);
    let sa = rel.sym.wrapping_add(a as u64);
    let pcrel = sa.wrapping_sub(rel.place) as i64;
    let abs32 = |what: &str| {
        if sa > u64::from(u32::MAX) {
            Err(OracleError::Load(format!(
                "{what} at {:#x}: {sa:#x} out of range",
                rel.place
            )))
        } else {
            Ok(sa as u32)
        }
    };
    match rel.kind {
        r::NONE => Ok(()),
        r::R32 | r::UA32 => {
            let v = abs32("R_SPARC_32")?;
            r.wr32(rel.place, v)
        }
        r::DISP32 => {
            fits_signed(pcrel, 32, "R_SPARC_DISP32", rel.place)?;
            r.wr32(rel.place, pcrel as u32)
        }
        r::WDISP30 => patch32(r, rel.place, 0x3fff_ffff, (pcrel >> 2) as u32),
        r::WDISP22 => {
            fits_signed(pcrel >> 2, 22, "R_SPARC_WDISP22", rel.place)?;
            patch32(r, rel.place, 0x003f_ffff, (pcrel >> 2) as u32)
        }
        r::WDISP19 => {
            fits_signed(pcrel >> 2, 19, "R_SPARC_WDISP19", rel.place)?;
            patch32(r, rel.place, 0x0007_ffff, (pcrel >> 2) as u32)
        }
        r::HI22 => {
            let v = abs32("R_SPARC_HI22")?;
            patch32(r, rel.place, 0x003f_ffff, v >> 10)
        }
        r::LO10 => patch32(r, rel.place, 0x3ff, sa as u32 & 0x3ff),
        r::R13 => {
            fits_signed(sa as i64, 13, "R_SPARC_13", rel.place)?;
            patch32(r, rel.place, 0x1fff, sa as u32)
        }
        r::R64 | r::UA64 => r.wr64(rel.place, sa),
        t => Err(OracleError::Load(format!(
            "unhandled sparc relocation type {t}"
        ))),
    }
}

/// Apply a sun4v patch table: `n_insns` instruction words after a 32-bit
/// address per entry.  Returns the number of words written.
///
/// # Errors
/// [`OracleError::Load`] for a table that is not a whole number of
/// entries or names an address outside the region.
pub fn apply_patch_table(
    r: &mut Region<'_>,
    table: &Section,
    n_insns: u64,
) -> Result<usize, OracleError> {
    let entry = 4 + 4 * n_insns;
    if !table.size.is_multiple_of(entry) {
        return Err(OracleError::Load(format!(
            "{}: {} bytes is not a whole number of {entry}-byte entries",
            table.name, table.size
        )));
    }
    let mut n = 0;
    for e in (table.addr..table.addr + table.size).step_by(entry as usize) {
        let at = u64::from(r.rd32(e)?);
        for i in 0..n_insns {
            let insn = r.rd32(e + 4 + 4 * i)?;
            r.wr32(at + 4 * i, insn)?;
            n += 1;
        }
    }
    Ok(n)
}

const SPARC_CALL: RegCall = RegCall {
    pc: RegisterSPARC::PC as i32,
    sp: (
        RegisterSPARC::O6 as i32,
        STACK_BASE + STACK_SIZE - 0x400 - STACK_BIAS,
    ),
    link: None,
    args: &[
        RegisterSPARC::O0 as i32,
        RegisterSPARC::O1 as i32,
        RegisterSPARC::O2 as i32,
        RegisterSPARC::O3 as i32,
    ],
    ret: &[RegisterSPARC::O0 as i32],
    until: 0,
};

fn at_retl(uc: &Unicorn<'_, ()>, pc: u64) -> bool {
    let mut b = [0u8; 4];
    uc.mem_read(pc, &mut b).is_ok() && u32::from_be_bytes(b) == RETL
}

impl Abi for Sparc64 {
    fn name(&self) -> &'static str {
        if self.sun4v {
            "sparc64-sun4v"
        } else {
            "sparc64-sun4u"
        }
    }
    fn knobs(&self) -> Vec<String> {
        vec![
            if self.sun4v {
                "sun4v: .sun4v_1insn_patch and .sun4v_2insn_patch applied (sun4v_patch()); .sun_m7_2insn_patch not (T4-class, arch-sparc sparc64)".into()
            } else {
                "sun4u: code as compiled, no patch table applied (arch-sparc sparc64-sun4u)".into()
            },
            "a 64-bit task: %g6 -> zeroed thread_info (no TIF_32BIT)".into(),
        ]
    }
    fn externs(&self) -> Vec<Extern> {
        Vec::new()
    }
    fn relocate(&self, r: &mut Region<'_>, rel: Reloc) -> Result<(), OracleError> {
        relocate_sparc(r, rel)
    }
    fn patch(
        &self,
        r: &mut Region<'_>,
        sections: &[Section],
        _symbols: &HashMap<String, u64>,
    ) -> Result<usize, OracleError> {
        if !self.sun4v {
            return Ok(0);
        }
        let mut n = 0;
        for (name, words) in [(".sun4v_1insn_patch", 1), (".sun4v_2insn_patch", 2)] {
            for s in sections.iter().filter(|s| s.name == name) {
                n += apply_patch_table(r, s, words)?;
            }
        }
        if n == 0 {
            return Err(OracleError::Load(
                "sun4v: the objects have no .sun4v_*insn_patch entries; the result would be sun4u"
                    .into(),
            ));
        }
        Ok(n)
    }
    fn emulator(&self) -> Result<Unicorn<'static, ()>, OracleError> {
        let mut uc = new_emulator(UcArch::SPARC, Mode::SPARC64 | Mode::BIG_ENDIAN, None, &[])?;
        uc.add_code_hook(CODE_BASE, CODE_BASE + CODE_SIZE - 1, |uc, addr, _| {
            if at_retl(uc, addr) {
                let _ = uc.emu_stop();
            }
        })
        .map_err(|e| emu_err("code hook", e))?;
        // %g6 is `current_thread_info()`: a zeroed thread_info, so
        // `test_thread_flag(TIF_32BIT)` is false (a 64-bit task: TASK_SIZE
        // is -VPTE_SIZE, processor_64.h).
        uc.mem_map(THREAD_INFO, 0x2000, Prot::READ | Prot::WRITE)
            .map_err(|e| emu_err("map thread_info", e))?;
        uc.reg_write(RegisterSPARC::G6, THREAD_INFO)
            .map_err(|e| emu_err("g6", e))?;
        Ok(uc)
    }
    fn call(
        &self,
        uc: &mut Unicorn<'static, ()>,
        addr: u64,
        args: &[(u64, u32)],
        ret_bits: u32,
    ) -> Result<u64, OracleError> {
        SPARC_CALL.call(uc, addr, args, ret_bits, at_retl)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{be32, region, rela};
    use super::*;

    #[test]
    fn hi22_lo10_and_call() {
        // sethi %hi(0), %g1 ; or %g1, %lo(0), %g1 ; call 0
        let mut m = vec![0u8; 16];
        m[0..4].copy_from_slice(&0x0300_0000u32.to_be_bytes());
        m[4..8].copy_from_slice(&0x8210_6000u32.to_be_bytes());
        m[8..12].copy_from_slice(&0x4000_0000u32.to_be_bytes());
        let mut r = region(&mut m, true);
        relocate_sparc(&mut r, rela(r::HI22, 0x1000, 0x20_1234, 0)).unwrap();
        relocate_sparc(&mut r, rela(r::LO10, 0x1004, 0x20_1234, 0)).unwrap();
        relocate_sparc(&mut r, rela(r::WDISP30, 0x1008, 0x1000, 0)).unwrap();
        relocate_sparc(&mut r, rela(r::R32, 0x100c, 0x20_0000, 4)).unwrap();
        assert_eq!(be32(&m, 0), 0x0300_0000 | (0x20_1234 >> 10));
        assert_eq!(be32(&m, 4), 0x8210_6000 | 0x234);
        assert_eq!(be32(&m, 8), 0x4000_0000 | (-2i32 as u32 & 0x3fff_ffff));
        assert_eq!(be32(&m, 12), 0x20_0004);
    }

    #[test]
    fn range_and_unknown_type() {
        let mut m = vec![0u8; 8];
        let mut r = region(&mut m, true);
        assert!(relocate_sparc(&mut r, rela(r::HI22, 0x1000, 1 << 32, 0)).is_err());
        assert!(relocate_sparc(&mut r, rela(r::WDISP22, 0x1000, 0x4000_0000, 0)).is_err());
        let e = relocate_sparc(&mut r, rela(77, 0x1000, 0, 0)).unwrap_err();
        assert!(e.to_string().contains("type 77"), "{e}");
    }

    #[test]
    fn sun4v_tables_patch_and_sun4u_does_not() {
        // code: two words at 0x1000; a 1-insn table at 0x1010 and a 2-insn
        // table at 0x1018.
        let mut m = vec![0u8; 0x30];
        let put = |m: &mut Vec<u8>, o: usize, v: u32| m[o..o + 4].copy_from_slice(&v.to_be_bytes());
        put(&mut m, 0x10, 0x1000);
        put(&mut m, 0x14, 0xaaaa_aaaa);
        put(&mut m, 0x18, 0x1004);
        put(&mut m, 0x1c, 0xbbbb_bbbb);
        put(&mut m, 0x20, 0xcccc_cccc);
        let secs = vec![
            Section {
                name: ".sun4v_1insn_patch".into(),
                addr: 0x1010,
                size: 8,
            },
            Section {
                name: ".sun4v_2insn_patch".into(),
                addr: 0x1018,
                size: 12,
            },
            Section {
                name: ".sun_m7_2insn_patch".into(),
                addr: 0x1018,
                size: 12,
            },
        ];
        let mut m4u = m.clone();
        let mut r = region(&mut m4u, true);
        assert_eq!(
            Sparc64 { sun4v: false }
                .patch(&mut r, &secs, &HashMap::new())
                .unwrap(),
            0
        );
        assert_eq!(be32(&m4u, 0), 0);
        let mut r = region(&mut m, true);
        assert_eq!(
            Sparc64 { sun4v: true }
                .patch(&mut r, &secs, &HashMap::new())
                .unwrap(),
            3
        );
        // 0x1004 got 0xbbbb_bbbb then the 2-insn entry wrote 0x1004/0x1008
        assert_eq!(
            [be32(&m, 0), be32(&m, 4), be32(&m, 8)],
            [0xaaaa_aaaa, 0xbbbb_bbbb, 0xcccc_cccc]
        );
        let mut r = region(&mut m, true);
        let bad = [Section {
            name: ".sun4v_2insn_patch".into(),
            addr: 0x1018,
            size: 8,
        }];
        assert!(Sparc64 { sun4v: true }
            .patch(&mut r, &bad, &HashMap::new())
            .is_err());
        assert!(Sparc64 { sun4v: true }
            .patch(&mut r, &[], &HashMap::new())
            .is_err());
    }
}
