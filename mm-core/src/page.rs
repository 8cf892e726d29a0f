//! Per-frame metadata: the model's `struct page`.
//!
//! Linux overlays several uses on the words of `struct page`; the ones the
//! retracted-page-table series cares about are the refcount, the flags
//! (PG_active is what powerpc and s390 use in v6.6 to say "a fragment of this
//! page is waiting for RCU"), the page-table fragment count
//! (`pt_frag_refcount`), the single `rcu_head` (which overlays `lru` and
//! `pmd_huge_pte`), and the split page-table lock.  Each is kept here as its
//! own field so that a second use of a word that Linux shares is *detected*
//! rather than silently corrupting state: an rcu_head queued twice, or a page
//! freed while still on a list.

use crate::lock::SpinLock;
use crate::sync::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};

/// Page flag bits (`include/linux/page-flags.h`), the subset the model uses.
pub mod pg {
    /// `PG_locked`.
    pub const LOCKED: u32 = 1 << 0;
    /// `PG_active`: on powerpc and s390 (v6.6) marks a page-table page with
    /// a fragment awaiting an RCU-deferred free.
    pub const ACTIVE: u32 = 1 << 1;
    /// `PG_lru`.
    pub const LRU: u32 = 1 << 2;
    /// `PG_reserved`: never allocated (frame 0, so that a pmd that points at
    /// physical page 0 is visibly bogus, as in the 2024 mremap bug).
    pub const RESERVED: u32 = 1 << 3;
    /// `PageTable` (a page type in Linux, a flag here): set by the
    /// page-table constructor, cleared by the destructor.
    pub const TABLE: u32 = 1 << 4;
    /// The page is allocated (not on the free list).
    pub const ALLOCATED: u32 = 1 << 5;
    /// `PAGE_FLAGS_CHECK_AT_FREE`: flags that must be clear when a page is
    /// freed (`free_page_is_bad()` in mm/page_alloc.c reports "bad page
    /// state" otherwise).
    pub const CHECK_AT_FREE: u32 = LOCKED | ACTIVE | LRU | RESERVED;

    /// Names of the bits, for reports.
    pub fn names(flags: u32) -> String {
        let mut v = Vec::new();
        for (bit, name) in [
            (LOCKED, "locked"),
            (ACTIVE, "active"),
            (LRU, "lru"),
            (RESERVED, "reserved"),
            (TABLE, "table"),
            (ALLOCATED, "allocated"),
        ] {
            if flags & bit != 0 {
                v.push(name);
            }
        }
        v.join("|")
    }
}

/// The model's `struct page` for one frame.
#[derive(Debug)]
pub struct PageMeta {
    /// `page->_refcount`.  A u32 because s390 (v6.6) keeps its
    /// allocated/pending half bits in the top byte of it.
    pub refcount: AtomicU32,
    /// `page->flags` ([`pg`]).
    pub flags: AtomicU32,
    /// `pt_frag_refcount`: live fragments of a powerpc fragment page.
    pub pt_frag_refcount: AtomicU32,
    /// The `rcu_head` is queued on RCU (one use at a time).
    pub rcu_queued: AtomicBool,
    /// The `lru`/list link words are in use (s390 keeps half-free pages on
    /// `mm->context.pgtable_list` through them; they overlay the rcu_head).
    pub on_list: AtomicBool,
    /// `page->private` / `pt_mm` style word for arch use (s390 v1 stored
    /// the mm here for its RCU callback).
    pub private: AtomicU64,
    /// Bumped every time the frame is freed, so a pointer taken before the
    /// free can be told apart from one taken after a reallocation.
    pub generation: AtomicU64,
    /// Which mm's accounting this page-table page is charged to (mm id, 0 if
    /// none).
    pub pt_owner: AtomicI64,
    /// The split page-table lock (`ptlock_ptr(page)`), valid while the page
    /// is a page table.
    pub ptl: SpinLock,
}

impl PageMeta {
    pub(crate) fn new() -> Self {
        PageMeta {
            refcount: AtomicU32::new(0),
            flags: AtomicU32::new(0),
            pt_frag_refcount: AtomicU32::new(0),
            rcu_queued: AtomicBool::new(false),
            on_list: AtomicBool::new(false),
            private: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            pt_owner: AtomicI64::new(0),
            ptl: SpinLock::new("ptl"),
        }
    }

    /// Current flags.
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Acquire)
    }

    /// Test a flag (`PageActive()` and friends).
    pub fn test(&self, flag: u32) -> bool {
        self.flags() & flag != 0
    }

    /// Set a flag (`SetPageActive()`); returns whether it was already set.
    pub fn set(&self, flag: u32) -> bool {
        self.flags.fetch_or(flag, Ordering::AcqRel) & flag != 0
    }

    /// Clear a flag (`ClearPageActive()`); returns whether it was set.
    pub fn clear(&self, flag: u32) -> bool {
        self.flags.fetch_and(!flag, Ordering::AcqRel) & flag != 0
    }

    /// `page_ref_count()`.
    pub fn ref_count(&self) -> u32 {
        self.refcount.load(Ordering::Acquire)
    }

    /// `page_ref_inc()`.
    pub fn get(&self) {
        self.refcount.fetch_add(1, Ordering::AcqRel);
    }

    /// `put_page_testzero()`: drop a reference; true when it reached zero.
    /// Returns `None` on underflow (a refcount bug, reported by the caller).
    pub fn put_testzero(&self) -> Option<bool> {
        let mut cur = self.refcount.load(Ordering::Acquire);
        loop {
            if cur == 0 {
                return None;
            }
            match self.refcount.compare_exchange_weak(
                cur,
                cur - 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(cur == 1),
                Err(v) => cur = v,
            }
        }
    }

    /// Current generation (see [`PageMeta::generation`]).
    pub fn gen(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}
