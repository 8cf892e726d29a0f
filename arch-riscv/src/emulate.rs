//! Translation by the guest riscv64 CPU's own MMU under Unicorn.
//!
//! [`RiscvWalker`] hands the machine's simulated physical memory — the very
//! bytes the model walks — to a Unicorn riscv64 CPU with `uc_mem_map_ptr`,
//! sets `mstatus.SUM` (supervisor accesses to U pages allowed) and
//! `mstatus.MXR` (execute-only pages readable), and per query writes `satp`
//! = (8 << 60) | root pfn (mode 8 = Sv39) in M-mode, drops to S-mode with
//! the `PRIV` pseudo-register (M-mode bypasses paging), flushes the TLB and
//! asks `uc_vmem_translate` — QEMU's `get_physical_address()`, no guest code
//! executed — to translate a read or a write.
//!
//! QEMU's Sv39 walk (this Unicorn, 2.1.5) updates A, and D on a write, in
//! the pte itself (hardware A/D management; no Svade).  That would change
//! the model's memory, so the walker reads the entries on the path before
//! the translation and writes back any that changed: the model's bytes are
//! left exactly as they were.
//!
//! What is checked: V, the leaf/table distinction (R/W/X), the reserved
//! leaf encodings (W without R), superpage alignment, W for writes.  Not
//! checked: U (S-mode with SUM accepts both), X (data accesses with MXR),
//! G, the RSW bits, Svpbmt/Svnapot bits.

use std::ffi::c_void;
use std::sync::Arc;

use mm_core::emulate::{Access, EmuError, HwOutcome, HwWalker};
use mm_core::Machine;
use unicorn_engine::unicorn_const::{uc_error, Arch, Mode, Prot};
use unicorn_engine::{RegisterRISCV, Unicorn};

use crate::entry;

/// `satp.MODE` for Sv39.
pub const SATP_MODE_SV39: u64 = 8;
/// `mstatus.SUM`: supervisor access to user memory.
pub const MSTATUS_SUM: u64 = 1 << 18;
/// `mstatus.MXR`: make executable readable.
pub const MSTATUS_MXR: u64 = 1 << 19;
/// The `PRIV` value of S-mode.
const PRV_S: u64 = 1;
/// The `PRIV` value of M-mode.
const PRV_M: u64 = 3;
/// Sv39 virtual addresses: bits 63-38 must equal bit 38; the user half is
/// below 2^38.
const VA_USER_END: u64 = 1 << 38;

fn emu(op: &'static str) -> impl Fn(uc_error) -> EmuError {
    move |e| EmuError::Emulator {
        op,
        detail: format!("{e:?}"),
    }
}

/// The riscv64 Sv39 MMU under Unicorn, translating on the machine's memory.
///
/// Single-threaded (`Unicorn` is neither `Send` nor `Sync`); the model must
/// be quiescent while [`HwWalker::translate`] runs.
pub struct RiscvWalker {
    // Declared before `machine`: dropped (and its mapping of the machine's
    // memory closed) before the `Arc<Machine>` is released.
    uc: Unicorn<'static, ()>,
    machine: Arc<Machine>,
}

impl std::fmt::Debug for RiscvWalker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiscvWalker")
            .field("phys", &self.machine.phys)
            .finish()
    }
}

impl RiscvWalker {
    /// A walker on `machine`'s physical memory.
    ///
    /// # Errors
    /// [`EmuError::Emulator`] when Unicorn refuses the setup.
    pub fn new(machine: Arc<Machine>) -> Result<Self, EmuError> {
        let mut uc = Unicorn::new(Arch::RISCV, Mode::RISCV64).map_err(emu("uc_open"))?;
        let size = machine.phys.size();
        // SAFETY: the region is the machine's `PhysMem` word array, `size`
        // bytes long, valid as long as `machine` lives; the walker holds the
        // `Arc<Machine>` and the `Unicorn` (which owns the mapping) is dropped
        // first (field order).  The emulated walk may write A/D bits into it;
        // `translate` restores every entry it read before returning, and
        // requires the model to be quiescent meanwhile (documented on the
        // type), so no write races with the model's atomic accesses.
        unsafe {
            uc.mem_map_ptr(0, size, Prot::ALL, machine.phys.as_ptr() as *mut c_void)
                .map_err(emu("mem_map_ptr"))?;
        }
        let ms = uc
            .reg_read(RegisterRISCV::MSTATUS)
            .map_err(emu("mstatus read"))?;
        uc.reg_write(RegisterRISCV::MSTATUS, ms | MSTATUS_SUM | MSTATUS_MXR)
            .map_err(emu("mstatus write"))?;
        Ok(RiscvWalker { uc, machine })
    }

