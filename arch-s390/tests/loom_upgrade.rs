//! Loom models of `crst_table_upgrade()` against a lockless walker, on the
//! real code: mm-core's `Mm::upgrade()` (the mm's top table and shape in
//! one word) and `Mm::translate()` (the lockless walk that reads that word
//! once), arch-s390's CRST tables, every table word a loom atomic.
//!
//! A 3-level mm maps one page below 4 TiB.  A walker thread translates it
//! while the main thread, holding `mmap_lock` for write, upgrades the mm to
//! 4 levels (as an mmap above 4 TiB does).
//!
//! | form | expected |
//! |---|---|
//! | v6.6 order: point the new top's first entry at the old top, then publish the new top and its shape with one store | passes: the walker finds the page in every interleaving |
//! | publish the new top first, link it after (`Mm::upgrade_publish_before_link`) | loom finds the walker reading the new top's still-empty first entry and losing the page |
//!
//! Run:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 \
//!   cargo test -p arch-s390 --release --no-default-features --test loom_upgrade
//! ```
#![cfg(loom)]

use std::sync::Arc;

use arch_s390::S390;
use mm_core::machine::Mode;
use mm_core::sync::model::{rcu_drain, trace_machine, Model};
use mm_core::sync::thread;
use mm_core::{map, Arch, Machine, Mm};

/// The page the walker looks for, below the 3-level limit.
const VA: u64 = 0x4000_0000;
/// `_REGION2_SIZE`: the 3-level limit.
const TIB4: u64 = 1 << 42;

fn model(name: &str) -> Model {
    Model::new(
        name,
        env!("CARGO_TARGET_TMPDIR"),
        env!("CARGO_PKG_NAME"),
        "loom_upgrade",
    )
}

fn walker_races_upgrade(link_first: bool) {
    let a = S390::from_name("s390x").expect("s390x");
    let g = a.geometry().clone();
    // Frame 0, the region-third top, a segment table, the pte page, the
    // new region-second top, and room for the 16K alignment.
    let m = Machine::new(&g, 24 * g.page_size(), Mode::Deterministic).expect("machine");
    trace_machine(&m);
    let mm = Mm::new(Arc::new(a.clone()), m.clone()).expect("mm");
    let pfn = m.phys.alloc_page().expect("frame");
    map::map_page(&mm, VA, pfn, a.vm_get_page_prot(0x3)).expect("map");
    let walker = {
        let mm = mm.clone();
        thread::spawn(move || mm.translate(VA + 8).expect("walk").map(|t| t.0))
    };
    {
        let _w = mm.mmap_lock.write().expect("mmap_lock");
        let grew = if link_first {
            mm.upgrade(TIB4 + 1)
        } else {
            mm.upgrade_publish_before_link(TIB4 + 1)
        };
        assert!(grew.expect("upgrade"), "no upgrade");
    }
    let got = walker.join().expect("walker");
    assert_eq!(
        got,
        Some((pfn << 12) + 8),
        "the lockless walk lost the page at {VA:#x} during the upgrade (top now {:?})",
        mm.top()
    );
    assert_eq!(mm.top().shape, 1);
    mm.mmput().expect("mmput");
    rcu_drain(&m);
    assert!(m.reports().is_empty(), "reports: {:?}", m.reports().all());
}

#[test]
fn upgrade_links_then_publishes_and_the_walker_never_loses_a_page() {
    model("s390_upgrade_v66").check(|| walker_races_upgrade(true));
}

#[test]
fn publishing_before_linking_loses_the_page() {
    let f = model("s390_upgrade_publish_first").check_fails(|| walker_races_upgrade(false));
    assert!(f.message.contains("lost the page"), "{f}");
}
