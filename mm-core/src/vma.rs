//! Virtual memory areas (`struct vm_area_struct`), reduced to what faults,
//! munmap and khugepaged look at: the range, the file and offset, the flags,
//! whether an anon_vma exists (a private mapping that was written to), and
//! userfaultfd registration.

use std::sync::Arc;

use crate::arch::{Arch, Pgprot};
use crate::file::AddressSpace;
use crate::sync::{AtomicBool, AtomicU64, Ordering};

/// `vm_flags` bits (`include/linux/mm.h`), the subset the model uses.
pub mod vm {
    /// `VM_READ`.
    pub const READ: u64 = 0x1;
    /// `VM_WRITE`.
    pub const WRITE: u64 = 0x2;
    /// `VM_EXEC`.
    pub const EXEC: u64 = 0x4;
    /// `VM_SHARED`.
    pub const SHARED: u64 = 0x8;
    /// `VM_UFFD_MISSING`: registered with userfaultfd for missing pages.
    pub const UFFD_MISSING: u64 = 0x200;
    /// `VM_UFFD_WP`: registered with userfaultfd for write protection.
    pub const UFFD_WP: u64 = 0x1000;
    /// `VM_HUGEPAGE` (`MADV_HUGEPAGE`).
    pub const HUGEPAGE: u64 = 0x2000_0000;
    /// `VM_NOHUGEPAGE` (`MADV_NOHUGEPAGE`).
    pub const NOHUGEPAGE: u64 = 0x4000_0000;
}

/// One vma.
pub struct Vma<A: Arch> {
    /// `vm_start`.
    pub start: u64,
    /// `vm_end` (exclusive).
    pub end: u64,
    /// `vm_pgoff`: file offset, in pages, of `vm_start`.
    pub pgoff: u64,
    /// `vm_file`'s mapping, if file-backed.
    pub file: Option<Arc<AddressSpace<A>>>,
    flags: AtomicU64,
    anon_vma: AtomicBool,
    mm_id: u64,
}

impl<A: Arch> std::fmt::Debug for Vma<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vma")
            .field("start", &format_args!("{:#x}", self.start))
            .field("end", &format_args!("{:#x}", self.end))
            .field("pgoff", &self.pgoff)
            .field("flags", &format_args!("{:#x}", self.vm_flags()))
            .field("anon_vma", &self.anon_vma())
            .finish()
    }
}

impl<A: Arch> Vma<A> {
    /// A vma of mm `mm_id`.
    pub fn new(
        mm_id: u64,
        start: u64,
        end: u64,
        pgoff: u64,
        file: Option<Arc<AddressSpace<A>>>,
        flags: u64,
    ) -> Self {
        Vma {
            start,
            end,
            pgoff,
            file,
            flags: AtomicU64::new(flags),
            anon_vma: AtomicBool::new(false),
            mm_id,
        }
    }

    /// The id of the mm the vma belongs to.
    pub fn mm_id(&self) -> u64 {
        self.mm_id
    }

    /// `vma->vm_flags` (read locklessly, as khugepaged's rechecks do).
    pub fn vm_flags(&self) -> u64 {
        self.flags.load(Ordering::Acquire)
    }

    /// Set flags (`userfaultfd_register()`, `madvise`): the caller holds
    /// `mmap_lock` for write in Linux.
    pub fn set_flags(&self, set: u64, clear: u64) {
        let mut cur = self.flags.load(Ordering::Acquire);
        loop {
            let new = (cur | set) & !clear;
            match self
                .flags
                .compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(v) => cur = v,
            }
        }
    }

    /// `READ_ONCE(vma->anon_vma) != NULL`.
    pub fn anon_vma(&self) -> bool {
        self.anon_vma.load(Ordering::Acquire)
    }

    /// `anon_vma_prepare()`: a private mapping gets its anon_vma on the first
    /// write (COW) fault.
    pub fn anon_vma_prepare(&self) {
        self.anon_vma.store(true, Ordering::Release);
    }

    /// `userfaultfd_wp(vma)`.
    pub fn userfaultfd_wp(&self) -> bool {
        self.vm_flags() & vm::UFFD_WP != 0
    }

    /// `userfaultfd_armed(vma)`: registered in any mode.
    pub fn userfaultfd_armed(&self) -> bool {
        self.vm_flags() & (vm::UFFD_WP | vm::UFFD_MISSING) != 0
    }

    /// Shared (`VM_SHARED`).
    pub fn shared(&self) -> bool {
        self.vm_flags() & vm::SHARED != 0
    }

    /// Whether `addr` is inside the vma.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr < self.end
    }

    /// `linear_page_index(vma, addr)`: the file offset (in pages) mapped at
    /// `addr`.
    pub fn linear_page_index(&self, addr: u64, page_shift: u32) -> u64 {
        self.pgoff + ((addr - self.start) >> page_shift)
    }

    /// `vma->vm_page_prot`: `vm_get_page_prot()` of the access flags.
    pub fn page_prot(&self, a: &A) -> Pgprot {
        a.vm_get_page_prot((self.vm_flags() & 0xf) as u8)
    }
}
