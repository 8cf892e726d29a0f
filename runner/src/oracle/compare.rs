//! Calling every kernel wrapper and the model helper of the same name on
//! the same inputs, and comparing.
//!
//! The kernel side is a [`Backend`]: a Unicorn emulator with an ABI and a
//! loaded image ([`UnicornBackend`]), or a long-lived qemu-user process
//! ([`super::qemu::Qemu`], powerpc64).  Each call returns a value and the
//! `CONFIG_DEBUG_VM` trap it took, if any ([`Trap`]); the model says where
//! the kernel traps ([`model_trap`]), and a trap is part of the result: a
//! WARN in one and not the other is a mismatch, a WARN in both still
//! compares the value, a BUG in both (the kernel oopses: no value) compares
//! only that.
//!
//! Inputs, per argument type:
//! * entries and protections: every combination of the configuration's
//!   named flag bits below bit 16 (`Arch::flag_bits`), each combined with
//!   no high flag bit, each high flag bit alone (x86_64: 57..63), and all
//!   of them; the pfn field cycles through 0, 0x12345 and the largest pfn;
//!   then random values (a seeded xorshift: dense, sparse, and flag bits
//!   over a random pfn);
//! * pfns: 0, 1, 0x12345, the largest pfn of the physical width, random;
//! * swap types 0..32 against offsets 0, 1, 0x12345, the largest, random;
//! * `vm_flags`: all 16 combinations of read/write/exec/shared;
//! * table addresses (`*_populate`): page addresses from the pfns, then
//!   random 256-byte aligned ones within the physical width.

use std::collections::BTreeMap;

use mm_core::helpers::{self, mask, Helper, Val};
use mm_core::{Arch, Level};
use unicorn_engine::unicorn_const::Prot;
use unicorn_engine::Unicorn;

use super::abi::Abi;
use super::deltas::Delta;
use super::loader::{Image, CODE_BASE, CODE_SIZE, EXT_BASE, EXT_SIZE};
use super::OracleError;

/// A `CONFIG_DEBUG_VM` check that fired during a call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Trap {
    /// None fired.
    #[default]
    None,
    /// A `WARN_ON()`: the helper went on and returned its value.
    Warn,
    /// A `BUG_ON()`/`VM_BUG_ON()`: the kernel would oops; no value.
    Bug,
    /// A trap instruction no `__bug_table` entry names.
    Unknown,
}

impl Trap {
    /// ` WARN`, ` BUG`, ` TRAP` or nothing, to follow a value.
    pub fn suffix(self) -> &'static str {
        match self {
            Trap::None => "",
            Trap::Warn => " WARN",
            Trap::Bug => " BUG",
            Trap::Unknown => " TRAP",
        }
    }
}

/// One call's result on the kernel side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The returned value, masked to the result type.
    pub value: u64,
    /// The trap it took.
    pub trap: Trap,
}

/// Where the kernel's wrappers run.
pub trait Backend {
    /// What it is, for the report (`unicorn x86_64`, `qemu-ppc64-static (radix)`).
    fn describe(&self) -> String;
    /// The boot-time settings it runs with, one line each.
    fn knobs(&self) -> Vec<String>;
    /// The wrappers it has, without the `oracle_` prefix.
    fn wrappers(&self) -> Vec<String>;
    /// Call wrapper `name` once per argument list (value, width in bits of
    /// its C type); each result is `ret_bits` wide.  A call that faults is
    /// an `Err` in its slot.
    ///
    /// # Errors
    /// [`OracleError::Emu`] when the backend itself fails (no such
    /// wrapper, the emulator died).
    fn call_many(
        &mut self,
        name: &str,
        calls: &[Vec<(u64, u32)>],
        ret_bits: u32,
    ) -> Result<Vec<Result<Outcome, String>>, OracleError>;
}

