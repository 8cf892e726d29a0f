//! Loading kbuild's relocatable objects (`oracle.o`, plus in-tree objects
//! such as `arch/x86/mm/pgprot.o`) into one flat image: every `SHF_ALLOC`
//! section is laid out at [`CODE_BASE`], symbols are resolved across the
//! objects, the few kernel globals the helpers read are provided by the
//! loader ABI ([`super::abi::Abi::externs`]) at [`EXT_BASE`], and the
//! relocations are applied by the ABI's relocator.
//!
//! Nothing here runs code; [`super::run`] maps the image into Unicorn.

use std::collections::HashMap;

use goblin::elf::section_header::{SHF_ALLOC, SHT_NOBITS};
use goblin::elf::Elf;

use super::abi::{Abi, Extern, Section};
use super::OracleError;

/// Where the objects' sections go (low, so that x86 `PC32`/`32S` reach).
pub const CODE_BASE: u64 = 0x10_0000;
/// Size of the section region.
pub const CODE_SIZE: u64 = 0x10_0000;
/// Where provided externals (stubs and globals) go.
pub const EXT_BASE: u64 = 0x20_0000;
/// Size of the externals region.
pub const EXT_SIZE: u64 = 0x10_0000;
/// Bytes given to an unknown external (zero-filled, and reported).
const UNKNOWN_EXTERN_BYTES: usize = 256;

/// One loaded image.
#[derive(Debug)]
pub struct Image {
    /// Bytes of the section region, starting at [`CODE_BASE`].
    pub code: Vec<u8>,
    /// Bytes of the externals region, starting at [`EXT_BASE`].
    pub ext: Vec<u8>,
    /// Every defined function symbol whose name starts with `oracle_`,
    /// without the prefix, with its address.
    pub wrappers: HashMap<String, u64>,
    /// Externals no object defines and the ABI does not provide: they got
    /// zero-filled objects.  Reported, because a helper that reads one may
    /// compute something the kernel never would.
    pub unknown_externs: Vec<String>,
    /// Relocations applied.
    pub relocations: usize,
    /// Instruction words the ABI's boot-time patching rewrote
    /// ([`Abi::patch`]: sparc64 sun4v).
    pub patched: usize,
}

/// A little- or big-endian view for reading and writing words of a region.
pub struct Region<'a> {
    /// The bytes.
    pub mem: &'a mut [u8],
    /// Address of `mem[0]`.
    pub base: u64,
    /// Byte order.
    pub big_endian: bool,
}

impl Region<'_> {
    fn range(&self, addr: u64, n: usize) -> Result<std::ops::Range<usize>, OracleError> {
        let off = addr.checked_sub(self.base).map(|o| o as usize);
        match off {
            Some(o) if o.checked_add(n).is_some_and(|e| e <= self.mem.len()) => Ok(o..o + n),
            _ => Err(OracleError::Load(format!(
                "relocation target {addr:#x} outside the image"
            ))),
        }
    }

    /// Read the 32-bit word at `addr`.
    ///
    /// # Errors
    /// [`OracleError::Load`] when `addr` is outside the region.
    pub fn rd32(&self, addr: u64) -> Result<u32, OracleError> {
        let r = self.range(addr, 4)?;
        let b: [u8; 4] = self.mem[r].try_into().unwrap_or_default();
        Ok(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// Write the 32-bit word at `addr`.
    ///
    /// # Errors
    /// [`OracleError::Load`] when `addr` is outside the region.
    pub fn wr32(&mut self, addr: u64, v: u32) -> Result<(), OracleError> {
        let r = self.range(addr, 4)?;
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.mem[r].copy_from_slice(&b);
        Ok(())
    }

    /// Write the 64-bit word at `addr`.
    ///
    /// # Errors
    /// [`OracleError::Load`] when `addr` is outside the region.
    pub fn wr64(&mut self, addr: u64, v: u64) -> Result<(), OracleError> {
        let r = self.range(addr, 8)?;
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.mem[r].copy_from_slice(&b);
        Ok(())
    }
}

/// One relocation to apply, in loader terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reloc {
    /// `r_type`.
    pub kind: u32,
    /// Where (P).
    pub place: u64,
    /// The symbol's address (S).
    pub sym: u64,
    /// The explicit addend (A) of a RELA relocation; `None` for REL,
    /// whose addend is the word at P.
    pub addend: Option<i64>,
}

