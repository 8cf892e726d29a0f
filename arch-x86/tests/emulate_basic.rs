//! Walks under Unicorn: the x86 guest MMU translating hand-built page tables
//! that live in a ptlab `Machine`, for x86_64, x86-pae and x86-32.
//!
//! Independent of ptlab's own mapping code: tables are built entry by entry
//! with `phys.alloc_page()` and `phys.store()`.

use std::sync::Arc;

use arch_x86::emulate::X86Walker;
use arch_x86::X86Mode;
use mm_core::arch::LevelGeometry;
use mm_core::emulate::{Access, EmuError, HwOutcome, HwWalker};
use mm_core::machine::Mode;
use mm_core::{ByteOrder, Geometry, Machine};

const P: u64 = 1;
const RW: u64 = 2;
const USER: u64 = 4;
const ACCESSED: u64 = 0x20;
const DIRTY: u64 = 0x40;
const PS: u64 = 0x80;
const NX: u64 = 1 << 63;

const MEM: u64 = 16 << 20;

fn lvl(shift: u32, ptrs: u32, table_bytes: u64) -> LevelGeometry {
    LevelGeometry {
        shift,
        ptrs,
        table_bytes,
        entry_bytes: (table_bytes / ptrs as u64) as u32,
    }
}

fn geometry(cfg: &str) -> Geometry {
    let (entry_bytes, split_halves, levels, user_va_bits, phys_bits, name) = match cfg {
        "x86_64" => (
            8,
            false,
            [
                lvl(39, 512, 4096),
                LevelGeometry::folded(39),
                lvl(30, 512, 4096),
                lvl(21, 512, 4096),
                lvl(12, 512, 4096),
            ],
            47,
            52,
            "x86_64",
        ),
        "x86-pae" => (
            8,
            true,
            [
                lvl(30, 4, 32),
                LevelGeometry::folded(30),
                LevelGeometry::folded(30),
                lvl(21, 512, 4096),
                lvl(12, 512, 4096),
            ],
            32,
            44,
            "x86-pae",
        ),
        "x86-32" => (
            4,
            false,
            [
                lvl(22, 1024, 4096),
                LevelGeometry::folded(22),
                LevelGeometry::folded(22),
                LevelGeometry::folded(22),
                lvl(12, 1024, 4096),
            ],
            32,
            32,
            "x86-32",
        ),
        _ => unreachable!("{cfg}"),
    };
    Geometry {
        name,
        page_shift: 12,
        entry_bytes,
        byte_order: ByteOrder::Little,
        split_halves,
        levels,
        task_size: 1u64 << user_va_bits,
        phys_bits,
        has_thp: true,
        split_pmd_ptlocks: cfg != "x86-32",
        split_pte_ptlocks: true,
    }
}

/// Hand-built tables for one configuration.
struct Fix {
    cfg: &'static str,
    m: Arc<Machine>,
    root: u64,
    /// (shift, entries) per hardware level, top first.
    levels: &'static [(u32, u64)],
    eb: u32,
    w: X86Walker,
}

impl Fix {
    fn new(cfg: &'static str) -> Fix {
        let m = Machine::new(&geometry(cfg), MEM, Mode::Deterministic).unwrap();
        let root = m.phys.alloc_page().unwrap() << 12;
        let (levels, eb): (&'static [(u32, u64)], u32) = match cfg {
            "x86_64" => (&[(39, 512), (30, 512), (21, 512), (12, 512)], 8),
            "x86-pae" => (&[(30, 4), (21, 512), (12, 512)], 8),
            _ => (&[(22, 1024), (12, 1024)], 4),
        };
        let w = X86Walker::new_for(cfg, m.clone()).unwrap();
        assert_eq!(w.machine().phys.size(), MEM);
        assert_eq!(w.private_pa(), MEM);
        Fix {
            cfg,
            m,
            root,
            levels,
            eb,
            w,
        }
    }