/// A Unicorn emulator with a loader ABI and a loaded image.  Nothing traps
/// there (the Unicorn configurations keep `CONFIG_DEBUG_VM` off).
pub struct UnicornBackend<'a> {
    abi: &'a dyn Abi,
    img: &'a Image,
    uc: Unicorn<'static, ()>,
}

impl<'a> UnicornBackend<'a> {
    /// Map `img` into a fresh emulator of `abi`.
    ///
    /// # Errors
    /// [`OracleError::Emu`].
    pub fn new(abi: &'a dyn Abi, img: &'a Image) -> Result<Self, OracleError> {
        Ok(UnicornBackend {
            abi,
            img,
            uc: emulator(abi, img)?,
        })
    }
}

impl Backend for UnicornBackend<'_> {
    fn describe(&self) -> String {
        format!("unicorn, loader {}", self.abi.name())
    }
    fn knobs(&self) -> Vec<String> {
        self.abi.knobs()
    }
    fn wrappers(&self) -> Vec<String> {
        self.img.wrappers.keys().cloned().collect()
    }
    fn call_many(
        &mut self,
        name: &str,
        calls: &[Vec<(u64, u32)>],
        ret_bits: u32,
    ) -> Result<Vec<Result<Outcome, String>>, OracleError> {
        let Some(&addr) = self.img.wrappers.get(name) else {
            return Err(OracleError::Emu(format!("no wrapper oracle_{name}")));
        };
        Ok(calls
            .iter()
            .map(|args| {
                self.abi
                    .call(&mut self.uc, addr, args, ret_bits)
                    .map(|value| Outcome {
                        value,
                        trap: Trap::None,
                    })
                    .map_err(|e| e.to_string())
            })
            .collect())
    }
}

/// What the model says the kernel's `WARN_ON()`/`BUG()` checks do when
/// helper `name` of configuration `a` gets `args`: powerpc's statement is
/// [`arch_ppc::entry::Layout::helper_trap`]; the other configurations'
/// oracles run without `CONFIG_DEBUG_VM` and their helpers have no `BUG()`,
/// so nothing traps there.
pub fn model_trap<A: Arch>(a: &A, name: &str, args: &[u64]) -> Trap {
    let any: &dyn std::any::Any = a;
    if let Some(p) = any.downcast_ref::<arch_ppc::Ppc>() {
        return match p.layout().helper_trap(name, args) {
            Some(arch_ppc::entry::HelperTrap::Warn) => Trap::Warn,
            Some(arch_ppc::entry::HelperTrap::Bug) => Trap::Bug,
            None => Trap::None,
        };
    }
    Trap::None
}

/// How many mismatch examples to keep per helper.
pub const EXAMPLES: usize = 4;

/// One differing call.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Mismatch {
    /// The inputs.
    pub args: Vec<u64>,
    /// The kernel's result.
    pub kernel: u64,
    /// The model's result.
    pub model: u64,
    /// `kernel ^ model`.
    pub xor: u64,
    /// The kernel's trap.
    pub kernel_trap: Trap,
    /// The trap the model says the kernel takes.
    pub model_trap: Trap,
}

/// One helper's comparison.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct HelperResult {
    /// Calls made.
    pub calls: u64,
    /// Calls that differed and no delta explains.
    pub mismatches: u64,
    /// Calls that differed as a listed delta explains.
    pub known: u64,
    /// The delta's commit, when `known > 0`.
    pub delta: Option<String>,
    /// The first few unexplained mismatches.
    pub examples: Vec<Mismatch>,
    /// The first explained difference.
    pub known_example: Option<Mismatch>,
    /// Calls where kernel and model agree on a WARN (the values were
    /// compared too).
    pub warns: u64,
    /// Calls where kernel and model agree on a BUG (the kernel oopses, so
    /// there is no value to compare).
    pub bugs: u64,
}

