//! The bodies of the `cargo fuzz` targets (`fuzz/fuzz_targets/*.rs`), as
//! plain functions of the fuzzer's byte string, so that `cargo test` runs
//! them too (on a few hundred random inputs, see the tests below) and a
//! crash found by the fuzzer replays as an ordinary unit test.
//!
//! Each body returns normally when the code under test behaved: no panic,
//! no hang, every error an error value.  A broken invariant panics, with
//! the configuration and the values in the message, which is how libFuzzer
//! (and a test) sees it.
//!
//! * [`helpers()`]: every model helper of [`mm_core::helpers`] by its kernel
//!   name, on one configuration, on arbitrary values; the identities of
//!   `mm/debug_vm_pgtable.c` ([`mm_core::debug_vm_pgtable`]) with a
//!   fuzzer-chosen seed; and the `mkX` -> `X()` pairs after an arbitrary
//!   sequence of transforms of an entry the kernel can make.
//! * [`walk()`]: the model's walks ([`mm_core::vtop::vtop`],
//!   [`mm_core::Mm::translate`], `find_pmd`, `pte_offset_map[_lock]`) over
//!   simulated physical memory filled with arbitrary bytes, at arbitrary
//!   addresses.
//! * [`elf()`]: the ELF loaders on arbitrary bytes: the guest walkers' of
//!   arch-sparc and arch-ppc, and the oracle's relocatable-object loader.
//! * [`cli()`]: the `ptlab` command line (clap) and the value parsers on
//!   arbitrary argv.

use std::sync::Arc;

use mm_core::arch::{Arch, Level, Pgprot, Pmd, Pte};
use mm_core::debug_vm_pgtable::{self as dvp, Params};
use mm_core::family::{FamilyResult, FamilyStatus};
use mm_core::helpers::{self, Val};
use mm_core::machine::{Machine, Mode};
use mm_core::vtop::vtop;
use mm_core::walk::WalkPlan;
use mm_core::Mm;

use crate::configs::{self, Visitor};

/// A cursor over the fuzzer's bytes: reads past the end give zeros, so
/// every input is a valid (if short) description.
#[derive(Clone, Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data, pos: 0 }
    }

    /// The next byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }

    /// The next 8 bytes as a little-endian `u64` (zero-padded).
    pub fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.u8();
        }
        u64::from_le_bytes(b)
    }

    /// Whether bytes remain.
    pub fn has_more(&self) -> bool {
        self.pos < self.data.len()
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }
}

/// The configuration the first byte of `data` selects, and the rest.
fn pick_config(data: &[u8]) -> (&'static str, &[u8]) {
    let names = configs::names();
    let (first, rest) = data.split_first().map_or((0, data), |(f, r)| (*f, r));
    (names[usize::from(first) % names.len()], rest)
}

/// Run `v` on the configuration `name` (always a known name here).
fn visit<V: Visitor>(name: &str, v: V) -> V::Out {
    match configs::with_config(name, v) {
        Ok(o) => o,
        Err(e) => panic!("configs::names() lists {name}, but with_config refuses it: {e}"),
    }
}

// ---------------------------------------------------------------------------
// 1. helpers

/// Target `helpers`: the first byte picks the configuration, the rest are
/// the values.  See [`helpers_on`].
///
/// # Panics
/// When a helper panics or an invariant of [`helpers_on`] breaks.
pub fn helpers(data: &[u8]) {
    let (name, rest) = pick_config(data);
    struct V<'a>(&'a [u8]);
    impl Visitor for V<'_> {
        type Out = ();
        fn visit<A: Arch + Clone>(self, a: A) {
            helpers_on(&a, self.0);
        }
    }
    visit(name, V(rest));
}

