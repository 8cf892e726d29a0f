//! Files and shmem: the page cache (`struct address_space`'s `i_pages`)
//! holding folios, and `i_mmap`, the vmas that map the file.
//!
//! A folio is a run of `1 << order` contiguous frames: order 0 for a small
//! page, `HPAGE_PMD_ORDER` for the huge folio khugepaged builds.  A folio is
//! indexed by the file offset (in pages) of its first page; looking up any
//! index inside it finds it (the multi-index entry Linux stores).  Its
//! reference count and lock live in the `struct page` of its head frame:
//! one reference for the page cache, one for each pte or pmd that maps it
//! (the model's stand-in for Linux's mapcount + refcount), and `PG_locked`
//! as the folio lock.
//!
//! `i_mmap_rwsem` protects `i_mmap`: rmap walkers such as
//! `retract_page_tables()` take it for read, and vma insertion and removal
//! take it for write, which is what keeps retract away from page tables that
//! `free_pgtables()` is tearing down.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::arch::Arch;
use crate::lock::RwSem;
use crate::machine::Machine;
use crate::mm::Mm;
use crate::page::pg;
use crate::sync::{AtomicU64, Ordering};
use crate::vma::Vma;
use crate::MmError;

/// A folio in the page cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Folio {
    /// Head frame.
    pub pfn: u64,
    /// `folio_order()`.
    pub order: u32,
    /// File offset (in pages) of its first page.
    pub index: u64,
}

impl Folio {
    /// Number of pages.
    pub fn nr_pages(&self) -> u64 {
        1 << self.order
    }

    /// Whether `index` falls inside the folio.
    pub fn contains(&self, index: u64) -> bool {
        index >= self.index && index < self.index + self.nr_pages()
    }

    /// Frame of the page at file offset `index` (inside the folio).
    pub fn page_pfn(&self, index: u64) -> u64 {
        self.pfn + (index - self.index)
    }
}

/// A vma in a file's `i_mmap`: the mm it belongs to and the vma.
pub struct MmapRef<A: Arch> {
    /// The owning mm (weak: the file does not keep mms alive).
    pub mm: Weak<Mm<A>>,
    /// The vma.
    pub vma: Arc<Vma<A>>,
}

impl<A: Arch> Clone for MmapRef<A> {
    fn clone(&self) -> Self {
        MmapRef {
            mm: self.mm.clone(),
            vma: self.vma.clone(),
        }
    }
}

/// A file or shmem object (`struct address_space` with its inode).
pub struct AddressSpace<A: Arch> {
    id: u64,
    /// A name, for output.
    pub name: String,
    /// shmem (tmpfs) rather than a regular file: holes are filled with
    /// zeroed pages on collapse, and rss counts as `MM_SHMEMPAGES`.
    pub shmem: bool,
    machine: Arc<Machine>,
    i_pages: Mutex<BTreeMap<u64, Folio>>,
    /// Ranges `[start, end)` a collapse has frozen: a hole there cannot be
    /// filled until the collapse stores its folio (Linux stores the locked
    /// new folio, or `XA_RETRY_ENTRY`, in the holes first).
    frozen: Mutex<Vec<(u64, u64)>>,
    /// `i_mmap_rwsem`.
    pub i_mmap_rwsem: RwSem,
    i_mmap: Mutex<Vec<MmapRef<A>>>,
    size_pages: AtomicU64,
}

impl<A: Arch> std::fmt::Debug for AddressSpace<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddressSpace")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("shmem", &self.shmem)
            .finish()
    }
}

