//! Loom models of powerpc's `pte_free_defer()` on page-table fragments, run
//! on the real code: mm-core's walk, RCU and `retract_page_tables()`, and
//! arch-ppc's fragment allocator and `pte_free_defer()` variants
//! (`arch/powerpc/mm/pgtable-frag.c`), every atomic and lock a loom one.
//!
//! Two pte tables that are fragments of one 64K page (ppc64-radix-64k:
//! 256-byte tables, 256 to a page) are retracted at the same time by two
//! khugepaged-style callers (khugepaged and `MADV_COLLAPSE` on different
//! ranges of one file); RCU runs; both fragments' references must be gone
//! (none lost) and the page marked `PG_active`.  Then the mm exits:
//! `pte_frag_destroy()` drops the references of the fragments never handed
//! out and the page must be freed cleanly, every frame back.
//!
//! (No `pte_offset_map()` reader here: the page cannot be freed while the
//! mm's unused fragments hold it, so a reader could not see a free; the
//! reader-vs-free models are arch-x86's `loom_walk`.)
//!
//! | variant | expected |
//! |---|---|
//! | merged (v6.6 + fda4d71651f7): `SetPageActive()` + `pte_fragment_free()`, one `call_rcu()` per page when its last fragment goes | passes |
//! | v1 (2023-05-28): `call_rcu(&page->rcu_head)` per deferred fragment | loom finds the second `call_rcu()` on the page's queued rcu_head (the review's finding) |
//! | merged-before-fix (v6.6 as released) | loom finds the exit freeing a page still `PG_active` ("Bad page state", fixed by fda4d71651f7) |
//!
//! Run:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 \
//!   cargo test -p arch-ppc --release --no-default-features --test loom_frag
//! ```
//!
//! A failing model prints the failure, its schedule and the command that
//! replays it from its checkpoint file (see `mm_core::sync::model`).
#![cfg(loom)]

use std::sync::Arc;

use arch_ppc::{Ppc, Variant};
use mm_core::file::AddressSpace;
use mm_core::khugepaged::{retract_page_tables, Version};
use mm_core::machine::Mode;
use mm_core::page::pg;
use mm_core::sync::model::{rcu_drain, trace_machine, Model};
use mm_core::sync::{thread, Ordering};
use mm_core::vma::vm;
use mm_core::{map, mmap, Arch, Machine, Mm};

/// Where the file is mapped: a PMD-aligned address.
const BASE: u64 = 0x4000_0000;

fn model(name: &str) -> Model {
    Model::new(
        name,
        env!("CARGO_TARGET_TMPDIR"),
        env!("CARGO_PKG_NAME"),
        "loom_frag",
    )
}

fn two_retracts_of_one_fragment_page(variant: Variant) {
    let a = Ppc::from_name("ppc64-radix-64k")
        .expect("ppc64-radix-64k")
        .with_variant(variant);
    let g = a.geometry().clone();
    let len = g.pmd_size();
    let nr = len >> g.page_shift;
    let m = Machine::new(&g, 6 * g.page_size(), Mode::Deterministic).expect("machine");
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
    let shift = m.phys.page_shift();
    let pfn = tables[0] >> shift;
    assert_eq!(pfn, tables[1] >> shift, "the two tables share a page");
    let frags = m
        .phys
        .page(pfn)
        .expect("page")
        .pt_frag_refcount
        .load(Ordering::Relaxed);

    let retract = move |pgoff: u64| {
        retract_page_tables(&file, pgoff, Version::V6_6)
            .unwrap_or_else(|e| panic!("retract_page_tables(pgoff {pgoff}): {e}"));
    };
    let other = {
        let retract = retract.clone();
        thread::spawn(move || retract(nr))
    };
    retract(0);
    other.join().expect("retract thread");
    rcu_drain(&m);
    assert!(m.reports().is_empty(), "reports: {:?}", m.reports().all());
    // Both fragments' references dropped, none lost; the page stays (its
    // other fragments are the mm's) and is marked for an RCU free.
    let page = m.phys.page(pfn).expect("page");
    assert_eq!(
        page.pt_frag_refcount.load(Ordering::Relaxed),
        frags - 2,
        "fragment references"
    );
    assert!(page.test(pg::ACTIVE), "PG_active not set on the page");
    // The mm exits: pte_frag_destroy() drops the cursor's references and
    // frees the page (the fix fda4d71651f7: clearing PG_active first).
    mm.mmput().expect("mmput");
    rcu_drain(&m);
    assert!(m.reports().is_empty(), "reports: {:?}", m.reports().all());
    assert_eq!(
        m.phys.nr_free() as u64,
        m.phys.nr_frames() - 1,
        "frames leaked"
    );
}

#[test]
fn merged_two_fragments_deferred_together_pass() {
    model("ppc_two_fragments_merged").check(|| two_retracts_of_one_fragment_page(Variant::Merged));
}

#[test]
fn v1_two_fragments_deferred_together_reuse_the_rcu_head() {
    let f = model("ppc_two_fragments_v1")
        .check_fails(|| two_retracts_of_one_fragment_page(Variant::V1));
    assert!(f.message.contains("is already queued"), "{f}");
}

#[test]
fn merged_before_fix_exit_frees_an_active_page() {
    let f = model("ppc_two_fragments_merged_before_fix")
        .check_fails(|| two_retracts_of_one_fragment_page(Variant::MergedBeforeFix));
    assert!(f.message.contains("PAGE_FLAGS_CHECK_AT_FREE"), "{f}");
}