/// The helper checks on configuration `a`:
///
/// 0. [`mm_core::arch::decode_flags`] (what `ptlab pte decode` and `vtop`
///    print) at every level, and the hardware-view and table-pointer
///    helpers the walks use, on arbitrary values: no panic;
/// 1. every helper of [`helpers::table`] on arbitrary arguments: through
///    [`helpers::Helper::call`] with the raw 64-bit values (an error for a
///    value wider than its C type, never a panic), and directly on the
///    values masked to their types, where a predicate must return 0 or 1
///    and an entry or `unsigned long` result must fit its C type;
/// 2. [`helpers::lookup`] of an arbitrary name;
/// 3. the families of `mm/debug_vm_pgtable.c` that need no tables
///    ([`dvp::pte_basic_tests`] ... [`dvp::pud_devmap_tests`]), with the
///    fuzzer's seed and one random pfn per protection: no failure except
///    those the configuration documents ([`Arch::expected_failures`]);
/// 4. an entry the kernel can make (`pfn_pte(pfn, vm_get_page_prot(i))`,
///    and `pmd_mkhuge(pfn_pmd(..))` where THP exists) put through an
///    arbitrary sequence of the `pte_mk*`/`pmd_mk*` transforms: the pfn is
///    kept by every transform, and after each `mkX`/`clearX` the predicate
///    `X()` says so (where the configuration has the feature).
///
/// # Panics
/// When any of that fails; the message names the configuration, the helper
/// and the values.
pub fn helpers_on<A: Arch>(a: &A, data: &[u8]) {
    let cfg = a.geometry().name;
    let mut b = Bytes::new(data);
    let mut words: Vec<u64> = (0..8).map(|_| b.u64()).collect();
    // Interesting values beside the fuzzer's: all-ones and the sign bits.
    words.extend([0, u64::MAX, 1 << 63, 1 << 31, u64::from(u32::MAX)]);

    // 0. entry decoding and the walk's helpers outside the table, on every
    // value at every level.
    for &v in &words {
        for level in Level::ALL {
            let _ = mm_core::arch::decode_flags(a, level, v);
            let _ = mm_core::arch::describe_level(a.geometry(), level);
        }
        let _ = (a.pte_hw_valid(Pte(v)), a.pte_hw_writable(Pte(v)));
        let _ = (a.pmd_hw_valid(Pmd(v)), a.pmd_hw_writable(Pmd(v)));
        // (The first argument is where the pte sits: a physical address of
        // simulated memory, never near the top of the address space.)
        let _ = a.pte_hw_twin(v & 0xffff_fff8, Pte(v));
        let _ = a.set_pte_at_val(Pte(v));
        let _ = a.pmd_table_pa(Pmd(v));
        let _ = a.pud_table_pa(mm_core::Pud(v));
        let _ = a.p4d_table_pa(mm_core::P4d(v));
        let _ = a.pgd_table_pa(mm_core::Pgd(v));
    }

    // 1. the whole table.
    let table = helpers::table::<A>();
    let plan = WalkPlan::new(a.geometry());
    for (j, h) in table.iter().enumerate() {
        let raw: Vec<u64> = (0..h.args.len())
            .map(|k| words[(j + k) % words.len()])
            .collect();
        match h.call(a, &raw) {
            Ok(_) | Err(helpers::HelperError::TooWide { .. }) => {}
            Err(e) => panic!("{cfg}: {}: call({raw:#x?}) -> unexpected {e}", h.name),
        }
        let masked: Vec<u64> = h
            .args
            .iter()
            .zip(&raw)
            .map(|(spec, v)| v & helpers::mask(spec.val.bits(a)))
            .collect();
        let r = (h.f)(a, &masked);
        match h.ret {
            Val::Bool => assert!(r <= 1, "{cfg}: {}({masked:#x?}) = {r:#x}: not 0/1", h.name),
            Val::Entry | Val::Long => {
                // An entry result may use the width of the table its level
                // lives in (arm's 2-level pmd is the pair of hardware
                // words, which the helper interface masks to the first).
                let bits = match h.ret {
                    Val::Entry => plan.widths[entry_level(h.name).index()] * 8,
                    _ => h.ret.bits(a),
                };
                assert!(
                    r & !helpers::mask(bits) == 0,
                    "{cfg}: {}({masked:#x?}) = {r:#x}: wider than its {bits}-bit C type",
                    h.name
                );
            }
        }
        assert_eq!(
            h.call(a, &masked),
            Ok(r & helpers::mask(h.ret.bits(a))),
            "{cfg}: {}({masked:#x?}): checked and unchecked calls differ",
            h.name
        );
    }
    // A wrong arity is an error too.
    if let Some(h) = table.get(usize::from(b.u8()) % table.len()) {
        let n = h.args.len() + 1;
        assert!(
            h.call(a, &words[..n]).is_err(),
            "{cfg}: {} accepted {n} arguments",
            h.name
        );
    }

    // 2. lookup of an arbitrary name.
    let name = String::from_utf8_lossy(b.rest());
    if let Ok(h) = helpers::lookup::<A>(&name) {
        assert_eq!(h.name, name, "{cfg}: lookup returned another helper");
    }

    // 3. debug_vm_pgtable with the fuzzer's seed.
    debug_vm_pgtable_with_seed(a, words[0]);

    // 4. transform sequences.
    transform_sequences(a, &mut Bytes::new(data));
}