    /// The machine whose memory this walker translates on.
    pub fn machine(&self) -> &Arc<Machine> {
        &self.machine
    }

    fn read_u64(&self, pa: u64) -> Result<Option<u64>, EmuError> {
        if pa + 8 > self.machine.phys.size() {
            return Ok(None);
        }
        let mut b = [0u8; 8];
        self.uc.mem_read(pa, &mut b).map_err(emu("mem_read"))?;
        Ok(Some(u64::from_le_bytes(b)))
    }

    /// The (address, value) of each entry the Sv39 walk of `va` reads.
    fn path(&self, root_pa: u64, va: u64) -> Result<Vec<(u64, u64)>, EmuError> {
        let mut out = Vec::new();
        let mut base = root_pa;
        for shift in [30u32, 21, 12] {
            let pa = base + ((va >> shift) & 511) * 8;
            let Some(v) = self.read_u64(pa)? else { break };
            out.push((pa, v));
            if v & entry::_PAGE_PRESENT == 0 || v & entry::_PAGE_LEAF != 0 {
                break;
            }
            base = entry::table_pa(v);
        }
        Ok(out)
    }

    fn load_satp(&mut self, root_pa: u64) -> Result<(), EmuError> {
        if !root_pa.is_multiple_of(4096) || root_pa + 4096 > self.machine.phys.size() {
            return Err(EmuError::Emulator {
                op: "satp",
                detail: format!("root {root_pa:#x} is not a page-aligned table inside memory"),
            });
        }
        self.uc
            .reg_write(RegisterRISCV::PRIV, PRV_M)
            .map_err(emu("priv M"))?;
        self.uc
            .reg_write(
                RegisterRISCV::SATP,
                (SATP_MODE_SV39 << 60) | (root_pa >> 12),
            )
            .map_err(emu("satp write"))?;
        self.uc
            .reg_write(RegisterRISCV::PRIV, PRV_S)
            .map_err(emu("priv S"))?;
        self.uc.ctl_flush_tlb().map_err(emu("ctl_flush_tlb"))
    }
}

impl HwWalker for RiscvWalker {
    fn describe(&self) -> String {
        "riscv64-sv39: unicorn riscv64 MMU, satp mode 8 (Sv39) = root, S-mode (PRIV) with \
         mstatus.SUM and MXR, vmem_translate after a TLB flush; checked: V, leaf vs table \
         (R/W/X), reserved W-without-R leaves, superpage alignment, W for writes; the MMU sets \
         A/D itself (no Svade, so A=0 or D=0 does not fault) and the walker restores every entry \
         it read; not checked: U, X, G, RSW bits; user half only (VAs below 2^38)"
            .to_string()
    }

    /// 56: the pfn field is bits 10-53.
    fn phys_bits(&self) -> u32 {
        56
    }

    fn unchecked(&mut self, _root_pa: u64, va: u64) -> Result<Option<String>, EmuError> {
        Ok((va >= VA_USER_END).then(|| {
            format!("{va:#x} is above the Sv39 user half (2^38): not a canonical user address")
        }))
    }

    fn translate(&mut self, root_pa: u64, va: u64, access: Access) -> Result<HwOutcome, EmuError> {
        if va >= VA_USER_END {
            return Ok(HwOutcome::Fault {
                detail: format!("{va:#x} is above the Sv39 user half"),
            });
        }
        self.load_satp(root_pa)?;
        let before = self.path(root_pa, va)?;
        let prot = match access {
            Access::Read => Prot::READ,
            Access::Write => Prot::WRITE,
        };
        let res = self.uc.vmem_translate(va, prot);
        for (pa, v) in before {
            if self.read_u64(pa)? != Some(v) {
                self.uc
                    .mem_write(pa, &v.to_le_bytes())
                    .map_err(emu("mem_write (restore A/D)"))?;
            }
        }
        match res {
            Ok(pa) => Ok(HwOutcome::Translated { pa }),
            Err(e @ (uc_error::READ_PROT | uc_error::WRITE_PROT)) => Ok(HwOutcome::Fault {
                detail: format!("{access:?} of {va:#x}: vmem_translate {e:?}"),
            }),
            Err(e) => Err(emu("vmem_translate")(e)),
        }
    }
}
