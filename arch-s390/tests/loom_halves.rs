//! Loom models of s390's `pte_free_defer()` on 2K half-page tables, with
//! the mm's lifetime, run on the real code: mm-core's RCU, workqueue,
//! `retract_page_tables()` and mm teardown (`mmput()`, `mmdrop()`,
//! `mmdrop_async()`), and arch-s390's half allocator
//! (`arch/s390/mm/pgalloc.c`) in each `pte_free_defer()` variant, every
//! atomic and lock a loom one (including `mm->context.lock`).
//!
//! Two pte tables are the two halves of one 4K page.  khugepaged retracts
//! the first, deferring its free; then the mm exits (freeing the second
//! half and dropping the mm) while the grace period ends and the deferred
//! free's RCU callback runs; then the workqueue runs.
//!
//! | variant | expected |
//! |---|---|
//! | merged (v6.6): `SetPageActive()` + `page_table_free()`; one `call_rcu()` when both halves are free; the callback does not touch the mm | passes |
//! | v1 (2023-05-28): `mmgrab()`, `call_rcu(&page->rcu_head)`, the callback frees the half and `mmdrop_async()`s | loom finds the exit's `page_table_free()` of the other half putting the page on `pgtable_list` through the `lru` link its queued rcu_head overlays (the review's finding) |
//! | v1-mmdrop: v1 with a plain `mmdrop()` in the callback | loom finds the last `mmdrop()` (so `__mmdrop()`) in the RCU callback's softirq context |
//!
//! Run:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 \
//!   cargo test -p arch-s390 --release --no-default-features --test loom_halves
//! ```
//!
//! A failing model prints the failure, its schedule and the command that
//! replays it from its checkpoint file (see `mm_core::sync::model`).
#![cfg(loom)]

use std::sync::Arc;

use arch_s390::S390;
use mm_core::file::AddressSpace;
use mm_core::khugepaged::{retract_page_tables, Version};
use mm_core::machine::Mode;
use mm_core::sync::model::{rcu_drain, trace_machine, Model};
use mm_core::sync::thread;
use mm_core::vma::vm;
use mm_core::{map, mmap, Arch, Machine, Mm};

/// Where the file is mapped: a segment-aligned (1M) address.
const BASE: u64 = 0x4000_0000;

fn model(name: &str) -> Model {
    Model::new(
        name,
        env!("CARGO_TARGET_TMPDIR"),
        env!("CARGO_PKG_NAME"),
        "loom_halves",
    )
}

fn retract_while_the_mm_exits(variant: &str) {
    let a = S390::with_variant("s390x", variant).expect("s390x");
    let g = a.geometry().clone();
    let len = g.pmd_size();
    let nr = len >> g.page_shift;
    // Frame 0, two 16K CRST tables (region-third, segment), the pte page,
    // and room for the 16K alignment.
    let m = Machine::new(&g, 16 * g.page_size(), Mode::Deterministic).expect("machine");
    trace_machine(&m);
    let mm = Mm::new(Arc::new(a), m.clone()).expect("mm");
    let file = AddressSpace::new(m.clone(), "f", true, 2 * nr);
    mmap::mmap(
        &mm,
        BASE,
        2 * len,
        Some(file.clone()),
        0,
        vm::READ | vm::WRITE | vm::SHARED,
    )
    .expect("mmap");
    let mut tables = Vec::new();
    for i in 0..2 {
        let pmdp = map::pmd_alloc(&mm, BASE + i * len).expect("pmd_alloc");
        map::pte_alloc(&mm, pmdp, BASE + i * len).expect("pte_alloc");
        tables.push(mm.arch().pmd_table_pa(mm.pmdp_get(pmdp).expect("pmd")));
    }
    assert_eq!(
        tables[0] & !0xfff,
        tables[1] & !0xfff,
        "two halves of one page"
    );

    // khugepaged retracts the first half and defers its free.
    retract_page_tables(&file, 0, Version::V6_6).expect("retract_page_tables");
    // The mm exits (exit_mmap() frees the second half, then mmdrop())
    // while the grace period ends and the deferred free's callback runs.
    let exit = {
        let mm = mm.clone();
        thread::spawn(move || mm.mmput().expect("mmput"))
    };
    rcu_drain(&m);
    exit.join().expect("exit");
    // Then what the exit queued, and the workqueue (mmdrop_async()).
    rcu_drain(&m);
    m.wq.flush_work();
    assert!(m.reports().is_empty(), "reports: {:?}", m.reports().all());
    assert!(mm.is_freed(), "the mm was never freed");
    assert_eq!(
        m.phys.nr_free() as u64,
        m.phys.nr_frames() - 1,
        "frames leaked"
    );
}

#[test]
fn merged_half_deferred_while_the_mm_exits_passes() {
    model("s390_halves_merged").check(|| retract_while_the_mm_exits("merged"));
}

#[test]
fn v1_rcu_head_overlays_the_pgtable_list_link() {
    let f = model("s390_halves_v1").check_fails(|| retract_while_the_mm_exits("v1"));
    assert!(f.message.contains("RcuHeadOverlaysList"), "{f}");
}

#[test]
fn v1_with_plain_mmdrop_drops_the_mm_in_the_rcu_callback() {
    let f = model("s390_halves_v1_mmdrop").check_fails(|| retract_while_the_mm_exits("v1-mmdrop"));
    assert!(f.message.contains("MmdropInRcuCallback"), "{f}");
}
