//! Simulated physical memory.
//!
//! Page tables live here as bytes, in the architecture's byte order, so that
//! the model's walker, an emulator's MMU (which is handed a pointer to these
//! very bytes) and guest-code walkers all read the same thing.
//!
//! Memory is an array of 64-bit atomic words.  An entry load or store is a
//! single atomic access at the entry's width: 8-byte entries are one word;
//! 4-byte entries (x86 2-level, and each *half* of an x86 PAE entry) are
//! updated inside their word with a compare-and-swap, so a 32-bit store never
//! disturbs its neighbour.  On x86 PAE Linux reads a 64-bit pmd as two 32-bit
//! halves (`pmdp_get_lockless()` under `CONFIG_GUP_GET_PXX_LOW_HIGH`), and
//! [`PhysMem::load_half`] lets the model do exactly that, so a torn read is
//! really possible and must really be handled.
//!
//! Frames are handed out by a simple free list.  Frame 0 is reserved: a pmd
//! that points at physical page 0 (the 2024 mremap bug) is then visibly not a
//! page table.  Freed frames are poisoned with `PAGE_POISON` (0xaa,
//! `include/linux/poison.h`) and their generation bumped, so that a read
//! through a pointer taken before the free is detected
//! ([`PhysMem::load_table_entry`]).
//!
//! s390's 2K page-table halves are freed one at a time and go back on the
//! mm's half-free list while their page lives on, so a per-page generation
//! cannot see a reader left behind in a freed half that is handed out
//! again.  Memory therefore also keeps a generation per [`FRAG_GRAIN`]
//! bytes, which [`PhysMem::fragment_freed`] bumps over the fragment: a
//! table pointer carries both (see [`PhysMem::table_gen`]).  powerpc's
//! fragments do not call it: `pte_fragment_alloc()` never hands a freed
//! fragment out again, so its bytes stay the old table's until the page
//! itself is freed, which the page generation sees.

use std::sync::{Arc, Mutex};

use crate::arch::{ByteOrder, Geometry};
use crate::event::{Event, Events};
use crate::page::{pg, PageMeta};
use crate::report::{Report, Reports};
use crate::sync::{AtomicU32, AtomicU64, Ordering};
use crate::MmError;

/// `PAGE_POISON` (`include/linux/poison.h`), repeated over a word.
pub const POISON_WORD: u64 = 0xaaaa_aaaa_aaaa_aaaa;

/// Granularity of the fragment generations: 256 bytes, the smallest page
/// table of any configuration (powerpc radix 64K's pte fragment,
/// `RADIX_PTE_TABLE_SIZE` in `asm/book3s/64/radix-64k.h`: 32 entries).
pub const FRAG_GRAIN: u64 = 256;

/// A physical memory of `nr_frames` frames of `1 << page_shift` bytes.
pub struct PhysMem {
    words: Box<[AtomicU64]>,
    /// One generation per [`FRAG_GRAIN`] bytes (see the module doc).
    frag_gens: Box<[AtomicU32]>,
    pages: Box<[PageMeta]>,
    page_shift: u32,
    byte_order: ByteOrder,
    free: Mutex<Vec<u64>>,
    reports: Arc<Reports>,
    events: Arc<Events>,
}

impl std::fmt::Debug for PhysMem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhysMem")
            .field("bytes", &self.size())
            .field("page_shift", &self.page_shift)
            .field("byte_order", &self.byte_order)
            .finish()
    }
}

impl PhysMem {
    /// Physical memory of `bytes` (rounded up to whole frames) for a
    /// configuration with geometry `g`, reporting into `reports`.
    ///
    /// # Errors
    /// [`MmError::Config`] when `bytes` is smaller than two frames.
    pub fn new(bytes: u64, g: &Geometry, reports: Arc<Reports>) -> Result<Self, MmError> {
        Self::with_events(bytes, g, reports, Arc::new(Events::new()))
    }

