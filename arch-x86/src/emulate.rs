//! Translation by the guest x86 CPU's own MMU under Unicorn.
//!
//! [`X86Walker`] hands the machine's simulated physical memory — the very
//! bytes the model walks — to a Unicorn x86 CPU with `uc_mem_map_ptr`, puts
//! the CPU in the configuration's paging mode once, and then, per query,
//! loads CR3 with the root and asks the emulated MMU to translate:
//!
//! * `x86_64`: 4-level long mode (`Mode::MODE_64`, CR4.PAE, EFER.LME|NXE).
//! * `x86-pae`: 3-level PAE protected mode (`Mode::MODE_32`, CR4.PAE,
//!   EFER.NXE); CR3 holds the 32-byte-aligned PDPT.
//! * `x86-32`: 2-level protected mode with CR4.PSE (4M pages).
//!
//! CR0 is PE|PG|WP in every mode, so supervisor writes honour R/W.
//!
//! [`HwWalker::translate`] uses `uc_vmem_translate`: QEMU's page walk
//! (`handle_mmu_fault` in `target/i386/excp_helper.c`) in probe mode, with no
//! guest code executed.  [`X86Walker::load_u64`] executes a real load
//! instruction through the MMU instead.  That needs a code page mapped by the
//! guest's tables; rather than asking the caller to map one, the walker
//! splices it in for the duration of the call (see [`X86Walker::load_u64`]).
//!
//! What the emulated walk checks (read from unicorn 2.1.5's QEMU source and
//! confirmed by `tests/emulate_basic.rs`):
//! * P at every level; R/W of every level for writes (CR0.WP=1); PS leaves
//!   (2M, 1G on x86_64; 2M on PAE; 4M with PSE-36 on x86-32).
//! * Reserved bits of present entries: NX when EFER.NXE is off (it is on
//!   here), PFN bits at or above 40 (unicorn's MAXPHYADDR), the low PFN bits
//!   of a huge leaf.  A reserved bit is a fault like any other.
//! * Not checked: USER (accesses are supervisor, CPL 0, SMAP off, so user
//!   and kernel pages alike are accessible); NX (data accesses only); PAT,
//!   PCD/PWT, G.
//! * PAE PDPTEs are not latched at CR3 load: QEMU re-reads them on every
//!   walk.  Only their P bit, bits 52-63 (including NX) and PFN bits >= 40
//!   are checked; RW, USER and the other low bits that real hardware
//!   reserves in a PDPTE are ignored, and a reserved bit gives a #PF at walk
//!   time, not a #GP at CR3 load.
//! * Side effects: a successful walk sets Accessed in every entry on the
//!   path (not in PAE PDPTEs) and, for writes, Dirty in the leaf — 32-bit
//!   stores into the model's memory.

use std::ffi::c_void;
use std::sync::Arc;

use mm_core::emulate::{Access, EmuError, HwOutcome, HwWalker};
use mm_core::Machine;
use unicorn_engine::unicorn_const::{uc_error, Arch, Mode, Prot};
use unicorn_engine::{Context, RegisterX86, Unicorn};

const CR0_PE: u64 = 1;
const CR0_WP: u64 = 1 << 16;
const CR0_PG: u64 = 1 << 31;
const CR4_PSE: u64 = 1 << 4;
const CR4_PAE: u64 = 1 << 5;
const MSR_EFER: u32 = 0xC000_0080;
const EFER_LME: u64 = 1 << 8;
const EFER_NXE: u64 = 1 << 11;

const P: u64 = 1 << 0;
const RW: u64 = 1 << 1;
const PS: u64 = 1 << 7;

const PAGE: u64 = 0x1000;

/// Bytes of the emulator-private guest-physical region that holds the code
/// page of [`X86Walker::load_u64`] and the private page tables that map it.
/// It lies above the machine's memory, at [`X86Walker::private_pa`].
pub const PRIVATE_BYTES: u64 = 0x10000;

/// Instruction budget of [`X86Walker::load_u64`]'s code (one or two
/// loads): code still running after it is runaway, an error naming the
/// budget and the pc.
pub const MAX_INSNS: usize = 64;

