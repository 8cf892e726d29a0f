//! Loom models of the series' protocol, run on the real mm-core code (walk,
//! RCU, khugepaged's `retract_page_tables()`, mremap's `move_normal_pmd()`,
//! the generic `pte_free_defer()`) over the real x86 encodings, every
//! atomic and lock a loom one through `mm_core::sync`.
//!
//! | model | expected |
//! |---|---|
//! | `pte_offset_map()` reader vs `retract_page_tables()` + `pte_free_defer()` (x86_64, and PAE with its interrupts-off pmd read and `pmdp_get_lockless_sync()`) | passes |
//! | the same with v6.4's immediate `pte_free()` | loom finds the use-after-free |
//! | `pte_offset_map_lock()` vs retract | passes |
//! | the same without the pmd re-check (`pte_offset_map_lock_unchecked`) | loom finds the stale-table write |
//! | PAE `pmdp_get_lockless()` (low, high, low) vs a pmd update | passes |
//! | PAE halves read without the low re-check | loom finds the torn value |
//! | mremap `move_normal_pmd()` with the 2024 re-check vs retract | passes |
//! | the same without it (v6.6 as released) | loom finds the bogus pmd |
//!
//! Each model is one small machine (4 or 8 frames of simulated memory, the
//! deterministic RCU driven from the model's main thread) and two loom
//! threads.  The flawed forms are the real code's run-time selectors:
//! khugepaged [`Version::V6_4`], [`Mm::pte_offset_map_lock_unchecked`],
//! [`Mm::pmdp_get_halves_unchecked`], [`MovePmd::Unchecked`].
//!
//! Run (the emulator is not needed, so `--no-default-features` skips the
//! Unicorn build):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 \
//!   cargo test -p arch-x86 --release --no-default-features --test loom_walk
//! ```
//!
//! A failing model prints its failure, the schedule (runs of loom
//! operations per thread) and the command that replays it from the
//! checkpoint file it wrote: the same test, filtered to the one model, with
//! `LOOM_CHECKPOINT_FILE=<file>` (plus `LOOM_LOG=trace LOOM_LOCATION=1` and
//! `--nocapture` for loom's step-by-step trace).  See `mm_core::sync::model`.
#![cfg(loom)]

use std::sync::Arc;

use arch_x86::X86;
use mm_core::file::AddressSpace;
use mm_core::khugepaged::{retract_page_tables, Version};
use mm_core::machine::Mode;
use mm_core::mremap::{mremap, MovePmd};
use mm_core::sync::model::{rcu_drain, trace_machine, Model};
use mm_core::sync::thread;
use mm_core::vma::vm;
use mm_core::walk::EntryPtr;
use mm_core::{map, mmap, Arch, Machine, Mm};

/// Where the file is mapped: a PMD-aligned address.
const BASE: u64 = 0x4000_0000;

fn model(name: &str) -> Model {
    Model::new(
        name,
        env!("CARGO_TARGET_TMPDIR"),
        env!("CARGO_PKG_NAME"),
        "loom_walk",
    )
}

/// One machine, one mm mapping one PMD range of a shmem file at [`BASE`],
/// with its (empty) pte table allocated: what `retract_page_tables()`
/// finds after `collapse_file()` has put a huge page in the page cache and
/// unmapped the small ones.
struct World {
    m: Arc<Machine>,
    mm: Arc<Mm<X86>>,
    file: Arc<AddressSpace<X86>>,
    pmdp: EntryPtr,
    table: u64,
}

fn world(cfg: &str) -> World {
    let a = X86::from_name(cfg).expect("configuration");
    let g = a.geometry().clone();
    let m = Machine::new(&g, 8 * g.page_size(), Mode::Deterministic).expect("machine");
    trace_machine(&m);
    let mm = Mm::new(Arc::new(a), m.clone()).expect("mm");
    let len = g.pmd_size();
    let file = AddressSpace::new(m.clone(), "f", true, len >> g.page_shift);
    mmap::mmap(
        &mm,
        BASE,
        len,
        Some(file.clone()),
        0,
        vm::READ | vm::WRITE | vm::SHARED,
    )
    .expect("mmap");
    let pmdp = map::pmd_alloc(&mm, BASE).expect("pmd_alloc");
    map::pte_alloc(&mm, pmdp, BASE).expect("pte_alloc");
    let table = mm.arch().pmd_table_pa(mm.pmdp_get(pmdp).expect("pmd"));
    World {
        m,
        mm,
        file,
        pmdp,
        table,
    }
}

