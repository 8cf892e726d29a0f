//! Translation by the guest arm CPU's own MMU under Unicorn.
//!
//! [`ArmWalker`] hands the machine's simulated physical memory — the very
//! bytes the model walks — to a Unicorn arm CPU (the default Cortex-A15,
//! which has LPAE) with `uc_mem_map_ptr`, puts its MMU in the
//! configuration's mode once, and per query loads TTBR0 with the root,
//! flushes the TLB (CP15 writes through Unicorn do not) and asks
//! `uc_vmem_translate` — QEMU's `get_phys_addr()` in probe mode, no guest
//! code executed — to translate a read or a write:
//!
//! * `arm`: short descriptors.  DACR = 0x5555_5555 (every domain client,
//!   so the descriptors' AP bits decide), TTBCR = 0 (TTBR0 for the whole
//!   address space), TTBR0 = the 16K-aligned pgd, SCTLR.M.  The MMU reads
//!   the first-level descriptor pair and then **only the hardware tables**
//!   at +2048 of each pte page: it never sees a Linux pte, so agreement with
//!   the model (which reads only Linux ptes) is the proof that the twins
//!   say what the Linux ptes say.
//! * `arm-lpae`: long descriptors.  TTBCR.EAE with T0SZ = 0 (TTBR0 covers
//!   4G from a 4-entry first level), 64-bit TTBR0, MAIR0/MAIR1 as
//!   `proc-v7-3level.S` sets them (0xeeaa4400 / 0xff000004; attributes do
//!   not affect translation).  The access flag is not managed in hardware:
//!   a descriptor without AF (`L_PTE_YOUNG`) is an access-flag fault.
//!
//! Accesses are privileged (the CPU is in SVC mode), so what is checked:
//! validity and type of every descriptor, the AF (LPAE), and for writes
//! APX / AP\[2\] (read-only for every privilege level).  Not checked: the
//! user bits (AP\[1\], `L_PTE_USER`: a privileged access is allowed either
//! way), XN/PXN (data accesses only), memory attributes, nG.  The walk
//! writes nothing back (no hardware AF or dirty update).

use std::ffi::c_void;
use std::sync::Arc;

use mm_core::emulate::{Access, EmuError, HwOutcome, HwWalker};
use mm_core::Machine;
use unicorn_engine::unicorn_const::{uc_error, Arch, Mode, Prot};
use unicorn_engine::{RegisterARMCP, Unicorn};

use crate::ArmMode;

/// DACR: every domain "client" (01).
pub const DACR_ALL_CLIENT: u64 = 0x5555_5555;
/// TTBCR.EAE: long descriptors.
pub const TTBCR_EAE: u64 = 1 << 31;
/// MAIR0 as `proc-v7-3level.S` programs it (`PRRR` slot).
pub const MAIR0: u64 = 0xeeaa_4400;
/// MAIR1 as `proc-v7-3level.S` programs it (`NMRR` slot).
pub const MAIR1: u64 = 0xff00_0004;
/// SCTLR.M: the MMU on.
const SCTLR_M: u64 = 1;

fn emu(op: &'static str) -> impl Fn(uc_error) -> EmuError {
    move |e| EmuError::Emulator {
        op,
        detail: format!("{e:?}"),
    }
}

fn cp(crn: u32, crm: u32, opc1: u32, opc2: u32, is64: u32, sec: u32, val: u64) -> RegisterARMCP {
    RegisterARMCP {
        cp: 15,
        is64,
        sec,
        crn,
        crm,
        opc1,
        opc2,
        val,
    }
}

/// The arm MMU under Unicorn, translating on the machine's own memory.
///
/// Single-threaded (`Unicorn` is neither `Send` nor `Sync`); the model must
/// be quiescent while [`HwWalker::translate`] runs.
pub struct ArmWalker {
    // Declared before `machine`: dropped (and its mapping of the machine's
    // memory closed) before the `Arc<Machine>` is released.
    uc: Unicorn<'static, ()>,
    mode: ArmMode,
    machine: Arc<Machine>,
}

impl std::fmt::Debug for ArmWalker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmWalker")
            .field("mode", &self.mode)
            .field("phys", &self.machine.phys)
            .finish()
    }
}

impl ArmWalker {
    /// A walker for `mode` on `machine`'s physical memory.
    ///
    /// # Errors
    /// [`EmuError::Emulator`] when Unicorn refuses the setup (including a
    /// machine memory too large for the 32-bit physical space of the short
    /// descriptors).
    pub fn new(mode: ArmMode, machine: Arc<Machine>) -> Result<Self, EmuError> {
        let mut uc = Unicorn::new(Arch::ARM, Mode::ARM).map_err(emu("uc_open"))?;
        let size = machine.phys.size();
        if size > 1 << 32 {
            return Err(EmuError::Emulator {
                op: "mem_map_ptr",
                detail: format!("{size:#x} bytes of memory exceed the 32-bit physical space"),
            });
        }
        // SAFETY: the region is the machine's `PhysMem` word array, `size`
        // bytes long, valid as long as `machine` lives; the walker holds the
        // `Arc<Machine>` and the `Unicorn` (which owns the mapping) is dropped
        // first (field order).  The arm walk only reads it (no hardware
        // access/dirty flag updates), and the reads do not race with the
        // model's atomic writes because `translate` requires the model to be
        // quiescent (documented on the type).
        unsafe {
            uc.mem_map_ptr(0, size, Prot::ALL, machine.phys.as_ptr() as *mut c_void)
                .map_err(emu("mem_map_ptr"))?;
        }
        let mut w = ArmWalker { uc, mode, machine };
        w.setup()?;
        Ok(w)
    }

