//! The sparc64 TLB-miss refill path as guest code, executed under Unicorn.
//!
//! sparc64 has no hardware page-table walker (Unicorn's sparc64 CPU has a
//! software-loaded 64-entry TLB and traps on a miss), so the "hardware"
//! translation here is Linux's own refill path: `guest/tsb_refill.c`,
//! cross-compiled for sparc64 by `build.rs`, loaded from its ELF with goblin
//! and run by Unicorn's sparc64 CPU (`Arch::SPARC`, `Mode::SPARC64 |
//! BIG_ENDIAN`) with the MMU off (VA == PA), over the very bytes of the
//! model's physical memory (mapped with `mem_map_ptr`).  For one access it
//!
//! 1. probes the 8K TSB at `(va >> 13) & (n - 1)` and the huge TSB at
//!    `(va >> 22) & (n - 1)` for the tag `va >> 22`;
//! 2. on a miss in both, walks the tables as `USER_PGTABLE_WALK_TL1`
//!    (`arch/sparc/include/asm/tsb.h`): pgd, pud (the pud-huge patch site
//!    left unpatched: no 16G hugetlb), pmd (a huge pmd needs V and gets VA
//!    bit 22), pte (needs V); a failed walk is `do_sparc64_fault()`;
//! 3. refills the TSB the TTE belongs to (`TSB_LOCK_TAG`, `TSB_WRITE`);
//! 4. decodes the TTE as the D-MMU does for a user data access: page size
//!    from the size field, the physical address, and a fault for a store
//!    without W, a privileged (P) page, or a no-fault-only page.
//!
//! The TSBs live in a private region above the machine's memory.
//! [`HwWalker::translate`] invalidates them first (as the kernel's TSB
//! flushes keep them coherent with the tables it changes; the model changes
//! tables without telling the walker), so every query exercises the full
//! miss path; [`SparcWalker::miss`] keeps them, for the TSB agreement checks.
//!
//! Unicorn 2.1.5's sparc64 defects and their workarounds
//! (`unicorn-notes.md` §3): `until` does not stop the CPU, and every
//! `jmpl`/`retl` raises TT_UNALIGNED, so the guest is one inlined function
//! built with `-fno-delayed-branch` and the walker stops it *at* each `retl`
//! with code hooks; `save` traps, so it is built with `-mflat`; the target
//! page size is 8K, so every mapping is 8K-granular.
//!
//! What this does not check: Unicorn's own TLB is not involved (its
//! UltraSPARC IV takes only sun4u TTEs, and Linux on sun4v loads the TLB
//! through the hypervisor), so the TTE decoding in step 4 is the guest
//! code's, written from the TTE formats.

use std::ffi::c_void;
use std::sync::Arc;

use goblin::elf::{program_header::PT_LOAD, Elf};
use mm_core::emulate::{Access, EmuError, HwOutcome, HwWalker};
use mm_core::{Machine, MmError};
use unicorn_engine::unicorn_const::{uc_error, Arch, Mode, Prot};
use unicorn_engine::{RegisterSPARC, Unicorn};

use crate::entry::TteLayout;
use crate::entry::{PAGE_SHIFT, REAL_HPAGE_SHIFT};
use crate::tsb::{
    MissOutcome, Tsb, TSB_ENTRY_BYTES, TSB_MAX_ENTRIES, TSB_MIN_ENTRIES, TSB_TAG_INVALID,
};

/// The guest ELF, when `build.rs` could build it.
#[cfg(sparc_guest)]
const GUEST_ELF: Option<&[u8]> = Some(include_bytes!(env!("SPARC_GUEST_ELF")));
/// The guest ELF, when `build.rs` could build it.
#[cfg(not(sparc_guest))]
const GUEST_ELF: Option<&[u8]> = None;

/// How the guest was (or was not) built: `build.rs`'s message, naming the
/// install command when the cross compiler was missing.
pub const GUEST_STATUS: &str = env!("SPARC_GUEST_STATUS");

