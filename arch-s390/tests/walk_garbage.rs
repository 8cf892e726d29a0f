//! The model's walks over a top table whose entries point near the top of
//! the 64-bit address space (s390 table origins are full 64-bit real
//! addresses): `table + index * 8` must not overflow (found by the `walk`
//! fuzz target, `fuzz/`), the walk ends with an error naming an address
//! outside memory.

use std::sync::Arc;

use arch_s390::S390;
use mm_core::machine::{Machine, Mode};
use mm_core::vtop::vtop;
use mm_core::{Arch, Level, Mm, MmError};

#[test]
fn table_origins_near_the_top_are_bad_addresses() {
    for &name in S390::configurations() {
        let a = S390::from_name(name).expect("config");
        let g = a.geometry().clone();
        let m = Machine::new(&g, 1 << 20, Mode::Deterministic).expect("machine");
        let mm = Mm::new(Arc::new(a), m.clone()).expect("mm");
        let top = g.level(Level::Pgd).table_bytes.max(g.page_size());
        let saved: Vec<u64> = (0..top / 8)
            .map(|i| m.phys.load(mm.pgd_pa() + 8 * i, 8).expect("load"))
            .collect();
        let mut overflowing = 0;
        for low in 0..0x1000u64 {
            let e = 0xffff_ffff_ffff_f000 | low;
            for i in 0..top / 8 {
                m.phys.store(mm.pgd_pa() + 8 * i, 8, e).expect("store");
            }
            for va in [0, 0x7f_ffff_f000, g.task_size() - 1] {
                let t = mm.translate(va);
                let v = vtop(&mm, va);
                for r in [t.as_ref().err(), v.as_ref().err()].into_iter().flatten() {
                    if matches!(r, MmError::BadAddress { pa } if *pa >= 0xffff_ffff_ffff_0000) {
                        overflowing += 1;
                    }
                }
                let _ = mm.find_pmd(va);
            }
        }
        // Put the empty top table back before the mm goes.
        for (i, v) in saved.iter().enumerate() {
            m.phys
                .store(mm.pgd_pa() + 8 * i as u64, 8, *v)
                .expect("store");
        }
        assert!(
            overflowing > 0,
            "{name}: no walk reached a table origin near the top"
        );
    }
}
