//! `ptlab arches`.

use mm_core::{Arch, ByteOrder, Level};
use serde_json::json;

use crate::configs::{self, Visitor};
use crate::error::CliError;

struct Describe;

impl Visitor for Describe {
    type Out = serde_json::Value;
    fn visit<A: Arch + Clone>(self, a: A) -> serde_json::Value {
        let g = a.geometry();
        let levels: Vec<serde_json::Value> = Level::ALL
            .iter()
            .map(|l| {
                let lg = g.level(*l);
                json!({
                    "level": l.name(),
                    "folded": *l != Level::Pgd && *l != Level::Pte && lg.is_folded(),
                    "ptrs": lg.ptrs,
                    "shift": lg.shift,
                    "table_bytes": lg.table_bytes,
                })
            })
            .collect();
        json!({
            "name": g.name,
            "levels": g.nr_levels(),
            "page_size": g.page_size(),
            "entry_bytes": g.entry_bytes,
            "byte_order": match g.byte_order { ByteOrder::Little => "little", ByteOrder::Big => "big" },
            "split_halves": g.split_halves,
            "pmd_leaf_size": g.pmd_size(),
            "thp": g.has_thp,
            "task_size": g.task_size(),
            "phys_bits": g.phys_bits,
            "per_level": levels,
        })
    }
}

/// List the configurations.
///
/// # Errors
/// None in practice; the signature matches the other commands.
pub fn run(json: bool) -> Result<bool, CliError> {
    let mut all = Vec::new();
    for name in configs::names() {
        all.push(configs::with_config(name, Describe)?);
    }
    if json {
        super::print_json(&serde_json::Value::Array(all));
        return Ok(true);
    }
    outln!(
        "{:<16} {:>6} {:>9} {:>6} {:>7} {:>10}  per level (pgd p4d pud pmd pte: entries)",
        "configuration",
        "levels",
        "page",
        "entry",
        "order",
        "pmd leaf"
    );
    for d in &all {
        let per: Vec<String> = d["per_level"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| {
                if l["folded"].as_bool() == Some(true) {
                    "-".to_string()
                } else {
                    l["ptrs"].to_string()
                }
            })
            .collect();
        outln!(
            "{:<16} {:>6} {:>9} {:>6} {:>7} {:>10}  {}{}",
            d["name"].as_str().unwrap_or("?"),
            d["levels"],
            format!("{}K", d["page_size"].as_u64().unwrap_or(0) >> 10),
            format!("{}B", d["entry_bytes"]),
            d["byte_order"].as_str().unwrap_or("?"),
            format!("{}K", d["pmd_leaf_size"].as_u64().unwrap_or(0) >> 10),
            per.join(" "),
            if d["split_halves"].as_bool() == Some(true) {
                "  (64-bit entries read as two 32-bit halves)"
            } else {
                ""
            }
        );
    }
    Ok(true)
}