    /// Write a CP15 register in both security banks.
    fn wcp(
        &mut self,
        (crn, crm, opc1, opc2, is64): (u32, u32, u32, u32, u32),
        val: u64,
    ) -> Result<(), EmuError> {
        for sec in [0, 1] {
            self.uc
                .reg_write_arm_coproc(&cp(crn, crm, opc1, opc2, is64, sec, val))
                .map_err(emu("cp15 write"))?;
        }
        Ok(())
    }

    fn rcp(
        &self,
        (crn, crm, opc1, opc2, is64): (u32, u32, u32, u32, u32),
        sec: u32,
    ) -> Result<u64, EmuError> {
        let mut r = cp(crn, crm, opc1, opc2, is64, sec, 0);
        self.uc
            .reg_read_arm_coproc(&mut r)
            .map_err(emu("cp15 read"))?;
        Ok(r.val)
    }

    fn setup(&mut self) -> Result<(), EmuError> {
        const DACR: (u32, u32, u32, u32, u32) = (3, 0, 0, 0, 0);
        const TTBCR: (u32, u32, u32, u32, u32) = (2, 0, 0, 2, 0);
        const MAIR0_R: (u32, u32, u32, u32, u32) = (10, 2, 0, 0, 0);
        const MAIR1_R: (u32, u32, u32, u32, u32) = (10, 2, 0, 1, 0);
        const SCTLR: (u32, u32, u32, u32, u32) = (1, 0, 0, 0, 0);
        self.wcp(DACR, DACR_ALL_CLIENT)?;
        match self.mode {
            ArmMode::Classic => self.wcp(TTBCR, 0)?,
            ArmMode::Lpae => {
                self.wcp(TTBCR, TTBCR_EAE)?;
                self.wcp(MAIR0_R, MAIR0)?;
                self.wcp(MAIR1_R, MAIR1)?;
            }
        }
        for sec in [0, 1] {
            let s = self.rcp(SCTLR, sec)?;
            self.uc
                .reg_write_arm_coproc(&cp(1, 0, 0, 0, 0, sec, s | SCTLR_M))
                .map_err(emu("sctlr"))?;
        }
        self.uc.ctl_flush_tlb().map_err(emu("ctl_flush_tlb"))
    }

    /// The machine whose memory this walker translates on.
    pub fn machine(&self) -> &Arc<Machine> {
        &self.machine
    }

    fn load_ttbr0(&mut self, root_pa: u64) -> Result<(), EmuError> {
        let (align, bytes) = match self.mode {
            ArmMode::Classic => (16384, 16384),
            ArmMode::Lpae => (32, 32),
        };
        if !root_pa.is_multiple_of(align) || root_pa + bytes > self.machine.phys.size() {
            return Err(EmuError::Emulator {
                op: "ttbr0",
                detail: format!(
                    "root {root_pa:#x} is not a {align}-byte-aligned table inside memory"
                ),
            });
        }
        match self.mode {
            ArmMode::Classic => self.wcp((2, 0, 0, 0, 0), root_pa)?,
            ArmMode::Lpae => self.wcp((0, 2, 0, 0, 1), root_pa)?,
        }
        self.uc.ctl_flush_tlb().map_err(emu("ctl_flush_tlb"))
    }
}

impl HwWalker for ArmWalker {
    fn describe(&self) -> String {
        match self.mode {
            ArmMode::Classic => "arm: unicorn Cortex-A15 MMU, short descriptors (DACR all client, \
                                 TTBCR 0, TTBR0 = pgd, SCTLR.M), vmem_translate after a TLB flush; \
                                 walks only the first-level pairs and the hardware twin tables; \
                                 privileged accesses: descriptor types and APX for writes checked; \
                                 AP1/user, XN, memory types and nG not checked; nothing written back"
                .to_string(),
            ArmMode::Lpae => "arm-lpae: unicorn Cortex-A15 MMU, long descriptors (TTBCR.EAE, \
                              T0SZ 0, 64-bit TTBR0, Linux's MAIR0/1), vmem_translate after a TLB \
                              flush; privileged accesses: descriptor types, the access flag (no \
                              hardware AF update: AF clear faults) and AP[2] for writes checked; \
                              AP[1]/user, XN/PXN, attributes and nG not checked; nothing written \
                              back; output addresses limited to 32 bits (vmem_translate truncates)"
                .to_string(),
        }
    }

    /// 32 for both.  Short descriptors have 32-bit physical addresses.  The
    /// LPAE walk itself handles 40 bits, but Unicorn 2.1.5's
    /// `vmem_translate` hands back only the low 32 bits of the result (a
    /// `target_ulong` on a 32-bit target: measured, a block at 0x7c_0d40_0000
    /// came back as 0x0d40_0000), so random mappings stay below 4G.
    fn phys_bits(&self) -> u32 {
        32
    }

    /// Translate with `vmem_translate` after loading TTBR0 with `root_pa`
    /// and flushing the TLB.  A VA above 4G is a fault (outside the 32-bit
    /// address space).
    fn translate(&mut self, root_pa: u64, va: u64, access: Access) -> Result<HwOutcome, EmuError> {
        if va > u32::MAX as u64 {
            return Ok(HwOutcome::Fault {
                detail: format!("{va:#x} is beyond the 32-bit address space"),
            });
        }
        self.load_ttbr0(root_pa)?;
        let prot = match access {
            Access::Read => Prot::READ,
            Access::Write => Prot::WRITE,
        };
        match self.uc.vmem_translate(va, prot) {
            Ok(pa) => Ok(HwOutcome::Translated { pa }),
            Err(e @ (uc_error::READ_PROT | uc_error::WRITE_PROT)) => Ok(HwOutcome::Fault {
                detail: format!("{access:?} of {va:#x}: vmem_translate {e:?}"),
            }),
            Err(e) => Err(emu("vmem_translate")(e)),
        }
    }
}