/// One configuration's comparison.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Report {
    /// Helpers compared, by name.
    pub helpers: BTreeMap<String, HelperResult>,
    /// Constants compared: name, kernel, model, known delta.
    pub constants: Vec<(String, u64, u64, Option<String>)>,
    /// Model helpers with no wrapper (compiled out in this kernel
    /// configuration, or not wrappable: they need an mm or a vma).
    pub model_only: Vec<String>,
    /// Wrappers with no model helper or constant.
    pub kernel_only: Vec<String>,
    /// Calls that faulted or did not return.
    pub call_errors: Vec<String>,
}

impl Report {
    /// Total calls.
    pub fn calls(&self) -> u64 {
        self.helpers.values().map(|h| h.calls).sum::<u64>() + self.constants.len() as u64
    }
    /// Unexplained mismatching calls (helpers and constants).
    pub fn mismatches(&self) -> u64 {
        self.helpers.values().map(|h| h.mismatches).sum::<u64>()
            + self
                .constants
                .iter()
                .filter(|c| c.1 != c.2 && c.3.is_none())
                .count() as u64
    }
    /// Calls that agreed on a WARN.
    pub fn warns(&self) -> u64 {
        self.helpers.values().map(|h| h.warns).sum()
    }
    /// Calls that agreed on a BUG.
    pub fn bugs(&self) -> u64 {
        self.helpers.values().map(|h| h.bugs).sum()
    }
    /// Explained (known-delta) calls.
    pub fn known(&self) -> u64 {
        self.helpers.values().map(|h| h.known).sum::<u64>()
            + self
                .constants
                .iter()
                .filter(|c| c.1 != c.2 && c.3.is_some())
                .count() as u64
    }
}

