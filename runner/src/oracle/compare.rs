//! Calling every kernel wrapper and the model helper of the same name on
//! the same inputs, and comparing.
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
//! * `vm_flags`: all 16 combinations of read/write/exec/shared.

use std::collections::BTreeMap;

use mm_core::helpers::{self, mask, Helper, Val};
use mm_core::{Arch, Level};
use unicorn_engine::unicorn_const::Prot;
use unicorn_engine::Unicorn;

use super::abi::Abi;
use super::deltas::Delta;
use super::loader::{Image, CODE_BASE, CODE_SIZE, EXT_BASE, EXT_SIZE};
use super::OracleError;

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
}

/// Generate the inputs of `a` with `random` random values per kind.
pub fn inputs<A: Arch>(a: &A, random: usize, seed: u64) -> Inputs {
    let ebits = helpers::entry_bits(a);
    let emask = mask(ebits);
    let lmask = mask(helpers::bits_per_long(a));
    let g = a.geometry();
    let page_shift = g.page_shift;
    let max_pfn = mask(g.phys_bits.saturating_sub(page_shift)) & lmask;
    let flags = a.flag_bits().iter().fold(0u64, |m, f| m | f.mask) & emask;
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
    Some(match name {
        "sizeof_pteval" => u64::from(g.entry_bytes),
        "sizeof_long" => u64::from(helpers::bits_per_long(a) / 8),
        "PAGE_SHIFT" => u64::from(g.page_shift),
        "PMD_SHIFT" | "HPAGE_PMD_SHIFT" => u64::from(g.level(Level::Pmd).shift),
        "PUD_SHIFT" => u64::from(g.level(Level::Pud).shift),
        "PGDIR_SHIFT" => u64::from(g.level(Level::Pgd).shift),
        "PTRS_PER_PTE" => u64::from(g.level(Level::Pte).ptrs),
        "PTRS_PER_PMD" => u64::from(g.level(Level::Pmd).ptrs),
        "PTRS_PER_PUD" => u64::from(g.level(Level::Pud).ptrs),
        "PTRS_PER_PGD" => u64::from(g.level(Level::Pgd).ptrs),
        "TASK_SIZE_MAX" => g.task_size(),
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

/// Compare every wrapper of `img` with the model `a`.
///
/// # Errors
/// [`OracleError::Emu`] when the emulator cannot be set up (a failing
/// call is recorded in the report instead).
pub fn compare<A: Arch>(
    a: &A,
    abi: &dyn Abi,
    img: &Image,
    kernel: &str,
    deltas: &[Delta],
    opt: Options,
) -> Result<Report, OracleError> {
    let mut uc = emulator(abi, img)?;
    let mut rep = Report::default();
    let cfg = a.geometry().name;
    let inp = inputs(a, opt.random, opt.seed);
    let mut rng = Rng::new(opt.seed ^ 0x5a5a);
    let table = helpers::table::<A>();
    for h in &table {
        let Some(&addr) = img.wrappers.get(h.name) else {
            rep.model_only.push(h.name.to_string());
            continue;
        };
        let mut res = HelperResult::default();
        let widths: Vec<(u32, u32)> = h.args.iter().map(|x| (x.val.bits(a), 0)).collect();
        // A predicate wrapper returns `!!x` as unsigned long: compare all of it.
        let ret_bits = if h.ret == Val::Bool {
            helpers::bits_per_long(a)
        } else {
            h.ret.bits(a)
        };
        for args in arg_lists(h, &inp, opt.random, &mut rng) {
            let cargs: Vec<(u64, u32)> = args
                .iter()
                .zip(&widths)
                .map(|(&v, &(b, _))| (v & mask(b), b))
                .collect();
            let args: Vec<u64> = cargs.iter().map(|c| c.0).collect();
            res.calls += 1;
            let k = match abi.call(&mut uc, addr, &cargs, ret_bits) {
                Ok(k) => k,
                Err(e) => {
                    if rep.call_errors.len() < 20 {
                        rep.call_errors
                            .push(format!("{}({}): {e}", h.name, hexes(&args)));
                    }
                    continue;
                }
            };
            let m = h.call_unchecked(a, &args);
            if k == m {
                continue;
            }
            let mm = Mismatch {
                args,
                kernel: k,
                model: m,
                xor: k ^ m,
            };
            if let Some(d) = deltas
                .iter()
                .find(|d| d.explains(cfg, kernel, h.name, mm.xor))
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
    let mut names: Vec<&String> = img.wrappers.keys().collect();
    names.sort();
    for w in names {
        if let Some(c) = w.strip_prefix("const_") {
            let Some(m) = model_constant(a, c) else {
                rep.kernel_only.push(w.clone());
                continue;
            };
            let lb = helpers::bits_per_long(a);
            let k = match abi.call(&mut uc, img.wrappers[w], &[], lb) {
                Ok(k) => k,
                Err(e) => {
                    rep.call_errors.push(format!("{w}(): {e}"));
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

    #[test]
    fn bits_and_rng() {
        assert_eq!(bit_list(0x41), "6,0");
        assert_eq!(bit_list(0), "");
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.next(), b.next());
        assert_ne!(Rng::new(0).next(), 0);
    }
}