/// The level whose entries a helper called `name` returns.
fn entry_level(name: &str) -> Level {
    [
        ("pmd", Level::Pmd),
        ("pud", Level::Pud),
        ("p4d", Level::P4d),
        ("pgd", Level::Pgd),
    ]
    .into_iter()
    .find(|(k, _)| name.contains(k))
    .map_or(Level::Pte, |(_, l)| l)
}

/// The table-free families of [`dvp`] with `seed`; panics on a failure the
/// configuration does not document.
fn debug_vm_pgtable_with_seed<A: Arch>(a: &A, seed: u64) {
    let p = Params {
        pfns_per_prot: 1,
        seed,
    };
    let families: [fn(&A, Params) -> FamilyResult; 21] = [
        dvp::pte_basic_tests,
        dvp::pmd_basic_tests,
        dvp::pud_basic_tests,
        dvp::pud_leaf_tests,
        dvp::pmd_leaf_tests,
        dvp::pte_special_tests,
        dvp::pte_protnone_tests,
        dvp::pmd_protnone_tests,
        dvp::pte_devmap_tests,
        dvp::pmd_devmap_tests,
        dvp::pte_soft_dirty_tests,
        dvp::pmd_soft_dirty_tests,
        dvp::pte_swap_soft_dirty_tests,
        dvp::pmd_swap_soft_dirty_tests,
        dvp::pte_swap_exclusive_tests,
        dvp::pte_swap_tests,
        dvp::pmd_swap_tests,
        dvp::swap_migration_tests,
        dvp::pmd_thp_tests,
        dvp::pud_thp_tests,
        dvp::pud_devmap_tests,
    ];
    let expected = a.expected_failures();
    for f in families {
        let r = f(a, p);
        if r.status == FamilyStatus::Fail && !expected.iter().any(|(n, _)| *n == r.name) {
            panic!(
                "{}: {} fails with seed {seed:#x}: {:?}",
                a.geometry().name,
                r.name,
                r.failures
            );
        }
    }
}

/// A pte transform, and what the predicate it names must say after it.
type PteOp<A> = (
    &'static str,
    fn(&A, Pte) -> Pte,
    Option<(fn(&A, Pte) -> bool, bool)>,
);
/// A pmd transform, and what the predicate it names must say after it.
type PmdOp<A> = (
    &'static str,
    fn(&A, Pmd) -> Pmd,
    Option<(fn(&A, Pmd) -> bool, bool)>,
);

fn pte_ops<A: Arch>(a: &A) -> Vec<PteOp<A>> {
    let f = a.features();
    let mut v: Vec<PteOp<A>> = vec![
        ("pte_mkyoung", A::pte_mkyoung, Some((A::pte_young, true))),
        ("pte_mkold", A::pte_mkold, Some((A::pte_young, false))),
        ("pte_mkdirty", A::pte_mkdirty, Some((A::pte_dirty, true))),
        ("pte_mkclean", A::pte_mkclean, Some((A::pte_dirty, false))),
        (
            "pte_mkwrite_novma",
            A::pte_mkwrite_novma,
            Some((A::pte_write, true)),
        ),
        (
            "pte_wrprotect",
            A::pte_wrprotect,
            Some((A::pte_write, false)),
        ),
    ];
    let when = |on: bool, p: fn(&A, Pte) -> bool, want: bool| on.then_some((p, want));
    v.push((
        "pte_mkspecial",
        A::pte_mkspecial,
        when(f.pte_special, A::pte_special, true),
    ));
    v.push((
        "pte_mkdevmap",
        A::pte_mkdevmap,
        when(f.pte_devmap, A::pte_devmap, true),
    ));
    v.push((
        "pte_mksoft_dirty",
        A::pte_mksoft_dirty,
        when(f.soft_dirty, A::pte_soft_dirty, true),
    ));
    v.push((
        "pte_clear_soft_dirty",
        A::pte_clear_soft_dirty,
        when(f.soft_dirty, A::pte_soft_dirty, false),
    ));
    v.push((
        "pte_mkuffd_wp",
        A::pte_mkuffd_wp,
        when(f.uffd_wp, A::pte_uffd_wp, true),
    ));
    v.push((
        "pte_clear_uffd_wp",
        A::pte_clear_uffd_wp,
        when(f.uffd_wp, A::pte_uffd_wp, false),
    ));
    v
}