/// `mov rax, [rdi]`.
const CODE_64: &[u8] = &[0x48, 0x8b, 0x07];
/// `mov eax, [edi]; mov edx, [edi + 4]`.
const CODE_32: &[u8] = &[0x8b, 0x07, 0x8b, 0x57, 0x04];

/// The paging mode (private until arch-x86's `X86Mode` is wired in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HwMode {
    X86_64,
    Pae,
    X86_32,
}

impl HwMode {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "x86_64" => Some(HwMode::X86_64),
            "x86-pae" => Some(HwMode::Pae),
            "x86-32" => Some(HwMode::X86_32),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            HwMode::X86_64 => "x86_64",
            HwMode::Pae => "x86-pae",
            HwMode::X86_32 => "x86-32",
        }
    }

    /// (index shift, entries) per hardware level, top first.
    fn levels(self) -> &'static [(u32, u64)] {
        match self {
            HwMode::X86_64 => &[(39, 512), (30, 512), (21, 512), (12, 512)],
            HwMode::Pae => &[(30, 4), (21, 512), (12, 512)],
            HwMode::X86_32 => &[(22, 1024), (12, 1024)],
        }
    }

    fn entry_bytes(self) -> u32 {
        match self {
            HwMode::X86_32 => 4,
            _ => 8,
        }
    }

    fn addr_mask(self) -> u64 {
        match self {
            HwMode::X86_32 => 0xffff_f000,
            _ => 0x000f_ffff_ffff_f000,
        }
    }

    /// Alignment CR3 requires of the root table.
    fn root_align(self) -> u64 {
        match self {
            HwMode::Pae => 32,
            _ => PAGE,
        }
    }

    /// Flags of a non-leaf entry at hardware level `level` (a PAE PDPTE has
    /// only P: RW and USER are reserved there).
    fn table_flags(self, level: usize) -> u64 {
        if self == HwMode::Pae && level == 0 {
            P
        } else {
            P | RW
        }
    }

    /// True when a present entry at `level` points at a table (no PS leaf).
    fn is_table(self, level: usize, e: u64) -> bool {
        e & P != 0 && (e & PS == 0 || (self == HwMode::Pae && level == 0))
    }

    fn is_32bit(self) -> bool {
        self != HwMode::X86_64
    }

    fn code(self) -> &'static [u8] {
        if self.is_32bit() {
            CODE_32
        } else {
            CODE_64
        }
    }

    fn describe(self) -> &'static str {
        match self {
            HwMode::X86_64 => {
                "x86_64: unicorn guest MMU, 4-level long mode (CR4.PAE, EFER.LME|NXE, \
                 CR0.PG|WP), vmem_translate after a CR3 load (TLB flushed); supervisor \
                 data accesses: P, R/W (WP=1), 2M/1G PS leaves and reserved bits \
                 (incl. PFN bits >= 40) checked; USER not checked (CPL0, no SMAP); NX \
                 irrelevant to data accesses; non-canonical VAs fault (#GP); the walk \
                 sets A (and D on writes) in the tables"
            }
            HwMode::Pae => {
                "x86-pae: unicorn guest MMU, 3-level PAE (CR4.PAE, EFER.NXE, CR0.PG|WP), \
                 vmem_translate after a CR3 load (TLB flushed, PDPTEs re-read each walk); \
                 supervisor data accesses: P, R/W (WP=1), 2M PS leaves and reserved bits \
                 checked; USER not checked (CPL0, no SMAP); NX irrelevant to data \
                 accesses; PDPTE: only P, bits 52-63 and PFN bits >= 40 checked (RW/USER \
                 and other low reserved bits ignored; reserved bits fault at walk time, \
                 not #GP at CR3 load); the walk sets A (not in PDPTEs) and D on writes"
            }
            HwMode::X86_32 => {
                "x86-32: unicorn guest MMU, 2-level (CR4.PSE, CR0.PG|WP), vmem_translate \
                 after a CR3 load (TLB flushed); supervisor data accesses: P, R/W (WP=1) \
                 and 4M PS leaves (PSE-36, bit 21 reserved) checked; USER not checked \
                 (CPL0, no SMAP); no NX bit; the walk sets A (and D on writes) in the \
                 tables"
            }
        }
    }
}

