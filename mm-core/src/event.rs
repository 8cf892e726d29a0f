//! An ordered log of what the page-table lifecycle did: tables allocated,
//! retracted and deferred, grace periods ended, RCU callbacks run, pages
//! freed, mms dropped.  Off by default (a relaxed flag test per event);
//! scenarios switch it on so a maintainer can read, in order, what
//! `pte_free_defer()` did on an architecture and variant.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A page table was allocated (`pte_alloc_one()` and friends).
    TableAlloc {
        /// Level name ("pte", "pmd", ...).
        level: &'static str,
        /// Physical address of the table.
        pa: u64,
        /// Where in its page the table sits, for fragmenting arches
        /// (`(page pfn, index within the page)`).
        fragment: Option<(u64, u64)>,
    },
    /// A table was detached from its pmd (`retract_page_tables()`).
    Retracted {
        /// Physical address of the table.
        pa: u64,
    },
    /// A table free was deferred to RCU (`pte_free_defer()`), and how.
    Deferred {
        /// Physical address of the table.
        pa: u64,
        /// What the arch did ("call_rcu on the page", "marked Active, ...").
        how: String,
    },
    /// A table was freed (immediately, or from an RCU callback).
    TableFree {
        /// Physical address of the table.
        pa: u64,
        /// By what path.
        how: String,
    },
    /// A grace period ended (or could not, and why).
    GracePeriod {
        /// What happened.
        what: String,
    },
    /// An RCU callback ran.
    CallbackRan {
        /// Which.
        what: String,
    },
    /// A frame went back to the allocator.
    PageFreed {
        /// The frame.
        pfn: u64,
    },
    /// `__mmdrop()` freed an mm.
    MmDropped {
        /// The mm's id.
        mm: u64,
        /// Called from where (directly, from the workqueue).
        how: String,
    },
    /// Anything a scenario wants to say between steps.
    Note(String),
}

impl Event {
    /// A short kind name, for `--json` and filtering.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::TableAlloc { .. } => "table_alloc",
            Event::Retracted { .. } => "retracted",
            Event::Deferred { .. } => "deferred",
            Event::TableFree { .. } => "table_free",
            Event::GracePeriod { .. } => "grace_period",
            Event::CallbackRan { .. } => "callback_ran",
            Event::PageFreed { .. } => "page_freed",
            Event::MmDropped { .. } => "mm_dropped",
            Event::Note(_) => "note",
        }
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::TableAlloc {
                level,
                pa,
                fragment,
            } => {
                write!(f, "{level} table allocated at {pa:#x}")?;
                if let Some((pfn, i)) = fragment {
                    write!(f, " (fragment {i} of page {pfn:#x})")?;
                }
                Ok(())
            }
            Event::Retracted { pa } => write!(f, "table {pa:#x} retracted (pmd cleared)"),
            Event::Deferred { pa, how } => write!(f, "table {pa:#x} free deferred: {how}"),
            Event::TableFree { pa, how } => write!(f, "table {pa:#x} freed: {how}"),
            Event::GracePeriod { what } => write!(f, "grace period: {what}"),
            Event::CallbackRan { what } => write!(f, "RCU callback ran: {what}"),
            Event::PageFreed { pfn } => write!(f, "page {pfn:#x} freed"),
            Event::MmDropped { mm, how } => write!(f, "mm {mm} dropped ({how})"),
            Event::Note(s) => write!(f, "-- {s}"),
        }
    }
}

/// The log.
#[derive(Debug, Default)]
pub struct Events {
    on: AtomicBool,
    seq: AtomicU64,
    list: Mutex<Vec<(u64, Event)>>,
}

impl Events {
    /// An empty, disabled log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Start or stop recording.
    pub fn enable(&self, on: bool) {
        self.on.store(on, Ordering::Relaxed);
    }

    /// Whether recording.
    pub fn enabled(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Record the event `f` builds, if recording (the closure keeps the
    /// cost of a disabled log to one flag test).
    pub fn push(&self, f: impl FnOnce() -> Event) {
        if self.enabled() {
            let n = self.seq.fetch_add(1, Ordering::Relaxed);
            self.list
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((n, f()));
        }
    }

    /// Everything recorded, in order.
    pub fn all(&self) -> Vec<Event> {
        let mut v = self.list.lock().unwrap_or_else(|e| e.into_inner()).clone();
        v.sort_by_key(|(n, _)| *n);
        v.into_iter().map(|(_, e)| e).collect()
    }
}