    /// As [`PhysMem::new`], recording frees into `events`.
    ///
    /// # Errors
    /// As [`PhysMem::new`].
    pub fn with_events(
        bytes: u64,
        g: &Geometry,
        reports: Arc<Reports>,
        events: Arc<Events>,
    ) -> Result<Self, MmError> {
        let page = g.page_size();
        let nr_frames = bytes.div_ceil(page);
        if nr_frames < 2 {
            return Err(MmError::Config(format!(
                "physical memory of {bytes} bytes holds fewer than two {page}-byte frames"
            )));
        }
        let nr_words = (nr_frames * page / 8) as usize;
        let words: Box<[AtomicU64]> = (0..nr_words).map(|_| AtomicU64::new(0)).collect();
        let pages: Box<[PageMeta]> = (0..nr_frames).map(|_| PageMeta::new()).collect();
        let frag_gens: Box<[AtomicU32]> = (0..nr_frames * page / FRAG_GRAIN)
            .map(|_| AtomicU32::new(0))
            .collect();
        pages[0].set(pg::RESERVED | pg::ALLOCATED);
        // Hand frames out low first (pop takes from the end).
        let free: Vec<u64> = (1..nr_frames).rev().collect();
        Ok(PhysMem {
            words,
            frag_gens,
            pages,
            page_shift: g.page_shift,
            byte_order: g.byte_order,
            free: Mutex::new(free),
            reports,
            events,
        })
    }

    /// Total bytes.
    pub fn size(&self) -> u64 {
        self.words.len() as u64 * 8
    }

    /// `PAGE_SHIFT`.
    pub fn page_shift(&self) -> u32 {
        self.page_shift
    }

    /// Byte order of entries.
    pub fn byte_order(&self) -> ByteOrder {
        self.byte_order
    }

    /// Where reports go.
    pub fn reports(&self) -> &Arc<Reports> {
        &self.reports
    }

    /// Number of frames.
    pub fn nr_frames(&self) -> u64 {
        self.pages.len() as u64
    }

    /// Number of frames on the free list.
    pub fn nr_free(&self) -> usize {
        self.free_list().len()
    }

    /// Pointer to the first byte, for handing the very same bytes to an
    /// emulator (`uc_mem_map_ptr`).  Writes through it race with the model's
    /// atomics only if the caller lets them; the emulators run
    /// single-threaded against a quiescent model.
    pub fn as_ptr(&self) -> *mut u8 {
        self.words.as_ptr() as *mut u8
    }

    /// The memory as words, for code that must chase pointers over the very
    /// same bytes with nothing in between (the benchmark's bare walker).
    pub fn words(&self) -> &[AtomicU64] {
        &self.words
    }

    /// The metadata of frame `pfn`.
    ///
    /// # Errors
    /// [`MmError::BadAddress`] when `pfn` is beyond the end of memory.
    pub fn page(&self, pfn: u64) -> Result<&PageMeta, MmError> {
        self.pages.get(pfn as usize).ok_or(MmError::BadAddress {
            pa: pfn << self.page_shift,
        })
    }

    /// The metadata of the frame holding `pa`.
    ///
    /// # Errors
    /// [`MmError::BadAddress`] when `pa` is beyond the end of memory.
    pub fn page_of(&self, pa: u64) -> Result<&PageMeta, MmError> {
        self.page(pa >> self.page_shift)
    }

    fn free_list(&self) -> std::sync::MutexGuard<'_, Vec<u64>> {
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Allocate one zeroed frame with refcount 1 (`alloc_page(GFP_KERNEL |
    /// __GFP_ZERO)`).
    ///
    /// # Errors
    /// [`MmError::OutOfMemory`] when no frame is free.
    pub fn alloc_page(&self) -> Result<u64, MmError> {
        let pfn = self.free_list().pop().ok_or(MmError::OutOfMemory)?;
        self.prep_new_page(pfn);
        Ok(pfn)
    }

    /// `prep_new_page()`: a freshly allocated frame is zeroed, has refcount
    /// 1 and carries nothing from its previous life.
    fn prep_new_page(&self, pfn: u64) {
        let page = &self.pages[pfn as usize];
        page.flags.store(pg::ALLOCATED, Ordering::Release);
        page.refcount.store(1, Ordering::Release);
        page.pt_frag_refcount.store(0, Ordering::Release);
        page.private.store(0, Ordering::Release);
        // Under loom every zeroing store is a model operation, and loom's
        // per-thread clocks are 16-bit (65535 operations per thread and
        // execution): a 64K frame alone is 8192 stores.  A frame never freed
        // (generation 0) was never allocated before, so it still holds the
        // zeros it was created with: skip it there.  Natively it is always
        // zeroed.
        #[cfg(loom)]
        if page.generation.load(Ordering::Relaxed) == 0 {
            return;
        }
        self.fill(pfn, 0);
    }