fn pmd_ops<A: Arch>() -> Vec<PmdOp<A>> {
    vec![
        ("pmd_mkyoung", A::pmd_mkyoung, Some((A::pmd_young, true))),
        ("pmd_mkold", A::pmd_mkold, Some((A::pmd_young, false))),
        ("pmd_mkdirty", A::pmd_mkdirty, Some((A::pmd_dirty, true))),
        ("pmd_mkclean", A::pmd_mkclean, Some((A::pmd_dirty, false))),
        (
            "pmd_mkwrite_novma",
            A::pmd_mkwrite_novma,
            Some((A::pmd_write, true)),
        ),
        (
            "pmd_wrprotect",
            A::pmd_wrprotect,
            Some((A::pmd_write, false)),
        ),
    ]
}

/// Step 4 of [`helpers_on`].
fn transform_sequences<A: Arch>(a: &A, b: &mut Bytes<'_>) {
    let g = a.geometry();
    let cfg = g.name;
    let pfn_bits = g.phys_bits - g.page_shift;
    let pfn = b.u64() & helpers::mask(pfn_bits);
    let idx = b.u8() & 0xf;
    let prot: Pgprot = a.vm_get_page_prot(idx);
    let steps: Vec<u8> = (0..16).map(|_| b.u8()).collect();

    let ops = pte_ops(a);
    let mut pte = a.pfn_pte(pfn, prot);
    let mut trail = vec![format!("pfn_pte({pfn:#x}, prot[{idx:#x}]={:#x})", prot.0)];
    for &s in &steps {
        let (name, op, check) = ops[usize::from(s) % ops.len()];
        pte = op(a, pte);
        trail.push(name.to_string());
        assert_eq!(
            a.pte_pfn(pte),
            pfn,
            "{cfg}: pte_pfn changed by {} -> {:#x}",
            trail.join(" -> "),
            pte.0
        );
        if let Some((pred, want)) = check {
            assert_eq!(
                pred(a, pte),
                want,
                "{cfg}: the predicate of {name} is wrong after {} -> {:#x}",
                trail.join(" -> "),
                pte.0
            );
        }
    }

    if !g.has_thp {
        return;
    }
    let align = (g.pmd_size() >> g.page_shift).max(1);
    let hpfn = pfn / align * align;
    let ops = pmd_ops::<A>();
    let mut pmd = a.pmd_mkhuge(a.pfn_pmd(hpfn, prot));
    let mut trail = vec![format!(
        "pmd_mkhuge(pfn_pmd({hpfn:#x}, prot[{idx:#x}]={:#x}))",
        prot.0
    )];
    for &s in &steps {
        let (name, op, check) = ops[usize::from(s) % ops.len()];
        pmd = op(a, pmd);
        trail.push(name.to_string());
        assert_eq!(
            a.pmd_pfn(pmd),
            hpfn,
            "{cfg}: pmd_pfn changed by {} -> {:#x}",
            trail.join(" -> "),
            pmd.0
        );
        if let Some((pred, want)) = check {
            assert_eq!(
                pred(a, pmd),
                want,
                "{cfg}: the predicate of {name} is wrong after {} -> {:#x}",
                trail.join(" -> "),
                pmd.0
            );
        }
    }
}

// ---------------------------------------------------------------------------
// 2. walk

/// Frames of the walk target's memory beside the pgd (which takes up to
/// 16 frames: powerpc radix with 4K pages).
pub const WALK_SPARE_FRAMES: u64 = 6;

