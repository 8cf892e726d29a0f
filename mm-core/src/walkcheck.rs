//! Walk agreement: the model's translation ([`crate::vtop`]) against an
//! emulated MMU ([`HwWalker`]) over random mappings (conformance family 2).
//!
//! The mappings are built with the model's own mapping API in the machine's
//! physical memory, and the emulator is handed those very bytes.  Each
//! probed address is translated for a read and for a write:
//!
//! * where the model finds a valid leaf, the emulator must translate the
//!   read to the same physical address, and the write too exactly when the
//!   leaf is writable in hardware (`pte_hw_writable()`/`pmd_hw_writable()`:
//!   `pte_write()`/`pmd_write()` unless the arch emulates the dirty bit),
//!   faulting otherwise;
//! * where the model finds nothing valid (none, swap or migration entries,
//!   protnone, invalidated huge pmds), both accesses must fault.
//!
//! Agreement is the evidence that the arch's Linux helpers and its
//! hardware format say the same thing.

use std::sync::Arc;

use crate::arch::Arch;
use crate::emulate::{Access, EmuError, HwOutcome, HwWalker};
use crate::family::{skip, Checker, FamilyResult, Rng};
use crate::machine::{Machine, Mode};
use crate::map;
use crate::mm::Mm;
use crate::swapops;
use crate::vtop::{vtop, Vtop, VtopOutcome};
use crate::MmError;

/// What kind of entry a random mapping installs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A 4K (base page) leaf with one of the 16 protections.
    Page,
    /// A PMD-sized leaf.
    Huge,
    /// A swap pte.
    Swap,
    /// A pmd migration entry.
    PmdMigration,
    /// An invalidated huge pmd (`pmd_mkinvalid`): present to Linux, not to
    /// the MMU.
    Invalidated,
    /// An address nothing maps.
    Unmapped,
}

/// How one probe compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The address.
    pub va: u64,
    /// What was installed there.
    pub kind: Kind,
    /// The model's walk.
    pub model: Vtop,
    /// The emulator on a read.
    pub read: HwOutcome,
    /// The emulator on a write.
    pub write: HwOutcome,
    /// Whether they agree (see the module documentation).
    pub agree: bool,
}

/// Compare a model walk with the emulator's read and write outcomes.
pub fn agrees(model: &Vtop, read: &HwOutcome, write: &HwOutcome) -> bool {
    match model.outcome {
        VtopOutcome::Mapped { pa, writable, .. } => {
            read.pa() == Some(pa)
                && if writable {
                    write.pa() == Some(pa)
                } else {
                    write.pa().is_none()
                }
        }
        VtopOutcome::NotMapped { .. } => read.pa().is_none() && write.pa().is_none(),
    }
}

/// Translate `va` with both and compare.
///
/// # Errors
/// [`EmuError`] when the emulator fails; model errors.
pub fn probe<A: Arch>(
    mm: &Mm<A>,
    hw: &mut dyn HwWalker,
    va: u64,
    kind: Kind,
) -> Result<Probe, EmuError> {
    let model = vtop(mm, va)?;
    let read = hw.translate(mm.hw_root(), va, Access::Read)?;
    let write = hw.translate(mm.hw_root(), va, Access::Write)?;
    let agree = agrees(&model, &read, &write);
    Ok(Probe {
        va,
        kind,
        model,
        read,
        write,
        agree,
    })
}

/// Parameters of the random mappings.
#[derive(Clone, Copy, Debug)]
pub struct WalkParams {
    /// Mappings to install.
    pub mappings: usize,
    /// Generator seed.
    pub seed: u64,
}

impl Default for WalkParams {
    fn default() -> Self {
        WalkParams {
            mappings: 400,
            seed: 0x77a1_c0de,
        }
    }
}