    /// Allocate `1 << order` physically contiguous zeroed frames, aligned to
    /// their size (`alloc_pages(GFP_KERNEL | __GFP_ZERO, order)`): the 16K
    /// tables of arm's classic pgd and s390's region and segment tables.
    /// Each frame gets refcount 1; free them with [`PhysMem::free_pages`].
    ///
    /// # Errors
    /// [`MmError::OutOfMemory`] when no aligned free run exists.
    pub fn alloc_pages(&self, order: u32) -> Result<u64, MmError> {
        if order == 0 {
            return self.alloc_page();
        }
        let n = 1u64 << order;
        let mut free = self.free_list();
        // The free list is the truth (a frame's flags change outside the
        // list lock while it is being freed or allocated), so look for the
        // run in a set built from it.
        let set: std::collections::HashSet<u64> = free.iter().copied().collect();
        let start = (1..self.nr_frames())
            .map(|f| f.next_multiple_of(n))
            .filter(|f| f + n <= self.nr_frames())
            .find(|f| (*f..*f + n).all(|p| set.contains(&p)))
            .ok_or(MmError::OutOfMemory)?;
        free.retain(|p| *p < start || *p >= start + n);
        drop(free);
        for pfn in start..start + n {
            self.prep_new_page(pfn);
        }
        Ok(start)
    }

    /// Free `1 << order` frames from [`PhysMem::alloc_pages`] whose
    /// refcounts the caller has dropped to zero; each frame runs the checks
    /// of [`PhysMem::free_page`].
    ///
    /// # Errors
    /// The first failing frame's error (the others are still freed).
    pub fn free_pages(&self, pfn: u64, order: u32) -> Result<(), MmError> {
        let mut first = Ok(());
        for p in pfn..pfn + (1u64 << order) {
            let r = self.free_page(p);
            if first.is_ok() {
                first = r;
            }
        }
        first
    }

