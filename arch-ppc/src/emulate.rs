//! The guest-code walker: `guest/walk.c`, cross-compiled as a 32-bit
//! big-endian PowerPC ELF by `build.rs`, loaded with goblin and executed
//! under Unicorn's PPC32 CPU over the machine's physical memory (the very
//! bytes the model wrote, mapped with `mem_map_ptr`).
//!
//! Why guest code: Unicorn 2.1.5 cannot execute 64-bit PowerPC code at all
//! (its POWER10 default loses MSR[HV] at reset and `ctl_set_cpu_model` picks
//! a 32-bit CPU), and no Unicorn PowerPC model walks Linux's radix tree or
//! hash tables.  A 32-bit guest reads each big-endian 64-bit entry as two
//! 32-bit loads and returns its 64-bit results through memory.
//!
//! What it checks (see the comment at the top of `guest/walk.c`):
//! * radix configurations: the ISA 3.0 radix walk driven by the entries
//!   (V and L bits, the next-level base and size NLB/NLS that `pmd_populate`
//!   and friends encode in `RADIX_*_VAL_BITS`, table alignment, reserved
//!   directory bits), with user-mode EAA permissions at the leaf; R/C bits
//!   are neither checked nor updated;
//! * hash configurations: Linux's own tables read as the hash fault path
//!   reads them (`find_linux_pte()` + `check_pte_access()`), since the hash
//!   MMU itself searches the hashed page table, which the model does not
//!   build.
//!
//! Physical memory sits at guest address [`MEM_BASE`] (the guest runs in
//! real mode, MSR[IR,DR] = 0), so it may be at most [`MAX_MEM`] bytes.

use std::ffi::c_void;
use std::sync::Arc;

use goblin::elf::program_header::PT_LOAD;
use goblin::elf::Elf;
use mm_core::emulate::{Access, EmuError, HwOutcome, HwWalker};
use mm_core::Machine;
use unicorn_engine::unicorn_const::{uc_error, Arch, Mode, Prot};
use unicorn_engine::{RegisterPPC, Unicorn};

use crate::entry::Layout;

/// The guest ELF built by `build.rs` (empty when the compiler is missing).
static GUEST_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/walk-ppc32.elf"));
/// Why the ELF is missing ("" when it was built).
const GUEST_STATUS: &str = env!("PTLAB_PPC_GUEST_STATUS");
/// The command that installs the cross compiler.
pub const INSTALL_HINT: &str = "apt-get install -y gcc-powerpc64-linux-gnu";

/// Guest address of physical address 0.
pub const MEM_BASE: u64 = 0x8000_0000;
/// Largest physical memory the 32-bit guest can reach.
pub const MAX_MEM: u64 = 0x7000_0000;
const STACK: u64 = 0x3000_0000;
const STACK_BYTES: u64 = 0x10000;
const REQ: u64 = 0x3100_0000;
const SENTINEL: u64 = 0x3200_0000;
const GPAGE: u64 = 0x1000;

/// Offsets in `struct req` (all fields are big-endian u64).
mod off {
    pub const MEM_BASE: usize = 0;
    pub const MEM_SIZE: usize = 8;
    pub const ROOT: usize = 16;
    pub const VA: usize = 24;
    pub const WRITE: usize = 32;
    pub const MODE: usize = 40;
    pub const PAGE_SHIFT: usize = 48;
    pub const IDX: usize = 56;
    pub const PTE_TABLE_SIZE: usize = 88;
    pub const PMD_TABLE_SIZE: usize = 96;
    pub const PA: usize = 104;
    pub const STATUS: usize = 112;
    pub const NR: usize = 120;
    pub const TRACE: usize = 128;
    pub const SIZE: usize = 176;
}

/// Instruction budget of one walk (the guest runs a few hundred): a guest
/// that has not returned by then is runaway code, an error naming the
/// budget and the pc.
pub const MAX_INSNS: usize = 1_000_000;

