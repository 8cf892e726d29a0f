//! Exact values of the arm encodings: `cpu_v7_set_pte_ext()` on classic
//! tables (a table of Linux pte -> hardware pte covering every L_PTE bit
//! combination that matters), LPAE's `set_pte_ext()` and `set_pmd_at()`,
//! `protection_map[]`, `pmd_populate()`, swap entries, and the pgd's
//! alignment.

use std::sync::Arc;

use arch_arm::entry::{classic as c, lpae as l};
use arch_arm::{Arm, ArmMode};
use mm_core::arch::{Level, Pgprot, Pmd, Pte, SwpEntry};
use mm_core::machine::Mode;
use mm_core::{Arch, Machine, Mm};

fn arm() -> Arm {
    Arm::from_name("arm").expect("arm")
}

fn lpae() -> Arm {
    Arm::from_name("arm-lpae").expect("arm-lpae")
}

/// Linux pte -> (ext, hardware pte), worked out by hand from
/// `cpu_v7_set_pte_ext` in arch/arm/mm/proc-v7-2level.S.
#[test]
fn classic_set_pte_ext_table() {
    const P: u64 = c::L_PTE_PRESENT;
    const Y: u64 = c::L_PTE_YOUNG;
    const D: u64 = c::L_PTE_DIRTY;
    const RO: u64 = c::L_PTE_RDONLY;
    const U: u64 = c::L_PTE_USER;
    const XN: u64 = c::L_PTE_XN;
    const S: u64 = c::L_PTE_SHARED;
    const N: u64 = c::L_PTE_NONE;
    const PA: u64 = 0x1234_5000;
    let rows: &[(&str, u64, u64, u64)] = &[
        // name, linux, ext, hardware
        ("none", 0, 0, 0),
        (
            "swap entry (type 3, offset 0x55, exclusive)",
            0x5500 | 3 << 2 | 0x80,
            0,
            0,
        ),
        ("present, old", PA | P | U | D, c::PTE_EXT_NG, 0),
        ("young, not present", PA | Y | U | D, 0, 0),
        (
            "PROT_NONE (present|young|none)",
            PA | P | Y | RO | XN | N | 0x1c,
            0,
            0,
        ),
        // user rw dirty, writealloc, shared: AP=011, TEX0|C|B, S, nG, XN
        (
            "user rw dirty writealloc shared xn",
            PA | P | Y | D | U | XN | S | c::L_PTE_MT_WRITEALLOC,
            c::PTE_EXT_NG,
            PA | 0x800 | 0x400 | 0x40 | 0x20 | 0x10 | 0x8 | 0x4 | 0x2 | 0x1,
        ),
        // user rw clean: APX (dirty emulation)
        (
            "user rw clean",
            PA | P | Y | U | c::L_PTE_MT_WRITEALLOC,
            c::PTE_EXT_NG,
            PA | 0x800 | 0x200 | 0x40 | 0x20 | 0x10 | 0xc | 0x2,
        ),
        // user ro dirty: APX
        (
            "user ro dirty exec",
            PA | P | Y | D | RO | U | c::L_PTE_MT_WRITEBACK,
            c::PTE_EXT_NG,
            PA | 0x800 | 0x200 | 0x20 | 0x10 | 0xc | 0x2,
        ),
        // kernel rw dirty: AP=001, no nG
        (
            "kernel rw dirty uncached",
            PA | P | Y | D,
            0,
            PA | 0x10 | 0x2,
        ),
        // kernel ro clean bufferable
        (
            "kernel ro clean bufferable",
            PA | P | Y | RO | c::L_PTE_MT_BUFFERABLE,
            0,
            PA | 0x200 | 0x10 | 0x4 | 0x2,
        ),
        // memory types: MT[2] -> TEX[0], MT[1:0] -> C,B; MT[3] dropped
        (
            "MT writethrough",
            PA | P | Y | D | c::L_PTE_MT_WRITETHROUGH,
            0,
            PA | 0x10 | 0x8 | 0x2,
        ),
        (
            "MT dev_shared",
            PA | P | Y | D | c::L_PTE_MT_DEV_SHARED,
            0,
            PA | 0x40 | 0x10 | 0x2,
        ),
        (
            "MT minicache",
            PA | P | Y | D | c::L_PTE_MT_MINICACHE,
            0,
            PA | 0x40 | 0x10 | 0x8 | 0x2,
        ),
        (
            "MT dev_nonshared",
            PA | P | Y | D | c::L_PTE_MT_DEV_NONSHARED,
            0,
            PA | 0x40 | 0x10 | 0x2,
        ),
        (
            "MT dev_wc",
            PA | P | Y | D | c::L_PTE_MT_DEV_WC,
            0,
            PA | 0x10 | 0x4 | 0x2,
        ),
        (
            "MT dev_cached",
            PA | P | Y | D | c::L_PTE_MT_DEV_CACHED,
            0,
            PA | 0x10 | 0xc | 0x2,
        ),
        (
            "MT vectors",
            PA | P | Y | D | c::L_PTE_MT_VECTORS,
            0,
            PA | 0x40 | 0x10 | 0xc | 0x2,
        ),
        // ext bits other than nG pass through
        (
            "ext passes through",
            PA | P | Y | D,
            0x800,
            PA | 0x800 | 0x10 | 0x2,
        ),
    ];
    for &(name, linux, ext, hw) in rows {
        let got = c::cpu_v7_set_pte_ext(linux, ext);
        assert_eq!(
            got, hw,
            "{name}: linux {linux:#x} ext {ext:#x}: {got:#x} != {hw:#x}"
        );
    }
    // The twin as mm-core stores it: ext from set_ptes() for a user address.
    let a = arm();
    let pte = Pte(PA | P | Y | D | U | c::L_PTE_MT_WRITEALLOC | S);
    assert_eq!(
        a.pte_hw_twin(0x7000, pte),
        Some((0x7800, PA | 0x800 | 0x400 | 0x40 | 0x20 | 0x10 | 0xc | 0x2))
    );
    // Kernel-style (no USER): no nG.
    let k = Pte(PA | P | Y | D);
    assert_eq!(a.pte_hw_twin(0x7ffc, k), Some((0x87fc, PA | 0x12)));
    assert_eq!(lpae().pte_hw_twin(0x7000, pte), None);
}

