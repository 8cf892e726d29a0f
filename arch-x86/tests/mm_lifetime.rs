//! The mm's two reference counts, `mmdrop_async()`, and the accounting
//! check at free, on x86_64.

use std::sync::Arc;

use arch_x86::X86;
use mm_core::machine::Mode;
use mm_core::{map, Arch, Level, Machine, Mm, MmError};

fn setup(mode: Mode) -> (Arc<Machine>, Arc<Mm<X86>>) {
    let a = X86::from_name("x86_64").unwrap();
    let m = Machine::new(a.geometry(), 4 << 20, mode).unwrap();
    let mm = Mm::new(Arc::new(a), m.clone()).unwrap();
    (m, mm)
}

#[test]
fn mmdrop_from_an_rcu_callback_is_reported() {
    let (m, mm) = setup(Mode::Deterministic);
    mm.mmgrab();
    mm.mmput().unwrap();
    assert!(!mm.is_freed(), "the grab keeps the structure");
    let mm2 = mm.clone();
    m.rcu.call_rcu(Box::new(move || {
        let _ = mm2.mmdrop();
    }));
    m.rcu.end_grace_period().unwrap();
    assert!(mm.is_freed());
    assert_eq!(
        m.reports().count("mmdrop_in_rcu_callback"),
        1,
        "{:?}",
        m.reports().all()
    );
}

#[test]
fn mmdrop_async_from_an_rcu_callback_defers_to_the_workqueue() {
    let (m, mm) = setup(Mode::Deterministic);
    mm.mmgrab();
    mm.mmput().unwrap();
    let mm2 = mm.clone();
    m.rcu.call_rcu(Box::new(move || {
        let _ = mm2.mmdrop_async();
    }));
    m.rcu.end_grace_period().unwrap();
    assert!(!mm.is_freed(), "__mmdrop ran in the callback");
    assert_eq!(m.wq.pending(), 1);
    m.wq.flush_work();
    assert!(mm.is_freed());
    assert!(m.reports().is_empty(), "{:?}", m.reports().all());
}

#[test]
fn mmdrop_async_in_threaded_mode_runs_on_the_worker() {
    let (m, mm) = setup(Mode::Threaded);
    map::map_page(&mm, 0x40_0000, 5, mm.arch().vm_get_page_prot(3)).unwrap();
    mm.mmgrab();
    mm.mmput().unwrap();
    let mm2 = mm.clone();
    m.rcu.call_rcu(Box::new(move || {
        let _ = mm2.mmdrop_async();
    }));
    m.rcu.rcu_barrier().unwrap();
    m.wq.flush_work();
    assert!(mm.is_freed());
    assert!(m.reports().is_empty(), "{:?}", m.reports().all());
}

#[test]
fn using_a_freed_mm_is_reported() {
    let (m, mm) = setup(Mode::Deterministic);
    mm.mmput().unwrap();
    assert!(mm.is_freed());
    assert_eq!(mm.mmdrop(), Err(MmError::MmFreed { mm: mm.id() }));
    assert_eq!(m.reports().count("mm_use_after_free"), 1);
}

#[test]
fn nonzero_pgtables_bytes_at_free_is_reported() {
    let (m, mm) = setup(Mode::Deterministic);
    mm.inc_nr_tables(Level::Pte); // a table accounted but never installed
    mm.mmput().unwrap();
    assert_eq!(m.reports().count("pgtables_bytes_leak"), 1);
}

#[test]
fn accounting_matches_linux_per_level() {
    let (_m, mm) = setup(Mode::Deterministic);
    map::map_page(&mm, 0x7f00_0000_1000, 5, mm.arch().vm_get_page_prot(3)).unwrap();
    // One pud table, one pmd table, one pte table: 3 x 512 x 8 bytes.
    assert_eq!(mm.pgtables_bytes(), 3 * 4096);
    map::map_page(&mm, 0x7f00_0000_2000, 6, mm.arch().vm_get_page_prot(3)).unwrap();
    assert_eq!(mm.pgtables_bytes(), 3 * 4096);
    map::map_huge_pmd(&mm, 0x7f00_4000_0000, 0x200, mm.arch().vm_get_page_prot(3)).unwrap();
    // A new pmd table (another 1G region), no pte table for the huge leaf.
    assert_eq!(mm.pgtables_bytes(), 4 * 4096);
    mm.mmput().unwrap();
    assert_eq!(mm.pgtables_bytes(), 0);
}