/// Whether the guest refill code is built into this crate.
pub fn guest_available() -> bool {
    GUEST_ELF.is_some()
}

/// The guest ELF built by `build.rs`, if it was (for tests and as a fuzzing
/// seed of [`parse_guest`]).
pub fn guest_elf() -> Option<&'static [u8]> {
    GUEST_ELF
}

/// Start of the walker's private guest-physical region (code, parameter
/// block, stack, TSBs); the machine's memory must end below it.  The guest is
/// linked here (`-Wl,-Ttext-segment=0xe0000000`).
pub const PRIVATE_BASE: u64 = 0xe000_0000;
/// Size of the private region.
pub const PRIVATE_BYTES: u64 = 0x40_0000;
const ARGS_PA: u64 = PRIVATE_BASE + 0x10_0000;
const STACK_PA: u64 = PRIVATE_BASE + 0x11_0000;
const STACK_BYTES: u64 = 0x1_0000;
/// Guest-physical address of the 8K TSB.
pub const TSB_BASE_PA: u64 = PRIVATE_BASE + 0x20_0000;
/// Guest-physical address of the huge TSB.
pub const TSB_HUGE_PA: u64 = PRIVATE_BASE + 0x30_0000;
/// `retl` (`jmpl %o7 + 8, %g0`).
const INSN_RETL: u32 = 0x81c3_e008;
/// The V9 stack bias.
const STACK_BIAS: u64 = 2047;
/// A return address nothing reaches (the walker stops at the `retl`).
const SENTINEL: u64 = PRIVATE_BASE + 0xf_0000;
/// Instruction budget of one call (the guest runs a few dozen): a guest
/// that has not reached a `retl` by then is runaway code, an error naming
/// the budget and the pc.
pub const MAX_INSNS: usize = 20_000;

/// Number of u64 fields of `struct miss_args` in `guest/tsb_refill.c`.
const NR_ARGS: usize = 15;

/// Why the access faulted once the TLB held the TTE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TteFault {
    /// A store to a TTE without the hardware W bit
    /// (`fast_data_access_protection`).
    Protection,
    /// A user access to a privileged (P) page.
    Privileged,
    /// A normal access to a no-fault-only (NFO) page.
    NoFaultOnly,
}

/// What the guest did for one miss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestMiss {
    /// How the miss was resolved (TSB hit, refill, or failed walk).
    pub outcome: MissOutcome,
    /// Whether a huge TTE was walked but there was no huge TSB to put it in.
    pub uncached: bool,
    /// The TTE loaded into the TLB (0 after a failed walk).
    pub tte: u64,
    /// The TSB entry probed or written (0 when none).
    pub slot: u64,
    /// The translated physical address (valid unless the walk failed).
    pub pa: u64,
    /// The page shift of the TTE's size.
    pub page_shift: u32,
    /// A fault of the access itself, with the TTE in the TLB.
    pub fault: Option<TteFault>,
}

/// The loadable parts of a guest ELF, checked against the walker's layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestImage {
    /// Each `PT_LOAD` segment: its address and its bytes from the file.
    pub segments: Vec<(u64, Vec<u8>)>,
    /// The address of `tlb_miss`.
    pub entry: u64,
    /// The address of every `retl` in the executable segments: where the
    /// walker stops the guest.
    pub exits: Vec<u64>,
}

fn elf_err(detail: String) -> EmuError {
    EmuError::Emulator { op: "elf", detail }
}