/// The bit numbers set in `v`, as `58,6`.
pub fn bit_list(v: u64) -> String {
    (0..64)
        .rev()
        .filter(|b| v >> b & 1 == 1)
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A seeded xorshift64* generator.
pub struct Rng(u64);

impl Rng {
    /// Seeded (0 is replaced by a fixed non-zero seed).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }
    /// The next value.
    #[allow(clippy::should_implement_trait)] // an endless generator, not an iterator
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The generated input values of one configuration.
pub struct Inputs {
    /// Entry values (exhaustive flag combinations, then random).
    pub entries: Vec<u64>,
    /// The number of exhaustive ones at the front of `entries`.
    pub exhaustive: usize,
    /// pfns.
    pub pfns: Vec<u64>,
    /// Swap offsets.
    pub offsets: Vec<u64>,
    /// Swap entry values (`swp_entry_t.val`).
    pub swp_vals: Vec<u64>,
    /// `PAGE_SHIFT`.
    pub page_shift: u32,
    /// Physical address bits.
    pub phys_bits: u32,
}

/// Generate the inputs of `a` with `random` random values per kind.
pub fn inputs<A: Arch>(a: &A, random: usize, seed: u64) -> Inputs {
    let ebits = helpers::entry_bits(a);
    let emask = mask(ebits);
    let lmask = mask(helpers::bits_per_long(a));
    let g = a.geometry();
    let page_shift = g.page_shift;
    let max_pfn = mask(g.phys_bits.saturating_sub(page_shift)) & lmask;
    // Named fields wider than four bits (sparc64's PADDR and swap type,
    // sun4u's SOFT2 set) are values, not flags: the pfn field below and the
    // random values cover them; enumerating their bits would multiply the
    // exhaustive set by 2^16 and more.
    let flags = a
        .flag_bits()
        .iter()
        .filter(|f| f.mask.count_ones() <= 4)
        .fold(0u64, |m, f| m | f.mask)
        & emask;
    let low: Vec<u32> = (0..16).filter(|b| flags >> b & 1 == 1).collect();
    let high: Vec<u32> = (16..64).filter(|b| flags >> b & 1 == 1).collect();
    let mut highs = vec![0u64];
    highs.extend(high.iter().map(|b| 1u64 << b));
    if high.len() > 1 {
        highs.push(high.iter().fold(0, |m, b| m | 1 << b));
    }
    let pfn_field = [0u64, 0x12345, max_pfn];
    let mut entries = Vec::new();
    for (hi_i, hi) in highs.iter().enumerate() {
        for combo in 0u64..(1 << low.len()) {
            let mut v = *hi;
            for (i, b) in low.iter().enumerate() {
                if combo >> i & 1 == 1 {
                    v |= 1 << b;
                }
            }
            let pf = pfn_field[(combo as usize + hi_i) % pfn_field.len()];
            v |= (pf << page_shift) & emask & !flags;
            entries.push(v & emask);
        }
    }
    let exhaustive = entries.len();
    let mut rng = Rng::new(seed);
    for i in 0..random {
        let r = rng.next();
        let v = match i % 3 {
            0 => r,
            1 => r & rng.next() & rng.next(),
            _ => (r & flags) | ((rng.next() & max_pfn) << page_shift),
        };
        entries.push(v & emask);
    }
    let mut pfns = vec![0, 1, 0x12345 & max_pfn, max_pfn, max_pfn + 1];
    for _ in 0..(random / 64).max(8) {
        let r = rng.next();
        pfns.push(if r & 1 == 0 { r & max_pfn } else { r & lmask });
    }
    pfns.iter_mut().for_each(|p| *p &= lmask);
    let mut offsets = vec![0, 1, 0x12345, a.max_swapfile_offset() & lmask];
    for _ in 0..16 {
        offsets.push(rng.next() & lmask & mask(40));
    }
    let mut swp_vals = Vec::new();
    for t in 0..32 {
        for o in &offsets {
            swp_vals.push(a.__swp_entry(t, *o).0 & lmask);
            swp_vals.push(helpers::swp_entry(a, t, *o));
        }
    }
    for _ in 0..random {
        swp_vals.push(rng.next() & lmask);
    }
    Inputs {
        entries,
        exhaustive,
        pfns,
        offsets,
        swp_vals,
        page_shift,
        phys_bits: g.phys_bits,
    }
}

/// The argument lists for helper `h`.
fn arg_lists<A: Arch>(h: &Helper<A>, inp: &Inputs, random: usize, rng: &mut Rng) -> Vec<Vec<u64>> {
    let names: Vec<&str> = h.args.iter().map(|a| a.name).collect();
    let ex = &inp.entries[..inp.exhaustive];
    let pick = |v: &[u64], rng: &mut Rng| v[(rng.next() % v.len() as u64) as usize];
    match names.as_slice() {
        [_] if h.args[0].val == Val::Entry => inp.entries.iter().map(|&v| vec![v]).collect(),
        ["entry"] => inp.swp_vals.iter().map(|&v| vec![v]).collect(),
        ["vm_flags"] => (0..16).map(|f| vec![f]).collect(),
        // Table addresses: page-aligned ones from the pfns, then random
        // ones within the physical width at 256-byte steps (the smallest
        // table, a radix-64k pte fragment).
        ["table_pa"] => {
            let phys = mask(inp.phys_bits);
            let mut v: Vec<Vec<u64>> = inp
                .pfns
                .iter()
                .map(|p| vec![(p << inp.page_shift) & phys])
                .collect();
            for _ in 0..random {
                v.push(vec![rng.next() & phys & !0xff]);
            }
            v
        }
        ["pfn", "prot"] => {
            let mut v: Vec<Vec<u64>> = ex
                .iter()
                .enumerate()
                .map(|(i, &p)| vec![inp.pfns[i % inp.pfns.len()], p])
                .collect();
            for _ in 0..random {
                v.push(vec![pick(&inp.pfns, rng), pick(&inp.entries, rng)]);
            }
            v
        }
        [_, "prot"] => {
            let n = ex.len();
            let mut v: Vec<Vec<u64>> = (0..n)
                .map(|i| vec![ex[i], ex[(i * 7919 + 13) % n]])
                .collect();
            for _ in 0..random {
                v.push(vec![pick(&inp.entries, rng), pick(&inp.entries, rng)]);
            }
            v
        }
        ["type", "offset"] => {
            let mut v = Vec::new();
            for t in 0..32 {
                for &o in &inp.offsets {
                    v.push(vec![t, o]);
                }
            }
            for _ in 0..random / 16 {
                v.push(vec![rng.next() & 31, pick(&inp.swp_vals, rng)]);
            }
            v
        }
        _ => Vec::new(),
    }
}

/// Model values of the constants the wrapper exports (`const_NAME`).
pub fn model_constant<A: Arch>(a: &A, name: &str) -> Option<u64> {
    use mm_core::swapops as s;
    let g = a.geometry();
    // The kernel's compile-time geometry is that of its largest shape (on
    // s390 the region-first type system a fully upgraded mm reaches);
    // elsewhere there is one shape and `gmax` is `g`.
    let gmax = a.shapes().last().unwrap_or(g);
    Some(match name {
        "sizeof_pteval" => u64::from(g.entry_bytes),
        "sizeof_long" => u64::from(helpers::bits_per_long(a) / 8),
        "PAGE_SHIFT" => u64::from(g.page_shift),
        "PMD_SHIFT" | "HPAGE_PMD_SHIFT" => u64::from(g.level(Level::Pmd).shift),
        "PUD_SHIFT" => u64::from(gmax.level(Level::Pud).shift),
        "PGDIR_SHIFT" => u64::from(gmax.level(Level::Pgd).shift),
        "PTRS_PER_PTE" => u64::from(g.level(Level::Pte).ptrs),
        "PTRS_PER_PMD" => u64::from(g.level(Level::Pmd).ptrs),
        "PTRS_PER_PUD" => u64::from(gmax.level(Level::Pud).ptrs),
        "PTRS_PER_PGD" => u64::from(gmax.level(Level::Pgd).ptrs),
        // powerpc's TASK_SIZE_MAX (TASK_SIZE_USER64) is above the range
        // the model maps (DEFAULT_MAP_WINDOW_USER64, its task_size).
        "TASK_SIZE_MAX" => match (a as &dyn std::any::Any).downcast_ref::<arch_ppc::Ppc>() {
            Some(p) => p.layout().task_size_user64(),
            None => gmax.task_size(),
        },
        "DEFAULT_MAP_WINDOW_USER64" => g.task_size(),
        "MAX_SWAPFILES_SHIFT" => u64::from(s::MAX_SWAPFILES_SHIFT),
        "MAX_SWAPFILES" => a.swap_types().max_swapfiles(),
        "SWP_MIGRATION_READ" => a.swap_types().migration_read(),
        "SWP_MIGRATION_WRITE" => a.swap_types().migration_write(),
        "SWP_PTE_MARKER" => a.swap_types().pte_marker_type(),
        _ => return None,
    })
}

/// Map `img` into a fresh emulator of `abi`.
///
/// # Errors
/// [`OracleError::Emu`].
pub fn emulator(abi: &dyn Abi, img: &Image) -> Result<Unicorn<'static, ()>, OracleError> {
    let mut uc = abi.emulator()?;
    let e = |w: &str, x: unicorn_engine::unicorn_const::uc_error| {
        OracleError::Emu(format!("{w}: {x:?}"))
    };
    uc.mem_map(CODE_BASE, CODE_SIZE, Prot::ALL)
        .map_err(|x| e("map code", x))?;
    uc.mem_write(CODE_BASE, &img.code)
        .map_err(|x| e("write code", x))?;
    uc.mem_map(EXT_BASE, EXT_SIZE, Prot::ALL)
        .map_err(|x| e("map ext", x))?;
    uc.mem_write(EXT_BASE, &img.ext)
        .map_err(|x| e("write ext", x))?;
    Ok(uc)
}

/// Options of one comparison.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Random values per input kind.
    pub random: usize,
    /// The seed.
    pub seed: u64,
}

