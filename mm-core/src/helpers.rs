//! The model's helpers by their kernel names: one dispatch table from a name
//! (`pte_mkyoung`, `pmd_trans_huge`, `pfn_pte`, `__swp_entry`, ...) to the
//! [`Arch`] method of that name, with its arity and the C type of each
//! argument and of the result.
//!
//! Two users share it: `ptlab helper` (evaluate one helper by hand or a
//! batch from a file) and the kernel oracle (`ptlab oracle test`), which
//! calls the kernel's own helper under the same name and compares.  A name
//! is therefore only ever spelled once, here.
//!
//! Every value crosses this interface as a `u64` holding the C value: an
//! entry or protection as `pteval_t` ([`Val::Entry`], 64-bit on x86 PAE
//! even though `long` is 32-bit there), a pfn, swap type, swap offset or
//! `swp_entry_t.val` as `unsigned long` ([`Val::Long`]), a predicate result
//! as 0 or 1 ([`Val::Bool`]).
//!
//! Besides the trait's methods the table holds the generic helpers of
//! `include/linux/swapops.h` that are composed from them (`swp_entry`,
//! `swp_type`, `swp_offset`, `swp_entry_to_pte`, `is_swap_pte`,
//! `is_swap_pmd`), written as v6.6 writes them.

use crate::arch::{Arch, P4d, Pgd, Pgprot, Pmd, Pte, Pud, SwpEntry};
use crate::swapops::{self, MAX_SWAPFILES_SHIFT};

/// The C type of an argument or result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    /// An entry or protection value: `pteval_t`/`pmdval_t`/`pgprotval_t`,
    /// [`entry_bits`] wide.
    Entry,
    /// An `unsigned long`: a pfn, a swap type or offset, `swp_entry_t.val`,
    /// `vm_flags`, a physical address.  [`bits_per_long`] wide.
    Long,
    /// A predicate's result, 0 or 1 (an `int` or `bool` in C).
    Bool,
}

impl Val {
    /// Width in bits of this C type in configuration `a`.
    pub fn bits<A: Arch>(self, a: &A) -> u32 {
        match self {
            Val::Entry => entry_bits(a),
            Val::Long => bits_per_long(a),
            Val::Bool => 1,
        }
    }
}

/// One argument: its name (for usage messages) and its C type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg {
    /// What it is (`pte`, `pfn`, `prot`, `type`, `offset`, `entry`, ...).
    pub name: &'static str,
    /// Its C type.
    pub val: Val,
}

/// One helper of the model under its kernel name.
pub struct Helper<A> {
    /// The kernel's name.
    pub name: &'static str,
    /// The arguments, in the kernel's order.
    pub args: &'static [Arg],
    /// The result's C type.
    pub ret: Val,
    /// Evaluate the model's helper; `args` has exactly `self.args.len()`
    /// values, each within its type's width (see [`Helper::call`]).
    pub f: fn(&A, &[u64]) -> u64,
}

impl<A> Clone for Helper<A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A> Copy for Helper<A> {}

impl<A> core::fmt::Debug for Helper<A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.usage())
    }
}

/// Why a helper call was refused.  Each variant names the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelperError {
    /// No helper of that name.
    #[error("unknown helper '{name}' (see `ptlab helper --arch CFG --list`)")]
    Unknown {
        /// The name given.
        name: String,
    },
    /// The wrong number of arguments.
    #[error("{usage}: takes {expected} argument(s), got {got}")]
    Arity {
        /// `name ARG...`.
        usage: String,
        /// How many it takes.
        expected: usize,
        /// How many were given.
        got: usize,
    },
    /// An argument wider than its C type in this configuration.
    #[error("{helper}: argument {arg} = {value:#x} does not fit in {bits} bits")]
    TooWide {
        /// The helper.
        helper: &'static str,
        /// The argument's name.
        arg: &'static str,
        /// The value given.
        value: u64,
        /// The width of its C type.
        bits: u32,
    },
}