static NEXT_FILE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl<A: Arch> AddressSpace<A> {
    /// A new, empty file of `size_pages` pages on `machine`.
    pub fn new(machine: Arc<Machine>, name: &str, shmem: bool, size_pages: u64) -> Arc<Self> {
        Arc::new(AddressSpace {
            id: NEXT_FILE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            name: name.to_string(),
            shmem,
            machine,
            i_pages: Mutex::new(BTreeMap::new()),
            frozen: Mutex::new(Vec::new()),
            i_mmap_rwsem: RwSem::new("i_mmap_rwsem"),
            i_mmap: Mutex::new(Vec::new()),
            size_pages: AtomicU64::new(size_pages),
        })
    }

    /// A small id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Size in pages.
    pub fn size_pages(&self) -> u64 {
        self.size_pages.load(Ordering::Acquire)
    }

    /// The machine.
    pub fn machine(&self) -> &Arc<Machine> {
        &self.machine
    }

    fn pages(&self) -> MutexGuard<'_, BTreeMap<u64, Folio>> {
        self.i_pages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `filemap_get_folio()`: the folio holding file offset `index`.
    pub fn find_folio(&self, index: u64) -> Option<Folio> {
        let pages = self.pages();
        pages
            .range(..=index)
            .next_back()
            .map(|(_, f)| *f)
            .filter(|f| f.contains(index))
    }

    /// Every folio overlapping `[start, end)`, in index order.
    pub fn folios_in(&self, start: u64, end: u64) -> Vec<Folio> {
        let pages = self.pages();
        let mut out: Vec<Folio> = pages
            .range(..start)
            .next_back()
            .map(|(_, f)| *f)
            .filter(|f| f.contains(start))
            .into_iter()
            .collect();
        out.extend(pages.range(start..end).map(|(_, f)| *f));
        out
    }

    /// The folio at `index`, reading it in (allocating a zeroed small
    /// folio) if the cache has none (`filemap_fault()` / `shmem_get_folio()`).
    ///
    /// # Errors
    /// [`MmError::OutOfMemory`]; [`MmError::Retry`] for a hole in a range a
    /// collapse has frozen; an index beyond the file is refused with
    /// [`MmError::Unsupported`].
    pub fn get_or_read(&self, index: u64) -> Result<Folio, MmError> {
        self.read_folio(index, false)
    }

    /// [`AddressSpace::get_or_read`] for the collapse that froze the range
    /// (it reads a regular file's holes in itself).
    ///
    /// # Errors
    /// As [`AddressSpace::get_or_read`], without [`MmError::Retry`].
    pub fn get_or_read_frozen(&self, index: u64) -> Result<Folio, MmError> {
        self.read_folio(index, true)
    }

    fn read_folio(&self, index: u64, through_frozen: bool) -> Result<Folio, MmError> {
        if index >= self.size_pages() {
            return Err(MmError::Unsupported(format!(
                "file offset {index} beyond the end of {} ({} pages): SIGBUS",
                self.name,
                self.size_pages()
            )));
        }
        let mut pages = self.pages();
        if let Some(f) = pages
            .range(..=index)
            .next_back()
            .map(|(_, f)| *f)
            .filter(|f| f.contains(index))
        {
            return Ok(f);
        }
        if !through_frozen
            && self
                .frozen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .any(|(s, e)| index >= *s && index < *e)
        {
            return Err(MmError::Retry);
        }
        let pfn = self.machine.phys.alloc_page()?;
        let f = Folio {
            pfn,
            order: 0,
            index,
        };
        pages.insert(index, f);
        Ok(f)
    }

    /// `filemap_get_folio()` + `folio_try_get()` for the fault path: the
    /// folio at `index` (read in if missing) with a reference taken under
    /// the cache lock, so that a concurrent collapse or truncate cannot free
    /// it under the caller.  The caller drops the reference with
    /// [`folio_put`].
    ///
    /// # Errors
    /// As [`AddressSpace::get_or_read`].
    pub fn get_folio_ref(&self, index: u64) -> Result<Folio, MmError> {
        let f = self.get_or_read(index)?;
        let pages = self.pages();
        // Re-check under the lock, so the reference is taken on a folio the
        // cache still holds.
        match pages
            .range(..=index)
            .next_back()
            .map(|(_, f)| *f)
            .filter(|f| f.contains(index))
        {
            Some(g) if g == f => {
                self.machine.phys.page(g.pfn)?.get();
                Ok(g)
            }
            _ => {
                drop(pages);
                self.get_folio_ref(index)
            }
        }
    }

    /// Freeze `[start, end)`: no new folio may be read into a hole there
    /// until [`AddressSpace::thaw`].  Taken under the cache lock, so no fault
    /// is half-way through filling a hole.
    pub fn freeze(&self, start: u64, end: u64) {
        let _pages = self.pages();
        self.frozen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((start, end));
    }

    /// Undo [`AddressSpace::freeze`].
    pub fn thaw(&self, start: u64, end: u64) {
        self.frozen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|r| *r != (start, end));
    }

    /// Install a folio (replacing nothing: the range must be empty).
    ///
    /// # Errors
    /// [`MmError::AlreadyMapped`] when part of the range is populated.
    pub fn insert_folio(&self, f: Folio) -> Result<(), MmError> {
        let mut pages = self.pages();
        let clash = pages
            .range(..f.index + f.nr_pages())
            .next_back()
            .is_some_and(|(_, g)| g.index + g.nr_pages() > f.index);
        if clash {
            return Err(MmError::AlreadyMapped {
                va: f.index,
                what: format!("page cache of {} at index {}", self.name, f.index),
            });
        }
        pages.insert(f.index, f);
        Ok(())
    }

    /// Replace every folio in `[start, start + nr)` by `new` in one step
    /// (the multi-index store of `collapse_file()`); returns the old ones.
    pub fn replace_range(&self, new: Folio) -> Vec<Folio> {
        let mut pages = self.pages();
        let old: Vec<u64> = pages
            .range(new.index..new.index + new.nr_pages())
            .map(|(i, _)| *i)
            .collect();
        let out = old.iter().filter_map(|i| pages.remove(i)).collect();
        pages.insert(new.index, new);
        out
    }

    /// Remove every folio from the cache (truncate at the last close) and
    /// drop the cache's reference to each; returns them.
    pub fn drain(&self) -> Vec<Folio> {
        std::mem::take(&mut *self.pages()).into_values().collect()
    }

    /// The vmas mapping the file (a snapshot; take `i_mmap_rwsem` to keep it
    /// stable).
    pub fn i_mmap(&self) -> Vec<MmapRef<A>> {
        self.i_mmap
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `vma_interval_tree_insert()`, under `i_mmap_rwsem` for write.
    ///
    /// # Errors
    /// [`MmError::Lock`] on a self-deadlock.
    pub fn i_mmap_insert(&self, r: MmapRef<A>) -> Result<(), MmError> {
        let _w = self.i_mmap_rwsem.write()?;
        self.i_mmap
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(r);
        Ok(())
    }

    /// `vma_interval_tree_remove()`, under `i_mmap_rwsem` for write.
    ///
    /// # Errors
    /// [`MmError::Lock`] on a self-deadlock.
    pub fn i_mmap_remove(&self, vma: &Arc<Vma<A>>) -> Result<(), MmError> {
        let _w = self.i_mmap_rwsem.write()?;
        self.i_mmap
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|r| !Arc::ptr_eq(&r.vma, vma));
        Ok(())
    }
}

