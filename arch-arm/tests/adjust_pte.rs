//! `adjust_pte()` (arch/arm/mm/fault-armv.c) through
//! `pte_offset_map_nolock()`, with the faulting pte's lock held as
//! `update_mmu_cache()` holds it: the naive form takes the alias table's
//! lock again and self-deadlocks (detected, not hung), the correct form
//! does not.

use std::sync::Arc;

use arch_arm::adjust::{adjust_pte, shared_pte_mask, AdjustForm};
use arch_arm::entry::classic as c;
use arch_arm::Arm;
use mm_core::lock::LockError;
use mm_core::machine::Mode;
use mm_core::{map, Arch, Machine, Mm, MmError};

/// Two shared writable mappings of `pfn` in one mm: the faulting address
/// and an alias, in the same pte table (same 2M) or not.
fn setup(a: Arm, same_table: bool) -> (Arc<Machine>, Arc<Mm<Arm>>, u64, u64) {
    let m = Machine::new(a.geometry(), 256 * 4096, Mode::Deterministic).expect("machine");
    let mm = Mm::new(Arc::new(a.clone()), m.clone()).expect("mm");
    let fault = 0x4000_0000u64;
    let alias = if same_table {
        fault + 0x5000
    } else {
        fault + (8 << 20)
    };
    let prot = a.vm_get_page_prot(0xb); // VM_SHARED|VM_WRITE|VM_READ
    map::map_page(&mm, fault, 0x321, prot).expect("map fault");
    map::map_page(&mm, alias, 0x321, prot).expect("map alias");
    (m, mm, fault, alias)
}

fn is_self_deadlock(r: &Result<bool, MmError>) -> bool {
    matches!(r, Err(MmError::Lock(LockError::SelfDeadlock { .. })))
}

/// Read the alias's Linux pte and (classic) its hardware twin.
fn alias_pte(mm: &Mm<Arm>, va: u64) -> (u64, u64) {
    let pmdp = mm.find_pmd(va).expect("walk").expect("pmd");
    let m = mm.pte_offset_map(pmdp, va).expect("map").expect("table");
    let linux = m.get().expect("pte").0;
    let twin = mm
        .phys()
        .load(m.ptep().pa + c::PTE_HWTABLE_OFF, 4)
        .expect("twin");
    (linux, twin)
}

#[test]
fn classic_naive_self_deadlocks_correct_form_adjusts() {
    let a = Arm::from_name("arm").expect("arm");
    assert!(!a.geometry().split_pte_ptlocks, "ARM && !CPU_CACHE_VIPT");
    for same_table in [true, false] {
        let (m, mm, fault, alias) = setup(a.clone(), same_table);
        let pmdp = mm.find_pmd(fault).expect("walk").expect("pmd");
        // update_mmu_cache() runs under the faulting pte's lock: without
        // split locks, mm->page_table_lock.
        let locked = mm
            .pte_offset_map_lock(pmdp, fault)
            .expect("lock")
            .expect("table");
        assert!(std::ptr::eq(locked.ptl(), &mm.page_table_lock));
        let ptl = locked.ptl();

        let naive = adjust_pte(&mm, alias, 0x321, Some(ptl), AdjustForm::Naive);
        assert!(
            is_self_deadlock(&naive),
            "same_table={same_table}: {naive:?}"
        );
        assert_eq!(m.rcu.read_depth(), 1, "the failed attempt unmapped its pte");

        let before = alias_pte(&mm, alias);
        assert_eq!(before.0 & c::L_PTE_MT_MASK, c::L_PTE_MT_WRITEALLOC);
        for form in [AdjustForm::Fixed, AdjustForm::V66] {
            let r = adjust_pte(&mm, alias, 0x321, Some(ptl), form);
            assert_eq!(r, Ok(true), "{form:?} same_table={same_table}");
        }
        let (linux, twin) = alias_pte(&mm, alias);
        assert_eq!(linux, (before.0 & !c::L_PTE_MT_MASK) | shared_pte_mask(&a));
        // The twin was rewritten by set_pte_at(): B only (bufferable), no C,
        // no TEX[0]; still read-only (clean), user, nG.
        assert_eq!(twin & 0x4c, c::PTE_BUFFERABLE, "twin {twin:#x}");
        assert_eq!(twin, c::cpu_v7_set_pte_ext(linux, c::PTE_EXT_NG));
        assert!(ptl.held_by_current(), "the caller's lock is still held");
        drop(locked);
        // A missing alias: 0, nothing taken.
        assert_eq!(
            adjust_pte(&mm, 0x7000_0000, 0x321, None, AdjustForm::Naive),
            Ok(false)
        );
        mm.mmput().expect("mmput");
        assert!(m.reports().all().is_empty(), "{:?}", m.reports().all());
    }
}

/// With split pte locks (a `CPU_CACHE_VIPT` kernel on a VIVT CPU), v6.6's
/// `do_pte_lock()` takes the alias table's lock nested: fine for another
/// table, a self-deadlock when the alias shares the faulting table.  The
/// fixed form skips the lock it already holds.
#[test]
fn split_ptlocks_v66_deadlocks_on_the_same_table_only() {
    for name in ["arm", "arm-lpae"] {
        let a = Arm::from_name(name)
            .expect("config")
            .with_split_pte_ptlocks(true);
        for same_table in [true, false] {
            let (_m, mm, fault, alias) = setup(a.clone(), same_table);
            let pmdp = mm.find_pmd(fault).expect("walk").expect("pmd");
            let locked = mm
                .pte_offset_map_lock(pmdp, fault)
                .expect("lock")
                .expect("table");
            let ptl = locked.ptl();
            assert!(!std::ptr::eq(ptl, &mm.page_table_lock));
            let v66 = adjust_pte(&mm, alias, 0x321, Some(ptl), AdjustForm::V66);
            if same_table {
                assert!(is_self_deadlock(&v66), "{name}: {v66:?}");
            } else {
                assert_eq!(v66, Ok(true), "{name}");
            }
            let naive = adjust_pte(&mm, alias, 0x321, Some(ptl), AdjustForm::Naive);
            assert_eq!(is_self_deadlock(&naive), same_table, "{name}: {naive:?}");
            assert_eq!(
                adjust_pte(&mm, alias, 0x321, Some(ptl), AdjustForm::Fixed),
                Ok(true),
                "{name} same_table={same_table}"
            );
            drop(locked);
            mm.mmput().expect("mmput");
        }
    }
}
