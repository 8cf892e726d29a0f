//! Simulated physical memory: byte order, entry widths, halves, frame
//! allocation, Linux's free-page checks, poisoning and stale-pointer
//! detection.

use std::sync::Arc;

use mm_core::arch::{ByteOrder, Geometry, LevelGeometry};
use mm_core::page::pg;
use mm_core::phys::{PhysMem, POISON_WORD};
use mm_core::{MmError, Reports};

fn geometry(order: ByteOrder, entry_bytes: u32) -> Geometry {
    Geometry {
        name: "test",
        page_shift: 12,
        entry_bytes,
        byte_order: order,
        split_halves: false,
        levels: [
            LevelGeometry {
                shift: 22,
                ptrs: 1024,
                table_bytes: 4096,
                entry_bytes: 4,
            },
            LevelGeometry::folded(22),
            LevelGeometry::folded(22),
            LevelGeometry::folded(22),
            LevelGeometry {
                shift: 12,
                ptrs: 1024,
                table_bytes: 4096,
                entry_bytes: 4,
            },
        ],
        task_size: 0xc000_0000,
        phys_bits: 32,
        has_thp: true,
        split_pmd_ptlocks: false,
        split_pte_ptlocks: true,
    }
}

fn mem(order: ByteOrder) -> (PhysMem, Arc<Reports>) {
    let r = Arc::new(Reports::new());
    (
        PhysMem::new(64 * 4096, &geometry(order, 8), r.clone()).unwrap(),
        r,
    )
}