/// The guest ELF built by `build.rs`, if it was (for tests and as a
/// fuzzing seed of [`parse_guest`]).
pub fn guest_elf() -> Option<&'static [u8]> {
    (!GUEST_ELF.is_empty()).then_some(GUEST_ELF)
}

/// One loadable segment of the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestSegment {
    /// First guest address to map (page-aligned).
    pub map_start: u64,
    /// Bytes to map (a whole number of pages).
    pub map_len: u64,
    /// Where the file bytes go.
    pub vaddr: u64,
    /// The bytes from the file.
    pub bytes: Vec<u8>,
}

/// The loadable parts of a guest ELF, checked against the walker's layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestImage {
    /// Each `PT_LOAD` segment.
    pub segments: Vec<GuestSegment>,
    /// The address of `walk`.
    pub entry: u64,
}

fn elf_err(detail: String) -> EmuError {
    EmuError::Emulator { op: "elf", detail }
}

/// Parse the guest ELF `elf_bytes`: its `PT_LOAD` segments, which must lie
/// below the walker's stack (guest address `0x3000_0000`, so that they
/// meet neither the stack, the request block, the return sentinel nor the
/// window on physical memory at [`MEM_BASE`]) with their bytes inside the
/// file, and the `walk` symbol, inside a segment.
///
/// # Errors
/// [`EmuError::Emulator`] (op `elf`) for bytes goblin cannot parse, a
/// segment outside that range or the file (naming its range), or no `walk`
/// or one outside the segments (naming its address).
pub fn parse_guest(elf_bytes: &[u8]) -> Result<GuestImage, EmuError> {
    let elf = Elf::parse(elf_bytes).map_err(|e| elf_err(e.to_string()))?;
    let mut segments = Vec::new();
    for ph in elf.program_headers.iter().filter(|p| p.p_type == PT_LOAD) {
        let (vaddr, memsz) = (ph.p_vaddr, ph.p_memsz);
        let range = vaddr
            .checked_add(memsz)
            .filter(|&end| end <= STACK && ph.p_filesz <= memsz)
            .map(|end| (vaddr & !(GPAGE - 1), end.next_multiple_of(GPAGE)));
        let Some((map_start, map_end)) = range else {
            return Err(elf_err(format!(
                "segment at {vaddr:#x} of {memsz:#x} bytes ({:#x} in the file) is not below \
                 the walker's stack at {STACK:#x}",
                ph.p_filesz
            )));
        };
        let bytes = usize::try_from(ph.p_offset)
            .ok()
            .zip(usize::try_from(ph.p_filesz).ok())
            .and_then(|(off, n)| elf_bytes.get(off..off.checked_add(n)?))
            .ok_or_else(|| {
                elf_err(format!(
                    "segment at {vaddr:#x}: file bytes {:#x}+{:#x} are outside the {}-byte file",
                    ph.p_offset,
                    ph.p_filesz,
                    elf_bytes.len()
                ))
            })?;
        segments.push(GuestSegment {
            map_start,
            map_len: map_end - map_start,
            vaddr,
            bytes: bytes.to_vec(),
        });
    }
    let entry = elf
        .syms
        .iter()
        .find(|s| elf.strtab.get_at(s.st_name) == Some("walk"))
        .map(|s| s.st_value)
        .ok_or_else(|| elf_err("no `walk` symbol".into()))?;
    if !segments
        .iter()
        .any(|s| (s.vaddr..s.vaddr + s.bytes.len() as u64).contains(&entry))
    {
        return Err(elf_err(format!(
            "`walk` at {entry:#x} is outside the loaded segments"
        )));
    }
    Ok(GuestImage { segments, entry })
}

/// Whether the guest walker was built; `Err` says why not and how to fix it.
///
/// # Errors
/// The reason and the apt command, when the ELF is missing.
pub fn guest_available() -> Result<(), String> {
    if GUEST_ELF.is_empty() {
        Err(format!(
            "guest walker not built ({}); install the compiler with `{INSTALL_HINT}` \
             (as root), then rebuild",
            if GUEST_STATUS.is_empty() {
                "no ELF"
            } else {
                GUEST_STATUS
            }
        ))
    } else {
        Ok(())
    }
}

