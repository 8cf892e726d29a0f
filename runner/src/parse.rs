//! Parsing of numbers, flag lists and `VA=PFN[:FLAGS]` specs.

use mm_core::arch::vm_flags::{VM_EXEC, VM_READ, VM_SHARED, VM_WRITE};
use mm_core::{Arch, Pgprot};

use crate::error::CliError;

/// Parse a number: decimal, or hex with `0x`; `_` separators allowed.
///
/// # Errors
/// [`CliError::BadNumber`] naming `what` and the value.
pub fn number(what: &'static str, s: &str) -> Result<u64, CliError> {
    let t = s.trim().replace('_', "");
    let r = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else {
        t.parse::<u64>()
    };
    r.map_err(|_| CliError::BadNumber {
        what,
        value: s.to_string(),
    })
}

/// Parse a protection: a number (the raw `pgprot_t` value), `vm:FLAGS`
/// (`vm_get_page_prot()` of any of `r`, `w`, `x`, `s`, or `vm:none`), or
/// flag names from the configuration's `flag_bits()` joined by `|` or `,`.
///
/// # Errors
/// [`CliError::BadFlag`] for an unknown name; [`CliError::BadNumber`].
pub fn prot<A: Arch>(a: &A, s: &str) -> Result<Pgprot, CliError> {
    let s = s.trim();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok(Pgprot(number("--prot", s)?));
    }
    if let Some(v) = s.strip_prefix("vm:") {
        let mut f = 0u8;
        if v != "none" {
            for ch in v.chars() {
                f |= match ch {
                    'r' => VM_READ,
                    'w' => VM_WRITE,
                    'x' => VM_EXEC,
                    's' => VM_SHARED,
                    _ => {
                        return Err(CliError::BadFlag {
                            flag: format!("vm:{v}"),
                            config: a.geometry().name.to_string(),
                            known: "vm: followed by any of r, w, x, s, or vm:none".into(),
                        })
                    }
                };
            }
        }
        return Ok(a.vm_get_page_prot(f));
    }
    let mut v = 0u64;
    for name in s.split(['|', ',']).map(str::trim).filter(|n| !n.is_empty()) {
        let bit = a
            .flag_bits()
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| CliError::BadFlag {
                flag: name.to_string(),
                config: a.geometry().name.to_string(),
                known: a
                    .flag_bits()
                    .iter()
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        v |= bit.mask;
    }
    Ok(Pgprot(v))
}

/// A parsed `VA=PFN[:FLAGS]`.
#[derive(Clone, Debug)]
pub struct MapSpec {
    /// The virtual address.
    pub va: u64,
    /// The page frame number.
    pub pfn: u64,
    /// The protection (default: `vm_get_page_prot(VM_READ|VM_WRITE|VM_SHARED)`).
    pub prot: Pgprot,
}

/// Parse `VA=PFN[:FLAGS]`.
///
/// # Errors
/// [`CliError::BadSpec`], and the errors of [`number`] and [`prot`].
pub fn map_spec<A: Arch>(a: &A, what: &'static str, s: &str) -> Result<MapSpec, CliError> {
    let (va, rest) = s.split_once('=').ok_or_else(|| CliError::BadSpec {
        what,
        spec: s.to_string(),
        why: "no '='".into(),
    })?;
    let (pfn, flags) = match rest.split_once(':') {
        Some((p, f)) => (p, Some(f)),
        None => (rest, None),
    };
    Ok(MapSpec {
        va: number(what, va)?,
        pfn: number(what, pfn)?,
        prot: match flags {
            Some(f) => prot(a, f)?,
            None => a.vm_get_page_prot(VM_READ | VM_WRITE | VM_SHARED),
        },
    })
}