/// Nothing reported, and the retracted table freed (once: a second free
/// would have been reported as a bad page).
fn assert_clean(w: &World, table_freed: bool) {
    assert!(
        w.m.reports().is_empty(),
        "reports: {:?}",
        w.m.reports().all()
    );
    if table_freed {
        let pfn = w.table >> w.m.phys.page_shift();
        assert!(
            !w.m.phys.is_allocated(pfn),
            "the retracted table {:#x} was never freed",
            w.table
        );
    }
}

// ---- 1, 2: pte_offset_map() reader vs retract_page_tables() -------------

/// A `pte_offset_map()` walker that holds nothing but what the call takes
/// (RCU), as v6.6 allows, reads the table while khugepaged retracts it.
/// v6.6 frees the table with `pte_free_defer()`; v6.4's retract freed it at
/// once with `pte_free()`, safe only because its walkers held `mmap_lock`
/// or `i_mmap_rwsem`, which v6.6's need not.
fn reader_vs_retract(cfg: &str, version: Version) {
    let w = world(cfg);
    let reader = {
        let (mm, pmdp) = (w.mm.clone(), w.pmdp);
        thread::spawn(move || {
            if let Some(map) = mm.pte_offset_map(pmdp, BASE).expect("pte_offset_map") {
                let pte = map
                    .get()
                    .unwrap_or_else(|e| panic!("use-after-free of a retracted table: {e}"));
                assert!(
                    mm.arch().pte_none(pte),
                    "read {pte:?} from a retracted (empty) table"
                );
            }
        })
    };
    retract_page_tables(&w.file, 0, version).expect("retract_page_tables");
    rcu_drain(&w.m);
    reader.join().expect("reader");
    rcu_drain(&w.m);
    assert_clean(&w, true);
}

#[test]
fn pte_offset_map_reader_vs_retract_with_pte_free_defer_passes() {
    model("x86_reader_vs_retract_defer").check(|| reader_vs_retract("x86_64", Version::V6_6));
}

/// The same on PAE, where the reader also reads the pmd as two halves with
/// interrupts off and retract waits for such readers
/// (`pmdp_get_lockless_sync()`) before deferring the free.
#[test]
fn pae_pte_offset_map_reader_vs_retract_with_pte_free_defer_passes() {
    model("x86_pae_reader_vs_retract_defer").check(|| reader_vs_retract("x86-pae", Version::V6_6));
}

#[test]
fn pte_offset_map_reader_vs_retract_with_immediate_free_is_a_use_after_free() {
    let f = model("x86_reader_vs_retract_immediate")
        .check_fails(|| reader_vs_retract("x86_64", Version::V6_4));
    assert!(
        f.message
            .contains("use-after-free of a retracted table: stale page-table read"),
        "{f}"
    );
}

// ---- 3: pte_offset_map_lock() with and without the pmd re-check ---------

/// A pte-lock holder (a zap: clear the address's pte under the lock) while
/// khugepaged retracts the table.  The guarantee `pte_offset_map_lock()`
/// gives, checked while the lock is held: the pmd still points at the table
/// whose lock is held, so the write lands in the mm's page tables.
fn locker_vs_retract(checked: bool) {
    let w = world("x86_64");
    let locker = {
        let (mm, pmdp) = (w.mm.clone(), w.pmdp);
        thread::spawn(move || {
            let locked = if checked {
                mm.pte_offset_map_lock(pmdp, BASE)
            } else {
                mm.pte_offset_map_lock_unchecked(pmdp, BASE)
            }
            .expect("pte_offset_map_lock");
            if let Some(l) = locked {
                let a = mm.arch();
                let pmd = mm.pmdp_get(pmdp).expect("pmd");
                let table = l.map().table_pa();
                assert!(
                    !a.pmd_none(pmd) && a.pmd_table_pa(pmd) == table,
                    "stale-table write: the ptl of table {table:#x} is held, but the pmd is \
                     {:#x}: the pte store would go to a detached table",
                    pmd.0
                );
                l.map()
                    .set_at(l.map().index(), a.pte_clear_val())
                    .expect("pte store");
            }
        })
    };
    retract_page_tables(&w.file, 0, Version::V6_6).expect("retract_page_tables");
    rcu_drain(&w.m);
    locker.join().expect("locker");
    rcu_drain(&w.m);
    assert_clean(&w, true);
}