/// Target `walk`: the first byte picks the configuration; then 8 virtual
/// addresses; the rest (at least 8 bytes) is tiled over the whole of
/// physical memory.  See [`walk_on`].
///
/// # Panics
/// When a walk panics or an invariant of [`walk_on`] breaks.
pub fn walk(data: &[u8]) {
    let (name, rest) = pick_config(data);
    struct V<'a>(&'a [u8]);
    impl Visitor for V<'_> {
        type Out = ();
        fn visit<A: Arch + Clone>(self, a: A) {
            walk_on(a, self.0);
        }
    }
    visit(name, V(rest));
}

/// The walk checks on configuration `a`: a machine with room for the pgd
/// and [`WALK_SPARE_FRAMES`] more frames, and an mm, then every byte of
/// memory (the pgd included) overwritten with the fuzzer's bytes, then for each address: `vtop`,
/// `translate`, `find_pmd` and, when it finds a pmd, `pte_offset_map` (and
/// a read through it) and `pte_offset_map_lock`.  Each must return (a
/// walk has a fixed number of levels, so a cycle of tables ends), any
/// error must be an error value, and `vtop` and `translate`, the two
/// twins, must agree where both succeed.
///
/// # Panics
/// When any of that fails.
pub fn walk_on<A: Arch>(a: A, data: &[u8]) {
    let g = a.geometry().clone();
    let cfg = g.name;
    let pgd_bytes = g.level(Level::Pgd).table_bytes.max(g.page_size());
    // Twice the pgd: a multi-page pgd is allocated naturally aligned, and
    // frame 0 is reserved.
    let mem = 2 * pgd_bytes + (WALK_SPARE_FRAMES << g.page_shift);
    let machine = match Machine::new(&g, mem, Mode::Deterministic) {
        Ok(m) => m,
        Err(e) => panic!("{cfg}: machine of {mem:#x} bytes: {e}"),
    };
    let mm = match Mm::new(Arc::new(a), machine.clone()) {
        Ok(m) => m,
        Err(e) => panic!("{cfg}: mm on {mem:#x} bytes: {e}"),
    };
    let mut b = Bytes::new(data);
    let task = g.task_size();
    let vas: Vec<u64> = (0..8)
        .map(|i| {
            let v = b.u64();
            // Most addresses in the user range, some anywhere.
            if i < 6 && task > 0 {
                v % task
            } else {
                v
            }
        })
        .collect();
    // The rest of the bytes, repeated over all of memory: one period of
    // words (the bytes' length times 8 bytes covers a whole number of
    // both), then that period again and again.
    let fill = b.rest();
    let period: Vec<u64> = if fill.is_empty() {
        vec![0]
    } else {
        let n = if fill.len().is_multiple_of(8) {
            fill.len() / 8
        } else {
            fill.len()
        };
        (0..n)
            .map(|w| {
                let mut v = [0u8; 8];
                for (k, x) in v.iter_mut().enumerate() {
                    *x = fill[(w * 8 + k) % fill.len()];
                }
                u64::from_ne_bytes(v)
            })
            .collect()
    };
    let phys = &machine.phys;
    for (w, v) in (0..phys.size() / 8).zip(period.iter().cycle()) {
        if let Err(e) = phys.store(w * 8, 8, *v) {
            panic!("{cfg}: filling word {w}: {e}");
        }
    }
    for &va in &vas {
        let model = vtop(&mm, va);
        let fast = mm.translate(va);
        if let (Ok(m), Ok(t)) = (&model, &fast) {
            assert_eq!(
                m.pa(),
                t.map(|(pa, _)| pa),
                "{cfg}: vtop and translate disagree on va {va:#x}: {m:?} vs {t:?}"
            );
            if let (mm_core::vtop::VtopOutcome::Mapped { writable, .. }, Some((_, w))) =
                (m.outcome, t)
            {
                assert_eq!(
                    writable, *w,
                    "{cfg}: vtop and translate disagree on writability of va {va:#x}: {m:?}"
                );
            }
            assert!(
                m.steps.len() <= Level::ALL.len(),
                "{cfg}: vtop of {va:#x} took {} steps",
                m.steps.len()
            );
        }
        let Ok(Some(pmdp)) = mm.find_pmd(va) else {
            continue;
        };
        if let Ok(Some(map)) = mm.pte_offset_map(pmdp, va) {
            let _ = map.get();
            map.pte_unmap();
        }
        if let Ok(Some(locked)) = mm.pte_offset_map_lock(pmdp, va) {
            let _ = locked.get();
            locked.pte_unmap_unlock();
        }
    }
}

