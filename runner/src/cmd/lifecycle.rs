//! `ptlab lifecycle`: run the small `pte_free_defer()` scenario on one
//! configuration and variant and print its events in order.

use mm_core::scenario::pte_free_defer_scenario;
use mm_core::Arch;
use serde_json::json;

use crate::configs::{self, Visitor};
use crate::error::CliError;

struct Run<'a> {
    variant: Option<&'a str>,
}

impl Visitor for Run<'_> {
    type Out = Result<serde_json::Value, CliError>;
    fn visit<A: Arch + Clone>(self, mut a: A) -> Self::Out {
        if let Some(v) = self.variant {
            a.select_variant(v)?;
        }
        let log = pte_free_defer_scenario(&a)?;
        Ok(json!({
            "config": log.config,
            "variant": log.variant,
            "variants": a.variants().iter().map(|(n, d)| json!({"name": n, "what": d})).collect::<Vec<_>>(),
            "events": log.events.iter().map(|e| json!({"kind": e.kind(), "text": e.to_string()})).collect::<Vec<_>>(),
            "reports": log.reports,
        }))
    }
}

/// Run `ptlab lifecycle`.  Fails (exit 1) when the model reported a bug.
///
/// # Errors
/// Bad input as [`CliError`].
pub fn run(arch: &str, variant: Option<&str>, json: bool) -> Result<bool, CliError> {
    let out = configs::with_config(arch, Run { variant })??;
    let reports = out["reports"].as_array().map(|r| r.len()).unwrap_or(0);
    if json {
        super::print_json(&out);
        return Ok(reports == 0);
    }
    outln!(
        "{} (variant {}): pte_free_defer() lifecycle",
        out["config"].as_str().unwrap_or("?"),
        out["variant"].as_str().unwrap_or("?")
    );
    for (i, e) in out["events"].as_array().into_iter().flatten().enumerate() {
        outln!("{:>3}. {}", i + 1, e["text"].as_str().unwrap_or("?"));
    }
    if reports == 0 {
        outln!("no bugs reported");
    } else {
        outln!("reported:");
        for r in out["reports"].as_array().into_iter().flatten() {
            outln!("  {}", r.as_str().unwrap_or("?"));
        }
    }
    Ok(reports == 0)
}