    /// Free frame `pfn` whose refcount the caller has dropped to zero
    /// (`free_unref_page`).  Runs Linux's free-page checks first: a page that
    /// fails them is reported and *not* freed (Linux leaks it the same way),
    /// and the error says why.
    ///
    /// # Errors
    /// [`MmError::BadPage`] when a check fails; [`MmError::BadAddress`] for a
    /// pfn outside memory.
    pub fn free_page(&self, pfn: u64) -> Result<(), MmError> {
        let page = self.page(pfn)?;
        let flags = page.flags();
        let reason = if flags & pg::ALLOCATED == 0 {
            Some("page already free (double free)".to_string())
        } else if page.ref_count() != 0 {
            Some(format!("nonzero _refcount {}", page.ref_count()))
        } else if flags & pg::CHECK_AT_FREE != 0 {
            Some(format!(
                "PAGE_FLAGS_CHECK_AT_FREE flag(s) set: {}",
                pg::names(flags & pg::CHECK_AT_FREE)
            ))
        } else if flags & pg::TABLE != 0 {
            Some("still a page table (destructor not run)".to_string())
        } else if page.rcu_queued.load(Ordering::Acquire) {
            Some("rcu_head still queued".to_string())
        } else if page.on_list.load(Ordering::Acquire) {
            Some("still on a list".to_string())
        } else if page.pt_frag_refcount.load(Ordering::Acquire) != 0 {
            Some(format!(
                "nonzero pt_frag_refcount {}",
                page.pt_frag_refcount.load(Ordering::Acquire)
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            let names = pg::names(flags);
            self.reports.push(Report::BadPage {
                pfn,
                reason: reason.clone(),
                flags: names,
            });
            return Err(MmError::BadPage { pfn, reason });
        }
        page.flags.store(0, Ordering::Release);
        // The next life of the page starts its fragments from 0, so that
        // every grain of a fragment carries the same value whatever layout
        // the next user cuts the page into.  Reset before the generation
        // moves on: a reader that sees the new page generation (table_gen
        // loads it first) then also sees the reset grains.
        let grains = (1u64 << self.page_shift) / FRAG_GRAIN;
        for g in &self.frag_gens[(pfn * grains) as usize..((pfn + 1) * grains) as usize] {
            g.store(0, Ordering::Release);
        }
        page.generation.fetch_add(1, Ordering::AcqRel);
        page.pt_owner.store(0, Ordering::Release);
        self.fill(pfn, POISON_WORD);
        self.free_list().push(pfn);
        self.events.push(|| Event::PageFreed { pfn });
        Ok(())
    }

    fn fill(&self, pfn: u64, word: u64) {
        let per = 1usize << (self.page_shift - 3);
        let start = pfn as usize * per;
        for w in &self.words[start..start + per] {
            w.store(word, Ordering::Relaxed);
        }
        crate::sync::fence(Ordering::Release);
    }

    /// True when frame `pfn` is allocated.
    pub fn is_allocated(&self, pfn: u64) -> bool {
        self.page(pfn)
            .map(|p| p.test(pg::ALLOCATED))
            .unwrap_or(false)
    }

    #[inline]
    fn word(&self, pa: u64, width: u32) -> Result<(&AtomicU64, usize), MmError> {
        if !pa.is_multiple_of(width as u64) {
            return Err(MmError::Misaligned { pa, width });
        }
        let w = self
            .words
            .get((pa / 8) as usize)
            .ok_or(MmError::BadAddress { pa })?;
        Ok((w, (pa % 8) as usize))
    }

    #[inline]
    fn decode(&self, bytes: &[u8]) -> u64 {
        let mut b = [0u8; 8];
        match self.byte_order {
            ByteOrder::Little => {
                b[..bytes.len()].copy_from_slice(bytes);
                u64::from_le_bytes(b)
            }
            ByteOrder::Big => {
                b[8 - bytes.len()..].copy_from_slice(bytes);
                u64::from_be_bytes(b)
            }
        }
    }

    fn encode(&self, v: u64, width: usize) -> [u8; 8] {
        let mut out = [0u8; 8];
        match self.byte_order {
            ByteOrder::Little => out[..width].copy_from_slice(&v.to_le_bytes()[..width]),
            ByteOrder::Big => out[..width].copy_from_slice(&v.to_be_bytes()[8 - width..]),
        }
        out
    }

    /// `READ_ONCE()` of an entry: a relaxed atomic load, ordered only by
    /// the address dependency on the entry that pointed here — what a
    /// hardware walker or a `READ_ONCE()`-based lockless walk relies on.
    /// Being relaxed, it lets the compiler keep everything else in
    /// registers, which an acquire load would not.
    ///
    /// # Errors
    /// As [`PhysMem::load`].
    #[inline]
    pub fn load_once(&self, pa: u64, width: u32) -> Result<u64, MmError> {
        if width == 8 && pa & 7 == 0 {
            if let Some(w) = self.words.get((pa >> 3) as usize) {
                let raw = w.load(Ordering::Relaxed);
                return Ok(match self.byte_order {
                    ByteOrder::Little => u64::from_le(raw),
                    ByteOrder::Big => u64::from_be(raw),
                });
            }
        }
        self.load(pa, width)
    }

    /// Atomically load the `width`-byte (4 or 8) value at `pa`, in the
    /// configuration's byte order.
    ///
    /// # Errors
    /// [`MmError::BadAddress`] outside memory, [`MmError::Misaligned`] when
    /// `pa` is not a multiple of `width`.
    #[inline]
    pub fn load(&self, pa: u64, width: u32) -> Result<u64, MmError> {
        if width == 8 {
            // The common case, kept short for the walk's hot path: one
            // aligned atomic word, byte-swapped if the arch is big-endian.
            if pa & 7 != 0 {
                return Err(MmError::Misaligned { pa, width });
            }
            let w = self
                .words
                .get((pa >> 3) as usize)
                .ok_or(MmError::BadAddress { pa })?;
            let raw = w.load(Ordering::Acquire);
            return Ok(match self.byte_order {
                ByteOrder::Little => u64::from_le(raw),
                ByteOrder::Big => u64::from_be(raw),
            });
        }
        let (w, off) = self.word(pa, width)?;
        let raw = w.load(Ordering::Acquire).to_ne_bytes();
        Ok(self.decode(&raw[off..off + width as usize]))
    }

    /// Atomically store the `width`-byte value `v` at `pa` (an 8-byte store
    /// is one atomic store; a 4-byte one a compare-and-swap on its word).
    ///
    /// # Errors
    /// As [`PhysMem::load`].
    pub fn store(&self, pa: u64, width: u32, v: u64) -> Result<(), MmError> {
        let (w, off) = self.word(pa, width)?;
        let bytes = self.encode(v, width as usize);
        if width == 8 {
            w.store(u64::from_ne_bytes(bytes), Ordering::Release);
            return Ok(());
        }
        let mut cur = w.load(Ordering::Relaxed);
        loop {
            let mut b = cur.to_ne_bytes();
            b[off..off + width as usize].copy_from_slice(&bytes[..width as usize]);
            match w.compare_exchange_weak(
                cur,
                u64::from_ne_bytes(b),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(v) => cur = v,
            }
        }
    }

    /// Atomically exchange the 8-byte value at `pa` (`pxx_xchg64()` on PAE,
    /// `xchg` elsewhere); returns the old value.
    ///
    /// # Errors
    /// As [`PhysMem::load`].
    pub fn xchg64(&self, pa: u64, v: u64) -> Result<u64, MmError> {
        let (w, _) = self.word(pa, 8)?;
        let old = w.swap(u64::from_ne_bytes(self.encode(v, 8)), Ordering::AcqRel);
        Ok(self.decode(&old.to_ne_bytes()))
    }

    /// Load one 32-bit half of the 64-bit entry at `pa`: the low half
    /// (`pmd_low`) when `high` is false.  Which bytes hold which half follows
    /// the byte order (x86 PAE: low half first).
    ///
    /// # Errors
    /// As [`PhysMem::load`].
    pub fn load_half(&self, pa: u64, high: bool) -> Result<u32, MmError> {
        Ok(self.load(self.half_pa(pa, high), 4)? as u32)
    }

    /// Store one 32-bit half of the 64-bit entry at `pa`.
    ///
    /// # Errors
    /// As [`PhysMem::load`].
    pub fn store_half(&self, pa: u64, high: bool, v: u32) -> Result<(), MmError> {
        self.store(self.half_pa(pa, high), 4, v as u64)
    }

    fn half_pa(&self, pa: u64, high: bool) -> u64 {
        match (self.byte_order, high) {
            (ByteOrder::Little, false) | (ByteOrder::Big, true) => pa,
            _ => pa + 4,
        }
    }

    /// Load an entry of a page table through a pointer taken when the table
    /// page had generation `gen`: the model of dereferencing a `pte_t *`
    /// obtained earlier.  If the page has been freed since (generation moved
    /// on, or no longer allocated as a table), the read is reported as a
    /// [`Report::StaleRead`] and refused.
    ///
    /// # Errors
    /// [`MmError::StaleRead`] as above; the errors of [`PhysMem::load`].
    pub fn load_table_entry(&self, pa: u64, width: u32, gen: u64) -> Result<u64, MmError> {
        let v = self.load(pa, width)?;
        self.check_table(pa, gen)?;
        Ok(v)
    }

    /// The generation of the page table at `pa`: the page's generation in
    /// the high 32 bits, the fragment's (see [`PhysMem::fragment_freed`]) in
    /// the low 32.  A `pte_t *` taken now is valid while
    /// [`PhysMem::check_table`] finds the same value.
    ///
    /// # Errors
    /// [`MmError::BadAddress`] for `pa` outside memory.
    pub fn table_gen(&self, pa: u64) -> Result<u64, MmError> {
        let page = self.page_of(pa)?;
        // Page generation first (see free_page()).
        let gen = page.gen();
        let frag = self.frag_gens[(pa / FRAG_GRAIN) as usize].load(Ordering::Acquire);
        Ok((gen << 32) | u64::from(frag))
    }

    /// A page table of `len` bytes at `pa`, smaller than its page, has been
    /// freed and may be handed out again (s390's `page_table_free()` and
    /// `__tlb_remove_table()` of one half) while the page stays allocated:
    /// bump the fragment's
    /// generation so that a reader still holding a pointer into it is
    /// caught by [`PhysMem::check_table`].
    ///
    /// # Errors
    /// [`MmError::BadAddress`] for a range outside memory.
    pub fn fragment_freed(&self, pa: u64, len: u64) -> Result<(), MmError> {
        let (first, end) = (pa / FRAG_GRAIN, (pa + len).div_ceil(FRAG_GRAIN));
        let grains = self
            .frag_gens
            .get(first as usize..end as usize)
            .ok_or(MmError::BadAddress { pa })?;
        for g in grains {
            g.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Check that the page holding `pa` is still the page table of
    /// generation `gen` ([`PhysMem::table_gen`]); report a stale access
    /// otherwise.
    ///
    /// # Errors
    /// [`MmError::StaleRead`].
    pub fn check_table(&self, pa: u64, gen: u64) -> Result<(), MmError> {
        let pfn = pa >> self.page_shift;
        let page = self.page(pfn)?;
        // Generation first, flags second: free_page() clears the flags
        // before it bumps the generation, so a reader that sees the new
        // generation sees the flags of the free (or of a later allocation),
        // never the stale ones, and words its report accordingly.
        let now = self.table_gen(pa)?;
        let flags = page.flags();
        let detail = if now >> 32 != gen >> 32 {
            let (gen, now) = (gen >> 32, now >> 32);
            if flags & pg::ALLOCATED != 0 {
                Some(format!(
                    "page freed and reallocated since (generation {gen} -> {now})"
                ))
            } else {
                Some(format!("page freed (generation {gen} -> {now}), poisoned"))
            }
        } else if now != gen {
            Some(format!(
                "page-table fragment freed (fragment generation {} -> {}); its page lives on",
                gen as u32, now as u32
            ))
        } else if flags & pg::TABLE == 0 {
            Some("page is no longer a page table".to_string())
        } else {
            None
        };
        match detail {
            None => Ok(()),
            Some(detail) => {
                self.reports.push(Report::StaleRead {
                    pa,
                    pfn,
                    detail: detail.clone(),
                });
                Err(MmError::StaleRead { pa, detail })
            }
        }
    }

    /// Copy `len` bytes at `pa` out (for dumps and tests).
    ///
    /// # Errors
    /// [`MmError::BadAddress`] when the range leaves memory.
    pub fn read_bytes(&self, pa: u64, len: usize) -> Result<Vec<u8>, MmError> {
        let end = pa
            .checked_add(len as u64)
            .ok_or(MmError::BadAddress { pa })?;
        if end > self.size() {
            return Err(MmError::BadAddress { pa: end });
        }
        let mut out = Vec::with_capacity(len);
        for a in pa..end {
            let w = self.words[(a / 8) as usize].load(Ordering::Acquire);
            out.push(w.to_ne_bytes()[(a % 8) as usize]);
        }
        Ok(out)
    }

    /// Copy `data` into memory at `pa`, each word updated atomically (data
    /// pages: what a user store or a `copy_page()` writes).
    ///
    /// # Errors
    /// [`MmError::BadAddress`] when the range leaves memory.
    pub fn write_bytes(&self, pa: u64, data: &[u8]) -> Result<(), MmError> {
        let end = pa
            .checked_add(data.len() as u64)
            .ok_or(MmError::BadAddress { pa })?;
        if end > self.size() {
            return Err(MmError::BadAddress { pa: end });
        }
        let mut a = pa;
        let mut rest = data;
        while !rest.is_empty() {
            let off = (a % 8) as usize;
            let n = (8 - off).min(rest.len());
            let w = &self.words[(a / 8) as usize];
            let mut cur = w.load(Ordering::Relaxed);
            loop {
                let mut b = cur.to_ne_bytes();
                b[off..off + n].copy_from_slice(&rest[..n]);
                match w.compare_exchange_weak(
                    cur,
                    u64::from_ne_bytes(b),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => break,
                    Err(v) => cur = v,
                }
            }
            a += n as u64;
            rest = &rest[n..];
        }
        Ok(())
    }

    /// `copy_page()`/`copy_highpage()`: copy frame `from` to frame `to`.
    ///
    /// # Errors
    /// [`MmError::BadAddress`] for a frame outside memory.
    pub fn copy_page(&self, to: u64, from: u64) -> Result<(), MmError> {
        let per = 1u64 << (self.page_shift - 3);
        if to >= self.nr_frames() || from >= self.nr_frames() {
            return Err(MmError::BadAddress {
                pa: to.max(from) << self.page_shift,
            });
        }
        for i in 0..per {
            let v = self.words[(from * per + i) as usize].load(Ordering::Acquire);
            self.words[(to * per + i) as usize].store(v, Ordering::Release);
        }
        Ok(())
    }
}