/// Parse the guest ELF `elf_bytes`: its `PT_LOAD` segments, which must lie
/// in the code area `PRIVATE_BASE..PRIVATE_BASE + 1M` with their bytes
/// inside the file, the `tlb_miss` symbol (inside a loaded segment), and
/// the `retl`s of its text.
///
/// # Errors
/// [`EmuError::Emulator`] (op `elf`) for bytes goblin cannot parse, a
/// segment outside the code area or the file (naming its range), no
/// `tlb_miss` or one outside the segments (naming its address), or no
/// `retl`.
pub fn parse_guest(elf_bytes: &[u8]) -> Result<GuestImage, EmuError> {
    let elf = Elf::parse(elf_bytes).map_err(|e| elf_err(e.to_string()))?;
    let mut segments = Vec::new();
    let mut exits = Vec::new();
    for ph in elf.program_headers.iter().filter(|p| p.p_type == PT_LOAD) {
        let (vaddr, memsz) = (ph.p_vaddr, ph.p_memsz);
        let end = vaddr
            .checked_add(memsz)
            .filter(|&e| vaddr >= PRIVATE_BASE && e <= ARGS_PA && ph.p_filesz <= memsz);
        let Some(end) = end else {
            return Err(elf_err(format!(
                "segment at {vaddr:#x} of {memsz:#x} bytes ({:#x} in the file) is not inside \
                 the code area {PRIVATE_BASE:#x}..{ARGS_PA:#x}",
                ph.p_filesz
            )));
        };
        let seg = usize::try_from(ph.p_offset)
            .ok()
            .zip(usize::try_from(ph.p_filesz).ok())
            .and_then(|(off, n)| elf_bytes.get(off..off.checked_add(n)?))
            .ok_or_else(|| {
                elf_err(format!(
                    "segment {vaddr:#x}..{end:#x}: file bytes {:#x}+{:#x} are outside the \
                     {}-byte file",
                    ph.p_offset,
                    ph.p_filesz,
                    elf_bytes.len()
                ))
            })?;
        if ph.is_executable() {
            for (i, w) in seg.chunks_exact(4).enumerate() {
                if u32::from_be_bytes([w[0], w[1], w[2], w[3]]) == INSN_RETL {
                    exits.push(vaddr + 4 * i as u64);
                }
            }
        }
        segments.push((vaddr, seg.to_vec()));
    }
    let entry = elf
        .syms
        .iter()
        .find(|s| elf.strtab.get_at(s.st_name) == Some("tlb_miss"))
        .map(|s| s.st_value)
        .ok_or_else(|| elf_err("no symbol tlb_miss".into()))?;
    if !segments
        .iter()
        .any(|(a, b)| (*a..a + b.len() as u64).contains(&entry))
    {
        return Err(elf_err(format!(
            "tlb_miss at {entry:#x} is outside the loaded segments"
        )));
    }
    if exits.is_empty() {
        return Err(elf_err("no retl in the guest text".into()));
    }
    Ok(GuestImage {
        segments,
        entry,
        exits,
    })
}

#[derive(Debug, Default)]
struct HookState {
    intr: Option<u32>,
}

/// The sparc64 refill path under Unicorn, on the machine's own memory.
///
/// The emulator is single-threaded (`Unicorn` is neither `Send` nor `Sync`);
/// create one walker per thread.
pub struct SparcWalker {
    // Declared before `machine`: the engine (and its mapping of the
    // machine's memory) is closed before the `Arc<Machine>` is released.
    uc: Unicorn<'static, HookState>,
    tte: TteLayout,
    entry: u64,
    exits: Vec<u64>,
    base_entries: u64,
    huge_entries: u64,
    machine: Arc<Machine>,
}

impl std::fmt::Debug for SparcWalker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparcWalker")
            .field("tte", &self.tte)
            .field("entry", &self.entry)
            .field("exits", &self.exits)
            .field("base_entries", &self.base_entries)
            .field("huge_entries", &self.huge_entries)
            .finish()
    }
}

fn emu(op: &'static str) -> impl Fn(uc_error) -> EmuError {
    move |e| EmuError::Emulator {
        op,
        detail: format!("{e:?}"),
    }
}

fn name_of(tte: TteLayout) -> &'static str {
    match tte {
        TteLayout::Sun4v => "sparc64",
        TteLayout::Sun4u => "sparc64-sun4u",
    }
}

