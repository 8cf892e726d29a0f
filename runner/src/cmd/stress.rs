//! `ptlab stress`: the bounded real-thread stress run, per configuration
//! and khugepaged version.

use std::time::Duration;

use indicatif::ProgressBar;
use mm_core::khugepaged::Version;
use mm_core::stress::{run as run_stress, StressReport};
use mm_core::Arch;
use serde_json::json;

use crate::configs::{self, Visitor};
use crate::error::CliError;

struct One {
    version: Version,
    duration: Duration,
    seed: u64,
}

impl Visitor for One {
    type Out = Result<StressReport, CliError>;
    fn visit<A: Arch + Clone>(self, a: A) -> Self::Out {
        if !a.geometry().has_thp {
            // Collapse needs THP; the run is still useful for the rest, but
            // khugepaged would only report failures: say so via an empty run.
            return Ok(StressReport::default());
        }
        Ok(run_stress(&a, self.version, self.duration, self.seed)?)
    }
}

/// Run `ptlab stress`.  Fails (exit 1) when any run is not clean.
///
/// # Errors
/// Bad input; an error a stress thread hit.
pub fn run(arch: &str, seconds: f64, seed: u64, json: bool) -> Result<bool, CliError> {
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0) {
        return Err(CliError::BadNumber {
            what: "--seconds",
            value: seconds.to_string(),
        });
    }
    let cfgs = configs::expand(arch)?;
    let bar = ProgressBar::new(cfgs.len() as u64 * 2);
    if json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut rows = Vec::new();
    let mut ok = true;
    for cfg in &cfgs {
        for version in [Version::V6_6, Version::V6_4] {
            bar.set_message(format!("{cfg} {version:?}"));
            let r = configs::with_config(
                cfg,
                One {
                    version,
                    duration: Duration::from_secs_f64(seconds),
                    seed,
                },
            )??;
            ok &= r.clean();
            rows.push((cfg, version, r));
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    if json {
        super::print_json(&json!({
            "ok": ok,
            "seconds_each": seconds,
            "runs": rows.iter().map(|(c, v, r)| json!({
                "config": c,
                "version": format!("{v:?}"),
                "clean": r.clean(),
                "writes": r.writes, "reads": r.reads, "walks": r.walks,
                "collapses": r.collapses, "scans": r.scans, "cycles": r.cycles,
                "lost": r.lost, "reports": r.reports,
                "leaked_table_bytes": r.leaked_table_bytes, "leaked_frames": r.leaked_frames,
            })).collect::<Vec<_>>(),
        }));
        return Ok(ok);
    }
    outln!(
        "{:<16} {:<5} {:>8} {:>8} {:>9} {:>6} {:>6} {:>6}  result",
        "configuration",
        "kernel",
        "writes",
        "reads",
        "walks",
        "coll.",
        "scans",
        "mms"
    );
    for (c, v, r) in &rows {
        let verdict = if r.writes == 0 {
            "skipped (no THP)".to_string()
        } else if r.clean() {
            "clean".to_string()
        } else {
            format!(
                "FAIL: {} lost, {} reports, {} table bytes and {} frames leaked",
                r.lost,
                r.reports.len(),
                r.leaked_table_bytes,
                r.leaked_frames
            )
        };
        outln!(
            "{:<16} {:<5} {:>8} {:>8} {:>9} {:>6} {:>6} {:>6}  {verdict}",
            c,
            match v {
                Version::V6_4 => "v6.4",
                Version::V6_6 => "v6.6",
            },
            r.writes,
            r.reads,
            r.walks,
            r.collapses,
            r.scans,
            r.cycles
        );
        for rep in r.reports.iter().take(3) {
            outln!("    {rep}");
        }
    }
    Ok(ok)
}