/// Install random mappings in `mm` and return the addresses to probe with
/// what each holds.
///
/// # Errors
/// Model errors other than collisions (which are skipped).
pub fn random_mappings<A: Arch>(
    mm: &Mm<A>,
    rng: &mut Rng,
    n: usize,
    hw_phys_bits: u32,
) -> Result<Vec<(u64, Kind)>, MmError> {
    let end = mm.arch().geometry().task_size();
    random_mappings_in(mm, rng, n, hw_phys_bits, 0, end)
}

/// [`random_mappings`] with every address in `[lo, hi)` (pmd-aligned
/// bounds; `hi` at most the mm's current [`Mm::task_size`]).
///
/// # Errors
/// As [`random_mappings`].
pub fn random_mappings_in<A: Arch>(
    mm: &Mm<A>,
    rng: &mut Rng,
    n: usize,
    hw_phys_bits: u32,
    lo: u64,
    hi: u64,
) -> Result<Vec<(u64, Kind)>, MmError> {
    let a = mm.arch();
    let g = a.geometry();
    let page = g.page_size();
    let pmd = g.pmd_size();
    let pfn_bits = g.phys_bits.min(hw_phys_bits) - g.page_shift;
    let pfn_mask = (1u64 << pfn_bits) - 1;
    let slots = (hi - lo) / pmd;
    // Cluster the mappings in a few pmd-sized regions so that tables fill
    // up (and the walk sees neighbours), plus some anywhere.
    let regions: Vec<u64> = (0..8).map(|_| lo + rng.below(slots) * pmd).collect();
    let mut out = Vec::new();
    for _ in 0..n {
        let base = if rng.below(4) == 0 {
            lo + rng.below(slots) * pmd
        } else {
            regions[rng.below(regions.len() as u64) as usize]
        };
        let va = base + (rng.below(pmd / page) * page);
        let mut kinds = vec![
            Kind::Page,
            Kind::Page,
            Kind::Page,
            Kind::Swap,
            Kind::Unmapped,
        ];
        if g.has_thp {
            kinds.extend([Kind::Huge, Kind::Huge, Kind::Invalidated]);
            if a.has_pmd_swap() {
                kinds.push(Kind::PmdMigration);
            }
        }
        let kind = kinds[rng.below(kinds.len() as u64) as usize];
        let prot = a.vm_get_page_prot(rng.below(16) as u8);
        let r = match kind {
            Kind::Page => map::map_page(mm, va, rng.next_u64() & pfn_mask, prot),
            Kind::Huge | Kind::Invalidated => {
                let pfn = (rng.next_u64() & pfn_mask) & !((pmd / page) - 1);
                let huge = a.pmd_mkhuge(a.pfn_pmd(pfn, prot));
                let v = if kind == Kind::Invalidated && a.pmd_present(huge) {
                    a.pmd_mkinvalid(huge)
                } else {
                    huge
                };
                map::set_pmd(mm, base, v, false)
            }
            Kind::Swap => {
                let max = a.max_swapfile_offset();
                let e = a.__swp_entry(
                    rng.below(a.swap_types().max_swapfiles()),
                    rng.below(max.min(1 << 30)),
                );
                map::set_pte(mm, va, a.__swp_entry_to_pte(e), false)
            }
            Kind::PmdMigration => {
                let e = swapops::make_readable_migration_entry(a, rng.next_u64() & pfn_mask);
                map::set_pmd(mm, base, a.__swp_entry_to_pmd(e), false)
            }
            Kind::Unmapped => Ok(()),
        };
        match r {
            Ok(()) => {
                let off = rng.below(page) & !7;
                out.push((va + off, kind));
            }
            Err(MmError::AlreadyMapped { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    // A pte that is none inside a populated table.
    if let Some(&(va, _)) = out.iter().find(|(_, k)| *k == Kind::Page) {
        let other = va ^ page;
        if matches!(map::unmap_page(mm, other), Ok(Some(p)) if a.pte_none(p)) {
            out.push((other, Kind::Unmapped));
        }
    }
    Ok(out)
}

/// Result of [`walk_family`]: the family result and every probe.
#[derive(Clone, Debug)]
pub struct WalkReport {
    /// Pass/fail with counts.
    pub family: FamilyResult,
    /// Each probe.
    pub probes: Vec<Probe>,
    /// What the emulator checks (its own description).
    pub walker: String,
}

/// Conformance family 2 for one configuration: random mappings, each probed
/// with the model and the emulator.
///
/// # Errors
/// [`EmuError`] when the emulator fails; model errors.
pub fn walk_family<A: Arch + Clone>(a: &A, p: WalkParams) -> Result<WalkReport, EmuError> {
    let g = a.geometry();
    let machine = Machine::new(g, 32 << 20, Mode::Deterministic)?;
    let mut hw = match a.hw_walker(machine.clone()) {
        Ok(hw) => hw,
        Err(EmuError::Unsupported(why)) => {
            return Ok(WalkReport {
                family: skip("walk_agreement", &format!("no emulated walk: {why}")),
                probes: vec![],
                walker: String::new(),
            })
        }
        Err(e) => return Err(e),
    };
    let mm = Mm::new(Arc::new(a.clone()), machine.clone())?;
    let mut rng = Rng::new(p.seed);
    let targets = random_mappings(&mm, &mut rng, p.mappings, hw.phys_bits())?;
    let mut c = Checker::new();
    let mut probes = Vec::with_capacity(targets.len());
    let mut unchecked: Vec<(String, usize)> = Vec::new();
    for (va, kind) in targets {
        if let Some(why) = hw.unchecked(mm.hw_root(), va)? {
            match unchecked.iter_mut().find(|(w, _)| *w == why) {
                Some((_, n)) => *n += 1,
                None => unchecked.push((why, 1)),
            }
            continue;
        }
        let pr = probe(&mm, hw.as_mut(), va, kind)?;
        c.check(pr.agree, || {
            format!(
                "va {:#x} ({kind:?}): model {:?}, emulator read {:?} write {:?}",
                pr.va, pr.model.outcome, pr.read, pr.write
            )
        });
        probes.push(pr);
    }
    let mut walker_desc = hw.describe();
    if !unchecked.is_empty() {
        walker_desc = format!(
            "{walker_desc}; probes left out (the emulator cannot judge them): {}",
            unchecked
                .iter()
                .map(|(w, n)| format!("{n} x {w}"))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    drop(hw);
    mm.mmput()?;
    let mut family = [c.finish("walk_agreement")];
    crate::family::apply_expected(&mut family, a.expected_failures());
    let [family] = family;
    Ok(WalkReport {
        family,
        probes,
        walker: walker_desc,
    })
}

/// The upgrade family (`walk_upgrade`), for configurations whose mms grow
/// ([`Arch::shapes`], s390's `crst_table_upgrade()`): random mappings in
/// the first shape, then for each further shape an `mmap()` just above the
/// current limit (the mmap path upgrades the mm) and random mappings in the
/// newly reachable range.  After every step every mapping made so far is
/// probed with the model and the emulator (handed the mm's current root,
/// [`Mm::hw_root`]), so the old mappings must still translate through the
/// new top tables; each upgrade must link the old top from the new top's
/// first entry.  At the end the mm is torn down and every entry of its top
/// table must hold the level's `pXd_clear()` value, with no report
/// (leaked accounting, bad pages).  Skipped where mms have one shape.
///
/// # Errors
/// [`EmuError`] when the emulator fails; model errors.
pub fn upgrade_family<A: Arch + Clone>(a: &A, p: WalkParams) -> Result<FamilyResult, EmuError> {
    const NAME: &str = "walk_upgrade";
    let shapes = a.shapes();
    if shapes.len() < 2 {
        return Ok(skip(
            NAME,
            "one shape: the number of levels is fixed for every mm of this configuration",
        ));
    }
    let g = a.geometry();
    let machine = Machine::new(g, 32 << 20, Mode::Deterministic)?;
    let mut hw = match a.hw_walker(machine.clone()) {
        Ok(hw) => hw,
        Err(EmuError::Unsupported(why)) => {
            return Ok(skip(NAME, &format!("no emulated walk: {why}")));
        }
        Err(e) => return Err(e),
    };
    let mm = Mm::new(Arc::new(a.clone()), machine.clone())?;
    let mut rng = Rng::new(p.seed ^ 0x5ba9e);
    let mut c = Checker::new();
    let mut targets: Vec<(u64, Kind)> = Vec::new();
    let per_shape = (p.mappings / shapes.len()).max(16);
    let mut lo = 0;
    for (s, sg) in shapes.iter().enumerate() {
        if s > 0 {
            let old = mm.top();
            let page = g.page_size();
            crate::mmap::mmap(&mm, lo, page, None, 0, crate::vma::vm::READ)?;
            let new = mm.top();
            c.check(new.shape == s && mm.task_size() == sg.task_size(), || {
                format!(
                    "mmap at {lo:#x} left the mm in shape {} (task size {:#x}), want shape {s}",
                    new.shape,
                    mm.task_size()
                )
            });
            let first = crate::walk::EntryPtr {
                pa: new.pa,
                level: crate::arch::Level::Pgd,
                shape: new.shape as u8,
            };
            let linked = mm.pmd_offset(mm.pud_offset(mm.p4d_offset(first, 0)?, 0)?, 0)?;
            let old_first = mm.pmd_offset(
                mm.pud_offset(mm.p4d_offset(mm.pgd_offset_in(old, 0), 0)?, 0)?,
                0,
            )?;
            c.check(linked == old_first, || {
                format!(
                    "shape {s}: the new top {:#x} does not lead to the old top {:#x} \
                     (pmd of va 0 at {:#x} vs {:#x})",
                    new.pa, old.pa, linked.pa, old_first.pa
                )
            });
        }
        let hi = sg.task_size() / g.pmd_size() * g.pmd_size();
        targets.extend(random_mappings_in(
            &mm,
            &mut rng,
            per_shape,
            hw.phys_bits(),
            lo,
            hi,
        )?);
        for &(va, kind) in &targets {
            if hw.unchecked(mm.hw_root(), va)?.is_some() {
                continue;
            }
            let pr = probe(&mm, hw.as_mut(), va, kind)?;
            c.check(pr.agree, || {
                format!(
                    "shape {s}: va {:#x} ({kind:?}): model {:?}, emulator read {:?} write {:?}",
                    pr.va, pr.model.outcome, pr.read, pr.write
                )
            });
        }
        if s + 1 < shapes.len() {
            lo = sg.task_size().next_multiple_of(g.pmd_size());
        }
    }
    drop(hw);
    // Teardown with the structure kept alive, to look at the top table.
    mm.mmgrab();
    mm.mmput()?;
    let top = mm.top();
    let interp = mm.interp_level_in(top.shape, crate::arch::Level::Pgd);
    let empty = map::clear_val(a, interp);
    let w = mm.entry_width(crate::arch::Level::Pgd) as u64;
    let n = shapes[top.shape].level(crate::arch::Level::Pgd).ptrs as u64;
    let mut stale = Vec::new();
    for i in 0..n {
        let v = machine.phys.load(top.pa + i * w, w as u32)?;
        if v != empty {
            stale.push((i, v));
        }
    }
    c.check(stale.is_empty(), || {
        format!(
            "after teardown {} top entries are not the {} clear value {empty:#x}: {:x?}",
            stale.len(),
            interp.name(),
            &stale[..stale.len().min(4)]
        )
    });
    mm.mmdrop()?;
    let reports = machine.reports().take();
    c.check(reports.is_empty(), || format!("reports: {reports:?}"));
    let mut family = [c.finish(NAME)];
    crate::family::apply_expected(&mut family, a.expected_failures());
    let [family] = family;
    Ok(family)
}