/// Compare every wrapper `be` has with the model `a`.
///
/// # Errors
/// [`OracleError::Emu`] when the backend fails (a failing call is recorded
/// in the report instead).
pub fn compare<A: Arch>(
    a: &A,
    be: &mut dyn Backend,
    kernel: &str,
    deltas: &[Delta],
    opt: Options,
) -> Result<Report, OracleError> {
    let mut rep = Report::default();
    let cfg = a.geometry().name;
    let inp = inputs(a, opt.random, opt.seed);
    let mut rng = Rng::new(opt.seed ^ 0x5a5a);
    let table = helpers::table::<A>();
    let mut wrappers = be.wrappers();
    wrappers.sort();
    for h in &table {
        if !wrappers.iter().any(|w| w == h.name) {
            rep.model_only.push(h.name.to_string());
            continue;
        }
        let mut res = HelperResult::default();
        let widths: Vec<u32> = h.args.iter().map(|x| x.val.bits(a)).collect();
        // A predicate wrapper returns `!!x` as unsigned long: compare all of it.
        let ret_bits = if h.ret == Val::Bool {
            helpers::bits_per_long(a)
        } else {
            h.ret.bits(a)
        };
        let cargs: Vec<Vec<(u64, u32)>> = arg_lists(h, &inp, opt.random, &mut rng)
            .into_iter()
            .map(|args| {
                args.iter()
                    .zip(&widths)
                    .map(|(&v, &b)| (v & mask(b), b))
                    .collect()
            })
            .collect();
        let outs = be.call_many(h.name, &cargs, ret_bits)?;
        for (ca, out) in cargs.iter().zip(outs) {
            let args: Vec<u64> = ca.iter().map(|c| c.0).collect();
            res.calls += 1;
            let k = match out {
                Ok(k) => k,
                Err(e) => {
                    if rep.call_errors.len() < 20 {
                        rep.call_errors
                            .push(format!("{}({}): {e}", h.name, hexes(&args)));
                    }
                    continue;
                }
            };
            let mt = model_trap(a, h.name, &args);
            if k.trap == Trap::Bug && mt == Trap::Bug {
                res.bugs += 1;
                continue;
            }
            let m = h.call_unchecked(a, &args);
            if k.value == m && k.trap == mt {
                if mt == Trap::Warn {
                    res.warns += 1;
                }
                continue;
            }
            let mm = Mismatch {
                args,
                kernel: k.value,
                model: m,
                xor: k.value ^ m,
                kernel_trap: k.trap,
                model_trap: mt,
            };
            if let Some(d) = deltas
                .iter()
                .find(|d| k.trap == mt && d.explains(cfg, kernel, h.name, mm.xor))
            {
                res.known += 1;
                res.delta.get_or_insert_with(|| d.commit.clone());
                res.known_example.get_or_insert(mm);
            } else {
                res.mismatches += 1;
                if res.examples.len() < EXAMPLES {
                    res.examples.push(mm);
                }
            }
        }
        rep.helpers.insert(h.name.to_string(), res);
    }
    let lb = helpers::bits_per_long(a);
    for w in &wrappers {
        if let Some(c) = w.strip_prefix("const_") {
            let Some(m) = model_constant(a, c) else {
                rep.kernel_only.push(w.clone());
                continue;
            };
            let k = match be.call_many(w, &[Vec::new()], lb)?.pop() {
                Some(Ok(k)) => k.value,
                Some(Err(e)) => {
                    rep.call_errors.push(format!("{w}(): {e}"));
                    continue;
                }
                None => {
                    rep.call_errors.push(format!("{w}(): no result"));
                    continue;
                }
            };
            let m = m & mask(lb);
            let known = (k != m)
                .then(|| deltas.iter().find(|d| d.explains(cfg, kernel, w, k ^ m)))
                .flatten()
                .map(|d| d.commit.clone());
            rep.constants.push((c.to_string(), k, m, known));
        } else if !table.iter().any(|h| h.name == w) {
            rep.kernel_only.push(w.clone());
        }
    }
    Ok(rep)
}