impl<A> Helper<A> {
    /// `name ARG ARG...`, for usage messages.
    pub fn usage(&self) -> String {
        let mut s = self.name.to_string();
        for a in self.args {
            s.push(' ');
            s.push_str(&a.name.to_ascii_uppercase());
        }
        s
    }
}

impl<A: Arch> Helper<A> {
    /// Evaluate the helper after checking the arity and that every argument
    /// fits its C type.  The result is masked to the result type's width.
    ///
    /// # Errors
    /// [`HelperError::Arity`], [`HelperError::TooWide`].
    pub fn call(&self, a: &A, args: &[u64]) -> Result<u64, HelperError> {
        if args.len() != self.args.len() {
            return Err(HelperError::Arity {
                usage: self.usage(),
                expected: self.args.len(),
                got: args.len(),
            });
        }
        for (spec, &v) in self.args.iter().zip(args) {
            let bits = spec.val.bits(a);
            if v & !mask(bits.max(1)) != 0 && spec.val != Val::Bool {
                return Err(HelperError::TooWide {
                    helper: self.name,
                    arg: spec.name,
                    value: v,
                    bits,
                });
            }
        }
        Ok(self.call_unchecked(a, args))
    }

    /// Evaluate without the checks (the oracle's inputs are generated
    /// within range); the result is masked to its C type's width.
    pub fn call_unchecked(&self, a: &A, args: &[u64]) -> u64 {
        (self.f)(a, args) & mask(self.ret.bits(a))
    }
}

/// All-ones in the low `bits` bits.
pub fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// `BITS_PER_LONG` of the configuration: 32 where the whole user address
/// range (`TASK_SIZE`) fits in 32 bits, as it does on every 32-bit kernel
/// (x86 2-level and PAE, arm), else 64 (every 64-bit kernel's `TASK_SIZE`
/// is above 4 GiB).
pub fn bits_per_long<A: Arch>(a: &A) -> u32 {
    if a.geometry().task_size() <= 1 << 32 {
        32
    } else {
        64
    }
}

/// Width of `pteval_t` (the entry size in memory).
pub fn entry_bits<A: Arch>(a: &A) -> u32 {
    a.geometry().entry_bytes * 8
}

/// `SWP_TYPE_SHIFT` (`include/linux/swapops.h`): `BITS_PER_XA_VALUE -
/// MAX_SWAPFILES_SHIFT`, where `BITS_PER_XA_VALUE` is `BITS_PER_LONG - 1`.
pub fn swp_type_shift<A: Arch>(a: &A) -> u32 {
    bits_per_long(a) - 1 - MAX_SWAPFILES_SHIFT
}

/// `swp_entry(type, offset)` (`include/linux/swapops.h`): the generic,
/// arch-independent `swp_entry_t`.
pub fn swp_entry<A: Arch>(a: &A, ty: u64, offset: u64) -> u64 {
    let sh = swp_type_shift(a);
    ((ty << sh) | (offset & mask(sh))) & mask(bits_per_long(a))
}

/// `swp_type(entry)` (`include/linux/swapops.h`).
pub fn swp_type<A: Arch>(a: &A, e: u64) -> u64 {
    (e & mask(bits_per_long(a))) >> swp_type_shift(a)
}

/// `swp_offset(entry)` (`include/linux/swapops.h`).
pub fn swp_offset<A: Arch>(a: &A, e: u64) -> u64 {
    e & mask(swp_type_shift(a))
}

/// `swp_entry_to_pte(entry)` (`include/linux/swapops.h`):
/// `__swp_entry_to_pte(__swp_entry(swp_type(entry), swp_offset(entry)))`.
pub fn swp_entry_to_pte<A: Arch>(a: &A, e: u64) -> Pte {
    a.__swp_entry_to_pte(a.__swp_entry(swp_type(a, e), swp_offset(a, e)))
}

const E: Val = Val::Entry;
const L: Val = Val::Long;
const B: Val = Val::Bool;