    fn n(&self) -> usize {
        self.levels.len()
    }

    /// Hardware level of the pmd (where huge pages are).
    fn pmd_level(&self) -> usize {
        self.n() - 2
    }

    fn huge_size(&self) -> u64 {
        1 << self.levels[self.pmd_level()].0
    }

    fn has_nx(&self) -> bool {
        self.cfg != "x86-32"
    }

    /// Address of the entry for `va` at `level`, creating the tables above.
    fn slot(&self, va: u64, level: usize) -> u64 {
        let mut table = self.root;
        for (k, &(shift, nr)) in self.levels.iter().enumerate() {
            let pa = table + ((va >> shift) & (nr - 1)) * self.eb as u64;
            if k == level {
                return pa;
            }
            let mut e = self.m.phys.load(pa, self.eb).unwrap();
            if e & P == 0 {
                let t = self.m.phys.alloc_page().unwrap() << 12;
                // A PAE PDPTE has only P; elsewhere _PAGE_TABLE-like bits.
                let flags = if self.cfg == "x86-pae" && k == 0 {
                    P
                } else {
                    P | RW | USER
                };
                e = t | flags;
                self.m.phys.store(pa, self.eb, e).unwrap();
            }
            table = e & 0x000f_ffff_ffff_f000;
        }
        unreachable!()
    }

    fn set(&self, va: u64, level: usize, v: u64) -> u64 {
        let pa = self.slot(va, level);
        self.m.phys.store(pa, self.eb, v).unwrap();
        pa
    }

    fn map4k(&self, va: u64, pa: u64, flags: u64) -> u64 {
        self.set(va, self.n() - 1, pa | flags)
    }

    fn map_huge(&self, va: u64, pa: u64, flags: u64) -> u64 {
        self.set(va, self.pmd_level(), pa | flags | PS)
    }

    fn page(&self) -> u64 {
        self.m.phys.alloc_page().unwrap() << 12
    }

    fn tr(&mut self, va: u64, access: Access) -> HwOutcome {
        self.w.translate(self.root, va, access).unwrap()
    }

    fn assert_fault(&mut self, va: u64, access: Access) {
        let r = self.tr(va, access);
        assert!(
            matches!(r, HwOutcome::Fault { .. }),
            "{}: {access:?} {va:#x}: {r:?}",
            self.cfg
        );
    }

    fn assert_pa(&mut self, va: u64, access: Access, pa: u64) {
        let r = self.tr(va, access);
        assert_eq!(
            r,
            HwOutcome::Translated { pa },
            "{}: {access:?} {va:#x}",
            self.cfg
        );
    }
}

const VA4K: u64 = 0x0804_8000;
/// 2M-aligned on every configuration, 4M-aligned for x86-32.
const VA_HUGE: u64 = 0x4000_0000;
/// Huge-page target: 4M-aligned, above the frames the tests allocate.
const PA_HUGE: u64 = 8 << 20;

