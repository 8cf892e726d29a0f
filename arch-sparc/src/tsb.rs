//! The TSB (translation storage buffer) and the model's side of the TLB-miss
//! refill path.
//!
//! sparc64 MMUs have no page-table walker.  Each mm has up to two TSBs
//! (`mm->context.tsb_block[MM_NUM_TSBS]`, `arch/sparc/include/asm/mmu_64.h`):
//! direct-mapped, power-of-two arrays of 16-byte `struct tsb { tag; pte; }`
//! entries.  A TLB miss traps to code that probes them and, on a miss in
//! both, walks the page tables and refills (see `guest/tsb_refill.c`, which
//! does that under emulation).  This module is the model of the same
//! structures and steps, used to check what the guest leaves behind.
//!
//! * [`MM_TSB_BASE`]: 8K ptes, indexed by `(va >> PAGE_SHIFT) & (n - 1)`
//!   (the hardware 8K TSB pointer, and `__update_mmu_tsb_insert(mm,
//!   MM_TSB_BASE, PAGE_SHIFT, ..)` in init_64.c).
//! * [`MM_TSB_HUGE`]: huge pages, indexed by `(va >> REAL_HPAGE_SHIFT) & (n -
//!   1)` (4M: an 8M THP is two 4M TTEs; `tsb.S` and
//!   `update_mmu_cache_pmd()`).
//! * Tag: `va >> 22`, the TAG TARGET layout with the context field zeroed
//!   (per-mm TSBs).  `tsb_init()` fills every tag with
//!   `1 << TSB_TAG_INVALID_BIT`; a refill first sets the lock bit
//!   (`TSB_LOCK_TAG`), then writes the TTE and the tag (`TSB_WRITE`).
//! * Sizes: 512 to 65536 entries (8K to 1M, `tsb_grow()` picks by RSS); the
//!   model keeps the size it is created with (growth is not modelled).

use mm_core::arch::{Arch, P4d, Pmd, Pte, Pud};
use mm_core::{Level, Mm, MmError};

use crate::entry::{Layout, _PAGE_PMD_HUGE, _PAGE_VALID, PAGE_SHIFT, REAL_HPAGE_SHIFT};
use crate::Sparc64;

/// `MM_TSB_BASE` (mmu_64.h): the 8K TSB.
pub const MM_TSB_BASE: usize = 0;
/// `MM_TSB_HUGE` (mmu_64.h): the huge-page TSB.
pub const MM_TSB_HUGE: usize = 1;
/// `TSB_TAG_LOCK_BIT` (tsb.h).
pub const TSB_TAG_LOCK_BIT: u32 = 47;
/// `TSB_TAG_INVALID_BIT` (tsb.h).
pub const TSB_TAG_INVALID_BIT: u32 = 46;
/// The tag `tsb_init()` writes: never matches a tag target.
pub const TSB_TAG_INVALID: u64 = 1 << TSB_TAG_INVALID_BIT;
/// Bytes of one entry (`TSB_ENTRY_ALIGNMENT`, mmu_64.h).
pub const TSB_ENTRY_BYTES: u64 = 16;
/// The smallest TSB (8K, `tsb_cache_names[0]`): what `init_new_context()`
/// and `hugetlb_setup()` allocate for an empty mm.
pub const TSB_MIN_ENTRIES: u64 = 512;
/// The largest TSB (1M).
pub const TSB_MAX_ENTRIES: u64 = 65536;

/// The tag of `va`: VA bits 63:22, context 0.
pub fn tsb_tag(va: u64) -> u64 {
    va >> 22
}

/// One TSB entry (`struct tsb`, mmu_64.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TsbEntry {
    /// The tag (`tsb_tag()`, or [`TSB_TAG_INVALID`]).
    pub tag: u64,
    /// The TTE.
    pub pte: u64,
}

/// One TSB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tsb {
    entries: Vec<TsbEntry>,
    hash_shift: u32,
}

impl Tsb {
    /// A TSB of `nentries` (a power of two, 512..=65536) entries hashed by
    /// `va >> hash_shift`, every tag invalid (`tsb_init()`).
    ///
    /// # Errors
    /// [`MmError::Config`] for a size that is not a power of two in range.
    pub fn new(nentries: u64, hash_shift: u32) -> Result<Tsb, MmError> {
        if !nentries.is_power_of_two() || !(TSB_MIN_ENTRIES..=TSB_MAX_ENTRIES).contains(&nentries) {
            return Err(MmError::Config(format!(
                "a TSB has a power of two of 512..=65536 entries, not {nentries}"
            )));
        }
        Ok(Tsb {
            entries: vec![
                TsbEntry {
                    tag: TSB_TAG_INVALID,
                    pte: 0
                };
                nentries as usize
            ],
            hash_shift,
        })
    }

