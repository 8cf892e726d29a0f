//! Reports: the bugs the model detects, collected instead of panicking.
//!
//! Linux reacts to most of these with a WARN, a "BUG: Bad page state" or a
//! KASAN splat and carries on; the model does the same — it records a
//! [`Report`], logs it through `tracing`, and lets the scenario continue so
//! that a test (or `ptlab conform`) can assert exactly which reports a run
//! produced.

use std::sync::{Mutex, MutexGuard};

/// One detected problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Report {
    /// A page failed the free-page checks (`bad_page()` in mm/page_alloc.c).
    #[error("BUG: Bad page state: pfn {pfn:#x}: {reason} (flags {flags})")]
    BadPage {
        /// The frame.
        pfn: u64,
        /// What was wrong ("nonzero _refcount", "PAGE_FLAGS_CHECK_AT_FREE flag(s) set", ...).
        reason: String,
        /// The page's flags, by name.
        flags: String,
    },
    /// A read through a page-table pointer whose page was freed (and
    /// perhaps reused) since the pointer was taken: what KASAN would call a
    /// use-after-free.
    #[error("use-after-free: read of pa {pa:#x} (pfn {pfn:#x}) through a stale page-table pointer: {detail}")]
    StaleRead {
        /// Physical address read.
        pa: u64,
        /// Its frame.
        pfn: u64,
        /// Freed, or freed and reallocated.
        detail: String,
    },
    /// `call_rcu()` on an rcu_head that is already queued: in Linux this
    /// corrupts the RCU callback list.
    #[error("rcu_head of pfn {pfn:#x} queued twice ({context})")]
    RcuHeadReuse {
        /// The page whose rcu_head was reused.
        pfn: u64,
        /// Who did it.
        context: String,
    },
    /// The rcu_head was queued while the page's list link (which it overlays)
    /// was in use, or the other way round.
    #[error("rcu_head of pfn {pfn:#x} overlays a list link in use ({context})")]
    RcuHeadOverlaysList {
        /// The page.
        pfn: u64,
        /// Who did it.
        context: String,
    },
    /// `pmd_clear_bad()`: a pmd that is neither none, a table, nor a leaf.
    #[error("bad pmd at pa {pa:#x}: {value:#x}")]
    BadPmd {
        /// Address of the pmd entry.
        pa: u64,
        /// Its value.
        value: u64,
    },
    /// `mmdrop()` reached `__mmdrop()` inside an RCU callback (softirq
    /// context, where it may not run: the reason s390's v1 used
    /// `mmdrop_async()`).
    #[error("mm {mm}: __mmdrop() called from an RCU callback (softirq context)")]
    MmdropInRcuCallback {
        /// The mm's id.
        mm: u64,
    },
    /// An mm was used after its last `mmdrop()` freed it.
    #[error("mm {mm}: used after free ({what})")]
    MmUseAfterFree {
        /// The mm's id.
        mm: u64,
        /// What touched it.
        what: String,
    },
    /// `mm->pgtables_bytes` was not zero when the mm was freed
    /// (`check_mm()`: "BUG: non-zero pgtables_bytes on freeing mm").
    #[error("mm {mm}: non-zero pgtables_bytes {bytes} on freeing mm")]
    PgtablesBytesLeak {
        /// The mm's id.
        mm: u64,
        /// The remaining count.
        bytes: i64,
    },
    /// A lockless reader assembled a 64-bit entry from halves that never
    /// belonged together.
    #[error("torn read at pa {pa:#x}: {value:#x} was never written")]
    TornRead {
        /// Address of the entry.
        pa: u64,
        /// The value read.
        value: u64,
    },
    /// Anything else a model invariant caught.
    #[error("{0}")]
    Invariant(String),
}

impl Report {
    /// A short kind name, for counting and for `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Report::BadPage { .. } => "bad_page",
            Report::StaleRead { .. } => "stale_read",
            Report::RcuHeadReuse { .. } => "rcu_head_reuse",
            Report::RcuHeadOverlaysList { .. } => "rcu_head_overlays_list",
            Report::BadPmd { .. } => "bad_pmd",
            Report::MmdropInRcuCallback { .. } => "mmdrop_in_rcu_callback",
            Report::MmUseAfterFree { .. } => "mm_use_after_free",
            Report::PgtablesBytesLeak { .. } => "pgtables_bytes_leak",
            Report::TornRead { .. } => "torn_read",
            Report::Invariant(_) => "invariant",
        }
    }
}

/// Where reports accumulate for one simulated machine.
#[derive(Debug, Default)]
pub struct Reports {
    list: Mutex<Vec<Report>>,
}

impl Reports {
    /// An empty sink.
    pub fn new() -> Self {
        Reports {
            list: Mutex::new(Vec::new()),
        }
    }

    /// Record a report (and log it).
    pub fn push(&self, r: Report) {
        tracing::warn!(kind = r.kind(), "{r}");
        self.lock().push(r);
    }

    /// A copy of every report so far.
    pub fn all(&self) -> Vec<Report> {
        self.lock().clone()
    }

    /// Remove and return every report so far.
    pub fn take(&self) -> Vec<Report> {
        std::mem::take(&mut *self.lock())
    }

    /// Number of reports of `kind` (see [`Report::kind`]).
    pub fn count(&self, kind: &str) -> usize {
        self.lock().iter().filter(|r| r.kind() == kind).count()
    }

    /// True when nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Report>> {
        // A poisoned list only means a thread panicked while pushing; the
        // reports are still worth reading.
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }
}
