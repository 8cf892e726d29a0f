//! The model's walk against a bare pointer chase over the same bytes.
//!
//! Both translate the same addresses in the same x86-64 tables, held in the
//! same simulated physical memory: `Mm::translate` goes through the generic
//! walk (folding plan, the arch's Linux helpers, bounds-checked atomic loads
//! in the arch's byte order); the bare chase hard-codes the x86-64 format
//! and reads the words directly.  The ratio of the two is the model's
//! overhead.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arch_x86::X86;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mm_core::machine::Mode;
use mm_core::{map, Arch, Machine, Mm};

const ADDR: u64 = 0x0000_000f_ffff_f000;
const PS: u64 = 0x80;

fn chase(w: &[AtomicU64], root: u64, va: u64) -> Option<u64> {
    let mut t = root;
    for shift in [39u32, 30, 21] {
        let e = w[((t + ((va >> shift) & 511) * 8) >> 3) as usize].load(Ordering::Relaxed);
        if e & 1 == 0 {
            return None;
        }
        if shift == 21 && e & PS != 0 {
            return Some((e & ADDR & !0x1f_ffff) | (va & 0x1f_ffff));
        }
        t = e & ADDR;
    }
    let e = w[((t + ((va >> 12) & 511) * 8) >> 3) as usize].load(Ordering::Relaxed);
    (e & 1 != 0).then_some((e & ADDR) | (va & 0xfff))
}

fn bench(c: &mut Criterion) {
    let a = X86::from_name("x86_64").expect("x86_64 configuration");
    let machine = Machine::new(a.geometry(), 64 << 20, Mode::Deterministic).expect("machine");
    let mm = Mm::new(Arc::new(a.clone()), machine.clone()).expect("mm");
    let prot = a.vm_get_page_prot(0xb); // VM_SHARED|VM_WRITE|VM_READ
    let base = 0x7f00_0000_0000u64;
    // 256 MiB of 4K pages (128 pte tables) and 64 huge pmds after it.
    let pages = 65536u64;
    for i in 0..pages {
        map::map_page(&mm, base + i * 4096, 0x10_0000 + i, prot).expect("map");
    }
    for i in 0..64u64 {
        map::map_huge_pmd(
            &mm,
            base + (256 << 20) + (i << 21),
            0x20_0000 + (i << 9),
            prot,
        )
        .expect("map huge");
    }
    // A scattered order, so the walk is not one long sequential stream.
    let vas: Vec<u64> = (0..4096u64)
        .map(|i| {
            let p = (i * 2654435761) % (pages + 64 * 512);
            base + p * 4096 + 0x18
        })
        .collect();
    let root = mm.pgd_pa();
    let words = machine.phys.words();
    for &va in &vas {
        let m = mm.translate(va).expect("translate").map(|(pa, _)| pa);
        assert_eq!(
            m,
            chase(words, root, va),
            "model and bare chase disagree at {va:#x}"
        );
    }
    let mut g = c.benchmark_group("walk_x86_64");
    g.throughput(Throughput::Elements(vas.len() as u64));
    g.bench_function("model_translate", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for &va in &vas {
                if let Ok(Some((pa, _))) = mm.translate(black_box(va)) {
                    sum = sum.wrapping_add(pa);
                }
            }
            sum
        })
    });
    g.bench_function("bare_pointer_chase", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for &va in &vas {
                if let Some(pa) = chase(words, root, black_box(va)) {
                    sum = sum.wrapping_add(pa);
                }
            }
            sum
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