/// State the interrupt hook writes.
#[derive(Debug, Default)]
struct HookState {
    /// The last exception vector raised by guest code.
    intr: Option<u32>,
}

/// An entry the splice of the code page wrote or may have touched, with the
/// value to restore.
struct Saved {
    pa: u64,
    old: u64,
}

/// The x86 MMU under Unicorn, translating on the machine's own memory.
///
/// The emulator is single-threaded (`Unicorn` is neither `Send` nor
/// `Sync`); create one walker per thread that needs one.
pub struct X86Walker {
    // Declared before `machine`: dropped (and its mapping of the machine's
    // memory closed) before the `Arc<Machine>` is released.
    uc: Unicorn<'static, HookState>,
    /// The CPU state right after setup, restored after a guest exception:
    /// unicorn's hook swallows the exception without delivering it, so
    /// QEMU's "exception in flight" (`env->old_exception`) would stay set
    /// and turn the next #PF into a #DF, the one after into a triple fault.
    clean: Option<Context>,
    mode: HwMode,
    private_pa: u64,
    machine: Arc<Machine>,
}

impl std::fmt::Debug for X86Walker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X86Walker")
            .field("mode", &self.mode)
            .field("private_pa", &self.private_pa)
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

fn vector_name(v: u32) -> String {
    match v {
        6 => "#UD".into(),
        8 => "#DF".into(),
        13 => "#GP".into(),
        14 => "#PF".into(),
        _ => format!("vector {v}"),
    }
}

impl X86Walker {
    /// A walker for `mode` on `machine`'s physical memory.
    ///
    /// # Errors
    /// As [`X86Walker::new_for`].
    pub fn new(mode: crate::X86Mode, machine: Arc<Machine>) -> Result<Self, EmuError> {
        let mode = match mode {
            crate::X86Mode::X86_64 => HwMode::X86_64,
            crate::X86Mode::Pae => HwMode::Pae,
            crate::X86Mode::X86_32 => HwMode::X86_32,
        };
        Self::with_mode(mode, machine)
    }

    /// A walker for configuration `name` (`"x86_64"`, `"x86-pae"` or
    /// `"x86-32"`) on `machine`'s physical memory.
    ///
    /// # Errors
    /// [`EmuError::Unsupported`] for another name; [`EmuError::Emulator`]
    /// when Unicorn refuses the setup, or when (32-bit modes) the memory
    /// reaches so high that the private region would lie above 4G.
    pub fn new_for(name: &str, machine: Arc<Machine>) -> Result<Self, EmuError> {
        let mode = HwMode::from_name(name).ok_or_else(|| EmuError::Unsupported(name.into()))?;
        Self::with_mode(mode, machine)
    }

    fn with_mode(mode: HwMode, machine: Arc<Machine>) -> Result<Self, EmuError> {
        let size = machine.phys.size();
        if size & (PAGE - 1) != 0 || machine.phys.page_shift() != 12 {
            return Err(EmuError::Emulator {
                op: "new",
                detail: format!("physical memory of {size} bytes is not in 4K frames"),
            });
        }
        let private_pa = size.next_multiple_of(0x10_0000);
        if mode.is_32bit() && private_pa + PRIVATE_BYTES > 1 << 32 {
            return Err(EmuError::Emulator {
                op: "new",
                detail: format!("{size} bytes of memory leave no room below 4G for the code page"),
            });
        }
        let uc_mode = if mode.is_32bit() {
            Mode::MODE_32
        } else {
            Mode::MODE_64
        };
        let mut uc = Unicorn::new_with_data(Arch::X86, uc_mode, HookState::default())
            .map_err(emu("open"))?;
        // SAFETY: `as_ptr()` points at the `size` bytes of the machine's
        // physical memory (a boxed slice of `AtomicU64`, so 8-aligned and a
        // whole number of 4K frames, checked above).  The memory outlives the
        // mapping: the walker holds an `Arc<Machine>` and its `uc` field is
        // declared first, so the engine (and the mapping) is closed before
        // that `Arc` is dropped; the boxed slice never moves or resizes.
        // Writes through the mapping (the emulated walk's Accessed/Dirty
        // updates, `load_u64`'s splice) go to `AtomicU64`s, whose interior
        // mutability makes writes through a shared pointer sound; they do
        // not race with the model's atomic accesses because
        // `translate`/`load_u64` require the model to be quiescent while
        // they run (documented on both), and the engine only touches this
        // memory inside those calls.
        unsafe {
            uc.mem_map_ptr(0, size, Prot::ALL, machine.phys.as_ptr() as *mut c_void)
                .map_err(emu("mem_map_ptr"))?;
        }
        uc.mem_map(private_pa, PRIVATE_BYTES, Prot::ALL)
            .map_err(emu("mem_map"))?;
        let mut walker = X86Walker {
            uc,
            clean: None,
            mode,
            private_pa,
            machine,
        };
        walker.setup()?;
        Ok(walker)
    }