/// `folio_lock()`: take the folio lock (`PG_locked`), spinning while
/// another thread holds it.
///
/// # Errors
/// [`MmError::BadAddress`] for a frame outside memory.
pub fn folio_lock(machine: &Machine, f: &Folio) -> Result<(), MmError> {
    let page = machine.phys.page(f.pfn)?;
    while page.set(pg::LOCKED) {
        crate::sync::cpu_relax();
    }
    Ok(())
}

/// `folio_trylock()`.
///
/// # Errors
/// [`MmError::BadAddress`] for a frame outside memory.
pub fn folio_trylock(machine: &Machine, f: &Folio) -> Result<bool, MmError> {
    Ok(!machine.phys.page(f.pfn)?.set(pg::LOCKED))
}

/// `folio_unlock()`.
///
/// # Errors
/// [`MmError::BadAddress`] for a frame outside memory.
pub fn folio_unlock(machine: &Machine, f: &Folio) -> Result<(), MmError> {
    machine.phys.page(f.pfn)?.clear(pg::LOCKED);
    Ok(())
}

/// `folio_get()`.
///
/// # Errors
/// [`MmError::BadAddress`] for a frame outside memory.
pub fn folio_get(machine: &Machine, f: &Folio) -> Result<(), MmError> {
    machine.phys.page(f.pfn)?.get();
    Ok(())
}

/// `folio_put()`: drop a reference; the last one frees every frame of the
/// folio (with the free-page checks).
///
/// # Errors
/// [`MmError::BadPage`] on a refcount underflow (reported) or a failed
/// check.
pub fn folio_put(machine: &Machine, f: &Folio) -> Result<(), MmError> {
    let head = machine.phys.page(f.pfn)?;
    match head.put_testzero() {
        Some(false) => Ok(()),
        Some(true) => {
            // Tail frames carry their allocation reference; drop it too.
            for pfn in f.pfn + 1..f.pfn + f.nr_pages() {
                machine.phys.page(pfn)?.put_testzero();
            }
            machine.phys.free_pages(f.pfn, f.order)
        }
        None => {
            let reason = "folio_put with _refcount already 0".to_string();
            machine.reports().push(crate::report::Report::BadPage {
                pfn: f.pfn,
                reason: reason.clone(),
                flags: pg::names(head.flags()),
            });
            Err(MmError::BadPage { pfn: f.pfn, reason })
        }
    }
}

/// `folio_ref_count()`.
///
/// # Errors
/// [`MmError::BadAddress`] for a frame outside memory.
pub fn folio_ref_count(machine: &Machine, f: &Folio) -> Result<u32, MmError> {
    Ok(machine.phys.page(f.pfn)?.ref_count())
}