#[test]
fn classic_protection_map_exact() {
    let a = arm();
    // user_pgprot = WRITEALLOC (0x1c) | SHARED (0x400).
    let want: [u64; 16] = [
        0xe9f, 0x79f, 0x79f, 0x79f, 0x59f, 0x59f, 0x59f, 0x59f, //
        0xe9f, 0x79f, 0x71f, 0x71f, 0x59f, 0x59f, 0x51f, 0x51f,
    ];
    for (i, w) in want.iter().enumerate() {
        assert_eq!(
            a.vm_get_page_prot(i as u8),
            Pgprot(*w),
            "protection_map[{i:#x}]"
        );
    }
}

#[test]
fn lpae_protection_map_exact() {
    let a = lpae();
    // _L_PTE_DEFAULT 0x403, WRITEALLOC 0x1c, SHARED 0x300, USER 0x40,
    // RDONLY 1<<58, XN 1<<54, NONE 1<<57.
    let base = 0x403 | 0x1c | 0x300;
    let ro = 1u64 << 58;
    let xn = 1u64 << 54;
    let none = 1u64 << 57;
    let want: [u64; 16] = [
        base | ro | xn | none,
        base | 0x40 | ro | xn,
        base | 0x40 | ro | xn,
        base | 0x40 | ro | xn,
        base | 0x40 | ro,
        base | 0x40 | ro,
        base | 0x40 | ro,
        base | 0x40 | ro,
        base | ro | xn | none,
        base | 0x40 | ro | xn,
        base | 0x40 | xn,
        base | 0x40 | xn,
        base | 0x40 | ro,
        base | 0x40 | ro,
        base | 0x40,
        base | 0x40,
    ];
    for (i, w) in want.iter().enumerate() {
        assert_eq!(
            a.vm_get_page_prot(i as u8),
            Pgprot(*w),
            "protection_map[{i:#x}]"
        );
    }
}

