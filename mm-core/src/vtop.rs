//! `vtop`: translate one virtual address the way the crash utility's `vtop`
//! command shows it — every level's table, index, raw entry and meaning —
//! using only the arch's Linux helpers, never its hardware knowledge.  This is
//! the model's answer that the emulated MMU is compared against.

use crate::arch::{Arch, Level, Pmd, Pte, Pud};
use crate::mm::Mm;
use crate::walk::EntryPtr;
use crate::MmError;

/// One level of a walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VtopStep {
    /// The level whose helpers interpreted the entry (folded levels are
    /// merged into the level that interprets their word).
    pub level: Level,
    /// Physical address of the table.
    pub table_pa: u64,
    /// Index in the table.
    pub index: u64,
    /// Physical address of the entry.
    pub entry_pa: u64,
    /// The raw entry value.
    pub raw: u64,
    /// What Linux's helpers make of it.
    pub meaning: String,
}

/// Where a walk ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VtopOutcome {
    /// A leaf that the MMU should accept (per [`Arch::pte_hw_valid`] /
    /// [`Arch::pmd_hw_valid`]).
    Mapped {
        /// The translated physical address.
        pa: u64,
        /// Level of the leaf.
        level: Level,
        /// Size the leaf maps.
        size: u64,
        /// Whether the MMU lets a write through the leaf
        /// ([`Arch::pte_hw_writable`] / [`Arch::pmd_hw_writable`]: `pte_write()` /
        /// `pmd_write()` unless the arch emulates the dirty bit).
        writable: bool,
    },
    /// No valid translation: the walk stopped at `level` because its entry
    /// is none, not present (swap, migration, protnone, invalidated), or bad.
    NotMapped {
        /// Level where the walk stopped.
        level: Level,
        /// Why.
        why: NotMappedWhy,
    },
}

/// Why a walk found no translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotMappedWhy {
    /// `*_none()`.
    None,
    /// Not none and not something the MMU accepts (swap or migration entry,
    /// protnone, invalidated huge pmd).
    NotPresent,
    /// `*_bad()`.
    Bad,
}

/// A complete walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vtop {
    /// The virtual address.
    pub va: u64,
    /// Each level visited, top first.
    pub steps: Vec<VtopStep>,
    /// The result.
    pub outcome: VtopOutcome,
}

impl Vtop {
    /// The translated physical address, if any.
    pub fn pa(&self) -> Option<u64> {
        match self.outcome {
            VtopOutcome::Mapped { pa, .. } => Some(pa),
            VtopOutcome::NotMapped { .. } => None,
        }
    }
}

/// End a walk at `step` with `meaning` and `outcome`.
fn finish(
    va: u64,
    mut steps: Vec<VtopStep>,
    mut step: VtopStep,
    meaning: String,
    outcome: VtopOutcome,
) -> Result<Vtop, MmError> {
    step.meaning = meaning;
    steps.push(step);
    Ok(Vtop { va, steps, outcome })
}