fn align_up(v: u64, a: u64) -> u64 {
    let a = a.max(1);
    v.div_ceil(a) * a
}

/// Load `objects` (file name, bytes) with `abi`'s relocator and externals.
///
/// # Errors
/// [`OracleError::Load`] for a malformed object, an image that does not
/// fit, or a relocation type the ABI does not handle (named, with the
/// section it appears in).
pub fn load(abi: &dyn Abi, objects: &[(String, Vec<u8>)]) -> Result<Image, OracleError> {
    let bad = |f: &str, e: String| OracleError::Load(format!("{f}: {e}"));
    let elfs: Vec<Elf> = objects
        .iter()
        .map(|(f, b)| Elf::parse(b).map_err(|e| bad(f, e.to_string())))
        .collect::<Result<_, _>>()?;
    let big_endian = elfs.first().is_some_and(|e| !e.little_endian);

    // 1. lay out every SHF_ALLOC section of every object.
    let mut code = vec![0u8; CODE_SIZE as usize];
    let mut sec_addr: Vec<HashMap<usize, u64>> = vec![HashMap::new(); elfs.len()];
    let mut cur = CODE_BASE;
    let mut sections = Vec::new();
    for (oi, elf) in elfs.iter().enumerate() {
        let bytes = &objects[oi].1;
        for (i, sh) in elf.section_headers.iter().enumerate() {
            if sh.sh_flags & u64::from(SHF_ALLOC) == 0 || sh.sh_size == 0 {
                continue;
            }
            cur = align_up(cur, sh.sh_addralign.max(16));
            if cur
                .checked_add(sh.sh_size)
                .is_none_or(|end| end > CODE_BASE + CODE_SIZE)
            {
                return Err(bad(
                    &objects[oi].0,
                    format!(
                        "sections do not fit the image (section {i} of {:#x} bytes at {cur:#x})",
                        sh.sh_size
                    ),
                ));
            }
            sec_addr[oi].insert(i, cur);
            sections.push(Section {
                name: elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("").to_string(),
                addr: cur,
                size: sh.sh_size,
            });
            if sh.sh_type != SHT_NOBITS {
                let src = usize::try_from(sh.sh_offset)
                    .ok()
                    .zip(usize::try_from(sh.sh_size).ok())
                    .and_then(|(off, n)| bytes.get(off..off.checked_add(n)?))
                    .ok_or_else(|| {
                        bad(
                            &objects[oi].0,
                            format!(
                                "section {i} ({:#x} bytes at offset {:#x}) is out of the {}-byte file",
                                sh.sh_size,
                                sh.sh_offset,
                                bytes.len()
                            ),
                        )
                    })?;
                let o = (cur - CODE_BASE) as usize;
                code[o..o + src.len()].copy_from_slice(src);
            }
            cur += sh.sh_size;
        }
    }

    // 2. defined globals across objects, and the wrappers.
    let mut globals: HashMap<String, u64> = HashMap::new();
    // Every defined symbol, locals too (the first of a name wins), for the
    // ABI's boot-time patching.
    let mut defined: HashMap<String, u64> = HashMap::new();
    let mut wrappers: HashMap<String, u64> = HashMap::new();
    for (oi, elf) in elfs.iter().enumerate() {
        for s in elf.syms.iter() {
            if s.st_shndx == 0 || s.st_name == 0 {
                continue;
            }
            let Some(&base) = sec_addr[oi].get(&s.st_shndx) else {
                continue;
            };
            let name = elf.strtab.get_at(s.st_name).unwrap_or("");
            let addr = base.checked_add(s.st_value).ok_or_else(|| {
                bad(
                    &objects[oi].0,
                    format!("symbol '{name}' value {:#x} overflows", s.st_value),
                )
            })?;
            if s.st_bind() != goblin::elf::sym::STB_LOCAL {
                globals.insert(name.to_string(), addr);
            }
            defined.entry(name.to_string()).or_insert(addr);
            if let Some(w) = name.strip_prefix("oracle_") {
                if s.st_type() == goblin::elf::sym::STT_FUNC {
                    wrappers.insert(w.to_string(), addr);
                }
            }
        }
    }

    // 3. externals provided by the ABI.
    let mut ext = vec![0u8; EXT_SIZE as usize];
    let mut ext_cur = EXT_BASE;
    let mut ext_syms: HashMap<String, u64> = HashMap::new();
    let mut put = |ext: &mut Vec<u8>, data: &[u8]| -> Result<u64, OracleError> {
        let a = ext_cur;
        let o = (a - EXT_BASE) as usize;
        if o + data.len() > ext.len() {
            return Err(OracleError::Load("externals do not fit".into()));
        }
        ext[o..o + data.len()].copy_from_slice(data);
        ext_cur = align_up(a + data.len() as u64 + 1, 256);
        Ok(a)
    };
    for Extern { name, bytes } in abi.externs() {
        let a = put(&mut ext, &bytes)?;
        ext_syms.insert(name.to_string(), a);
    }
    let mut unknown_externs = Vec::new();

    // 4. relocations.
    let mut relocations = 0;
    for (oi, elf) in elfs.iter().enumerate() {
        let fname = &objects[oi].0;
        for (rsec, relocs) in elf.shdr_relocs.iter() {
            let target = elf.section_headers[*rsec].sh_info as usize;
            let Some(&tbase) = sec_addr[oi].get(&target) else {
                continue; // relocations of a section we do not load
            };
            let tname = elf
                .shdr_strtab
                .get_at(elf.section_headers[target].sh_name)
                .unwrap_or("?")
                .to_string();
            for r in relocs.iter() {
                let s = elf
                    .syms
                    .get(r.r_sym)
                    .ok_or_else(|| bad(fname, format!("bad symbol index {}", r.r_sym)))?;
                let name = elf.strtab.get_at(s.st_name).unwrap_or("");
                let sym = if s.st_shndx == 0 {
                    if let Some(&a) = globals.get(name).or_else(|| ext_syms.get(name)) {
                        a
                    } else {
                        let a = put(&mut ext, &[0u8; UNKNOWN_EXTERN_BYTES])?;
                        ext_syms.insert(name.to_string(), a);
                        unknown_externs.push(name.to_string());
                        a
                    }
                } else if s.st_shndx == goblin::elf::section_header::SHN_ABS as usize {
                    s.st_value
                } else {
                    let base = sec_addr[oi].get(&s.st_shndx).copied().unwrap_or(0);
                    base.checked_add(s.st_value).ok_or_else(|| {
                        bad(
                            fname,
                            format!("symbol '{name}' value {:#x} overflows", s.st_value),
                        )
                    })?
                };
                let place = tbase.checked_add(r.r_offset).ok_or_else(|| {
                    bad(
                        fname,
                        format!("relocation offset {:#x} in {tname} overflows", r.r_offset),
                    )
                })?;
                let rel = Reloc {
                    kind: r.r_type,
                    place,
                    sym,
                    addend: r.r_addend,
                };
                let mut region = Region {
                    mem: &mut code,
                    base: CODE_BASE,
                    big_endian,
                };
                abi.relocate(&mut region, rel).map_err(|e| match e {
                    OracleError::Load(m) => bad(fname, format!("{m} in {tname}")),
                    e => e,
                })?;
                relocations += 1;
            }
        }
    }
    unknown_externs.sort();
    unknown_externs.dedup();
    // 5. boot-time patching, on the relocated code.
    let patched = abi.patch(
        &mut Region {
            mem: &mut code,
            base: CODE_BASE,
            big_endian,
        },
        &sections,
        &defined,
    )?;
    Ok(Image {
        code,
        ext,
        wrappers,
        unknown_externs,
        relocations,
        patched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use goblin::elf::section_header::{SHF_EXECINSTR, SHT_PROGBITS};

    /// A little-endian ELF64 relocatable object for x86_64 whose section
    /// headers (after the null one) are `(sh_type, sh_flags, sh_offset,
    /// sh_size)`, followed by 16 bytes of section data at offset 0x40.
    fn elf64(sections: &[(u32, u64, u64, u64)]) -> Vec<u8> {
        let shoff = 0x50u64;
        let mut b = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
        b.resize(16, 0);
        b.extend(1u16.to_le_bytes()); // e_type: ET_REL
        b.extend(62u16.to_le_bytes()); // e_machine: EM_X86_64
        b.extend(1u32.to_le_bytes()); // e_version
        b.extend(0u64.to_le_bytes()); // e_entry
        b.extend(0u64.to_le_bytes()); // e_phoff
        b.extend(shoff.to_le_bytes()); // e_shoff
        b.extend(0u32.to_le_bytes()); // e_flags
        b.extend(64u16.to_le_bytes()); // e_ehsize
        b.extend(0u16.to_le_bytes()); // e_phentsize
        b.extend(0u16.to_le_bytes()); // e_phnum
        b.extend(64u16.to_le_bytes()); // e_shentsize
        b.extend((sections.len() as u16 + 1).to_le_bytes()); // e_shnum
        b.extend(0u16.to_le_bytes()); // e_shstrndx
        b.resize(shoff as usize, 0xc3); // section data: ret, ret, ...
        b.extend([0u8; 64]); // the null section header
        for &(ty, flags, off, size) in sections {
            b.extend(0u32.to_le_bytes()); // sh_name
            b.extend(ty.to_le_bytes());
            b.extend(flags.to_le_bytes());
            b.extend(0u64.to_le_bytes()); // sh_addr
            b.extend(off.to_le_bytes());
            b.extend(size.to_le_bytes());
            b.extend(0u32.to_le_bytes()); // sh_link
            b.extend(0u32.to_le_bytes()); // sh_info
            b.extend(16u64.to_le_bytes()); // sh_addralign
            b.extend(0u64.to_le_bytes()); // sh_entsize
        }
        b
    }

    fn load_one(bytes: Vec<u8>) -> Result<Image, OracleError> {
        let abi = super::super::abi::by_name("x86_64").expect("abi");
        load(abi.as_ref(), &[("t.o".to_string(), bytes)])
    }

    const TEXT: u64 = (SHF_ALLOC | SHF_EXECINSTR) as u64;

    #[test]
    fn a_well_formed_section_loads() {
        let img = load_one(elf64(&[(SHT_PROGBITS, TEXT, 0x40, 16)])).expect("load");
        assert_eq!(img.code[..16], [0xc3; 16]);
    }

    /// Found by the `elf` fuzz target: `cur + sh_size` overflowed (a panic
    /// with overflow checks, a wrapped bounds check without).
    #[test]
    fn a_section_size_that_overflows_is_an_error_naming_it() {
        for ty in [SHT_PROGBITS, SHT_NOBITS] {
            let e = load_one(elf64(&[(ty, TEXT, 0x40, u64::MAX)])).expect_err("huge");
            assert!(e.to_string().contains("0xffffffffffffffff"), "{e}");
        }
    }

    /// `sh_offset + sh_size` overflowing is an error naming the offset.
    #[test]
    fn a_section_offset_that_overflows_is_an_error_naming_it() {
        let e = load_one(elf64(&[(SHT_PROGBITS, TEXT, u64::MAX - 1, 16)])).expect_err("offset");
        assert!(e.to_string().contains("0xfffffffffffffffe"), "{e}");
    }

    /// A relocation place near the top of the address space is refused,
    /// not wrapped.
    #[test]
    fn region_ranges_do_not_overflow() {
        let mut mem = [0u8; 16];
        let r = Region {
            mem: &mut mem,
            base: 0,
            big_endian: false,
        };
        assert!(r.rd32(u64::MAX - 1).is_err());
        assert!(r.rd32(12).is_ok());
        assert!(r.rd32(13).is_err());
    }
}
