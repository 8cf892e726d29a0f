//! `ptlab walk`: build tables, walk one address with the model and the
//! emulated MMU, and compare.

use std::sync::Arc;

use mm_core::emulate::{Access, HwOutcome};
use mm_core::machine::Mode;
use mm_core::vtop::{vtop, VtopOutcome};
use mm_core::walkcheck::agrees;
use mm_core::{map, Arch, Machine, Mm};
use serde_json::json;

use crate::configs::{self, Visitor};
use crate::error::CliError;
use crate::parse;

struct WalkCmd<'a> {
    maps: &'a [String],
    huges: &'a [String],
    va: &'a str,
    emulate: bool,
}

fn outcome_json(o: &HwOutcome) -> serde_json::Value {
    match o {
        HwOutcome::Translated { pa } => json!({"pa": format!("{pa:#x}")}),
        HwOutcome::Fault { detail } => json!({"fault": detail}),
    }
}

impl Visitor for WalkCmd<'_> {
    type Out = Result<(serde_json::Value, bool), CliError>;
    fn visit<A: Arch + Clone>(self, a: A) -> Self::Out {
        let va = parse::number("--va", self.va)?;
        let g = a.geometry().clone();
        let specs_small = self
            .maps
            .iter()
            .map(|s| parse::map_spec(&a, "--map", s))
            .collect::<Result<Vec<_>, _>>()?;
        let specs_huge = self
            .huges
            .iter()
            .map(|s| parse::map_spec(&a, "--huge", s))
            .collect::<Result<Vec<_>, _>>()?;
        let machine = Machine::new(&g, 16 << 20, Mode::Deterministic)?;
        let mm = Mm::new(Arc::new(a.clone()), machine.clone())?;
        // Addresses above a new mm's limit grow it first, as an mmap there
        // would (s390: crst_table_upgrade() to 4 or 5 levels).
        let highest = specs_small
            .iter()
            .chain(&specs_huge)
            .map(|s| s.va)
            .chain([va])
            .max()
            .unwrap_or(va);
        if highest >= mm.task_size() && highest < mm.task_size_max() {
            let _w = mm.mmap_lock.write().map_err(mm_core::MmError::from)?;
            mm.upgrade(
                highest
                    .saturating_add(g.page_size())
                    .min(mm.task_size_max()),
            )?;
        }
        for s in &specs_small {
            map::map_page(&mm, s.va, s.pfn, s.prot)?;
        }
        for s in &specs_huge {
            map::map_huge_pmd(&mm, s.va, s.pfn, s.prot)?;
        }
        let model = vtop(&mm, va)?;
        let steps: Vec<serde_json::Value> = model
            .steps
            .iter()
            .map(|s| {
                json!({
                    "level": s.level.name(),
                    "table_pa": format!("{:#x}", s.table_pa),
                    "index": s.index,
                    "entry_pa": format!("{:#x}", s.entry_pa),
                    "raw": format!("{:#0w$x}", s.raw, w = 2 + 2 * g.entry_bytes as usize),
                    "meaning": s.meaning,
                    // Fragmenting arches (powerpc, s390): which part of
                    // which page the table is.
                    "fragment": fragment(&g, s.level, s.table_pa),
                })
            })
            .collect();
        let model_json = match model.outcome {
            VtopOutcome::Mapped {
                pa,
                level,
                size,
                writable,
            } => json!({
                "mapped": true, "pa": format!("{pa:#x}"), "level": level.name(),
                "size": size, "writable": writable,
            }),
            VtopOutcome::NotMapped { level, why } => json!({
                "mapped": false, "level": level.name(), "why": format!("{why:?}"),
            }),
        };
        let mut out = json!({
            "config": g.name,
            "va": format!("{va:#x}"),
            "pgd_pa": format!("{:#x}", mm.pgd_pa()),
            "levels": mm.shape_geometry().nr_levels(),
            "steps": steps,
            "model": model_json,
        });
        let mut ok = true;
        if self.emulate {
            match a.hw_walker(machine.clone()) {
                Ok(mut hw) => {
                    // What the emulated walk cannot judge is said, not
                    // counted as agreement or disagreement.
                    let bits = hw.phys_bits();
                    let why = hw.unchecked(mm.hw_root(), va)?.or_else(|| {
                        model.pa().filter(|pa| bits < 64 && pa >> bits != 0).map(|pa| {
                            format!(
                                "pa {pa:#x} is beyond the {bits} physical address bits the emulated walk covers"
                            )
                        })
                    });
                    if let Some(why) = why {
                        out["emulator"] = json!({ "walker": hw.describe(), "unchecked": why });
                        drop(mm);
                        return Ok((out, true));
                    }
                    let read = hw.translate(mm.hw_root(), va, Access::Read)?;
                    let write = hw.translate(mm.hw_root(), va, Access::Write)?;
                    ok = agrees(&model, &read, &write);
                    out["emulator"] = json!({
                        "walker": hw.describe(),
                        "read": outcome_json(&read),
                        "write": outcome_json(&write),
                        "agree": ok,
                    });
                }
                Err(mm_core::emulate::EmuError::Unsupported(why)) => {
                    out["emulator"] = json!({ "unsupported": why });
                }
                Err(e) => return Err(e.into()),
            }
        }
        drop(mm);
        Ok((out, ok))
    }
}