#[test]
fn entries_are_stored_in_the_configured_byte_order() {
    let (le, _) = mem(ByteOrder::Little);
    let (be, _) = mem(ByteOrder::Big);
    for m in [&le, &be] {
        m.store(0x1000, 8, 0x0102_0304_0506_0708).unwrap();
        assert_eq!(m.load(0x1000, 8).unwrap(), 0x0102_0304_0506_0708);
        m.store(0x2004, 4, 0xaabb_ccdd).unwrap();
        assert_eq!(m.load(0x2004, 4).unwrap(), 0xaabb_ccdd);
    }
    assert_eq!(le.read_bytes(0x1000, 8).unwrap(), [8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(be.read_bytes(0x1000, 8).unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(be.read_bytes(0x2004, 4).unwrap(), [0xaa, 0xbb, 0xcc, 0xdd]);
}

#[test]
fn a_32bit_store_leaves_its_neighbour_alone() {
    let (m, _) = mem(ByteOrder::Little);
    m.store(0x3000, 4, 0x1111_1111).unwrap();
    m.store(0x3004, 4, 0x2222_2222).unwrap();
    m.store(0x3000, 4, 0x3333_3333).unwrap();
    assert_eq!(m.load(0x3004, 4).unwrap(), 0x2222_2222);
    assert_eq!(m.load(0x3000, 8).unwrap(), 0x2222_2222_3333_3333);
}

#[test]
fn halves_follow_the_byte_order() {
    let (le, _) = mem(ByteOrder::Little);
    le.store(0x1000, 8, 0xdead_beef_0000_0067).unwrap();
    assert_eq!(le.load_half(0x1000, false).unwrap(), 0x67);
    assert_eq!(le.load_half(0x1000, true).unwrap(), 0xdead_beef);
    le.store_half(0x1000, true, 0x1).unwrap();
    assert_eq!(le.load(0x1000, 8).unwrap(), 0x1_0000_0067);
    let (be, _) = mem(ByteOrder::Big);
    be.store(0x1000, 8, 0xdead_beef_0000_0067).unwrap();
    assert_eq!(be.load_half(0x1000, true).unwrap(), 0xdead_beef);
    assert_eq!(be.read_bytes(0x1000, 4).unwrap(), [0xde, 0xad, 0xbe, 0xef]);
}

#[test]
fn bad_addresses_and_alignment_are_errors() {
    let (m, _) = mem(ByteOrder::Little);
    assert_eq!(
        m.load(64 * 4096, 8),
        Err(MmError::BadAddress { pa: 64 * 4096 })
    );
    assert_eq!(
        m.load(0x1004, 8),
        Err(MmError::Misaligned {
            pa: 0x1004,
            width: 8
        })
    );
    assert!(m.store(u64::MAX - 7, 8, 0).is_err());
    assert!(m.page(64).is_err());
}

#[test]
fn frames_are_zeroed_on_allocation_and_poisoned_on_free() {
    let (m, r) = mem(ByteOrder::Little);
    let free0 = m.nr_free();
    let pfn = m.alloc_page().unwrap();
    assert_ne!(pfn, 0, "frame 0 is reserved");
    assert_eq!(m.nr_free(), free0 - 1);
    assert!(m
        .read_bytes(pfn << 12, 4096)
        .unwrap()
        .iter()
        .all(|b| *b == 0));
    m.store(pfn << 12, 8, 42).unwrap();
    let page = m.page(pfn).unwrap();
    assert_eq!(page.ref_count(), 1);
    assert_eq!(page.put_testzero(), Some(true));
    let gen = page.gen();
    m.free_page(pfn).unwrap();
    assert_eq!(m.load(pfn << 12, 8).unwrap(), POISON_WORD);
    assert_eq!(page.gen(), gen + 1);
    assert!(!m.is_allocated(pfn));
    assert!(r.is_empty());
}

#[test]
fn free_page_checks_report_bad_pages() {
    let (m, r) = mem(ByteOrder::Little);
    // Nonzero refcount.
    let a = m.alloc_page().unwrap();
    assert!(matches!(m.free_page(a), Err(MmError::BadPage { pfn, .. }) if pfn == a));
    // PG_active still set (the powerpc fragment bug, fda4d71651f7).
    let b = m.alloc_page().unwrap();
    m.page(b).unwrap().put_testzero();
    m.page(b).unwrap().set(pg::ACTIVE);
    let e = m.free_page(b).unwrap_err();
    assert!(
        matches!(&e, MmError::BadPage { reason, .. } if reason.contains("active")),
        "{e}"
    );
    // Still a page table (destructor not run).
    let c = m.alloc_page().unwrap();
    m.page(c).unwrap().put_testzero();
    m.page(c).unwrap().set(pg::TABLE);
    assert!(m.free_page(c).is_err());
    // Double free.
    let d = m.alloc_page().unwrap();
    m.page(d).unwrap().put_testzero();
    m.free_page(d).unwrap();
    assert!(
        matches!(m.free_page(d), Err(MmError::BadPage { reason, .. }) if reason.contains("double"))
    );
    assert_eq!(r.count("bad_page"), 4);
    // A bad page is not freed.
    assert!(m.is_allocated(a) && m.is_allocated(b) && m.is_allocated(c));
}

#[test]
fn stale_table_pointers_are_detected() {
    let (m, r) = mem(ByteOrder::Little);
    let pfn = m.alloc_page().unwrap();
    let page = m.page(pfn).unwrap();
    page.set(pg::TABLE);
    let gen = page.gen();
    assert!(m.load_table_entry(pfn << 12, 8, gen).is_ok());
    page.clear(pg::TABLE);
    page.put_testzero();
    m.free_page(pfn).unwrap();
    assert!(matches!(
        m.load_table_entry(pfn << 12, 8, gen),
        Err(MmError::StaleRead { .. })
    ));
    // Reallocated as a table again: the old pointer is still stale.
    let again = m.alloc_page().unwrap();
    assert_eq!(again, pfn, "the free list reuses the frame");
    m.page(again).unwrap().set(pg::TABLE);
    let err = m.load_table_entry(pfn << 12, 8, gen).unwrap_err();
    assert!(
        matches!(&err, MmError::StaleRead { detail, .. } if detail.contains("reallocated")),
        "{err}"
    );
    assert_eq!(r.count("stale_read"), 2);
}

#[test]
fn running_out_of_frames_is_an_error() {
    let (m, _) = mem(ByteOrder::Little);
    let n = m.nr_free();
    for _ in 0..n {
        m.alloc_page().unwrap();
    }
    assert_eq!(m.alloc_page(), Err(MmError::OutOfMemory));
}

#[test]
fn contiguous_aligned_allocations() {
    let (m, r) = mem(ByteOrder::Little);
    let one = m.alloc_page().unwrap();
    let four = m.alloc_pages(2).unwrap();
    assert_eq!(four % 4, 0, "aligned to its size");
    assert!(!(four..four + 4).contains(&one));
    for p in four..four + 4 {
        assert!(m.is_allocated(p));
        m.page(p).unwrap().put_testzero();
    }
    let other = m.alloc_pages(2).unwrap();
    assert!(other >= four + 4 || other + 4 <= four, "no overlap");
    m.free_pages(four, 2).unwrap();
    assert!(r.is_empty());
    assert_eq!(
        m.alloc_pages(2).unwrap(),
        four,
        "the freed run is found again"
    );
    assert_eq!(m.alloc_pages(10), Err(MmError::OutOfMemory));
}