fn emu(op: &'static str) -> impl Fn(uc_error) -> EmuError {
    move |e| EmuError::Emulator {
        op,
        detail: format!("{e:?}"),
    }
}

/// What one guest walk returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestWalk {
    /// The physical address (when `status` is 0).
    pub pa: u64,
    /// Status code (low byte) and level (bits 8..15), as `guest/walk.c`
    /// defines them.
    pub status: u64,
    /// The entries read, top first.
    pub trace: Vec<u64>,
}

impl GuestWalk {
    /// The status's name.
    pub fn reason(&self) -> &'static str {
        match self.status & 0xff {
            0 => "translated",
            1 => "entry not valid",
            2 => "reserved/bad directory bits",
            3 => "table outside physical memory",
            4 => "no read permission",
            5 => "no write permission",
            6 => "privileged page",
            7 => "misaligned leaf or table",
            8 => "no leaf",
            9 => "next-level size out of range",
            10 => "address outside the tree",
            _ => "unknown status",
        }
    }

    /// The level (0 = pgd) the walk stopped at.
    pub fn level(&self) -> u64 {
        (self.status >> 8) & 0xff
    }
}

/// The guest-code walker for one book3s64 configuration.
///
/// The emulator is single-threaded; create one walker per thread.
pub struct PpcGuestWalker {
    // Dropped before `machine`, so the mapping of its memory goes first.
    uc: Unicorn<'static, ()>,
    entry: u64,
    layout: &'static Layout,
    machine: Arc<Machine>,
}

impl std::fmt::Debug for PpcGuestWalker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PpcGuestWalker")
            .field("config", &self.layout.name)
            .field("entry", &format_args!("{:#x}", self.entry))
            .finish()
    }
}

impl PpcGuestWalker {
    /// A walker for `layout` over `machine`'s memory.
    ///
    /// # Errors
    /// [`EmuError::Unsupported`] when the guest ELF was not built (the
    /// message names the apt command); [`EmuError::Emulator`] when the ELF
    /// is malformed, memory is larger than [`MAX_MEM`], or Unicorn fails.
    pub fn new(layout: &'static Layout, machine: Arc<Machine>) -> Result<Self, EmuError> {
        guest_available()
            .map_err(|why| EmuError::Unsupported(format!("{}: {why}", layout.name)))?;
        let image = parse_guest(GUEST_ELF)?;
        Self::with_image(layout, machine, image)
    }

    /// [`PpcGuestWalker::new`] with the guest `image`.
    ///
    /// # Errors
    /// As [`PpcGuestWalker::new`], but for the ELF.
    fn with_image(
        layout: &'static Layout,
        machine: Arc<Machine>,
        image: GuestImage,
    ) -> Result<Self, EmuError> {
        let size = machine.phys.size();
        if size > MAX_MEM {
            return Err(EmuError::Emulator {
                op: "mem_map_ptr",
                detail: format!(
                    "{size:#x} bytes of memory do not fit the 32-bit guest's window of {MAX_MEM:#x}"
                ),
            });
        }
        let mut uc =
            Unicorn::new(Arch::PPC, Mode::PPC32 | Mode::BIG_ENDIAN).map_err(emu("Unicorn::new"))?;
        for seg in &image.segments {
            uc.mem_map(seg.map_start, seg.map_len, Prot::ALL)
                .map_err(emu("mem_map elf"))?;
            uc.mem_write(seg.vaddr, &seg.bytes)
                .map_err(emu("mem_write elf"))?;
        }
        let entry = image.entry;
        uc.mem_map(STACK, STACK_BYTES, Prot::ALL)
            .map_err(emu("mem_map stack"))?;
        uc.mem_map(REQ, GPAGE, Prot::ALL)
            .map_err(emu("mem_map req"))?;
        uc.mem_map(SENTINEL, GPAGE, Prot::ALL)
            .map_err(emu("mem_map sentinel"))?;
        // SAFETY: the pointer and size describe the machine's physical
        // memory, which `self.machine` (an `Arc`) keeps alive for as long as
        // the engine exists: `uc` is declared before `machine` in the struct,
        // so it is dropped (and the mapping closed) first.  The guest only
        // reads through the mapping (two 32-bit loads per entry, no stores),
        // and the memory is `AtomicU64`s, so reads concurrent with the
        // model's atomic stores are not a data race on the Rust side;
        // `translate` documents that the model must be quiescent meanwhile.
        unsafe {
            uc.mem_map_ptr(
                MEM_BASE,
                size,
                Prot::READ,
                machine.phys.as_ptr() as *mut c_void,
            )
            .map_err(emu("mem_map_ptr"))?;
        }
        Ok(PpcGuestWalker {
            uc,
            entry,
            layout,
            machine,
        })
    }