/// `0x1, 0x2`.
pub fn hexes(v: &[u64]) -> String {
    v.iter()
        .map(|x| format!("{x:#x}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend that answers with the model itself, optionally altered.
    struct Fake<A: Arch> {
        a: A,
        alter: fn(&str, &[u64], Outcome) -> Outcome,
    }

    impl<A: Arch> Backend for Fake<A> {
        fn describe(&self) -> String {
            "fake".into()
        }
        fn knobs(&self) -> Vec<String> {
            Vec::new()
        }
        fn wrappers(&self) -> Vec<String> {
            helpers::table::<A>()
                .iter()
                .map(|h| h.name.to_string())
                .collect()
        }
        fn call_many(
            &mut self,
            name: &str,
            calls: &[Vec<(u64, u32)>],
            _ret_bits: u32,
        ) -> Result<Vec<Result<Outcome, String>>, OracleError> {
            let h = helpers::lookup::<A>(name).map_err(|e| OracleError::Emu(e.to_string()))?;
            Ok(calls
                .iter()
                .map(|c| {
                    let args: Vec<u64> = c.iter().map(|x| x.0).collect();
                    let o = Outcome {
                        value: h.call_unchecked(&self.a, &args),
                        trap: model_trap(&self.a, name, &args),
                    };
                    Ok((self.alter)(name, &args, o))
                })
                .collect())
        }
    }

    fn run(alter: fn(&str, &[u64], Outcome) -> Outcome) -> Report {
        let a = arch_ppc::Ppc::from_name("ppc64-hash-64k").unwrap();
        let mut be = Fake {
            a: a.clone(),
            alter,
        };
        let opt = Options {
            random: 64,
            seed: 1,
        };
        compare(&a, &mut be, "6.6.0", &[], opt).unwrap()
    }

    #[test]
    fn traps_are_part_of_the_result() {
        // The model against itself: no mismatch; WARNs and BUGs agreed.
        let r = run(|_, _, o| o);
        assert_eq!(r.mismatches(), 0);
        assert!(r.helpers["pmd_mkhuge"].warns > 0);
        assert!(r.helpers["pud_mkdevmap"].bugs > 0);
        assert_eq!(
            r.helpers["pte_mkyoung"].warns + r.helpers["pte_mkyoung"].bugs,
            0
        );
        // A kernel that does not WARN where the model says it does.
        let r = run(|n, _, o| {
            if n == "pmd_mkhuge" {
                Outcome {
                    trap: Trap::None,
                    ..o
                }
            } else {
                o
            }
        });
        let h = &r.helpers["pmd_mkhuge"];
        assert!(h.mismatches > 0 && h.mismatches == r.mismatches());
        assert_eq!(h.examples[0].kernel_trap, Trap::None);
        assert_eq!(h.examples[0].model_trap, Trap::Warn);
        assert_eq!(h.examples[0].xor, 0, "same value, different trap");
        // After a BUG there is no value: any value agrees.
        let r = run(|_, _, o| {
            if o.trap == Trap::Bug {
                Outcome { value: 0, ..o }
            } else {
                o
            }
        });
        assert_eq!(r.mismatches(), 0);
        // A WARN still compares the value.
        let r = run(|n, _, o| {
            if n == "pmd_mkhuge" && o.trap == Trap::Warn {
                Outcome {
                    value: o.value ^ 1,
                    ..o
                }
            } else {
                o
            }
        });
        assert!(r.helpers["pmd_mkhuge"].mismatches > 0);
        assert_eq!(r.helpers["pmd_mkhuge"].warns, 0);
    }

    #[test]
    fn bits_and_rng() {
        assert_eq!(bit_list(0x41), "6,0");
        assert_eq!(bit_list(0), "");
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.next(), b.next());
        assert_ne!(Rng::new(0).next(), 0);
    }
}