    /// Number of entries (`tsb_nentries`).
    pub fn nentries(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The hash shift: `PAGE_SHIFT` or `REAL_HPAGE_SHIFT`.
    pub fn hash_shift(&self) -> u32 {
        self.hash_shift
    }

    /// The index of `va`'s entry.
    pub fn index(&self, va: u64) -> usize {
        ((va >> self.hash_shift) & (self.nentries() - 1)) as usize
    }

    /// The entries.
    pub fn entries(&self) -> &[TsbEntry] {
        &self.entries
    }

    /// The TTE cached for `va`, if its entry's tag matches.
    pub fn probe(&self, va: u64) -> Option<u64> {
        let e = self.entries[self.index(va)];
        (e.tag == tsb_tag(va)).then_some(e.pte)
    }

    /// `tsb_insert()` at `va`'s entry: the tag and the TTE.
    pub fn insert(&mut self, va: u64, pte: u64) {
        let i = self.index(va);
        self.entries[i] = TsbEntry {
            tag: tsb_tag(va),
            pte,
        };
    }

    /// `tsb_flush()` of `va`'s entry when it holds `va`: the tag becomes
    /// invalid.
    pub fn flush(&mut self, va: u64) {
        let i = self.index(va);
        if self.entries[i].tag == tsb_tag(va) {
            self.entries[i].tag = TSB_TAG_INVALID;
        }
    }

    /// Invalidate every entry (`tsb_init()`).
    pub fn flush_all(&mut self) {
        for e in &mut self.entries {
            *e = TsbEntry {
                tag: TSB_TAG_INVALID,
                pte: 0,
            };
        }
    }

    /// The TSB as it sits in memory: 16 bytes per entry, tag then TTE, big
    /// endian.
    pub fn to_be_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.entries.len() * TSB_ENTRY_BYTES as usize);
        for e in &self.entries {
            v.extend_from_slice(&e.tag.to_be_bytes());
            v.extend_from_slice(&e.pte.to_be_bytes());
        }
        v
    }

    /// A TSB read back from its memory image (see [`Tsb::to_be_bytes`]).
    ///
    /// # Errors
    /// [`MmError::Config`] when the image is not a valid TSB size.
    pub fn from_be_bytes(bytes: &[u8], hash_shift: u32) -> Result<Tsb, MmError> {
        let n = bytes.len() as u64 / TSB_ENTRY_BYTES;
        let mut t = Tsb::new(n, hash_shift)?;
        for (i, c) in bytes.chunks_exact(16).enumerate() {
            let w =
                |r: std::ops::Range<usize>| u64::from_be_bytes(c[r].try_into().expect("8 bytes"));
            t.entries[i] = TsbEntry {
                tag: w(0..8),
                pte: w(8..16),
            };
        }
        Ok(t)
    }
}

/// How a TLB miss was resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissOutcome {
    /// The 8K TSB held the tag.
    HitBase,
    /// The huge TSB held the tag.
    HitHuge,
    /// The walk found a base-page TTE, now in the 8K TSB.
    RefillBase,
    /// The walk found a huge pmd (or pud), now in the huge TSB.
    RefillHuge,
    /// The walk failed (`tsb_do_fault` → `do_sparc64_fault()`): no valid
    /// TTE.
    WalkFault,
}

/// The result of one TLB miss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Miss {
    /// How it was resolved.
    pub outcome: MissOutcome,
    /// The TTE loaded into the TLB (0 after a walk fault).
    pub tte: u64,
}

/// An mm's TSBs (`mm->context.tsb_block`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MmTsb {
    /// `tsb_block[MM_TSB_BASE]`.
    pub base: Tsb,
    /// `tsb_block[MM_TSB_HUGE]`: allocated on the first huge mapping
    /// (`hugetlb_setup()`), here by [`MmTsb::new`] when asked.
    pub huge: Option<Tsb>,
}

impl MmTsb {
    /// TSBs of the given sizes (`huge_entries` 0: no huge TSB yet).
    ///
    /// # Errors
    /// As [`Tsb::new`].
    pub fn new(base_entries: u64, huge_entries: u64) -> Result<MmTsb, MmError> {
        Ok(MmTsb {
            base: Tsb::new(base_entries, PAGE_SHIFT)?,
            huge: if huge_entries == 0 {
                None
            } else {
                Some(Tsb::new(huge_entries, REAL_HPAGE_SHIFT)?)
            },
        })
    }