    /// The machine whose memory the walker reads.
    pub fn machine(&self) -> &Arc<Machine> {
        &self.machine
    }

    /// Run one guest walk of `va` from the pgd at `root_pa`.
    ///
    /// # Errors
    /// [`EmuError::Emulator`] when the guest does not return normally.
    pub fn walk(&mut self, root_pa: u64, va: u64, write: bool) -> Result<GuestWalk, EmuError> {
        let l = self.layout;
        let mut req = [0u8; off::SIZE];
        let mut put = |o: usize, v: u64| req[o..o + 8].copy_from_slice(&v.to_be_bytes());
        put(off::MEM_BASE, MEM_BASE);
        put(off::MEM_SIZE, self.machine.phys.size());
        put(off::ROOT, root_pa);
        put(off::VA, va);
        put(off::WRITE, write as u64);
        put(off::MODE, if l.radix { 0 } else { 1 });
        put(off::PAGE_SHIFT, l.page_shift as u64);
        // pgd, pud, pmd, pte index bits.
        for (i, bits) in [l.index[3], l.index[2], l.index[1], l.index[0]]
            .into_iter()
            .enumerate()
        {
            put(off::IDX + 8 * i, bits as u64);
        }
        put(off::PTE_TABLE_SIZE, l.pte_table_size);
        put(off::PMD_TABLE_SIZE, l.pmd_table_size);
        self.uc.mem_write(REQ, &req).map_err(emu("mem_write req"))?;
        self.uc.reg_write(RegisterPPC::R3, REQ).map_err(emu("r3"))?;
        self.uc
            .reg_write(RegisterPPC::R1, STACK + STACK_BYTES - 64)
            .map_err(emu("r1"))?;
        self.uc
            .reg_write(RegisterPPC::LR, SENTINEL)
            .map_err(emu("lr"))?;
        self.uc
            .emu_start(self.entry, SENTINEL, 0, MAX_INSNS)
            .map_err(emu("emu_start"))?;
        let pc = self.uc.reg_read(RegisterPPC::PC).map_err(emu("pc"))?;
        if pc != SENTINEL {
            // A fault is an emu_start error; stopping elsewhere without one
            // is the instruction count running out.
            return Err(EmuError::Emulator {
                op: "walk",
                detail: format!(
                    "the guest did not return within its budget of {MAX_INSNS} instructions: \
                     runaway guest code stopped at pc {pc:#x} (va {va:#x})"
                ),
            });
        }
        let mut out = [0u8; off::SIZE];
        self.uc
            .mem_read(REQ, &mut out)
            .map_err(emu("mem_read req"))?;
        let get = |o: usize| u64::from_be_bytes(out[o..o + 8].try_into().unwrap_or([0; 8]));
        let nr = get(off::NR).min(6) as usize;
        Ok(GuestWalk {
            pa: get(off::PA),
            status: get(off::STATUS),
            trace: (0..nr).map(|i| get(off::TRACE + 8 * i)).collect(),
        })
    }
}

