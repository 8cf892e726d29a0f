//! The v6.6 walk and freeing semantics on the three x86 configurations:
//! mm-core's lifecycle families (deterministic), plus the same protocols
//! with real threads.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arch_x86::X86;
use mm_core::family::FamilyStatus;
use mm_core::machine::Mode;
use mm_core::{lifecycle, map, Arch, Machine, Mm, Pmd};

const CONFIGS: [&str; 3] = ["x86_64", "x86-pae", "x86-32"];

fn cfg(name: &str) -> X86 {
    X86::from_name(name).expect("known configuration")
}

#[test]
fn lifecycle_families_pass_on_every_configuration() {
    for name in CONFIGS {
        let a = cfg(name);
        for f in lifecycle::run_all(&a).expect("lifecycle runs") {
            match (&f.status, f.name, name) {
                (FamilyStatus::Pass, _, _) => {
                    assert!(f.checks > 0, "{name} {} checked nothing", f.name)
                }
                // Only PAE reads entries as two halves.
                (FamilyStatus::Skip(_), "pmdp_get_lockless_halves", "x86_64" | "x86-32") => {}
                _ => panic!("{name} {}: {:?} {:?}", f.name, f.status, f.failures),
            }
        }
    }
}

#[test]
fn pae_halves_family_runs_and_passes() {
    let f = lifecycle::pmdp_get_lockless_halves(&cfg("x86-pae")).expect("runs");
    assert_eq!(f.status, FamilyStatus::Pass, "{:?}", f.failures);
    assert!(f.checks >= 3);
}

#[test]
fn each_failing_pmd_state_is_exercised() {
    // x86_64 has devmap and THP migration, so all five states are tried:
    // table(ok) + none, trans_huge, devmap, migration, bad.
    let f = lifecycle::pte_offset_map_failure(&cfg("x86_64")).expect("runs");
    assert_eq!(f.status, FamilyStatus::Pass, "{:?}", f.failures);
    assert!(f.checks >= 5 + 5 * 6, "only {} checks", f.checks);
}

/// Readers map the table locklessly and read every pte while a retractor
/// detaches the table and frees it with `pte_free_defer()` (threaded RCU):
/// no read may ever land on a freed table.
#[test]
fn threaded_readers_never_see_a_deferred_free() {
    for name in CONFIGS {
        let a = cfg(name);
        let machine = Machine::new(a.geometry(), 8 << 20, Mode::Threaded).expect("machine");
        let mm = Mm::new(Arc::new(a.clone()), machine.clone()).expect("mm");
        let va = 0x4000_0000u64;
        let prot = a.vm_get_page_prot(3);
        map::map_page(&mm, va, 0x42, prot).expect("map");
        let pmdp = mm.find_pmd(va).expect("walk").expect("pmd");
        let stop = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicU64::new(0));
        let mut readers = Vec::new();
        for _ in 0..2 {
            let (mm, stop, reads) = (mm.clone(), stop.clone(), reads.clone());
            readers.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(m) = mm.pte_offset_map(pmdp, va).expect("map") {
                        for i in 0..8 {
                            m.get_at(i)
                                .expect("a mapped table stays readable until unmapped");
                        }
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        let until = Instant::now() + Duration::from_millis(300);
        let mut retracts = 0;
        while Instant::now() < until {
            // retract_page_tables(): pmd lock, pte lock, clear, defer-free.
            let table = {
                let pml = mm.pmd_lock(pmdp).expect("pml");
                let pmd = mm.pmdp_get(pmdp).expect("pmd");
                let ptl = mm.pte_lockptr(pmd).expect("ptl");
                let _ptl =
                    (!std::ptr::eq(ptl, pml.lock())).then(|| ptl.lock_nested().expect("ptl"));
                mm.set_entry(pmdp, a.pmd_clear_val().0).expect("clear");
                mm.dec_nr_tables(mm_core::Level::Pte);
                a.pmd_table_pa(pmd)
            };
            a.pte_free_defer(&mm, table).expect("defer");
            // Fault it back in.
            map::map_page(&mm, va, 0x42, prot).expect("remap");
            retracts += 1;
            // Let the grace periods catch up now and then, as khugepaged's
            // own pace would: retracting thousands of tables per
            // millisecond outruns any RCU.
            if retracts % 256 == 0 {
                machine.rcu.rcu_barrier().expect("barrier");
            }
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().expect("reader");
        }
        machine.rcu.rcu_barrier().expect("barrier");
        assert!(
            retracts > 10 && reads.load(Ordering::Relaxed) > 10,
            "{name}: {retracts} retracts, {} reads",
            reads.load(Ordering::Relaxed)
        );
        assert!(
            machine.reports().is_empty(),
            "{name}: {:?}",
            machine.reports().all()
        );
        mm.mmput().expect("teardown");
        assert_eq!(mm.pgtables_bytes(), 0, "{name}");
    }
}

/// PAE: a writer changes the pmd (present -> none -> other present), waiting
/// out interrupts-off readers between changes as `pmdp_get_lockless_sync()`
/// does; readers in interrupts-off sections never assemble a value that was
/// never written.
#[test]
fn pae_lockless_pmd_reads_never_tear_under_a_concurrent_writer() {
    let a = cfg("x86-pae");
    let machine = Machine::new(a.geometry(), 4 << 20, Mode::Threaded).expect("machine");
    let mm = Mm::new(Arc::new(a.clone()), machine.clone()).expect("mm");
    let va = 0x4000_0000u64;
    let pmdp = map::pmd_alloc(&mm, va).expect("pmd");
    let prot = a.vm_get_page_prot(3);
    let x = a.pmd_mkhuge(a.pfn_pmd(0x200, prot));
    let y = a.pmd_mkhuge(a.pfn_pmd(0xff_fe00, prot));
    assert_ne!(x.0 as u32, y.0 as u32);
    assert_ne!(x.0 >> 32, y.0 >> 32);
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (mm, stop) = (mm.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let irq = mm.pmdp_get_lockless_start();
                let v = mm.pmdp_get_lockless(pmdp).expect("read");
                drop(irq);
                assert!(v == x || v == y || v == Pmd(0), "torn pmd {v:?}");
                n += 1;
            }
            n
        })
    };
    let until = Instant::now() + Duration::from_millis(200);
    while Instant::now() < until {
        for v in [x, Pmd(0), y, Pmd(0)] {
            mm.set_entry(pmdp, v.0).expect("write");
            mm.pmdp_get_lockless_sync().expect("sync");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let n = reader.join().expect("reader");
    assert!(n > 100, "only {n} reads");
    mm.mmput().expect("teardown");
    assert!(
        machine.reports().is_empty(),
        "{:?}",
        machine.reports().all()
    );
}