const PTE: &[Arg] = &[Arg {
    name: "pte",
    val: E,
}];
const PMD: &[Arg] = &[Arg {
    name: "pmd",
    val: E,
}];
const PUD: &[Arg] = &[Arg {
    name: "pud",
    val: E,
}];
const P4D: &[Arg] = &[Arg {
    name: "p4d",
    val: E,
}];
const PGD: &[Arg] = &[Arg {
    name: "pgd",
    val: E,
}];
const ENTRY: &[Arg] = &[Arg {
    name: "entry",
    val: L,
}];
const PA: &[Arg] = &[Arg {
    name: "table_pa",
    val: L,
}];
const PFN_PROT: &[Arg] = &[
    Arg {
        name: "pfn",
        val: L,
    },
    Arg {
        name: "prot",
        val: E,
    },
];
const PTE_PROT: &[Arg] = &[
    Arg {
        name: "pte",
        val: E,
    },
    Arg {
        name: "prot",
        val: E,
    },
];
const PMD_PROT: &[Arg] = &[
    Arg {
        name: "pmd",
        val: E,
    },
    Arg {
        name: "prot",
        val: E,
    },
];
const TYPE_OFF: &[Arg] = &[
    Arg {
        name: "type",
        val: L,
    },
    Arg {
        name: "offset",
        val: L,
    },
];
const VMF: &[Arg] = &[Arg {
    name: "vm_flags",
    val: L,
}];

/// Build one table row.  `$kind` is `pred` (bool result), `ent` (entry
/// result) or `long` (unsigned long result); the closure body sees the
/// arch as `a` and the arguments as `v`.
macro_rules! row {
    ($name:literal, $args:expr, pred, |$a:ident, $v:ident| $body:expr) => {
        Helper::<A> {
            name: $name,
            args: $args,
            ret: B,
            f: |$a, $v| u64::from($body),
        }
    };
    ($name:literal, $args:expr, ent, |$a:ident, $v:ident| $body:expr) => {
        Helper::<A> {
            name: $name,
            args: $args,
            ret: E,
            f: |$a, $v| $body,
        }
    };
    ($name:literal, $args:expr, long, |$a:ident, $v:ident| $body:expr) => {
        Helper::<A> {
            name: $name,
            args: $args,
            ret: L,
            f: |$a, $v| $body,
        }
    };
}