    /// `update_mmu_cache()` for one base pte (`update_mmu_cache_range()`,
    /// init_64.c): a pte that is not `pte_accessible()` (V clear) is not
    /// inserted ("we'll deadlock"); a 4M-size pte goes to the huge TSB,
    /// anything else to the 8K TSB.
    pub fn update_mmu_cache(&mut self, l: &Layout, va: u64, pte: u64) {
        if pte & _PAGE_VALID == 0 {
            return;
        }
        if l.is_hugetlb_pte(pte) {
            if let Some(h) = &mut self.huge {
                h.insert(va, pte);
            }
        } else {
            self.base.insert(va, pte);
        }
    }

    /// `update_mmu_cache_pmd()` (init_64.c): a young, valid huge pmd goes to
    /// the huge TSB with VA bit 22 ORed in (one of its two 4M halves).
    pub fn update_mmu_cache_pmd(&mut self, l: &Layout, va: u64, pmd: u64) {
        if pmd & _PAGE_PMD_HUGE == 0 || !l.pte_young(pmd) || pmd & _PAGE_VALID == 0 {
            return;
        }
        let tte = pmd | (va & (1 << REAL_HPAGE_SHIFT));
        if let Some(h) = &mut self.huge {
            h.insert(va, tte);
        }
    }

    /// The model of the user data-TLB miss (the trap vector's 8K TSB probe,
    /// then `tsb_miss_page_table_walk` in `arch/sparc/kernel/tsb.S`): probe
    /// the 8K TSB, then the huge TSB; on a miss in both, walk `mm`'s tables
    /// with the Linux helpers as `USER_PGTABLE_WALK_TL1` does (a zero entry
    /// ends the walk; a huge pmd must have V and gets VA bit 22; a pte must
    /// have V) and refill the TSB the TTE belongs to.  With no huge TSB a
    /// huge TTE is not cached (the kernel would first call
    /// `hugetlb_setup()` to allocate one).
    ///
    /// # Errors
    /// Memory errors of the model's loads.
    pub fn tlb_miss(&mut self, mm: &Mm<Sparc64>, va: u64) -> Result<Miss, MmError> {
        if let Some(tte) = self.base.probe(va) {
            return Ok(Miss {
                outcome: MissOutcome::HitBase,
                tte,
            });
        }
        if let Some(tte) = self.huge.as_ref().and_then(|h| h.probe(va)) {
            return Ok(Miss {
                outcome: MissOutcome::HitHuge,
                tte,
            });
        }
        let Some(tte) = user_pgtable_walk(mm, va)? else {
            return Ok(Miss {
                outcome: MissOutcome::WalkFault,
                tte: 0,
            });
        };
        if tte & _PAGE_PMD_HUGE != 0 {
            if let Some(h) = &mut self.huge {
                h.insert(va, tte);
            }
            Ok(Miss {
                outcome: MissOutcome::RefillHuge,
                tte,
            })
        } else {
            self.base.insert(va, tte);
            Ok(Miss {
                outcome: MissOutcome::RefillBase,
                tte,
            })
        }
    }
}

/// The page-table walk of the refill path, through the Linux helpers on the
/// model's memory: the TTE to load for `va`, or `None` where the kernel's
/// walk branches to its fail label.  The pud-huge check is the unpatched
/// patch site (no 16G hugetlb), so every non-zero pud is a table pointer.
///
/// # Errors
/// Memory errors of the loads.
pub fn user_pgtable_walk(mm: &Mm<Sparc64>, va: u64) -> Result<Option<u64>, MmError> {
    let a = mm.arch();
    let g = a.geometry();
    let phys = mm.phys();
    let idx = |level: Level| g.level(level).index(va) * 8;
    // The pgd table's entries are p4d entries (pgtable-nop4d.h).
    let pgd = P4d(phys.load(mm.pgd_pa() + idx(Level::Pgd), 8)?);
    if a.p4d_none(pgd) {
        return Ok(None);
    }
    let pud = Pud(phys.load(a.p4d_table_pa(pgd) + idx(Level::Pud), 8)?);
    if a.pud_none(pud) {
        return Ok(None);
    }
    let pmd = Pmd(phys.load(a.pud_table_pa(pud) + idx(Level::Pmd), 8)?);
    if a.pmd_none(pmd) {
        return Ok(None);
    }
    if a.pmd_trans_huge(pmd) {
        if !a.pmd_hw_valid(pmd) {
            return Ok(None);
        }
        return Ok(Some(
            (pmd.0 & !(1 << REAL_HPAGE_SHIFT)) | (va & (1 << REAL_HPAGE_SHIFT)),
        ));
    }
    let pte = Pte(phys.load(a.pmd_table_pa(pmd) + idx(Level::Pte), 8)?);
    Ok(a.pte_hw_valid(pte).then_some(pte.0))
}