impl SparcWalker {
    /// A walker for layout `tte` on `machine`'s memory, with TSBs of the
    /// kernel's initial size (512 entries each).
    ///
    /// # Errors
    /// As [`SparcWalker::with_tsb_entries`].
    pub fn new(tte: TteLayout, machine: Arc<Machine>) -> Result<Self, EmuError> {
        Self::with_tsb_entries(tte, machine, TSB_MIN_ENTRIES, TSB_MIN_ENTRIES)
    }

    /// A walker with an 8K TSB of `base_entries` and a huge TSB of
    /// `huge_entries` entries (0: no huge TSB).
    ///
    /// # Errors
    /// [`EmuError::Unsupported`] when the guest was not built (the message
    /// names the install command); [`EmuError::Emulator`] when the memory is
    /// not in 8K frames or reaches the private region, a TSB size is not a
    /// power of two in 512..=65536, the ELF is malformed, or Unicorn refuses
    /// the setup.
    pub fn with_tsb_entries(
        tte: TteLayout,
        machine: Arc<Machine>,
        base_entries: u64,
        huge_entries: u64,
    ) -> Result<Self, EmuError> {
        let Some(elf_bytes) = GUEST_ELF else {
            return Err(EmuError::Unsupported(format!(
                "{}: the TSB refill guest is not built: {GUEST_STATUS}",
                name_of(tte)
            )));
        };
        let image = parse_guest(elf_bytes)?;
        Self::with_image(tte, machine, base_entries, huge_entries, image)
    }