impl HwWalker for PpcGuestWalker {
    fn describe(&self) -> String {
        let l = self.layout;
        if l.radix {
            format!(
                "{}: guest-code walker (guest/walk.c, 32-bit BE PowerPC under unicorn PPC32, \
                 real mode) doing the ISA 3.0 radix walk over the model's big-endian tables: \
                 V/L bits, NLB/NLS from each directory entry (RPDS {}), table alignment, \
                 reserved directory bits; user-mode EAA permission at the leaf (read: R or RW, \
                 write: RW, PRIVILEGED faults); R/C not checked or set",
                l.name, l.index[3]
            )
        } else {
            format!(
                "{}: guest-code walker (guest/walk.c, 32-bit BE PowerPC under unicorn PPC32, \
                 real mode) reading Linux's hash-MMU tables as the hash fault path does \
                 (find_linux_pte + check_pte_access: PRESENT and READ, WRITE for stores, \
                 PRIVILEGED faults, PMD_MASKED_BITS, pmd_bad/pud_bad alignment); the hashed \
                 page table itself is not built or searched",
                l.name
            )
        }
    }

    /// `_PAGE_PA_MAX`: the walker computes addresses, it does not access
    /// the data.
    fn phys_bits(&self) -> u32 {
        crate::entry::_PAGE_PA_MAX
    }

    /// One guest walk per call.  The model must be quiescent meanwhile.
    fn translate(&mut self, root_pa: u64, va: u64, access: Access) -> Result<HwOutcome, EmuError> {
        let w = self.walk(root_pa, va, access == Access::Write)?;
        if w.status & 0xff == 0 {
            return Ok(HwOutcome::Translated { pa: w.pa });
        }
        Ok(HwOutcome::Fault {
            detail: format!(
                "{access:?} of {va:#x}: guest walker: {} at level {} (entries {:x?})",
                w.reason(),
                w.level(),
                w.trace
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mm_core::machine::Mode;
    use mm_core::Arch as _;

    /// `b .`: branch to itself, forever.
    const INSN_B_SELF: u32 = 0x4800_0000;

    #[test]
    fn runaway_guest_stops_at_the_budget() {
        let a = crate::Ppc::from_name("ppc64-radix-4k").expect("config");
        let machine = Machine::new(a.geometry(), 1 << 20, Mode::Deterministic).expect("machine");
        let code = 0x1000_0000;
        let image = GuestImage {
            segments: vec![GuestSegment {
                map_start: code,
                map_len: GPAGE,
                vaddr: code,
                bytes: INSN_B_SELF.to_be_bytes().to_vec(),
            }],
            entry: code,
        };
        let layout = a.layout();
        let mut w = PpcGuestWalker::with_image(layout, machine, image).expect("walker");
        let e = w
            .walk(0, 0x1000, false)
            .expect_err("an endless loop must not return");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("budget of {MAX_INSNS} instructions"))
                && msg.contains(&format!("pc {code:#x}")),
            "{msg}"
        );
    }

    #[test]
    fn parse_guest_rejects_bad_elves_with_the_value() {
        assert!(parse_guest(b"").is_err());
        assert!(parse_guest(b"\x7fELF\x01\x02\x01").is_err());
        let Some(elf) = guest_elf() else {
            return;
        };
        parse_guest(elf).expect("the built guest parses");
        // Elf32 big-endian: e_phoff at 0x1c; p_vaddr at offset 8 of a
        // program header, p_memsz at 20.
        let phoff = u32::from_be_bytes(elf[0x1c..0x20].try_into().expect("4")) as usize;
        let mut bad = elf.to_vec();
        bad[phoff + 8..phoff + 12].copy_from_slice(&0x3100_0000u32.to_be_bytes());
        let msg = parse_guest(&bad)
            .expect_err("vaddr on the request page")
            .to_string();
        assert!(msg.contains("segment at 0x31000000"), "{msg}");
        let mut bad = elf.to_vec();
        bad[phoff + 4..phoff + 8].copy_from_slice(&u32::MAX.to_be_bytes());
        let msg = parse_guest(&bad).expect_err("offset").to_string();
        assert!(msg.contains("0xffffffff"), "{msg}");
    }
}