#[test]
fn lpae_set_pte_ext_and_set_pmd_at() {
    let pa = 0x12_3456_7000u64;
    let d = l::L_PTE_DIRTY;
    let ro = l::L_PTE_RDONLY;
    let v = 0x403 | l::L_PTE_USER;
    // writable dirty: AP2 cleared, nG from ext.
    assert_eq!(
        l::set_pte_ext(pa | v | d | 0x80, l::PTE_EXT_NG),
        pa | v | d | 0x800
    );
    // writable clean: AP2 set.
    assert_eq!(l::set_pte_ext(pa | v, 0), pa | v | 0x80);
    // read-only dirty: AP2 set.
    assert_eq!(l::set_pte_ext(pa | v | d | ro, 0), pa | v | d | ro | 0x80);
    // PROT_NONE: valid cleared, AP2 untouched, still pte_present().
    let none = pa | 0x403 | ro | l::L_PTE_NONE;
    assert_eq!(l::set_pte_ext(none, 0), none & !1);
    assert!(lpae().pte_present(Pte(none & !1)));
    // Not valid (a swap pte with the exclusive bit): stored unchanged.
    assert_eq!(l::set_pte_ext(0x5584, 0), 0x5584);
    // What mm-core stores for a user pte.
    assert_eq!(
        lpae().set_pte_at_val(Pte(pa | v | d)),
        Pte(pa | v | d | l::PTE_EXT_NG)
    );
    assert_eq!(arm().set_pte_at_val(Pte(0x1234)), Pte(0x1234));

    // set_pmd_at(): nG always, AP2 unless writable and dirty, NONE clears
    // VALID.
    let blk = 0x4020_0000u64 | 0x401 | 0x40;
    assert_eq!(l::set_pmd_at(blk), blk | 0x80 | 0x800);
    assert_eq!(l::set_pmd_at(blk | d), blk | d | 0x800);
    assert_eq!(l::set_pmd_at(blk | d | ro), blk | d | ro | 0x80 | 0x800);
    assert_eq!(
        l::set_pmd_at(blk | l::L_PMD_SECT_NONE),
        (blk & !1) | l::L_PMD_SECT_NONE | 0x80 | 0x800
    );
}

#[test]
fn classic_pmd_helpers_exact() {
    let a = arm();
    // __pmd_populate(): w0 = (pte + 2048) | 0x35, w1 = w0 + 1024.
    let v = a.pmd_populate(0x0012_3000);
    assert_eq!(v, Pmd(0x0012_3835 | 0x0012_3c35 << 32));
    assert_eq!(a.pmd_table_pa(v), 0x0012_3000);
    assert!(!a.pmd_none(v) && a.pmd_present(v) && !a.pmd_bad(v) && !a.pmd_leaf(v));
    // Helpers look at the first word only.
    assert!(a.pmd_none(Pmd(0xdead_0000_0000)));
    // A section is pmd_bad() and a leaf; never trans-huge (no THP).
    let sect = Pmd(0x0010_0000 | c::PMD_TYPE_SECT);
    assert!(a.pmd_bad(sect) && a.pmd_leaf(sect) && !a.pmd_trans_huge(sect));
    assert!(!a.pmd_hw_valid(sect));
    // Folded upper levels store the pmd value.
    assert_eq!(a.pgd_populate(0x5000).0, a.pmd_populate(0x5000).0);
    assert_eq!(a.pgd_table_pa(a.pgd_populate(0x5000)), 0x5000);
}

#[test]
fn lpae_pmd_helpers_exact() {
    let a = lpae();
    let t = a.pmd_populate(0x0012_3000);
    assert_eq!(t, Pmd(0x0012_3003));
    assert!(!a.pmd_bad(t) && a.pmd_present(t) && !a.pmd_leaf(t) && !a.pmd_trans_huge(t));
    let prot = a.vm_get_page_prot(0xb);
    let huge = a.pmd_mkhuge(a.pfn_pmd(0x80_0000, prot));
    assert_eq!(huge.0 & 3, 1);
    assert!(a.pmd_trans_huge(huge) && a.pmd_leaf(huge) && a.pmd_bad(huge));
    assert_eq!(a.pmd_pfn(huge), 0x80_0000);
    // pmd_mkinvalid clears L_PMD_SECT_VALID: not present (see
    // expected_failures), still trans-huge, and the MMU faults on it.
    let inv = a.pmd_mkinvalid(huge);
    assert!(!a.pmd_present(inv) && a.pmd_trans_huge(inv) && !a.pmd_hw_valid(inv));
    // pud level (the folded first level): table pointer.
    assert_eq!(a.pud_populate(0x2000).0, 0x2003);
    assert!(a.pud_bad(mm_core::Pud(0x2001)) && !a.pud_bad(mm_core::Pud(0x2003)));
}