// ---------------------------------------------------------------------------
// 3. ELF loaders

/// Target `elf`: the first byte picks the loader (0: the sparc64 guest
/// walker's, 1: the powerpc guest walker's, 2...: the oracle's with one of
/// [`ORACLE_ABIS`]); the rest is the file.  Each must return an error or an
/// image, never panic.
///
/// # Panics
/// When a loader panics.
pub fn elf(data: &[u8]) {
    let (sel, file) = data.split_first().map_or((0, data), |(f, r)| (*f, r));
    match usize::from(sel) % (2 + ORACLE_ABIS.len()) {
        0 => {
            let _ = arch_sparc::emulate::parse_guest(file);
        }
        1 => {
            let _ = arch_ppc::emulate::parse_guest(file);
        }
        n => {
            let abi_name = ORACLE_ABIS[n - 2];
            // An ABI this build does not have is nothing to test.
            if let Some(abi) = crate::oracle::abi::by_name(abi_name) {
                let objects = [("fuzz.o".to_string(), file.to_vec())];
                let _ = crate::oracle::loader::load(abi.as_ref(), &objects);
            }
        }
    }
}

/// The oracle loader ABIs the [`elf`] target tries, by the selector byte
/// minus 2 (0 and 1 are the sparc64 and powerpc guest loaders).
pub const ORACLE_ABIS: &[&str] = &[
    "x86_64",
    "i386",
    "arm",
    "arm-lpae",
    "s390x",
    "sparc64-sun4u",
    "sparc64-sun4v",
];

// ---------------------------------------------------------------------------
// 4. command line

