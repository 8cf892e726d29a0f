use arch_ppc::Ppc;
use mm_core::machine::{Machine, Mode};
use mm_core::{map, Arch, Mm};
use std::sync::Arc;
#[test]
fn dbg() {
    for name in Ppc::configurations() {
        let a = Ppc::from_name(name).unwrap();
        let g = a.geometry().clone();
        let m = Machine::new(&g, 256 * g.page_size(), Mode::Deterministic).unwrap();
        let f0 = m.phys.nr_free();
        let mm = Mm::new(Arc::new(a.clone()), m.clone()).unwrap();
        let f1 = m.phys.nr_free();
        map::map_page(&mm, 0x1000_0000, 5, a.vm_get_page_prot(3)).unwrap();
        let f2 = m.phys.nr_free();
        mm.mmput().unwrap();
        println!(
            "{name}: {f0} {f1} {f2} {} reports {:?}",
            m.phys.nr_free(),
            m.reports().all()
        );
    }
}
