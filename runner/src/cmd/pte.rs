//! `ptlab pte encode|decode`.

use mm_core::arch::decode_flags;
use mm_core::{swapops, Arch, Level, Pmd, Pte};
use serde_json::json;

use crate::cli::{EntryLevel, PteOp};
use crate::configs::{self, Visitor};
use crate::error::CliError;
use crate::parse;

struct PteCmd {
    op: PteOp,
}

fn check_width<A: Arch>(a: &A, v: u64) -> Result<(), CliError> {
    let bytes = a.geometry().entry_bytes;
    if bytes < 8 && v >> (bytes * 8) != 0 {
        return Err(CliError::BadSpec {
            what: "value",
            spec: format!("{v:#x}"),
            why: format!("does not fit a {bytes}-byte entry of {}", a.geometry().name),
        });
    }
    Ok(())
}

/// The decoded meaning of an entry, as JSON.
fn decode<A: Arch>(a: &A, v: u64, level: EntryLevel) -> serde_json::Value {
    match level {
        EntryLevel::Pte => {
            let p = Pte(v);
            let swap = swapops::is_swap_pte(a, p).then(|| {
                let e = a.__pte_to_swp_entry(p);
                json!({
                    "type": a.__swp_type(e),
                    "offset": a.__swp_offset(e),
                    "migration": swapops::is_migration_entry(a, e),
                    "soft_dirty": a.pte_swp_soft_dirty(p),
                    "exclusive": a.pte_swp_exclusive(p),
                })
            });
            json!({
                "raw": format!("{v:#x}"),
                "flags": decode_flags(a, Level::Pte, v),
                "pte_none": a.pte_none(p),
                "pte_present": a.pte_present(p),
                "pte_protnone": a.pte_protnone(p),
                "pte_young": a.pte_young(p),
                "pte_dirty": a.pte_dirty(p),
                "pte_write": a.pte_write(p),
                "pte_exec": a.pte_exec(p),
                "pte_special": a.pte_special(p),
                "pte_devmap": a.pte_devmap(p),
                "pte_soft_dirty": a.pte_soft_dirty(p),
                "pte_uffd_wp": a.pte_uffd_wp(p),
                "pte_pfn": format!("{:#x}", a.pte_pfn(p)),
                "mmu_accepts": a.pte_hw_valid(p),
                "swap": swap,
            })
        }
        EntryLevel::Pmd => {
            let p = Pmd(v);
            let table = !a.pmd_none(p) && a.pmd_present(p) && !a.pmd_leaf(p) && !a.pmd_bad(p);
            json!({
                "raw": format!("{v:#x}"),
                "flags": decode_flags(a, Level::Pmd, v),
                "pmd_none": a.pmd_none(p),
                "pmd_present": a.pmd_present(p),
                "pmd_bad": a.pmd_bad(p),
                "pmd_leaf": a.pmd_leaf(p),
                "pmd_trans_huge": a.pmd_trans_huge(p),
                "pmd_devmap": a.pmd_devmap(p),
                "pmd_protnone": a.pmd_protnone(p),
                "pmd_young": a.pmd_young(p),
                "pmd_dirty": a.pmd_dirty(p),
                "pmd_write": a.pmd_write(p),
                "pmd_soft_dirty": a.pmd_soft_dirty(p),
                "pmd_pfn": format!("{:#x}", a.pmd_pfn(p)),
                "is_pmd_migration_entry": swapops::is_pmd_migration_entry(a, p),
                "table_pa": table.then(|| format!("{:#x}", a.pmd_table_pa(p))),
                "mmu_accepts": a.pmd_leaf(p) && a.pmd_hw_valid(p),
            })
        }
    }
}

impl Visitor for PteCmd {
    type Out = Result<serde_json::Value, CliError>;
    fn visit<A: Arch + Clone>(self, a: A) -> Self::Out {
        match self.op {
            PteOp::Encode { pfn, prot, level } => {
                let pfn = parse::number("--pfn", &pfn)?;
                let g = a.geometry();
                let bits = g.phys_bits - g.page_shift;
                if bits < 64 && pfn >> bits != 0 {
                    return Err(mm_core::MmError::BadPfn {
                        pfn,
                        phys_bits: g.phys_bits,
                    }
                    .into());
                }
                let prot = parse::prot(&a, &prot)?;
                let v = match level {
                    EntryLevel::Pte => a.pfn_pte(pfn, prot).0,
                    EntryLevel::Pmd => {
                        let align = g.pmd_size() >> g.page_shift;
                        if pfn % align != 0 {
                            return Err(mm_core::MmError::Unaligned {
                                va: 0,
                                pfn,
                                size: g.pmd_size(),
                            }
                            .into());
                        }
                        a.pmd_mkhuge(a.pfn_pmd(pfn, prot)).0
                    }
                };
                Ok(json!({
                    "config": g.name,
                    "pfn": format!("{pfn:#x}"),
                    "prot": format!("{:#x}", prot.0),
                    "entry": decode(&a, v, level),
                }))
            }
            PteOp::Decode { value, level } => {
                let v = parse::number("value", &value)?;
                check_width(&a, v)?;
                Ok(json!({
                    "config": a.geometry().name,
                    "entry": decode(&a, v, level),
                }))
            }
        }
    }
}

/// Run `ptlab pte`.
///
/// # Errors
/// Bad input as [`CliError`].
pub fn run(arch: &str, op: PteOp, json: bool) -> Result<bool, CliError> {
    let out = configs::with_config(arch, PteCmd { op })??;
    if json {
        super::print_json(&out);
        return Ok(true);
    }
    let e = &out["entry"];
    outln!(
        "{}: {}",
        out["config"].as_str().unwrap_or("?"),
        e["raw"].as_str().unwrap_or("?")
    );
    if let Some(p) = out.get("pfn") {
        outln!(
            "  from pfn {} prot {}",
            p.as_str().unwrap_or("?"),
            out["prot"].as_str().unwrap_or("?")
        );
    }
    let flags: Vec<&str> = e["flags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str())
        .collect();
    outln!(
        "  flags: {}",
        if flags.is_empty() {
            "(none)".to_string()
        } else {
            flags.join("|")
        }
    );
    if let Some(obj) = e.as_object() {
        let preds: Vec<String> = obj
            .iter()
            .filter(|(k, v)| v.as_bool().is_some() && k.as_str() != "flags")
            .map(|(k, v)| format!("{k}={}", if v.as_bool() == Some(true) { 1 } else { 0 }))
            .collect();
        outln!("  {}", preds.join(" "));
        for k in ["pte_pfn", "pmd_pfn", "table_pa"] {
            if let Some(v) = obj.get(k).and_then(|v| v.as_str()) {
                outln!("  {k}: {v}");
            }
        }
        if let Some(s) = obj.get("swap").filter(|s| !s.is_null()) {
            outln!(
                "  swap entry: type {} offset {:#x} migration={} soft_dirty={} exclusive={}",
                s["type"],
                s["offset"].as_u64().unwrap_or(0),
                s["migration"],
                s["soft_dirty"],
                s["exclusive"]
            );
        }
    }
    Ok(true)
}