/// "fragment N of page P" for a table smaller than a page, else `None`.
fn fragment(g: &mm_core::Geometry, level: mm_core::Level, table_pa: u64) -> Option<String> {
    let bytes = g.level(level).table_bytes;
    let page = g.page_size();
    (bytes > 0 && bytes < page).then(|| {
        format!(
            "fragment {} of page {:#x}",
            (table_pa & (page - 1)) / bytes,
            table_pa >> g.page_shift
        )
    })
}

/// Run `ptlab walk`.
///
/// # Errors
/// Bad input as [`CliError`].
pub fn run(
    arch: &str,
    maps: &[String],
    huges: &[String],
    va: &str,
    no_emulate: bool,
    json: bool,
) -> Result<bool, CliError> {
    let (out, ok) = configs::with_config(
        arch,
        WalkCmd {
            maps,
            huges,
            va,
            emulate: !no_emulate,
        },
    )??;
    if json {
        super::print_json(&out);
        return Ok(ok);
    }
    let s = |v: &serde_json::Value| v.as_str().unwrap_or("?").to_string();
    outln!(
        "{} VA {}  (pgd at {}, {} levels)",
        s(&out["config"]),
        s(&out["va"]),
        s(&out["pgd_pa"]),
        out["levels"]
    );
    outln!(
        "  {:<4} {:>14} {:>5} {:>14}  {:<20} meaning",
        "lvl",
        "table",
        "index",
        "entry at",
        "raw"
    );
    for st in out["steps"].as_array().into_iter().flatten() {
        outln!(
            "  {:<4} {:>14} {:>5} {:>14}  {:<20} {}",
            s(&st["level"]),
            s(&st["table_pa"]),
            st["index"].as_u64().unwrap_or(0),
            s(&st["entry_pa"]),
            s(&st["raw"]),
            match st.get("fragment").and_then(|f| f.as_str()) {
                Some(f) => format!("{} ({f})", s(&st["meaning"])),
                None => s(&st["meaning"]),
            }
        );
    }
    let m = &out["model"];
    if m["mapped"].as_bool() == Some(true) {
        outln!(
            "  model:    pa {} ({} leaf, {} KiB, {})",
            s(&m["pa"]),
            s(&m["level"]),
            m["size"].as_u64().unwrap_or(0) >> 10,
            if m["writable"].as_bool() == Some(true) {
                "writable"
            } else {
                "read-only"
            }
        );
    } else {
        outln!(
            "  model:    no translation ({} at the {} level)",
            s(&m["why"]),
            s(&m["level"])
        );
    }
    if let Some(e) = out.get("emulator") {
        if let Some(why) = e.get("unchecked") {
            outln!(
                "  emulator: cannot judge this address: {}",
                why.as_str().unwrap_or("?")
            );
            outln!("            [{}]", s(&e["walker"]));
        } else if let Some(why) = e.get("unsupported") {
            outln!(
                "  emulator: none for this configuration ({})",
                why.as_str().unwrap_or("?")
            );
        } else {
            let show = |o: &serde_json::Value| {
                o.get("pa")
                    .map(|p| format!("pa {}", p.as_str().unwrap_or("?")))
                    .unwrap_or_else(|| format!("fault ({})", o["fault"].as_str().unwrap_or("?")))
            };
            outln!(
                "  emulator: read -> {}; write -> {}",
                show(&e["read"]),
                show(&e["write"])
            );
            outln!("            [{}]", s(&e["walker"]));
            outln!("  agree:    {}", if ok { "yes" } else { "NO" });
        }
    }
    Ok(ok)
}