    /// Build the private region and put the CPU in its paging mode.
    fn setup(&mut self) -> Result<(), EmuError> {
        let mode = self.mode;
        let eb = mode.entry_bytes() as usize;
        let levels = mode.levels();
        let n = levels.len();
        // Page 0: code.  Page i (1 <= i < n): a private table for hardware
        // level i, every entry pointing at the next private table, the last
        // one's at the code page: whatever slot a splice picks, every VA
        // below it reaches the code page.
        let mut buf = vec![0u8; PRIVATE_BYTES as usize];
        buf[..mode.code().len()].copy_from_slice(mode.code());
        for (i, &(_, nr)) in levels.iter().enumerate().skip(1) {
            let next = if i == n - 1 {
                self.private_pa | P | RW
            } else {
                (self.private_pa + (i as u64 + 1) * PAGE) | mode.table_flags(i)
            };
            let base = i * PAGE as usize;
            for j in 0..nr as usize {
                buf[base + j * eb..base + (j + 1) * eb].copy_from_slice(&next.to_le_bytes()[..eb]);
            }
        }
        self.uc
            .mem_write(self.private_pa, &buf)
            .map_err(emu("mem_write"))?;

        self.uc
            .add_intr_hook(|uc: &mut Unicorn<'_, HookState>, intno| {
                uc.get_data_mut().intr = Some(intno);
                let _ = uc.emu_stop();
            })
            .map_err(emu("add_intr_hook"))?;