#[test]
fn pte_offset_map_lock_vs_retract_passes() {
    model("x86_lock_vs_retract_rechecked").check(|| locker_vs_retract(true));
}

#[test]
fn pte_offset_map_lock_without_pmd_recheck_writes_a_stale_table() {
    let f = model("x86_lock_vs_retract_unchecked").check_fails(|| locker_vs_retract(false));
    assert!(f.message.contains("stale-table write"), "{f}");
}

// ---- 4: x86 PAE pmd read -------------------------------------------------

/// PAE: a pmd changes from one huge pmd to another whose low and high
/// halves both differ, while a lockless reader reads it (interrupts off,
/// as `__pte_offset_map()` does).  Every value read must be one that was
/// written.
fn pae_reader_vs_writer(checked: bool) {
    let a = X86::from_name("x86-pae").expect("x86-pae");
    let g = a.geometry().clone();
    let prot = a.vm_get_page_prot(3);
    let x = a.pmd_mkhuge(a.pfn_pmd(0x200, prot));
    let y = a.pmd_mkhuge(a.pfn_pmd(0xff_fe00, prot));
    assert!(x.0 as u32 != y.0 as u32 && x.0 >> 32 != y.0 >> 32);
    let m = Machine::new(&g, 4 * g.page_size(), Mode::Deterministic).expect("machine");
    trace_machine(&m);
    let mm = Mm::new(Arc::new(a), m.clone()).expect("mm");
    let pmdp = map::pmd_alloc(&mm, BASE).expect("pmd_alloc");
    mm.set_entry(pmdp, x.0).expect("set_pmd");
    let writer = {
        let mm = mm.clone();
        thread::spawn(move || mm.set_entry(pmdp, y.0).expect("set_pmd"))
    };
    let v = {
        let _irq = mm.pmdp_get_lockless_start();
        if checked {
            mm.pmdp_get_lockless(pmdp)
        } else {
            mm.pmdp_get_halves_unchecked(pmdp)
        }
        .expect("pmd read")
    };
    assert!(
        v == x || v == y,
        "torn pmd {:#018x}: the halves of {:#018x} and {:#018x} mixed",
        v.0,
        x.0,
        y.0
    );
    writer.join().expect("writer");
}

#[test]
fn pae_pmdp_get_lockless_never_tears() {
    model("x86_pae_pmd_read_rechecked").check(|| pae_reader_vs_writer(true));
}

#[test]
fn pae_pmd_halves_without_low_recheck_tear() {
    let f = model("x86_pae_pmd_read_unchecked").check_fails(|| pae_reader_vs_writer(false));
    assert!(f.message.contains("torn pmd"), "{f}");
}

// ---- 6: mremap move_normal_pmd() vs retract ---------------------------

/// mremap moves the whole PMD range (a whole-table move) while khugepaged
/// retracts its table.  Without the 2024 re-check `move_normal_pmd()`
/// populates the new pmd from the none pmd it finds under the locks: a pmd
/// pointing at physical page 0 (reported by the model as an invariant).
fn mremap_vs_retract(form: MovePmd) {
    let w = world("x86_64");
    let len = w.mm.arch().geometry().pmd_size();
    let mover = {
        let mm = w.mm.clone();
        thread::spawn(move || {
            mremap(&mm, BASE, len, BASE + 2 * len, form, |_| {}).expect("mremap");
        })
    };
    retract_page_tables(&w.file, 0, Version::V6_6).expect("retract_page_tables");
    rcu_drain(&w.m);
    mover.join().expect("mremap thread");
    rcu_drain(&w.m);
    assert_clean(&w, false);
}

#[test]
fn mremap_move_normal_pmd_with_recheck_vs_retract_passes() {
    model("x86_mremap_vs_retract_rechecked").check(|| mremap_vs_retract(MovePmd::Rechecked));
}

#[test]
fn mremap_move_normal_pmd_without_recheck_populates_a_bogus_pmd() {
    let f = model("x86_mremap_vs_retract_unchecked")
        .check_fails(|| mremap_vs_retract(MovePmd::Unchecked));
    assert!(f.message.contains("which is not a page table"), "{f}");
}