    /// [`SparcWalker::with_tsb_entries`] with the guest `image`.
    ///
    /// # Errors
    /// As [`SparcWalker::with_tsb_entries`], but for the ELF.
    fn with_image(
        tte: TteLayout,
        machine: Arc<Machine>,
        base_entries: u64,
        huge_entries: u64,
        image: GuestImage,
    ) -> Result<Self, EmuError> {
        let ok_size =
            |n: u64| n.is_power_of_two() && (TSB_MIN_ENTRIES..=TSB_MAX_ENTRIES).contains(&n);
        if !ok_size(base_entries) || !(huge_entries == 0 || ok_size(huge_entries)) {
            return Err(EmuError::Emulator {
                op: "new",
                detail: format!(
                    "TSB sizes {base_entries}/{huge_entries}: each must be a power of two in 512..=65536"
                ),
            });
        }
        let size = machine.phys.size();
        if machine.phys.page_shift() != PAGE_SHIFT || !size.is_multiple_of(1 << PAGE_SHIFT) {
            return Err(EmuError::Emulator {
                op: "new",
                detail: format!("physical memory of {size} bytes is not in 8K frames"),
            });
        }
        if size > PRIVATE_BASE {
            return Err(EmuError::Emulator {
                op: "new",
                detail: format!(
                    "{size} bytes of memory reach the walker's private region at {PRIVATE_BASE:#x}"
                ),
            });
        }
        let mut uc = Unicorn::new_with_data(
            Arch::SPARC,
            Mode::SPARC64 | Mode::BIG_ENDIAN,
            HookState::default(),
        )
        .map_err(emu("open"))?;
        // SAFETY: `as_ptr()` points at the `size` bytes of the machine's
        // physical memory (a boxed slice of `AtomicU64`, 8-aligned, a whole
        // number of 8K frames, checked above).  The memory outlives the
        // mapping: the walker holds an `Arc<Machine>` and its `uc` field is
        // declared first, so the engine is closed before that `Arc` is
        // dropped; the boxed slice never moves or resizes.  The guest only
        // reads table memory (its stores go to the private region), and only
        // inside `miss`/`translate`, which require the model to be quiescent.
        unsafe {
            uc.mem_map_ptr(0, size, Prot::ALL, machine.phys.as_ptr() as *mut c_void)
                .map_err(emu("mem_map_ptr"))?;
        }
        uc.mem_map(PRIVATE_BASE, PRIVATE_BYTES, Prot::ALL)
            .map_err(emu("mem_map"))?;
        for (vaddr, seg) in &image.segments {
            uc.mem_write(*vaddr, seg).map_err(emu("mem_write"))?;
        }
        let GuestImage { entry, exits, .. } = image;
        // Unicorn's sparc64 `until` does not stop the CPU: stop at each
        // retl instead (the function's result is in memory by then).
        for &e in &exits {
            uc.add_code_hook(e, e, |uc: &mut Unicorn<'_, HookState>, _, _| {
                let _ = uc.emu_stop();
            })
            .map_err(emu("add_code_hook"))?;
        }
        uc.add_intr_hook(|uc: &mut Unicorn<'_, HookState>, intno| {
            uc.get_data_mut().intr = Some(intno);
            let _ = uc.emu_stop();
        })
        .map_err(emu("add_intr_hook"))?;
        let mut w = SparcWalker {
            uc,
            tte,
            entry,
            exits,
            base_entries,
            huge_entries,
            machine,
        };
        w.flush_tsbs()?;
        Ok(w)
    }

    /// The machine whose memory this walker reads.
    pub fn machine(&self) -> &Arc<Machine> {
        &self.machine
    }

    /// Invalidate every entry of both TSBs (`tsb_init()`).
    ///
    /// # Errors
    /// [`EmuError::Emulator`] when Unicorn fails.
    pub fn flush_tsbs(&mut self) -> Result<(), EmuError> {
        for (pa, n) in [
            (TSB_BASE_PA, self.base_entries),
            (TSB_HUGE_PA, self.huge_entries),
        ] {
            let mut img = Vec::with_capacity((n * TSB_ENTRY_BYTES) as usize);
            for _ in 0..n {
                img.extend_from_slice(&TSB_TAG_INVALID.to_be_bytes());
                img.extend_from_slice(&0u64.to_be_bytes());
            }
            self.uc.mem_write(pa, &img).map_err(emu("mem_write"))?;
        }
        Ok(())
    }

    /// The guest's TSB `which` ([`crate::tsb::MM_TSB_BASE`] or
    /// [`crate::tsb::MM_TSB_HUGE`]) as it sits in memory; `None` for an
    /// absent huge TSB.
    ///
    /// # Errors
    /// [`EmuError::Emulator`] when Unicorn fails; [`EmuError::Mm`] for a bad
    /// size (cannot happen for sizes the constructor accepted).
    pub fn tsb(&self, which: usize) -> Result<Option<Tsb>, EmuError> {
        let (pa, n, shift) = if which == crate::tsb::MM_TSB_BASE {
            (TSB_BASE_PA, self.base_entries, PAGE_SHIFT)
        } else {
            (TSB_HUGE_PA, self.huge_entries, REAL_HPAGE_SHIFT)
        };
        if n == 0 {
            return Ok(None);
        }
        let mut buf = vec![0u8; (n * TSB_ENTRY_BYTES) as usize];
        self.uc.mem_read(pa, &mut buf).map_err(emu("mem_read"))?;
        Ok(Some(Tsb::from_be_bytes(&buf, shift)?))
    }

    /// Run the guest for one data-TLB miss at `va` (a store when `write`)
    /// with the tables rooted at `pgd_pa`, keeping whatever the TSBs hold.
    /// The model must be quiescent during the call.
    ///
    /// # Errors
    /// [`EmuError::Emulator`] when the guest raises a trap, does not reach a
    /// `retl`, or Unicorn fails; [`EmuError::Mm`] for a root outside memory.
    pub fn miss(&mut self, pgd_pa: u64, va: u64, write: bool) -> Result<GuestMiss, EmuError> {
        if !pgd_pa.is_multiple_of(1 << PAGE_SHIFT)
            || pgd_pa + (1 << PAGE_SHIFT) > self.machine.phys.size()
        {
            return Err(EmuError::Mm(MmError::BadAddress { pa: pgd_pa }));
        }
        let args: [u64; NR_ARGS] = [
            pgd_pa,
            va,
            write as u64,
            (self.tte == TteLayout::Sun4v) as u64,
            TSB_BASE_PA,
            self.base_entries,
            if self.huge_entries == 0 {
                0
            } else {
                TSB_HUGE_PA
            },
            self.huge_entries,
            0, // .pud_huge_patch not applied: no 16G hugetlb pages
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        let mut img = Vec::with_capacity(NR_ARGS * 8);
        for a in args {
            img.extend_from_slice(&a.to_be_bytes());
        }
        self.uc.mem_write(ARGS_PA, &img).map_err(emu("mem_write"))?;
        self.uc.get_data_mut().intr = None;
        let sp = STACK_PA + STACK_BYTES - 0x400 - STACK_BIAS;
        self.uc
            .reg_write(RegisterSPARC::SP, sp)
            .map_err(emu("sp"))?;
        self.uc
            .reg_write(RegisterSPARC::O7, SENTINEL - 8)
            .map_err(emu("o7"))?;
        self.uc
            .reg_write(RegisterSPARC::O0, ARGS_PA)
            .map_err(emu("o0"))?;
        let r = self.uc.emu_start(self.entry, 0xdead_0000, 0, MAX_INSNS);
        let pc = self.uc.reg_read(RegisterSPARC::PC).map_err(emu("pc"))?;
        if let Some(intno) = self.uc.get_data().intr {
            return Err(EmuError::Emulator {
                op: "tlb_miss",
                detail: format!("the guest raised trap {intno} at pc {pc:#x} (va {va:#x})"),
            });
        }
        r.map_err(emu("emu_start"))?;
        if !self.exits.contains(&pc) {
            // Neither a retl hook nor a trap stopped it: the count did.
            return Err(EmuError::Emulator {
                op: "tlb_miss",
                detail: format!(
                    "the guest did not reach a retl within its budget of {MAX_INSNS} \
                     instructions: runaway guest code stopped at pc {pc:#x} (va {va:#x})"
                ),
            });
        }
        let mut out = vec![0u8; NR_ARGS * 8];
        self.uc
            .mem_read(ARGS_PA, &mut out)
            .map_err(emu("mem_read"))?;
        let f = |i: usize| u64::from_be_bytes(out[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        let (how, tte, slot, pa, shift, fault) = (f(9), f(10), f(11), f(12), f(13), f(14));
        let (outcome, uncached) = match how {
            1 => (MissOutcome::HitBase, false),
            2 => (MissOutcome::HitHuge, false),
            3 => (MissOutcome::RefillBase, false),
            4 => (MissOutcome::RefillHuge, false),
            5 => (MissOutcome::RefillHuge, true),
            8 => (MissOutcome::WalkFault, false),
            _ => {
                return Err(EmuError::Emulator {
                    op: "tlb_miss",
                    detail: format!("the guest returned outcome {how} (va {va:#x})"),
                })
            }
        };
        let fault = match fault {
            0 => None,
            1 => Some(TteFault::Protection),
            2 => Some(TteFault::Privileged),
            3 => Some(TteFault::NoFaultOnly),
            n => {
                return Err(EmuError::Emulator {
                    op: "tlb_miss",
                    detail: format!("the guest returned fault code {n} (va {va:#x})"),
                })
            }
        };
        Ok(GuestMiss {
            outcome,
            uncached,
            tte,
            slot,
            pa,
            page_shift: shift as u32,
            fault,
        })
    }
}

impl HwWalker for SparcWalker {
    fn describe(&self) -> String {
        format!(
            "{} ({} TTE layout): Linux's data-TLB-miss refill path as guest C \
             (arch-sparc/guest/tsb_refill.c) under unicorn sparc64 with the MMU off, over the \
             model's memory: 8K and huge TSB probes, the USER_PGTABLE_WALK_TL1 walk (V required \
             in ptes and huge pmds, VA bit 22 into 8M pmds, pud-huge patch site unpatched), TSB \
             refill; TSBs ({}/{} entries) invalidated before each query; user data access: a \
             store needs the hardware W bit, P and NFO pages fault; the TTE is decoded by the \
             guest (unicorn's own TLB is not used)",
            name_of(self.tte),
            match self.tte {
                TteLayout::Sun4v => "sun4v",
                TteLayout::Sun4u => "sun4u",
            },
            self.base_entries,
            self.huge_entries
        )
    }

    /// The TTE's physical-address field: PA\[42:13\] on sun4u, PA\[55:13\] on
    /// sun4v.
    fn phys_bits(&self) -> u32 {
        match self.tte {
            TteLayout::Sun4u => 43,
            TteLayout::Sun4v => 56,
        }
    }

    fn translate(&mut self, root_pa: u64, va: u64, access: Access) -> Result<HwOutcome, EmuError> {
        self.flush_tsbs()?;
        let write = access == Access::Write;
        let m = self.miss(root_pa, va, write)?;
        Ok(match (m.outcome, m.fault) {
            (MissOutcome::WalkFault, _) => HwOutcome::Fault {
                detail: format!(
                    "{access:?} of {va:#x}: TSB miss and the page-table walk found no valid TTE \
                     (tsb_do_fault -> do_sparc64_fault)"
                ),
            },
            (_, Some(f)) => HwOutcome::Fault {
                detail: format!("{access:?} of {va:#x}: {f:?} fault with TTE {:#x}", m.tte),
            },
            (_, None) => HwOutcome::Translated { pa: m.pa },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mm_core::machine::Mode;
    use mm_core::Arch as _;

    /// `ba,a .`: branch to itself, forever.
    const INSN_BA_A_SELF: u32 = 0x3080_0000;
    /// `nop`.
    const INSN_NOP: u32 = 0x0100_0000;

    fn machine() -> Arc<Machine> {
        let a = crate::Sparc64::from_name("sparc64").expect("config");
        Machine::new(a.geometry(), 1 << 20, Mode::Deterministic).expect("machine")
    }

    #[test]
    fn runaway_guest_stops_at_the_budget() {
        let code: Vec<u8> = [INSN_BA_A_SELF, INSN_RETL, INSN_NOP]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        let image = GuestImage {
            segments: vec![(PRIVATE_BASE, code)],
            entry: PRIVATE_BASE,
            exits: vec![PRIVATE_BASE + 4],
        };
        let mut w = SparcWalker::with_image(
            TteLayout::Sun4v,
            machine(),
            TSB_MIN_ENTRIES,
            TSB_MIN_ENTRIES,
            image,
        )
        .expect("walker");
        let e = w
            .miss(0, 0x1000, false)
            .expect_err("an endless loop must not return");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("budget of {MAX_INSNS} instructions"))
                && msg.contains(&format!("pc {PRIVATE_BASE:#x}")),
            "{msg}"
        );
    }

    #[test]
    fn parse_guest_rejects_bad_elves_with_the_value() {
        assert!(parse_guest(b"").is_err());
        assert!(parse_guest(b"\x7fELF\x02\x02\x01").is_err());
        let Some(elf) = guest_elf() else {
            return;
        };
        let img = parse_guest(elf).expect("the built guest parses");
        assert!(!img.exits.is_empty());
        // Move the first program header's vaddr out of the code area.
        let mut bad = elf.to_vec();
        let phoff = u64::from_be_bytes(bad[0x20..0x28].try_into().expect("8")) as usize;
        // p_vaddr of an Elf64_Phdr is at offset 16.
        bad[phoff + 16..phoff + 24].copy_from_slice(&0x1000u64.to_be_bytes());
        let msg = parse_guest(&bad).expect_err("vaddr 0x1000").to_string();
        assert!(msg.contains("segment at 0x1000"), "{msg}");
        // A file offset past the end of the file.
        let mut bad = elf.to_vec();
        bad[phoff + 8..phoff + 16].copy_from_slice(&u64::MAX.to_be_bytes());
        let msg = parse_guest(&bad).expect_err("offset").to_string();
        assert!(msg.contains("0xffffffffffffffff"), "{msg}");
    }
}
