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

use super::abi::{Abi, Extern};
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
            Some(o) if o + n <= self.mem.len() => Ok(o..o + n),
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
    for (oi, elf) in elfs.iter().enumerate() {
        let bytes = &objects[oi].1;
        for (i, sh) in elf.section_headers.iter().enumerate() {
            if sh.sh_flags & u64::from(SHF_ALLOC) == 0 || sh.sh_size == 0 {
                continue;
            }
            cur = align_up(cur, sh.sh_addralign.max(16));
            if cur + sh.sh_size > CODE_BASE + CODE_SIZE {
                return Err(bad(&objects[oi].0, "sections do not fit the image".into()));
            }
            sec_addr[oi].insert(i, cur);
            if sh.sh_type != SHT_NOBITS {
                let src = bytes
                    .get(sh.sh_offset as usize..(sh.sh_offset + sh.sh_size) as usize)
                    .ok_or_else(|| bad(&objects[oi].0, format!("section {i} out of file")))?;
                let o = (cur - CODE_BASE) as usize;
                code[o..o + src.len()].copy_from_slice(src);
            }
            cur += sh.sh_size;
        }
    }

    // 2. defined globals across objects, and the wrappers.
    let mut globals: HashMap<String, u64> = HashMap::new();
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
            let addr = base + s.st_value;
            if s.st_bind() != goblin::elf::sym::STB_LOCAL {
                globals.insert(name.to_string(), addr);
            }
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
                    sec_addr[oi].get(&s.st_shndx).copied().unwrap_or(0) + s.st_value
                };
                let rel = Reloc {
                    kind: r.r_type,
                    place: tbase + r.r_offset,
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
    Ok(Image {
        code,
        ext,
        wrappers,
        unknown_externs,
        relocations,
    })
}
