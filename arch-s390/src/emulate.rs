//! Translation by the guest s390x CPU's own DAT under Unicorn.
//!
//! [`S390Walker`] hands the machine's simulated physical memory — the very
//! bytes the model walks — to a Unicorn s390x CPU with `uc_mem_map_ptr`,
//! sets the PSW to DAT on with 64-bit addressing (`T` | `EA` | `BA`; the
//! initial PSW mask is 0, i.e. 24-bit addressing, which would mask table
//! and data addresses), and per query loads control register 1 (the
//! primary ASCE) with the mm's current ASCE, `mm->context.asce`
//! ([`crate::S390::asce_of`]: origin | `_ASCE_TABLE_LENGTH` |
//! `_ASCE_USER_BITS` | the designation type of the mm's current shape),
//! flushes the TLB and asks `uc_vmem_translate` (QEMU's `mmu_translate()`
//! in probe mode, no guest code executed).
//!
//! The root handed to [`HwWalker::translate`] is the mm's published top
//! word ([`mm_core::Mm::hw_root`]: top table | shape index), so an mm
//! upgraded from 3 to 4 or 5 levels is walked with a region-second or
//! region-first ASCE; a plain table address is shape 0, a new mm's
//! region-third ASCE.
//!
//! What the emulated DAT checks (confirmed by `tests/emulate_basic.rs`):
//! * the ASCE designation type and every region entry's TT, TL/TF and I
//!   bit, through region-first, -second and -third tables;
//! * the segment entry's I bit and TT; the page-table origin at 2K
//!   granularity, so page tables in both halves of a page;
//! * the pte's I bit, the must-be-zero bit 0x800, and P for writes.
//!
//! What it does not:
//! * **Large (1M, EDAT-1) segments**: the emulated CPU model has no EDAT-1
//!   facility, so a segment entry with FC set is read as a page-table
//!   origin and translates wrongly.  [`HwWalker::unchecked`] names every
//!   address whose walk reaches a *valid* large segment (or a large
//!   region-third entry), and walk-agreement runs leave those out.  An
//!   invalid large segment (I set: none, `pmdp_invalidate()`d) faults on I
//!   before FC matters, and is checked.
//! * IEP (`_PAGE_NOEXEC`): data accesses only.
//! * Storage keys, and so fetch protection: not used by Linux user mappings.
//! * The target frame must be backed by memory Unicorn has mapped (else an
//!   addressing exception, which would look like a fault): the whole
//!   machine memory is mapped, and [`HwWalker::phys_bits`] keeps random
//!   pfns inside it.

use std::ffi::c_void;
use std::sync::Arc;

use mm_core::emulate::{Access, EmuError, HwOutcome, HwWalker};
use mm_core::mm::Top;
use mm_core::Machine;
use unicorn_engine::unicorn_const::{uc_error, Arch, Mode, Prot};
use unicorn_engine::{RegisterS390X, Unicorn};

use crate::entry::{
    _REGION3_ENTRY_LARGE, _REGION_ENTRY_INVALID, _REGION_ENTRY_ORIGIN, _REGION_ENTRY_TYPE_MASK,
    _SEGMENT_ENTRY_INVALID, _SEGMENT_ENTRY_LARGE,
};
use crate::S390;

/// PSW mask bit T (IBM bit 5): DAT on.
pub const PSW_MASK_DAT: u64 = 0x0400_0000_0000_0000;
/// PSW mask bit EA (IBM bit 31): extended addressing.
pub const PSW_MASK_EA: u64 = 0x0000_0001_0000_0000;
/// PSW mask bit BA (IBM bit 32): basic addressing; EA|BA = 64-bit mode.
pub const PSW_MASK_BA: u64 = 0x0000_0000_8000_0000;

/// The s390x DAT of Unicorn over a machine's memory.
pub struct S390Walker {
    uc: Unicorn<'static, ()>,
    arch: S390,
    machine: Arc<Machine>,
}

impl std::fmt::Debug for S390Walker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S390Walker")
            .field("config", &self.arch.geometry_name())
            .field("phys", &self.machine.phys)
            .finish()
    }
}

fn emu(op: &'static str) -> impl Fn(uc_error) -> EmuError {
    move |e| EmuError::Emulator {
        op,
        detail: format!("{e:?}"),
    }
}