/// Walk `va` in `mm` with the model.  Reads with plain loads: call it with
/// the tables quiescent (or under `mmap_lock`), as crash does on a dump.
///
/// # Errors
/// [`MmError::BadVa`] for an address outside the user range; memory errors.
pub fn vtop<A: Arch>(mm: &Mm<A>, va: u64) -> Result<Vtop, MmError> {
    crate::map::check_va(mm, va)?;
    let a = mm.arch();
    // One read of the top table and its shape for the whole walk.
    let top = mm.top();
    let g = &a.shapes()[top.shape];
    let mut steps = Vec::new();
    let mut p: EntryPtr = mm.pgd_offset_in(top, va);
    let mut table_pa = top.pa;
    let levels = [Level::Pgd, Level::P4d, Level::Pud, Level::Pmd, Level::Pte];
    let mut i = 0;
    loop {
        let level = levels[i];
        let interp = mm.interp_level_in(top.shape, level);
        if interp != level {
            // A level folded away below: step down to the interpreting one
            // without reading anything (its *_offset returns the same
            // pointer).
            i += 1;
            p = match levels[i] {
                Level::P4d => mm.p4d_offset(p, va)?,
                Level::Pud => mm.pud_offset(p, va)?,
                Level::Pmd => mm.pmd_offset(p, va)?,
                _ => p,
            };
            continue;
        }
        let raw = mm.load_entry(p)?;
        let index = (p.pa - table_pa) / mm.entry_width(level) as u64;
        let mut step = VtopStep {
            level,
            table_pa,
            index,
            entry_pa: p.pa,
            raw,
            meaning: String::new(),
        };
        let flags = crate::arch::decode_flags(a, level, raw).join("|");
        if mm.level_none(level, raw) {
            let why = NotMappedWhy::None;
            return finish(
                va,
                steps,
                step,
                "none".into(),
                VtopOutcome::NotMapped { level, why },
            );
        }
        let leaf = match level {
            Level::Pte => Some((
                a.pte_hw_valid(Pte(raw)),
                a.pte_pfn(Pte(raw)),
                a.pte_hw_writable(Pte(raw)),
                g.page_size(),
            )),
            Level::Pmd if a.pmd_leaf(Pmd(raw)) || !a.pmd_present(Pmd(raw)) => Some((
                a.pmd_leaf(Pmd(raw)) && a.pmd_hw_valid(Pmd(raw)),
                a.pmd_pfn(Pmd(raw)),
                a.pmd_hw_writable(Pmd(raw)),
                g.pmd_size(),
            )),
            Level::Pud if a.pud_leaf(Pud(raw)) => Some((
                a.pud_present(Pud(raw)),
                a.pud_pfn(Pud(raw)),
                a.pud_write(Pud(raw)),
                1u64 << g.level(Level::Pud).shift,
            )),
            _ => None,
        };
        if let Some((valid, pfn, writable, size)) = leaf {
            if !valid {
                let why = NotMappedWhy::NotPresent;
                let meaning = format!("not present [{flags}]");
                return finish(
                    va,
                    steps,
                    step,
                    meaning,
                    VtopOutcome::NotMapped { level, why },
                );
            }
            // (Wrapping: a garbage huge leaf's pfn need not be aligned.)
            let pa = (pfn << g.page_shift).wrapping_add(va & (size - 1));
            let meaning = format!(
                "{} leaf pfn {pfn:#x} -> pa {pa:#x} [{flags}]",
                if level == Level::Pte {
                    "page".to_string()
                } else {
                    format!("{} KiB", size >> 10)
                }
            );
            let outcome = VtopOutcome::Mapped {
                pa,
                level,
                size,
                writable,
            };
            return finish(va, steps, step, meaning, outcome);
        }
        if mm.level_bad(level, raw) {
            let why = NotMappedWhy::Bad;
            let meaning = format!("bad [{flags}]");
            return finish(
                va,
                steps,
                step,
                meaning,
                VtopOutcome::NotMapped { level, why },
            );
        }
        i += 1;
        let next = levels[i];
        p = match next {
            Level::P4d => mm.p4d_offset(p, va)?,
            Level::Pud => mm.pud_offset(p, va)?,
            Level::Pmd => mm.pmd_offset(p, va)?,
            _ => {
                let t = a.pmd_table_pa(Pmd(raw));
                let off = g.level(Level::Pte).index(va) * mm.entry_width(Level::Pte) as u64;
                let pa = t.checked_add(off).ok_or(MmError::BadAddress { pa: t })?;
                EntryPtr::new(pa, Level::Pte)
            }
        };
        table_pa = p.pa - g.level(next).index(va) * mm.entry_width(next) as u64;
        step.meaning = format!("table -> {table_pa:#x} [{flags}]");
        steps.push(step);
        // Folded levels between here and the next table are skipped at the
        // top of the loop.
    }
}
