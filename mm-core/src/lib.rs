//! mm-core: the generic half of ptlab's model of Linux page-table management.
//!
//! Everything here is written once and is generic over [`arch::Arch`]: the
//! simulated physical memory that holds page tables as bytes ([`phys`]), the
//! per-frame `struct page` ([`page`]), RCU ([`rcu`]), locks that know their
//! holder ([`lock`]), the mm ([`mm`]), table allocation and the generic
//! `pte_free_defer()` ([`pgalloc`]), the v6.6 walk API with its failure
//! semantics ([`walk`]), and a small mapping API ([`map`]).
//!
//! The model follows Linux v6.6, the release that merged "mm: free
//! retracted page table by RCU".

pub mod arch;
pub mod collapse_check;
pub mod collapse_latency;
pub mod debug_vm_pgtable;
pub mod emulate;
pub mod event;
pub mod family;
pub mod fault;
pub mod file;
pub mod helpers;
pub mod khugepaged;
pub mod lifecycle;
pub mod lock;
pub mod machine;
pub mod map;
pub mod mm;
pub mod mmap;
pub mod mremap;
pub mod page;
pub mod pgalloc;
pub mod phys;
pub mod rcu;
pub mod report;
pub mod scenario;
pub mod stress;
pub mod swapops;
pub mod sync;
pub mod vma;
pub mod vtop;
pub mod walk;
pub mod walkcheck;

pub use arch::{Arch, ByteOrder, Geometry, Level, P4d, Pgd, Pgprot, Pmd, Pte, Pud, SwpEntry};
pub use machine::Machine;
pub use mm::Mm;
pub use report::{Report, Reports};

/// Errors of the mm model.  Each carries the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MmError {
    /// No free frame left in simulated physical memory.
    #[error("out of simulated physical memory")]
    OutOfMemory,
    /// A physical address outside simulated memory.
    #[error("physical address {pa:#x} is outside simulated memory")]
    BadAddress {
        /// The address.
        pa: u64,
    },
    /// An entry access not aligned to its width.
    #[error("physical address {pa:#x} is not aligned to the {width}-byte entry width")]
    Misaligned {
        /// The address.
        pa: u64,
        /// The access width.
        width: u32,
    },
    /// A page failed Linux's free-page checks (also reported).
    #[error("bad page state: pfn {pfn:#x}: {reason}")]
    BadPage {
        /// The frame.
        pfn: u64,
        /// Why.
        reason: String,
    },
    /// A read through a stale page-table pointer (also reported).
    #[error("stale page-table read at pa {pa:#x}: {detail}")]
    StaleRead {
        /// The address read.
        pa: u64,
        /// Why it is stale.
        detail: String,
    },
    /// `call_rcu()` on a page whose rcu_head is already queued (also
    /// reported).
    #[error("rcu_head of pfn {pfn:#x} is already queued")]
    RcuHeadInUse {
        /// The frame.
        pfn: u64,
    },
    /// A virtual address outside the configuration's user range.
    #[error("virtual address {va:#x} is outside the user range (TASK_SIZE {limit:#x})")]
    BadVa {
        /// The address.
        va: u64,
        /// `TASK_SIZE`.
        limit: u64,
    },
    /// A pfn that does not fit the configuration's physical address width.
    #[error("pfn {pfn:#x} does not fit in {phys_bits} physical address bits")]
    BadPfn {
        /// The pfn.
        pfn: u64,
        /// `__PHYSICAL_MASK_SHIFT`.
        phys_bits: u32,
    },
    /// Mapping over something already there.
    #[error("virtual address {va:#x} is already mapped ({what})")]
    AlreadyMapped {
        /// The address.
        va: u64,
        /// What is there.
        what: String,
    },
    /// A huge mapping whose address or pfn is not aligned to its size.
    #[error("huge mapping at va {va:#x} pfn {pfn:#x} is not aligned to {size:#x}")]
    Unaligned {
        /// The address.
        va: u64,
        /// The pfn.
        pfn: u64,
        /// The mapping size.
        size: u64,
    },
    /// The configuration cannot do this (no THP, no pmd swap entries, ...).
    #[error("not supported by this configuration: {0}")]
    Unsupported(String),
    /// The operation raced with one that holds what it needs (a collapse
    /// freezing a page-cache range) and must be retried.
    #[error("raced with a concurrent operation; retry")]
    Retry,
    /// A lock misuse (self-deadlock).
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    /// An RCU misuse.
    #[error(transparent)]
    Rcu(#[from] rcu::RcuError),
    /// A bad configuration value.
    #[error("bad configuration: {0}")]
    Config(String),
    /// The mm was used after its last reference went (also reported).
    #[error("mm {mm} used after free")]
    MmFreed {
        /// The mm's id.
        mm: u64,
    },
}