impl S390Walker {
    /// A walker for configuration `arch` over `machine`'s memory.
    ///
    /// # Errors
    /// [`EmuError::Emulator`] when Unicorn cannot be set up or the memory
    /// is not whole 4K frames.
    pub fn new(arch: S390, machine: Arc<Machine>) -> Result<Self, EmuError> {
        let size = machine.phys.size();
        if size & 0xfff != 0 || machine.phys.page_shift() != 12 {
            return Err(EmuError::Emulator {
                op: "new",
                detail: format!("physical memory of {size} bytes is not in 4K frames"),
            });
        }
        let mut uc = Unicorn::new(Arch::S390X, Mode::BIG_ENDIAN).map_err(emu("open"))?;
        // SAFETY: the pointer and length describe the machine's physical
        // memory, which `machine` (kept in the walker, and dropped after
        // `uc` by field order) owns for the walker's whole life.  Unicorn
        // accesses it only inside `vmem_translate` calls made through
        // `&mut self`, while the model is quiescent; its word array is
        // 8-byte aligned and `size` bytes long.
        unsafe {
            uc.mem_map_ptr(0, size, Prot::ALL, machine.phys.as_ptr() as *mut c_void)
                .map_err(emu("mem_map_ptr"))?;
        }
        uc.reg_write(
            RegisterS390X::PSWM,
            PSW_MASK_DAT | PSW_MASK_EA | PSW_MASK_BA,
        )
        .map_err(emu("pswm"))?;
        Ok(S390Walker { uc, arch, machine })
    }

    /// The ASCE loaded for `root` (the mm's top word: table | shape).
    pub fn asce(&self, root: u64) -> u64 {
        self.arch.asce_of(Top::from_word(root))
    }

    fn load(&self, pa: u64) -> Result<u64, EmuError> {
        Ok(self.machine.phys.load(pa, 8)?)
    }
}

impl HwWalker for S390Walker {
    fn describe(&self) -> String {
        format!(
            "{}: unicorn s390x DAT, CR1 = the mm's current ASCE (new mm: {} designation; \
             region-second/-first after an upgrade), PSW T|EA|BA, \
             vmem_translate after a TLB flush; region/segment/page-table I bits, TT, TL, \
             the 0x800 must-be-zero pte bit and P (writes) checked; large (EDAT-1) segments \
             NOT checked (the emulated CPU has no EDAT-1: valid ones are left out); IEP and \
             storage keys not checked; frames limited to the {} MiB Unicorn maps",
            self.arch.geometry_name(),
            match self.arch.levels() {
                5 => "region-first",
                4 => "region-second",
                _ => "region-third",
            },
            self.machine.phys.size() >> 20
        )
    }

    /// Frames must be backed by Unicorn-mapped memory (the s390x tlb_fill
    /// addressing check): the largest power of two inside the machine.
    fn phys_bits(&self) -> u32 {
        63 - self.machine.phys.size().leading_zeros()
    }

    fn unchecked(&mut self, root: u64, va: u64) -> Result<Option<String>, EmuError> {
        let top = Top::from_word(root);
        let root_pa = top.pa;
        let levels = self.arch.shape_levels(top.shape);
        let shifts: &[u32] = match levels {
            5 => &[53, 42, 31],
            4 => &[42, 31],
            _ => &[31],
        };
        let mut table = root_pa;
        for (i, &shift) in shifts.iter().enumerate() {
            let e = self.load(table + ((va >> shift) & 0x7ff) * 8)?;
            if e & _REGION_ENTRY_INVALID != 0 {
                return Ok(None);
            }
            let last = i == shifts.len() - 1;
            if last && e & _REGION_ENTRY_TYPE_MASK == 0x04 && e & _REGION3_ENTRY_LARGE != 0 {
                return Ok(Some(
                    "a valid large region-third entry (EDAT-2), which the emulated CPU lacks"
                        .into(),
                ));
            }
            table = e & _REGION_ENTRY_ORIGIN;
        }
        let seg = self.load(table + ((va >> 20) & 0x7ff) * 8)?;
        if seg & _SEGMENT_ENTRY_INVALID == 0 && seg & _SEGMENT_ENTRY_LARGE != 0 {
            return Ok(Some(
                "a valid large segment (FC=1, EDAT-1), which the emulated CPU reads as a \
                 page-table origin"
                    .into(),
            ));
        }
        Ok(None)
    }

    fn translate(&mut self, root: u64, va: u64, access: Access) -> Result<HwOutcome, EmuError> {
        let asce = self.asce(root);
        self.uc
            .reg_write(RegisterS390X::CR1, asce)
            .map_err(emu("cr1"))?;
        self.uc
            .reg_write(
                RegisterS390X::PSWM,
                PSW_MASK_DAT | PSW_MASK_EA | PSW_MASK_BA,
            )
            .map_err(emu("pswm"))?;
        self.uc.ctl_flush_tlb().map_err(emu("ctl_flush_tlb"))?;
        let prot = match access {
            Access::Read => Prot::READ,
            Access::Write => Prot::WRITE,
        };
        match self.uc.vmem_translate(va, prot) {
            Ok(pa) => Ok(HwOutcome::Translated { pa }),
            Err(e @ (uc_error::READ_PROT | uc_error::WRITE_PROT)) => Ok(HwOutcome::Fault {
                detail: format!(
                    "{access:?} of {va:#x} under ASCE {asce:#x}: vmem_translate {e:?} \
                     (a translation or protection exception)"
                ),
            }),
            Err(e) => Err(emu("vmem_translate")(e)),
        }
    }
}