macro_rules! per_config {
    ($($name:ident => $body:ident),* $(,)?) => {
        mod x86_64 { $( #[test] fn $name() { super::$body("x86_64"); } )* }
        mod x86_pae { $( #[test] fn $name() { super::$body("x86-pae"); } )* }
        mod x86_32 { $( #[test] fn $name() { super::$body("x86-32"); } )* }
    };
}

per_config! {
    page_4k_translates => page_4k_translates,
    huge_pmd_translates => huge_pmd_translates,
    not_present_pte_faults => not_present_pte_faults,
    none_pmd_faults => none_pmd_faults,
    read_only_page_write_faults => read_only_page_write_faults,
    nx_does_not_fault_reads => nx_does_not_fault_reads,
    load_u64_agrees_with_translate => load_u64_agrees_with_translate,
    load_u64_restores_memory => load_u64_restores_memory,
    table_rewrites_are_seen => table_rewrites_are_seen,
    walk_sets_accessed_and_dirty => walk_sets_accessed_and_dirty,
    user_bit_is_not_checked => user_bit_is_not_checked,
    repeated_translations_are_stable => repeated_translations_are_stable,
}

fn page_4k_translates(cfg: &'static str) {
    let mut f = Fix::new(cfg);
    let pa = f.page();
    f.map4k(VA4K, pa, P | RW);
    f.assert_pa(VA4K + 0x123, Access::Read, pa + 0x123);
    f.assert_pa(VA4K + 0xff8, Access::Write, pa + 0xff8);
    // The neighbouring pte is none.
    f.assert_fault(VA4K + 0x1000, Access::Read);
    assert!(f.w.describe().starts_with(cfg));
}

fn huge_pmd_translates(cfg: &'static str) {
    let mut f = Fix::new(cfg);
    f.map_huge(VA_HUGE, PA_HUGE, P | RW);
    let off = f.huge_size() - 0x1238;
    f.assert_pa(VA_HUGE + off, Access::Read, PA_HUGE + off);
    f.assert_pa(VA_HUGE + 0x10, Access::Write, PA_HUGE + 0x10);
    f.assert_fault(VA_HUGE + f.huge_size(), Access::Read);
}

fn not_present_pte_faults(cfg: &'static str) {
    let mut f = Fix::new(cfg);
    let pa = f.page();
    // Not present but not none (a swap-like entry): every other bit set.
    f.map4k(VA4K, pa, RW | USER | ACCESSED | DIRTY);
    f.assert_fault(VA4K, Access::Read);
    f.assert_fault(VA4K, Access::Write);
    let HwOutcome::Fault { detail } = f.tr(VA4K, Access::Read) else {
        unreachable!()
    };
    assert!(detail.contains("#PF"), "{detail}");
}

fn none_pmd_faults(cfg: &'static str) {
    let mut f = Fix::new(cfg);
    let pa = f.page();
    f.map4k(VA4K, pa, P | RW);
    let other = VA4K + f.huge_size(); // the next pmd: none
    f.assert_fault(other, Access::Read);
    f.assert_fault(other, Access::Write);
    // A none pmd cleared under an existing mapping faults too.
    f.set(VA4K, f.pmd_level(), 0);
    f.assert_fault(VA4K, Access::Read);
}

fn read_only_page_write_faults(cfg: &'static str) {
    let mut f = Fix::new(cfg);
    let pa = f.page();
    f.map4k(VA4K, pa, P | USER);
    f.assert_pa(VA4K + 8, Access::Read, pa + 8);
    f.assert_fault(VA4K + 8, Access::Write);
    // Read-only huge page.
    f.map_huge(VA_HUGE, PA_HUGE, P);
    f.assert_pa(VA_HUGE, Access::Read, PA_HUGE);
    f.assert_fault(VA_HUGE, Access::Write);
    // Read-only at the pmd (non-leaf) level also forbids writes.
    let va = VA_HUGE + 2 * f.huge_size();
    let pa2 = f.page();
    f.map4k(va, pa2, P | RW);
    let pmd = f.slot(va, f.pmd_level());
    let e = f.m.phys.load(pmd, f.eb).unwrap();
    f.m.phys.store(pmd, f.eb, e & !RW).unwrap();
    f.assert_pa(va, Access::Read, pa2);
    f.assert_fault(va, Access::Write);
}

fn nx_does_not_fault_reads(cfg: &'static str) {
    let mut f = Fix::new(cfg);
    if !f.has_nx() {
        return; // 4-byte entries have no NX bit
    }
    let pa = f.page();
    f.map4k(VA4K, pa, P | RW | NX);
    // NX in the pmd (non-leaf) too.
    let pmd = f.slot(VA4K, f.pmd_level());
    let e = f.m.phys.load(pmd, 8).unwrap();
    f.m.phys.store(pmd, 8, e | NX).unwrap();
    f.assert_pa(VA4K + 0x40, Access::Read, pa + 0x40);
    f.assert_pa(VA4K + 0x40, Access::Write, pa + 0x40);
    f.map_huge(VA_HUGE, PA_HUGE, P | NX);
    f.assert_pa(VA_HUGE + 0x40, Access::Read, PA_HUGE + 0x40);
    assert_eq!(f.w.load_u64(f.root, VA4K + 0x40).unwrap(), Ok(0));
}

fn load_u64_agrees_with_translate(cfg: &'static str) {
    let mut f = Fix::new(cfg);
    let pa = f.page();
    f.map4k(VA4K, pa, P | RW);
    f.map_huge(VA_HUGE, PA_HUGE, P);
    let cases = [
        (VA4K + 0x10, 0x1111_2222_3333_4444u64),
        (VA4K + 0xff8, 0xfedc_ba98_7654_3210),
        (VA_HUGE + f.huge_size() - 8, 0xdead_beef_cafe_f00d),
    ];
    for (va, v) in cases {
        let HwOutcome::Translated { pa } = f.tr(va, Access::Read) else {
            panic!("{cfg}: {va:#x} does not translate");
        };
        f.m.phys.store(pa, 8, v).unwrap();
        assert_eq!(f.w.load_u64(f.root, va).unwrap(), Ok(v), "{cfg} {va:#x}");
    }
    // Faults: a none pte, a none pmd.
    for va in [VA4K + 0x1000, VA4K + f.huge_size()] {
        f.assert_fault(va, Access::Read);
        let r = f.w.load_u64(f.root, va).unwrap();
        let err = r.expect_err("load of an unmapped VA");
        assert!(
            err.contains("#PF") && err.contains(&format!("CR2={va:#x}")),
            "{err}"
        );
    }
    // Repeated faults stay #PF (no #DF / triple fault from an exception
    // left "in flight").
    for _ in 0..5 {
        let r = f.w.load_u64(f.root, VA4K + 0x1000).unwrap();
        assert!(r.as_ref().is_err_and(|e| e.contains("#PF")), "{r:?}");
    }
    // Still works after faults.
    assert_eq!(
        f.w.load_u64(f.root, VA4K + 0x10).unwrap(),
        Ok(0x1111_2222_3333_4444)
    );
}

fn load_u64_restores_memory(cfg: &'static str) {
    let mut f = Fix::new(cfg);
    let pa = f.page();
    f.map4k(VA4K, pa, P | RW | ACCESSED);
    // A walk to settle the A bits on the path first.
    f.tr(VA4K, Access::Read);
    let snapshot = |f: &Fix| -> Vec<u64> {
        (0..MEM / 8)
            .map(|i| f.m.phys.load(i * 8, 8).unwrap())
            .collect()
    };
    let before = snapshot(&f);
    f.w.load_u64(f.root, VA4K).unwrap().unwrap();
    f.w.load_u64(f.root, VA_HUGE).unwrap().unwrap_err();
    assert!(
        before == snapshot(&f),
        "{cfg}: load_u64 left memory changed"
    );

    // Every top-level entry present: the code page is spliced lower down,
    // and memory is restored all the same.
    let (shift, nr) = f.levels[0];
    for i in 0..nr {
        let va = i << shift;
        if f.cfg == "x86_64" && i >= 256 {
            break; // non-canonical; the kernel half stays none
        }
        f.slot(va, 1);
    }
    if f.cfg == "x86_64" {
        for i in 256..512u64 {
            f.slot(0xffff_0000_0000_0000 | i << 39, 1);
        }
    }
    f.tr(VA4K, Access::Read);
    let before = snapshot(&f);
    assert_eq!(f.w.load_u64(f.root, VA4K).unwrap(), Ok(0));
    assert!(
        before == snapshot(&f),
        "{cfg}: splice below a full top level"
    );
}

fn table_rewrites_are_seen(cfg: &'static str) {
    let mut f = Fix::new(cfg);
    let (a, b) = (f.page(), f.page());
    let pte = f.map4k(VA4K, a, P | RW);
    f.assert_pa(VA4K, Access::Read, a);
    f.m.phys.store(pte, f.eb, b | P | RW).unwrap();
    f.assert_pa(VA4K, Access::Read, b);
    f.m.phys.store(pte, f.eb, 0).unwrap();
    f.assert_fault(VA4K, Access::Read);
    // A second root (another mm) over the same memory.
    let root2 = f.page();
    let root1 = std::mem::replace(&mut f.root, root2);
    f.map4k(VA4K, a, P);
    f.assert_pa(VA4K, Access::Read, a);
    f.root = root1;
    f.assert_fault(VA4K, Access::Read);
}

fn walk_sets_accessed_and_dirty(cfg: &'static str) {
    let mut f = Fix::new(cfg);
    let pa = f.page();
    let pte = f.map4k(VA4K, pa, P | RW);
    f.tr(VA4K, Access::Read);
    let e = f.m.phys.load(pte, f.eb).unwrap();
    assert_eq!(e & (ACCESSED | DIRTY), ACCESSED, "{cfg}: read sets A only");
    f.tr(VA4K, Access::Write);
    let e = f.m.phys.load(pte, f.eb).unwrap();
    assert_eq!(
        e & (ACCESSED | DIRTY),
        ACCESSED | DIRTY,
        "{cfg}: write sets D"
    );
    let pmd = f.slot(VA4K, f.pmd_level());
    assert_ne!(f.m.phys.load(pmd, f.eb).unwrap() & ACCESSED, 0);
    // A faulting write sets nothing in the leaf.
    let pte2 = f.map4k(VA4K + 0x1000, pa, P);
    f.assert_fault(VA4K + 0x1000, Access::Write);
    assert_eq!(f.m.phys.load(pte2, f.eb).unwrap(), pa | P);
}

fn user_bit_is_not_checked(cfg: &'static str) {
    // Supervisor accesses: a kernel (no USER) page and a user page alike.
    let mut f = Fix::new(cfg);
    let (a, b) = (f.page(), f.page());
    f.map4k(VA4K, a, P | RW);
    f.map4k(VA4K + 0x1000, b, P | RW | USER);
    f.assert_pa(VA4K, Access::Write, a);
    f.assert_pa(VA4K + 0x1000, Access::Write, b);
}

/// The walker keeps no state between calls that could change an answer:
/// thousands of alternating mapped, unmapped and load calls give the same
/// results.  (Per-call cost is measured in `benches/walk.rs`, not here.)
fn repeated_translations_are_stable(cfg: &'static str) {
    let mut f = Fix::new(cfg);
    let pa = f.page();
    f.map4k(VA4K, pa, P | RW);
    for _ in 0..2000 {
        f.assert_pa(VA4K, Access::Read, pa);
        assert!(f.tr(VA4K + 0x1000, Access::Read).pa().is_none());
    }
    for _ in 0..200 {
        assert!(f.w.load_u64(f.root, VA4K).unwrap().is_ok());
        assert!(f.w.load_u64(f.root, VA4K + 0x1000).unwrap().is_err());
    }
}

#[test]
fn pae_pdpte_reserved_bits() {
    let mut f = Fix::new("x86-pae");
    let pa = f.page();
    f.map4k(VA4K, pa, P | RW);
    let pdpte = f.slot(VA4K, 0);
    let e = f.m.phys.load(pdpte, 8).unwrap();
    // RW and USER are reserved in a PDPTE on real hardware (#GP at CR3
    // load); unicorn ignores them.
    f.m.phys.store(pdpte, 8, e | RW | USER).unwrap();
    f.assert_pa(VA4K, Access::Read, pa);
    // NX (and bits 52-62) are checked, but at walk time, as a #PF: the CR3
    // load itself succeeds.
    f.m.phys.store(pdpte, 8, e | NX).unwrap();
    let r = f.tr(VA4K, Access::Read);
    assert!(
        matches!(&r, HwOutcome::Fault { detail } if detail.contains("#PF")),
        "{r:?}"
    );
    f.m.phys.store(pdpte, 8, e | 1 << 52).unwrap();
    f.assert_fault(VA4K, Access::Read);
    // Unicorn never sets A in a PDPTE.
    f.m.phys.store(pdpte, 8, e).unwrap();
    f.assert_pa(VA4K, Access::Read, pa);
    assert_eq!(f.m.phys.load(pdpte, 8).unwrap(), e);
}

#[test]
fn pae_pdpte_change_seen_on_next_translate() {
    // Real PAE latches the PDPTEs on a CR3 load; translate reloads CR3 each
    // call, so a changed PDPTE is seen.
    let mut f = Fix::new("x86-pae");
    let pa = f.page();
    f.map4k(VA4K, pa, P | RW);
    let pdpte = f.slot(VA4K, 0);
    f.assert_pa(VA4K, Access::Read, pa);
    let e = f.m.phys.load(pdpte, 8).unwrap();
    f.m.phys.store(pdpte, 8, 0).unwrap();
    f.assert_fault(VA4K, Access::Read);
    f.m.phys.store(pdpte, 8, e).unwrap();
    f.assert_pa(VA4K, Access::Read, pa);
}

#[test]
fn pae_root_is_32_byte_aligned() {
    // A PAE pgd need not be page-aligned (Linux's pgd_cache of 32 bytes).
    let mut f = Fix::new("x86-pae");
    let pa = f.page();
    f.map4k(VA4K, pa, P | RW);
    let pdpte = f.slot(VA4K, 0);
    let e = f.m.phys.load(pdpte, 8).unwrap();
    let root2 = f.root + 0x20;
    f.m.phys.store(root2 + (pdpte - f.root), 8, e).unwrap();
    f.root = root2;
    f.assert_pa(VA4K, Access::Read, pa);
    assert_eq!(f.w.load_u64(f.root, VA4K).unwrap(), Ok(0));
    assert!(f.w.translate(root2 + 8, VA4K, Access::Read).is_err());
}

#[test]
fn x86_64_1g_pud_and_non_canonical() {
    let mut f = Fix::new("x86_64");
    f.set(0x40_0000_0000, 1, P | RW | PS); // 1G page at PA 0
    f.assert_pa(0x40_0000_0000 + 0x12_3458, Access::Read, 0x12_3458);
    let r = f.tr(0x0000_8000_0000_0000, Access::Read);
    assert!(
        matches!(&r, HwOutcome::Fault { detail } if detail.contains("#GP")),
        "{r:?}"
    );
    let r = f.w.load_u64(f.root, 0x0000_8000_0000_0000).unwrap();
    assert!(r.as_ref().is_err_and(|e| e.contains("#GP")), "{r:?}");
}

#[test]
fn x86_32_va_beyond_4g_faults() {
    let mut f = Fix::new("x86-32");
    f.assert_fault(1 << 32, Access::Read);
    assert!(f.w.load_u64(f.root, u32::MAX as u64 - 3).unwrap().is_err());
}

#[test]
fn new_from_x86_mode() {
    for (mode, cfg) in [
        (X86Mode::X86_64, "x86_64"),
        (X86Mode::Pae, "x86-pae"),
        (X86Mode::X86_32, "x86-32"),
    ] {
        let m = Machine::new(&geometry(cfg), MEM, Mode::Deterministic).unwrap();
        let w = X86Walker::new(mode, m).unwrap();
        assert!(w.describe().starts_with(cfg));
    }
}

#[test]
fn unknown_configuration() {
    let m = Machine::new(&geometry("x86_64"), MEM, Mode::Deterministic).unwrap();
    assert!(matches!(
        X86Walker::new_for("arm", m),
        Err(EmuError::Unsupported(_))
    ));
}