/// Every helper of the table, in a stable order (pte, swap, pmd, pud,
/// upper levels, protections).
pub fn table<A: Arch>() -> Vec<Helper<A>> {
    vec![
        // ---- pte predicates
        row!("pte_none", PTE, pred, |a, v| a.pte_none(Pte(v[0]))),
        row!("pte_present", PTE, pred, |a, v| a.pte_present(Pte(v[0]))),
        row!("pte_young", PTE, pred, |a, v| a.pte_young(Pte(v[0]))),
        row!("pte_dirty", PTE, pred, |a, v| a.pte_dirty(Pte(v[0]))),
        row!("pte_write", PTE, pred, |a, v| a.pte_write(Pte(v[0]))),
        row!("pte_exec", PTE, pred, |a, v| a.pte_exec(Pte(v[0]))),
        row!("pte_special", PTE, pred, |a, v| a.pte_special(Pte(v[0]))),
        row!("pte_protnone", PTE, pred, |a, v| a.pte_protnone(Pte(v[0]))),
        row!("pte_devmap", PTE, pred, |a, v| a.pte_devmap(Pte(v[0]))),
        row!("pte_soft_dirty", PTE, pred, |a, v| a
            .pte_soft_dirty(Pte(v[0]))),
        row!("pte_uffd_wp", PTE, pred, |a, v| a.pte_uffd_wp(Pte(v[0]))),
        // ---- pte transforms
        row!("pte_mkyoung", PTE, ent, |a, v| a.pte_mkyoung(Pte(v[0])).0),
        row!("pte_mkold", PTE, ent, |a, v| a.pte_mkold(Pte(v[0])).0),
        row!("pte_mkdirty", PTE, ent, |a, v| a.pte_mkdirty(Pte(v[0])).0),
        row!("pte_mkclean", PTE, ent, |a, v| a.pte_mkclean(Pte(v[0])).0),
        row!("pte_mkwrite_novma", PTE, ent, |a, v| a
            .pte_mkwrite_novma(Pte(v[0]))
            .0),
        row!("pte_wrprotect", PTE, ent, |a, v| a
            .pte_wrprotect(Pte(v[0]))
            .0),
        row!("pte_mkexec", PTE, ent, |a, v| a.pte_mkexec(Pte(v[0])).0),
        row!("pte_mkspecial", PTE, ent, |a, v| a
            .pte_mkspecial(Pte(v[0]))
            .0),
        row!("pte_mkdevmap", PTE, ent, |a, v| a.pte_mkdevmap(Pte(v[0])).0),
        row!("pte_mksoft_dirty", PTE, ent, |a, v| a
            .pte_mksoft_dirty(Pte(v[0]))
            .0),
        row!("pte_clear_soft_dirty", PTE, ent, |a, v| a
            .pte_clear_soft_dirty(Pte(v[0]))
            .0),
        row!("pte_mkuffd_wp", PTE, ent, |a, v| a
            .pte_mkuffd_wp(Pte(v[0]))
            .0),
        row!("pte_clear_uffd_wp", PTE, ent, |a, v| a
            .pte_clear_uffd_wp(Pte(v[0]))
            .0),
        row!("pfn_pte", PFN_PROT, ent, |a, v| a
            .pfn_pte(v[0], Pgprot(v[1]))
            .0),
        row!("pte_pfn", PTE, long, |a, v| a.pte_pfn(Pte(v[0]))),
        row!("pte_modify", PTE_PROT, ent, |a, v| a
            .pte_modify(Pte(v[0]), Pgprot(v[1]))
            .0),
        // ---- swap entries: the arch encoding
        row!("__swp_entry", TYPE_OFF, long, |a, v| a
            .__swp_entry(v[0], v[1])
            .0),
        row!("__swp_type", ENTRY, long, |a, v| a
            .__swp_type(SwpEntry(v[0]))),
        row!("__swp_offset", ENTRY, long, |a, v| a
            .__swp_offset(SwpEntry(v[0]))),
        row!("__pte_to_swp_entry", PTE, long, |a, v| a
            .__pte_to_swp_entry(Pte(v[0]))
            .0),
        row!("__swp_entry_to_pte", ENTRY, ent, |a, v| a
            .__swp_entry_to_pte(SwpEntry(v[0]))
            .0),
        row!("pte_swp_soft_dirty", PTE, pred, |a, v| a
            .pte_swp_soft_dirty(Pte(v[0]))),
        row!("pte_swp_mksoft_dirty", PTE, ent, |a, v| a
            .pte_swp_mksoft_dirty(Pte(v[0]))
            .0),
        row!("pte_swp_clear_soft_dirty", PTE, ent, |a, v| a
            .pte_swp_clear_soft_dirty(Pte(v[0]))
            .0),
        row!("pte_swp_exclusive", PTE, pred, |a, v| a
            .pte_swp_exclusive(Pte(v[0]))),
        row!("pte_swp_mkexclusive", PTE, ent, |a, v| a
            .pte_swp_mkexclusive(Pte(v[0]))
            .0),
        row!("pte_swp_clear_exclusive", PTE, ent, |a, v| a
            .pte_swp_clear_exclusive(Pte(v[0]))
            .0),
        row!("pte_swp_uffd_wp", PTE, pred, |a, v| a
            .pte_swp_uffd_wp(Pte(v[0]))),
        // ---- swap entries: the generic swapops.h layer
        row!("swp_entry", TYPE_OFF, long, |a, v| swp_entry(a, v[0], v[1])),
        row!("swp_type", ENTRY, long, |a, v| swp_type(a, v[0])),
        row!("swp_offset", ENTRY, long, |a, v| swp_offset(a, v[0])),
        row!("swp_entry_to_pte", ENTRY, ent, |a, v| swp_entry_to_pte(
            a, v[0]
        )
        .0),
        row!("is_swap_pte", PTE, pred, |a, v| swapops::is_swap_pte(
            a,
            Pte(v[0])
        )),
        // ---- pmd
        row!("pmd_none", PMD, pred, |a, v| a.pmd_none(Pmd(v[0]))),
        row!("pmd_present", PMD, pred, |a, v| a.pmd_present(Pmd(v[0]))),
        row!("pmd_bad", PMD, pred, |a, v| a.pmd_bad(Pmd(v[0]))),
        row!("pmd_leaf", PMD, pred, |a, v| a.pmd_leaf(Pmd(v[0]))),
        row!("pmd_trans_huge", PMD, pred, |a, v| a
            .pmd_trans_huge(Pmd(v[0]))),
        row!("pmd_devmap", PMD, pred, |a, v| a.pmd_devmap(Pmd(v[0]))),
        row!("pmd_protnone", PMD, pred, |a, v| a.pmd_protnone(Pmd(v[0]))),
        row!("pmd_young", PMD, pred, |a, v| a.pmd_young(Pmd(v[0]))),
        row!("pmd_dirty", PMD, pred, |a, v| a.pmd_dirty(Pmd(v[0]))),
        row!("pmd_write", PMD, pred, |a, v| a.pmd_write(Pmd(v[0]))),
        row!("pmd_soft_dirty", PMD, pred, |a, v| a
            .pmd_soft_dirty(Pmd(v[0]))),
        row!("pmd_mkyoung", PMD, ent, |a, v| a.pmd_mkyoung(Pmd(v[0])).0),
        row!("pmd_mkold", PMD, ent, |a, v| a.pmd_mkold(Pmd(v[0])).0),
        row!("pmd_mkdirty", PMD, ent, |a, v| a.pmd_mkdirty(Pmd(v[0])).0),
        row!("pmd_mkclean", PMD, ent, |a, v| a.pmd_mkclean(Pmd(v[0])).0),
        row!("pmd_mkwrite_novma", PMD, ent, |a, v| a
            .pmd_mkwrite_novma(Pmd(v[0]))
            .0),
        row!("pmd_wrprotect", PMD, ent, |a, v| a
            .pmd_wrprotect(Pmd(v[0]))
            .0),
        row!("pmd_mkhuge", PMD, ent, |a, v| a.pmd_mkhuge(Pmd(v[0])).0),
        row!("pmd_mkdevmap", PMD, ent, |a, v| a.pmd_mkdevmap(Pmd(v[0])).0),
        row!("pmd_mkinvalid", PMD, ent, |a, v| a
            .pmd_mkinvalid(Pmd(v[0]))
            .0),
        row!("pmd_mksoft_dirty", PMD, ent, |a, v| a
            .pmd_mksoft_dirty(Pmd(v[0]))
            .0),
        row!("pmd_clear_soft_dirty", PMD, ent, |a, v| a
            .pmd_clear_soft_dirty(Pmd(v[0]))
            .0),
        row!("pfn_pmd", PFN_PROT, ent, |a, v| a
            .pfn_pmd(v[0], Pgprot(v[1]))
            .0),
        row!("pmd_pfn", PMD, long, |a, v| a.pmd_pfn(Pmd(v[0]))),
        row!("pmd_modify", PMD_PROT, ent, |a, v| a
            .pmd_modify(Pmd(v[0]), Pgprot(v[1]))
            .0),
        row!("pmd_populate", PA, ent, |a, v| a.pmd_populate(v[0]).0),
        row!("__pmd_to_swp_entry", PMD, long, |a, v| a
            .__pmd_to_swp_entry(Pmd(v[0]))
            .0),
        row!("__swp_entry_to_pmd", ENTRY, ent, |a, v| a
            .__swp_entry_to_pmd(SwpEntry(v[0]))
            .0),
        row!("pmd_swp_soft_dirty", PMD, pred, |a, v| a
            .pmd_swp_soft_dirty(Pmd(v[0]))),
        row!("pmd_swp_mksoft_dirty", PMD, ent, |a, v| a
            .pmd_swp_mksoft_dirty(Pmd(v[0]))
            .0),
        row!("pmd_swp_clear_soft_dirty", PMD, ent, |a, v| a
            .pmd_swp_clear_soft_dirty(Pmd(v[0]))
            .0),
        row!("is_swap_pmd", PMD, pred, |a, v| swapops::is_swap_pmd(
            a,
            Pmd(v[0])
        )),
        // ---- pud
        row!("pud_none", PUD, pred, |a, v| a.pud_none(Pud(v[0]))),
        row!("pud_present", PUD, pred, |a, v| a.pud_present(Pud(v[0]))),
        row!("pud_bad", PUD, pred, |a, v| a.pud_bad(Pud(v[0]))),
        row!("pud_leaf", PUD, pred, |a, v| a.pud_leaf(Pud(v[0]))),
        row!("pud_trans_huge", PUD, pred, |a, v| a
            .pud_trans_huge(Pud(v[0]))),
        row!("pud_devmap", PUD, pred, |a, v| a.pud_devmap(Pud(v[0]))),
        row!("pud_young", PUD, pred, |a, v| a.pud_young(Pud(v[0]))),
        row!("pud_dirty", PUD, pred, |a, v| a.pud_dirty(Pud(v[0]))),
        row!("pud_write", PUD, pred, |a, v| a.pud_write(Pud(v[0]))),
        row!("pud_mkyoung", PUD, ent, |a, v| a.pud_mkyoung(Pud(v[0])).0),
        row!("pud_mkold", PUD, ent, |a, v| a.pud_mkold(Pud(v[0])).0),
        row!("pud_mkdirty", PUD, ent, |a, v| a.pud_mkdirty(Pud(v[0])).0),
        row!("pud_mkclean", PUD, ent, |a, v| a.pud_mkclean(Pud(v[0])).0),
        row!("pud_mkwrite", PUD, ent, |a, v| a.pud_mkwrite(Pud(v[0])).0),
        row!("pud_wrprotect", PUD, ent, |a, v| a
            .pud_wrprotect(Pud(v[0]))
            .0),
        row!("pud_mkhuge", PUD, ent, |a, v| a.pud_mkhuge(Pud(v[0])).0),
        row!("pud_mkdevmap", PUD, ent, |a, v| a.pud_mkdevmap(Pud(v[0])).0),
        row!("pfn_pud", PFN_PROT, ent, |a, v| a
            .pfn_pud(v[0], Pgprot(v[1]))
            .0),
        row!("pud_pfn", PUD, long, |a, v| a.pud_pfn(Pud(v[0]))),
        row!("pud_populate", PA, ent, |a, v| a.pud_populate(v[0]).0),
        // ---- p4d, pgd
        row!("p4d_none", P4D, pred, |a, v| a.p4d_none(P4d(v[0]))),
        row!("p4d_present", P4D, pred, |a, v| a.p4d_present(P4d(v[0]))),
        row!("p4d_bad", P4D, pred, |a, v| a.p4d_bad(P4d(v[0]))),
        row!("p4d_populate", PA, ent, |a, v| a.p4d_populate(v[0]).0),
        row!("pgd_none", PGD, pred, |a, v| a.pgd_none(Pgd(v[0]))),
        row!("pgd_present", PGD, pred, |a, v| a.pgd_present(Pgd(v[0]))),
        row!("pgd_bad", PGD, pred, |a, v| a.pgd_bad(Pgd(v[0]))),
        row!("pgd_populate", PA, ent, |a, v| a.pgd_populate(v[0]).0),
        // ---- protections
        row!("vm_get_page_prot", VMF, ent, |a, v| a
            .vm_get_page_prot((v[0] & 0xf) as u8)
            .0),
    ]
}

/// The helper called `name`.
///
/// # Errors
/// [`HelperError::Unknown`] naming it.
pub fn lookup<A: Arch>(name: &str) -> Result<Helper<A>, HelperError> {
    table::<A>()
        .into_iter()
        .find(|h| h.name == name)
        .ok_or_else(|| HelperError::Unknown {
            name: name.to_string(),
        })
}

/// Evaluate the helper called `name` on `args` (checked as in
/// [`Helper::call`]).
///
/// # Errors
/// As [`lookup`] and [`Helper::call`].
pub fn call<A: Arch>(a: &A, name: &str, args: &[u64]) -> Result<u64, HelperError> {
    lookup::<A>(name)?.call(a, args)
}
