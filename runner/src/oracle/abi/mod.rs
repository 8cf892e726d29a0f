//! Loader ABIs: per kernel architecture, how its relocatable objects are
//! relocated, which kernel globals the helpers read (and the boot-time
//! values the model assumes for them), and how a wrapper is called under
//! Unicorn.  A configuration names its ABI in its fragment header
//! (`# ptlab-loader: x86_64`); a new architecture is a new [`Abi`] (one
//! file per architecture: [`x86`], [`arm`], [`s390`], [`sparc`]) plus a
//! fragment in `oracle/config/`.
//!
//! The call mechanics every register-argument ABI shares (stack pointer,
//! argument registers, a return address or link register, run to the
//! sentinel, check the stop, read the result) are [`RegCall`]; an ABI only
//! says which registers and how its arguments become words.

pub mod arm;
pub mod s390;
pub mod sparc;
pub mod x86;

use std::collections::HashMap;

use unicorn_engine::unicorn_const::{Arch as UcArch, Mode, Prot};
use unicorn_engine::Unicorn;

use super::loader::{Region, Reloc};
use super::OracleError;

pub use arm::{relocate_arm, Arm};
pub use s390::{relocate_s390, S390};
pub use sparc::{relocate_sparc, Sparc64};
pub use x86::{relocate_i386, relocate_x86_64, I386, X86_64};

/// An external symbol the loader provides: a code stub or a global's
/// initial bytes.
#[derive(Clone, Debug)]
pub struct Extern {
    /// The symbol.
    pub name: &'static str,
    /// Its bytes (code for a stub, the value for a global).
    pub bytes: Vec<u8>,
}

/// A loaded section, for an ABI's boot-time patching
/// ([`Abi::patch`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Its name (`.sun4v_1insn_patch`).
    pub name: String,
    /// Where the loader put it.
    pub addr: u64,
    /// Its size in bytes.
    pub size: u64,
}

/// Stack for calls.
pub const STACK_BASE: u64 = 0x3000_0000;
/// Stack size.
pub const STACK_SIZE: u64 = 0x1_0000;
/// The return address every call returns to.
pub const SENTINEL: u64 = 0x3100_0000;
/// Instructions one wrapper call may take before it counts as runaway.
pub const MAX_INSNS: usize = 10_000;

/// One kernel architecture's loader ABI.
pub trait Abi {
    /// Its name, as fragment headers spell it.
    fn name(&self) -> &'static str;
    /// The boot-time settings this ABI's externals encode, one line each,
    /// for the report (`NX supported: __supported_pte_mask = ~0`, ...).
    fn knobs(&self) -> Vec<String>;
    /// The externals it provides.
    fn externs(&self) -> Vec<Extern>;
    /// Apply one relocation.
    ///
    /// # Errors
    /// [`OracleError::Load`] naming a relocation type it does not handle,
    /// or a value that does not fit.
    fn relocate(&self, r: &mut Region<'_>, rel: Reloc) -> Result<(), OracleError>;
    /// Boot-time patching after relocation (sparc64's sun4v patch tables,
    /// arm's `protection_map[]` fix-up), given every loaded section and
    /// every defined symbol (locals too) with its address.  Returns the
    /// number of words patched.  The default patches nothing.
    ///
    /// # Errors
    /// [`OracleError::Load`] when a table is malformed or missing.
    fn patch(
        &self,
        _r: &mut Region<'_>,
        _sections: &[Section],
        _symbols: &HashMap<String, u64>,
    ) -> Result<usize, OracleError> {
        Ok(0)
    }
    /// A fresh emulator with the stack and the sentinel page mapped (the
    /// caller maps the image).
    ///
    /// # Errors
    /// [`OracleError::Emu`] when Unicorn refuses.
    fn emulator(&self) -> Result<Unicorn<'static, ()>, OracleError>;
    /// Call the wrapper at `addr` with `args` (value, width in bits of its
    /// C type); return the result, `ret_bits` wide.
    ///
    /// # Errors
    /// [`OracleError::Emu`] when the emulation faults or does not return
    /// to the sentinel.
    fn call(
        &self,
        uc: &mut Unicorn<'static, ()>,
        addr: u64,
        args: &[(u64, u32)],
        ret_bits: u32,
    ) -> Result<u64, OracleError>;
}

/// The loader names [`by_name`] knows, for error messages.
pub const NAMES: &[&str] = &[
    "x86_64",
    "i386",
    "arm",
    "arm-lpae",
    "s390x",
    "sparc64-sun4u",
    "sparc64-sun4v",
];

/// The ABI called `name` (one of [`NAMES`]).
pub fn by_name(name: &str) -> Option<Box<dyn Abi>> {
    match name {
        "x86_64" => Some(Box::new(X86_64)),
        "i386" => Some(Box::new(I386)),
        "arm" => Some(Box::new(Arm { lpae: false })),
        "arm-lpae" => Some(Box::new(Arm { lpae: true })),
        "s390x" => Some(Box::new(S390)),
        "sparc64-sun4u" => Some(Box::new(Sparc64 { sun4v: false })),
        "sparc64-sun4v" => Some(Box::new(Sparc64 { sun4v: true })),
        _ => None,
    }
}

/// An [`OracleError::Emu`] for a Unicorn failure.
pub(crate) fn emu_err(what: &str, e: impl std::fmt::Debug) -> OracleError {
    OracleError::Emu(format!("{what}: {e:?}"))
}

/// A Unicorn of `arch`/`mode` (and CPU model `cpu`, when given: it must be
/// chosen before anything is mapped) with the stack mapped and the sentinel
/// page mapped holding `sentinel_code` (what a return to [`SENTINEL`]
/// executes, for ABIs that stop one instruction after it).
///
/// # Errors
/// [`OracleError::Emu`].
pub(crate) fn new_emulator(
    arch: UcArch,
    mode: Mode,
    cpu: Option<i32>,
    sentinel_code: &[u8],
) -> Result<Unicorn<'static, ()>, OracleError> {
    let mut uc = Unicorn::new(arch, mode).map_err(|e| emu_err("unicorn", e))?;
    if let Some(c) = cpu {
        uc.ctl_set_cpu_model(c)
            .map_err(|e| emu_err("cpu model", e))?;
    }
    uc.mem_map(STACK_BASE, STACK_SIZE, Prot::READ | Prot::WRITE)
        .map_err(|e| emu_err("map stack", e))?;
    // 8K: sparc64 pages are 8K.
    uc.mem_map(SENTINEL, 0x2000, Prot::ALL)
        .map_err(|e| emu_err("map sentinel", e))?;
    uc.mem_write(SENTINEL, sentinel_code)
        .map_err(|e| emu_err("write sentinel", e))?;
    Ok(uc)
}