        let cr4 = self.uc.reg_read(RegisterX86::CR4).map_err(emu("cr4"))?;
        let (cr4, efer) = match mode {
            HwMode::X86_64 => (cr4 | CR4_PAE, Some(EFER_LME | EFER_NXE)),
            HwMode::Pae => (cr4 | CR4_PAE, Some(EFER_NXE)),
            HwMode::X86_32 => (cr4 | CR4_PSE, None),
        };
        self.uc
            .reg_write(RegisterX86::CR4, cr4)
            .map_err(emu("cr4"))?;
        if let Some(efer) = efer {
            // struct uc_x86_msr { u32 rid; u64 value; }: value at offset 8.
            let mut msr = [0u8; 16];
            msr[0..4].copy_from_slice(&MSR_EFER.to_le_bytes());
            msr[8..16].copy_from_slice(&efer.to_le_bytes());
            self.uc
                .reg_write_long(RegisterX86::MSR, &msr)
                .map_err(emu("efer"))?;
        }
        // A CR3 inside the private region until the first query (its page 1
        // is a valid top-level table for every mode).
        self.uc
            .reg_write(RegisterX86::CR3, self.private_pa + PAGE)
            .map_err(emu("cr3"))?;
        let cr0 = self.uc.reg_read(RegisterX86::CR0).map_err(emu("cr0"))?;
        self.uc
            .reg_write(RegisterX86::CR0, cr0 | CR0_PE | CR0_PG | CR0_WP)
            .map_err(emu("cr0"))?;
        self.clean = Some(self.uc.context_init().map_err(emu("context_save"))?);
        Ok(())
    }

    /// Guest-physical address of the private region (code page first, then
    /// the private tables): just above the machine's memory, 1M-aligned.
    pub fn private_pa(&self) -> u64 {
        self.private_pa
    }

    /// The machine whose memory this walker translates on.
    pub fn machine(&self) -> &Arc<Machine> {
        &self.machine
    }

    fn top_bytes(&self) -> u64 {
        let (_, nr) = self.mode.levels()[0];
        nr * self.mode.entry_bytes() as u64
    }

    /// Load CR3 with `root_pa`.  The CR3 write flushes unicorn's TLB
    /// (`cpu_x86_update_cr3` → `tlb_flush` with paging on), and on PAE it is
    /// where real hardware latches the PDPTEs: rewriting it on every query
    /// makes a changed PDPTE visible (unicorn re-reads PDPTEs anyway).
    fn load_cr3(&mut self, root_pa: u64) -> Result<(), EmuError> {
        let align = self.mode.root_align();
        if root_pa & (align - 1) != 0 || root_pa + self.top_bytes() > self.machine.phys.size() {
            return Err(EmuError::Emulator {
                op: "cr3",
                detail: format!(
                    "{} root {root_pa:#x} is not a {align}-byte-aligned table inside memory",
                    self.mode.name()
                ),
            });
        }
        self.uc
            .reg_write(RegisterX86::CR3, root_pa)
            .map_err(emu("cr3"))
    }

    fn beyond_linear(&self, va: u64, len: u64) -> Option<String> {
        let beyond = match va.checked_add(len - 1) {
            Some(end) => end > u32::MAX as u64,
            None => true,
        };
        (self.mode.is_32bit() && beyond)
            .then(|| format!("{va:#x} is beyond the 32-bit linear address space"))
    }

    /// Execute a real 8-byte load of `va` through the MMU with the tables at
    /// `root_pa` (`mov rax,[rdi]` on x86_64; `mov eax,[edi]; mov edx,[edi+4]`
    /// on the 32-bit modes) and return the value, or `Err(detail)` with the
    /// exception vector and CR2 when the load faulted.
    ///
    /// The code page lives in the private region (above the machine's
    /// memory).  To map it, the walker looks for a none entry off `va`'s path
    /// — in the top-level table, else (descending along the highest present
    /// table entries) in a lower one — writes there a pointer to its private
    /// tables (which map every VA below that entry to the code page), runs
    /// the load, and then restores that entry and the entries it descended
    /// through (the code fetch sets their Accessed bit), except those on
    /// `va`'s own path.  The caller therefore maps nothing, and afterwards
    /// memory differs only by what the load's own walk wrote (A/D bits).
    ///
    /// The model must be quiescent during the call (no other thread touches
    /// the machine's memory).
    ///
    /// # Errors
    /// [`EmuError::Emulator`] when the root is misaligned, no free entry is
    /// found for the code page, the code fetch faults, or Unicorn fails.
    pub fn load_u64(&mut self, root_pa: u64, va: u64) -> Result<Result<u64, String>, EmuError> {
        if let Some(detail) = self.beyond_linear(va, 8) {
            return Ok(Err(detail));
        }
        self.load_cr3(root_pa)?;
        let (code_va, saved) = self.splice_code(root_pa, va)?;
        let r = self.run_load(code_va, va);
        let restored = self.restore(&saved);
        // Drop the code page's translation from the TLB.
        let flushed = self.uc.ctl_flush_tlb().map_err(emu("ctl_flush_tlb"));
        let v = r?;
        restored?;
        flushed?;
        Ok(v)
    }

    /// Write an entry leading to the code page; returns the code's VA and
    /// the entries to restore.
    fn splice_code(&mut self, root_pa: u64, va: u64) -> Result<(u64, Vec<Saved>), EmuError> {
        let mode = self.mode;
        let eb = mode.entry_bytes();
        let levels = mode.levels();
        let n = levels.len();
        let phys = &self.machine.phys;
        let size = phys.size();
        let mut table = root_pa;
        let mut prefix = 0u64;
        let mut on_va_path = true;
        let mut saved = Vec::new();
        for (k, &(shift, nr)) in levels.iter().enumerate() {
            let va_idx = (va >> shift) & (nr - 1);
            let mut descend = None;
            for idx in (0..nr).rev() {
                if on_va_path && idx == va_idx {
                    continue;
                }
                let pa = table + idx * eb as u64;
                let e = phys.load(pa, eb)?;
                if e == 0 {
                    let new = if k == n - 1 {
                        self.private_pa | P | RW
                    } else {
                        (self.private_pa + (k as u64 + 1) * PAGE) | mode.table_flags(k)
                    };
                    phys.store(pa, eb, new)?;
                    saved.push(Saved { pa, old: 0 });
                    return Ok((self.canonical(prefix | idx << shift), saved));
                }
                let next = e & mode.addr_mask();
                if descend.is_none()
                    && k < n - 1
                    && mode.is_table(k, e)
                    && next != 0
                    && next + PAGE <= size
                {
                    descend = Some((idx, pa, e));
                }
            }
            // The entry on va's own path, if nothing else qualifies.
            if descend.is_none() && on_va_path && k < n - 1 {
                let pa = table + va_idx * eb as u64;
                let e = phys.load(pa, eb)?;
                let next = e & mode.addr_mask();
                if mode.is_table(k, e) && next != 0 && next + PAGE <= size {
                    descend = Some((va_idx, pa, e));
                }
            }
            let Some((idx, pa, e)) = descend else {
                break;
            };
            on_va_path &= idx == va_idx;
            if !on_va_path {
                saved.push(Saved { pa, old: e });
            }
            prefix |= idx << shift;
            table = e & mode.addr_mask();
        }
        Err(EmuError::Emulator {
            op: "load_u64",
            detail: format!(
                "no none entry off the path of {va:#x} to map the code page under root {root_pa:#x}"
            ),
        })
    }

    fn canonical(&self, va: u64) -> u64 {
        if self.mode == HwMode::X86_64 && va & (1 << 47) != 0 {
            va | 0xffff_0000_0000_0000
        } else {
            va
        }
    }

    fn restore(&self, saved: &[Saved]) -> Result<(), EmuError> {
        let eb = self.mode.entry_bytes();
        for s in saved.iter().rev() {
            self.machine.phys.store(s.pa, eb, s.old)?;
        }
        Ok(())
    }

    fn run_load(&mut self, code_va: u64, va: u64) -> Result<Result<u64, String>, EmuError> {
        let (rdi, rax, rdx, cr2) = if self.mode.is_32bit() {
            (
                RegisterX86::EDI,
                RegisterX86::EAX,
                RegisterX86::EDX,
                RegisterX86::CR2,
            )
        } else {
            (
                RegisterX86::RDI,
                RegisterX86::RAX,
                RegisterX86::RDX,
                RegisterX86::CR2,
            )
        };
        let until = code_va + self.mode.code().len() as u64;
        self.uc.get_data_mut().intr = None;
        self.uc.reg_write(rdi, va).map_err(emu("rdi"))?;
        self.uc.reg_write(rax, 0).map_err(emu("rax"))?;
        self.uc.reg_write(rdx, 0).map_err(emu("rdx"))?;
        self.uc.reg_write(cr2, 0).map_err(emu("cr2"))?;
        let r = self.uc.emu_start(code_va, until, 0, MAX_INSNS);
        if let Some(v) = self.uc.get_data().intr {
            let cr2 = self.uc.reg_read(cr2).map_err(emu("cr2"))?;
            let pc = self.uc.pc_read().map_err(emu("pc"))?;
            if let Some(clean) = &self.clean {
                self.uc
                    .context_restore(clean)
                    .map_err(emu("context_restore"))?;
            }
            if v == 14 && (code_va..until).contains(&cr2) {
                return Err(EmuError::Emulator {
                    op: "load_u64",
                    detail: format!("the fetch of the spliced code page at {code_va:#x} faulted"),
                });
            }
            let what = if v == 14 {
                format!(", CR2={cr2:#x}")
            } else {
                String::new()
            };
            return Ok(Err(format!(
                "load of {va:#x} raised {}{what} at pc {pc:#x}",
                vector_name(v)
            )));
        }
        r.map_err(emu("emu_start"))?;
        let pc = self.uc.pc_read().map_err(emu("pc"))?;
        if pc != until {
            return Err(EmuError::Emulator {
                op: "load_u64",
                detail: format!(
                    "the load did not reach {until:#x} within its budget of {MAX_INSNS} \
                     instructions: runaway guest code stopped at pc {pc:#x}"
                ),
            });
        }
        let lo = self.uc.reg_read(rax).map_err(emu("rax"))?;
        Ok(Ok(if self.mode.is_32bit() {
            let hi = self.uc.reg_read(rdx).map_err(emu("rdx"))?;
            (hi & 0xffff_ffff) << 32 | (lo & 0xffff_ffff)
        } else {
            lo
        }))
    }
}