#[test]
fn swap_entries_exact() {
    for a in [arm(), lpae()] {
        let name = a.geometry().name;
        let e = a.__swp_entry(0x1f, 0xab_cdef);
        assert_eq!(e, SwpEntry(0xabcd_ef7c), "{name}");
        let pte = a.__swp_entry_to_pte(e);
        assert!(!a.pte_present(pte) && !a.pte_none(pte), "{name}");
        assert!(!a.pte_swp_exclusive(pte), "{name}");
        let ex = a.pte_swp_mkexclusive(pte);
        assert_eq!(ex.0, pte.0 | 0x80, "{name}: exclusive is bit 7");
        assert!(!a.pte_present(ex), "{name}");
        assert_eq!(a.pte_swp_clear_exclusive(ex), pte, "{name}");
        assert_eq!(a.max_swapfile_offset(), 0xff_ffff, "{name}");
        // The exclusive bit is not type or offset.
        let back = a.__pte_to_swp_entry(a.pte_swp_clear_exclusive(ex));
        assert_eq!(
            (a.__swp_type(back), a.__swp_offset(back)),
            (0x1f, 0xab_cdef)
        );
        // A swap pte's hardware form is a fault entry.
        assert!(!a.pte_hw_valid(ex), "{name}");
    }
    assert_eq!(arm().pte_hw_twin(0x1000, Pte(0x5584)), Some((0x1800, 0)));
}

#[test]
fn hw_valid_and_writable_follow_the_emulation() {
    for a in [arm(), lpae()] {
        let name = a.geometry().name;
        let rw = a.vm_get_page_prot(0xb);
        let pte = a.pfn_pte(0x1234, rw);
        assert!(a.pte_write(pte) && !a.pte_dirty(pte), "{name}");
        assert!(a.pte_hw_valid(pte), "{name}: young from _L_PTE_DEFAULT");
        assert!(!a.pte_hw_writable(pte), "{name}: clean -> read-only in hw");
        assert!(a.pte_hw_writable(a.pte_mkdirty(pte)), "{name}");
        assert!(!a.pte_hw_valid(a.pte_mkold(pte)), "{name}: old -> fault");
        let none = a.pfn_pte(0x1234, a.vm_get_page_prot(0));
        assert!(
            a.pte_present(none) && !a.pte_hw_valid(none),
            "{name}: PROT_NONE"
        );
    }
}

#[test]
fn classic_pgd_is_16k_aligned_and_freed() {
    let a = arm();
    let m = Machine::new(a.geometry(), 64 * 4096, Mode::Deterministic).expect("machine");
    let free0 = m.phys.nr_free();
    // Take an odd frame first so an unaligned allocator would misplace it.
    let _hole = m.phys.alloc_page().expect("page");
    let mm = Mm::new(Arc::new(a.clone()), m.clone()).expect("mm");
    assert_eq!(mm.pgd_pa() % 16384, 0, "pgd at {:#x}", mm.pgd_pa());
    for p in 0..4 {
        let page = m.phys.page_of(mm.pgd_pa() + p * 4096).expect("page");
        assert!(page.test(mm_core::page::pg::TABLE));
    }
    assert_eq!(m.phys.nr_free(), free0 - 1 - 4);
    mm_core::map::map_page(&mm, 0x1000_0000, 0x42, a.vm_get_page_prot(3)).expect("map");
    mm.mmput().expect("mmput");
    assert_eq!(m.phys.nr_free(), free0 - 1, "pgd and pte page returned");
    assert!(m.reports().all().is_empty(), "{:?}", m.reports().all());
    assert_eq!(a.geometry().level(Level::Pgd).table_bytes, 16384);
    let _ = ArmMode::ALL;
}