/// One register-argument call: the registers of an ABI (Unicorn register
/// ids) and where the emulation stops.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RegCall {
    /// The program counter.
    pub pc: i32,
    /// The stack pointer and the value it gets.
    pub sp: (i32, u64),
    /// The link register and the return address it gets (`None`: the
    /// caller pushed the return address).
    pub link: Option<(i32, u64)>,
    /// Argument registers, in order.
    pub args: &'static [i32],
    /// Result registers: one (its whole value), or two holding a 64-bit
    /// result as 32-bit halves, the high half's register first (i386
    /// edx:eax, arm r1:r0).
    pub ret: &'static [i32],
    /// The address `emu_start` runs until (0: none, a hook stops).
    pub until: u64,
}

impl RegCall {
    /// [`RegCall::run`] with one register per argument (its value as is)
    /// and the result masked to `ret_bits`: the whole call of an ABI whose
    /// arguments all fit a register.
    ///
    /// # Errors
    /// As [`RegCall::run`].
    pub fn call(
        &self,
        uc: &mut Unicorn<'static, ()>,
        addr: u64,
        args: &[(u64, u32)],
        ret_bits: u32,
        returned: impl Fn(&Unicorn<'static, ()>, u64) -> bool,
    ) -> Result<u64, OracleError> {
        let words: Vec<u64> = args.iter().map(|a| a.0).collect();
        let v = self.run(uc, addr, &words, returned)?;
        Ok(v & mm_core::helpers::mask(ret_bits))
    }

    /// Run the wrapper at `addr` with the argument words `words` (each
    /// already in its register's form), and return the raw result
    /// registers combined (`ret[0] << 32 | ret[1]` for two, masked to 32
    /// bits each).  `returned(uc, pc)` says whether the stop is a return.
    ///
    /// # Errors
    /// [`OracleError::Emu`] when the emulation faults, takes more than
    /// [`MAX_INSNS`], or stops anywhere but a return.
    pub fn run(
        &self,
        uc: &mut Unicorn<'static, ()>,
        addr: u64,
        words: &[u64],
        returned: impl Fn(&Unicorn<'static, ()>, u64) -> bool,
    ) -> Result<u64, OracleError> {
        if words.len() > self.args.len() {
            return Err(OracleError::Emu(format!(
                "{} argument words, only {} registers",
                words.len(),
                self.args.len()
            )));
        }
        uc.reg_write(self.sp.0, self.sp.1)
            .map_err(|e| emu_err("sp", e))?;
        if let Some((lr, v)) = self.link {
            uc.reg_write(lr, v).map_err(|e| emu_err("link", e))?;
        }
        for (r, v) in self.args.iter().zip(words) {
            uc.reg_write(*r, *v).map_err(|e| emu_err("arg", e))?;
        }
        if let Err(e) = uc.emu_start(addr, self.until, 0, MAX_INSNS) {
            let at = uc.reg_read(self.pc).unwrap_or(0);
            return Err(emu_err(&format!("wrapper at {addr:#x}, pc {at:#x}"), e));
        }
        let at = uc.reg_read(self.pc).map_err(|e| emu_err("read pc", e))?;
        if !returned(uc, at) {
            // No fault, yet no return: the instruction count ran out.
            return Err(OracleError::Emu(format!(
                "wrapper at {addr:#x} did not return within its budget of {MAX_INSNS} \
                 instructions: runaway code stopped at pc {at:#x}"
            )));
        }
        let mut v = 0u64;
        for r in self.ret {
            let x = uc.reg_read(*r).map_err(|e| emu_err("result", e))?;
            v = if self.ret.len() > 1 {
                v << 32 | (x & 0xffff_ffff)
            } else {
                x
            };
        }
        Ok(v)
    }
}

/// Sign-extend the low `bits` bits of `v`.
pub fn sext(v: u64, bits: u32) -> i64 {
    let s = 64 - bits;
    ((v << s) as i64) >> s
}

/// Check that `v` fits a signed field of `bits` bits.
///
/// # Errors
/// [`OracleError::Load`] naming the relocation and the place.
pub fn fits_signed(v: i64, bits: u32, what: &str, place: u64) -> Result<(), OracleError> {
    let lim = 1i64 << (bits - 1);
    if v < -lim || v >= lim {
        return Err(OracleError::Load(format!(
            "{what} at {place:#x}: {v:#x} does not fit {bits} signed bits"
        )));
    }
    Ok(())
}

/// Replace the bits of `mask` in the 32-bit word at `place` with `v`
/// (already shifted into place).
///
/// # Errors
/// [`OracleError::Load`] when `place` is outside the region.
pub fn patch32(r: &mut Region<'_>, place: u64, mask: u32, v: u32) -> Result<(), OracleError> {
    let w = r.rd32(place)?;
    r.wr32(place, (w & !mask) | (v & mask))
}

/// Write the 16-bit value `v` at `place` in the region's byte order.
///
/// # Errors
/// [`OracleError::Load`] when `place` is outside the region.
pub fn wr16(r: &mut Region<'_>, place: u64, v: u16) -> Result<(), OracleError> {
    let o = place
        .checked_sub(r.base)
        .map(|o| o as usize)
        .filter(|o| o + 2 <= r.mem.len())
        .ok_or_else(|| {
            OracleError::Load(format!("relocation target {place:#x} outside the image"))
        })?;
    let b = if r.big_endian {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    };
    r.mem[o..o + 2].copy_from_slice(&b);
    Ok(())
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    /// A region of `mem` at 0x1000.
    pub fn region(mem: &mut [u8], big_endian: bool) -> Region<'_> {
        Region {
            mem,
            base: 0x1000,
            big_endian,
        }
    }

    /// A RELA relocation.
    pub fn rela(kind: u32, place: u64, sym: u64, addend: i64) -> Reloc {
        Reloc {
            kind,
            place,
            sym,
            addend: Some(addend),
        }
    }

    /// The big-endian word at offset `o` of `m`.
    pub fn be32(m: &[u8], o: usize) -> u32 {
        u32::from_be_bytes(m[o..o + 4].try_into().unwrap())
    }

    /// A REL relocation (implicit addend).
    pub fn rel(kind: u32, place: u64, sym: u64) -> Reloc {
        Reloc {
            kind,
            place,
            sym,
            addend: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::region;
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(sext(0xff_ffff, 24), -1);
        assert_eq!(sext(0x7f_ffff, 24), 0x7f_ffff);
        assert!(fits_signed(-4, 24, "t", 0).is_ok());
        assert!(fits_signed(1 << 23, 24, "t", 0).is_err());
        let mut m = vec![0u8; 8];
        let mut r = region(&mut m, true);
        patch32(&mut r, 0x1000, 0x0000_ffff, 0x1234_5678).unwrap();
        wr16(&mut r, 0x1004, 0xabcd).unwrap();
        assert!(wr16(&mut r, 0x1007, 1).is_err());
        assert_eq!(m, [0, 0, 0x56, 0x78, 0xab, 0xcd, 0, 0]);
    }

    #[test]
    fn every_name_resolves() {
        for n in NAMES {
            let a = by_name(n).unwrap_or_else(|| panic!("{n}"));
            assert_eq!(a.name(), *n);
            assert!(!a.knobs().is_empty(), "{n}");
        }
        assert!(by_name("vax").is_none());
    }
}