impl HwWalker for X86Walker {
    fn describe(&self) -> String {
        self.mode.describe().to_string()
    }

    /// Unicorn's x86 CPU model has MAXPHYADDR 40: a present entry with an
    /// address bit at or above 40 is a reserved-bit fault there, although
    /// Linux's entries hold 52 bits.
    fn phys_bits(&self) -> u32 {
        40
    }

    /// Translate with `vmem_translate` (no guest code runs) after loading
    /// CR3 with `root_pa`, which flushes the TLB.  The model must be
    /// quiescent during the call: the walk reads the machine's memory and
    /// writes Accessed/Dirty bits into it.  On the 32-bit modes a VA above
    /// 4G is a fault (outside the linear address space).
    fn translate(&mut self, root_pa: u64, va: u64, access: Access) -> Result<HwOutcome, EmuError> {
        if let Some(detail) = self.beyond_linear(va, 1) {
            return Ok(HwOutcome::Fault { detail });
        }
        self.load_cr3(root_pa)?;
        let prot = match access {
            Access::Read => Prot::READ,
            Access::Write => Prot::WRITE,
        };
        // A sentinel in CR2: a #PF overwrites it with the address, a #GP
        // (non-canonical address) does not.
        let sentinel = !va
            & if self.mode.is_32bit() {
                0xffff_ffff
            } else {
                u64::MAX
            };
        self.uc
            .reg_write(RegisterX86::CR2, sentinel)
            .map_err(emu("cr2"))?;
        match self.uc.vmem_translate(va, prot) {
            Ok(pa) => Ok(HwOutcome::Translated { pa }),
            Err(e @ (uc_error::READ_PROT | uc_error::WRITE_PROT)) => {
                let cr2 = self.uc.reg_read(RegisterX86::CR2).map_err(emu("cr2"))?;
                let how = if cr2 == va {
                    format!("#PF, CR2={cr2:#x}")
                } else {
                    "no #PF (CR2 untouched): #GP, non-canonical address".to_string()
                };
                Ok(HwOutcome::Fault {
                    detail: format!("{access:?} of {va:#x}: vmem_translate {e:?}: {how}"),
                })
            }
            Err(e) => Err(emu("vmem_translate")(e)),
        }
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;
    use mm_core::machine::Mode;
    use mm_core::Arch as _;

    #[test]
    fn runaway_load_code_stops_at_the_budget() {
        let a = crate::X86::from_name("x86_64").expect("config");
        let m = Machine::new(a.geometry(), 1 << 20, Mode::Deterministic).expect("machine");
        let root = m.phys.alloc_page().expect("root") << 12;
        let mut w = X86Walker::new_for("x86_64", m).expect("walker");
        // `jmp $` over the code page's `mov rax, [rdi]`.
        let code_pa = w.private_pa();
        w.uc.mem_write(code_pa, &[0xeb, 0xfe]).expect("write");
        let e = w
            .load_u64(root, 0x1000)
            .expect_err("an endless loop must not return");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("budget of {MAX_INSNS} instructions")) && msg.contains("pc 0x"),
            "{msg}"
        );
    }
}