/// Target `cli`: the bytes split at NUL into arguments (not necessarily
/// UTF-8), parsed as `ptlab ARGS...` by clap; then every value parser on
/// the arguments, for the configuration the first argument names or one
/// the first byte picks.  Errors are fine; panics are not.
///
/// # Panics
/// When clap or a value parser panics.
pub fn cli(data: &[u8]) {
    use clap::Parser as _;
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt as _;

    let args: Vec<OsString> = data
        .split(|&c| c == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    let argv = std::iter::once(OsString::from("ptlab")).chain(args.iter().cloned());
    let parsed = crate::cli::Cli::try_parse_from(argv);
    if let Err(e) = &parsed {
        // Rendering the message (usage, suggestions) must not panic either.
        let _ = e.render().to_string();
    }

    let strs: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (name, _) = pick_config(data);
    struct V<'a>(&'a [String]);
    impl Visitor for V<'_> {
        type Out = ();
        fn visit<A: Arch + Clone>(self, a: A) {
            for s in self.0 {
                let _ = crate::parse::number("fuzz", s);
                let _ = crate::parse::prot(&a, s);
                let _ = crate::parse::map_spec(&a, "fuzz", s);
            }
        }
    }
    for s in &strs {
        let _ = configs::expand(s);
    }
    let cfg = strs
        .first()
        .and_then(|s| configs::names().into_iter().find(|n| n == s))
        .unwrap_or(name);
    visit(cfg, V(&strs));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Inputs per target and configuration in `cargo test`.
    const CASES: u32 = 256;

    fn config_cases() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..160)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn helpers_on_random_inputs(data in config_cases()) {
            helpers(&data);
        }

        #[test]
        fn walk_on_random_tables(data in config_cases()) {
            walk(&data);
        }

        #[test]
        fn cli_on_random_argv(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            cli(&data);
        }

        #[test]
        fn elf_loaders_on_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            elf(&data);
        }
    }

    /// Every configuration, each with a few inputs (the random tests above
    /// pick configurations by the first byte).
    #[test]
    fn every_configuration_helpers_and_walk() {
        for (i, _) in configs::names().iter().enumerate() {
            for seed in 0..4u8 {
                let mut d = vec![i as u8];
                d.extend((0..120u8).map(|k| k.wrapping_mul(37).wrapping_add(seed)));
                helpers(&d);
                walk(&d);
            }
        }
    }

    /// Memory full of a plausible table entry, so the walks go deep: every
    /// entry points at frame 1 with the low (valid/present) bits set, a
    /// cycle of tables that each walk must still end.
    #[test]
    fn walk_on_cyclic_tables() {
        for (i, _) in configs::names().iter().enumerate() {
            for entry in [
                0x0000_0000_0000_1067u64,
                0x0000_0000_0000_2003,
                0x6710_0000_0000_0000,
                0x8000_0000_0000_1fff,
                u64::MAX,
            ] {
                let mut d = vec![i as u8];
                d.extend([0u8; 64]);
                d.extend(entry.to_le_bytes());
                walk(&d);
                d.truncate(65);
                d.extend(entry.to_be_bytes());
                walk(&d);
            }
        }
    }

    /// Found by the `walk` fuzz target (s390x): a table entry whose origin
    /// is near the top of the address space made `table + index * width`
    /// overflow in `Mm::translate` (and `Mm::*_offset`, `vtop`); now an
    /// address outside memory, an error.
    #[test]
    fn walk_crash_table_origin_near_the_top() {
        let crash: &[u8] = &[
            249, 131, 2, 0, 0, 0, 0, 201, 0, 0, 0, 0, 255, 0, 1, 43, 133, 0, 252, 0, 1, 0, 0, 6,
            63, 0, 0, 0, 63, 0, 192, 255, 255, 255, 255, 255, 255, 62, 62, 62, 62, 62, 62, 62, 255,
            255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 201, 0, 1, 47, 255, 255, 255, 255,
            255, 247, 255, 255, 255, 255, 255, 255, 255, 255, 255, 63, 63, 0,
        ];
        walk(crash);
        // The same for every configuration and every low 12 bits of such
        // an entry, in both byte orders.
        let vas = [0u8; 64];
        for (i, _) in configs::names().iter().enumerate() {
            for low in (0..0x1000u64).step_by(61) {
                let e = 0xffff_ffff_ffff_f000 | low;
                for bytes in [e.to_le_bytes(), e.to_be_bytes()] {
                    let mut d = vec![i as u8];
                    d.extend(vas);
                    d.extend(bytes);
                    walk(&d);
                }
            }
        }
    }

    /// The real guest ELFs with random bytes changed: nearer the valid
    /// format than random bytes, so the loaders' own checks run.
    #[test]
    fn elf_loaders_on_mutated_guests() {
        let mut rng = mm_core::family::Rng::new(0xe1f);
        let guests: Vec<(u8, &[u8])> = [
            (0u8, arch_sparc::emulate::guest_elf()),
            (1u8, arch_ppc::emulate::guest_elf()),
        ]
        .into_iter()
        .filter_map(|(s, g)| g.map(|g| (s, g)))
        .collect();
        for (sel, g) in guests {
            let mut whole = vec![sel];
            whole.extend_from_slice(g);
            elf(&whole);
            for _ in 0..200 {
                let mut d = whole.clone();
                for _ in 0..1 + rng.below(4) {
                    let at = 1 + rng.below(d.len() as u64 - 1) as usize;
                    d[at] = rng.next_u64() as u8;
                }
                elf(&d);
            }
        }
    }

    /// Every subcommand's `--help` and a few real command lines parse
    /// without a panic (clap's own debug assertions run on the first
    /// parse).
    #[test]
    fn cli_known_command_lines() {
        use clap::CommandFactory as _;
        crate::cli::Cli::command().debug_assert();
        for args in [
            &["arches", "--json"][..],
            &["pte", "--arch", "x86_64", "decode", "0x8000000000000067"],
            &[
                "walk",
                "--arch",
                "arm-lpae",
                "--map",
                "0x1000=0x5:vm:rw",
                "--va",
                "0x1000",
            ],
            &["helper", "--arch", "s390x", "pte_mkyoung", "0x400"],
            &["--help"],
            &["walk", "--arch"],
            &["\u{ff}", "--arch"],
        ] {
            cli(args.join("\0").as_bytes());
        }
    }
}
