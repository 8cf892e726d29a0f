//! `ptlab stress`: the bounded real-thread stress run, per configuration
//! and khugepaged version.

use std::time::Duration;

use indicatif::ProgressBar;
use mm_core::khugepaged::Version;
use mm_core::stress::{run_with, StressReport, WalkerLocking};
use mm_core::Arch;
use serde_json::json;

use crate::configs::{self, Visitor};
use crate::error::CliError;

struct One {
    version: Version,
    locking: WalkerLocking,
    duration: Duration,
    seed: u64,
}

impl Visitor for One {
    type Out = Result<StressReport, CliError>;
    fn visit<A: Arch + Clone>(self, a: A) -> Self::Out {
        // An error a thread hit is a finding of this run, not the end of
        // the command: keep it as the run's report so that the other
        // configurations' results are not lost.
        Ok(
            match run_with(&a, self.version, self.locking, self.duration, self.seed) {
                Ok(r) => r,
                Err(e) => StressReport {
                    reports: vec![format!("run stopped: {e}")],
                    ..Default::default()
                },
            },
        )
    }
}

/// Run `ptlab stress`.  Fails (exit 1) when any run is not clean.
///
/// With `negative_control` it runs only v6.4 (tables freed at once by
/// retract) with the lockless walker on RCU alone — the series without
/// `pte_free_defer()` — to show that the checks can fail; it fails when no
/// run catches anything.  A run that misses is not a model error: the
/// walker must be inside the very table at the moment it is freed, and on
/// powerpc 64K a freed fragment is never handed out again while its page
/// lives (`pte_fragment_alloc()` only cuts fresh fragments), so only the
/// page's final free can expose it.
///
/// # Errors
/// Bad input ([`CliError::BadNumber`], an unknown configuration).  A
/// stress thread's error is reported in its run's row, not returned.
pub fn run(
    arch: &str,
    seconds: f64,
    seed: u64,
    negative_control: bool,
    json: bool,
) -> Result<bool, CliError> {
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0) {
        return Err(CliError::BadNumber {
            what: "--seconds",
            value: seconds.to_string(),
        });
    }
    let cfgs = configs::expand(arch)?;
    let (versions, locking): (&[Version], _) = if negative_control {
        (&[Version::V6_4], WalkerLocking::RcuOnly)
    } else {
        (&[Version::V6_6, Version::V6_4], WalkerLocking::AsRequired)
    };
    let bar = ProgressBar::new(cfgs.len() as u64 * versions.len() as u64);
    if json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut rows = Vec::new();
    let mut ok = true;
    let mut caught = false;
    for cfg in &cfgs {
        for &version in versions {
            bar.set_message(format!("{cfg} {version:?}"));
            let r = configs::with_config(
                cfg,
                One {
                    version,
                    locking,
                    duration: Duration::from_secs_f64(seconds),
                    seed,
                },
            )??;
            if negative_control {
                caught |= r.caught_stale_table();
                // Any other failure is a failure, not a catch.
                ok &= r.clean() || r.caught_stale_table();
            } else {
                ok &= r.clean();
            }
            rows.push((cfg, version, r));
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    if negative_control {
        ok &= caught;
    }
    if json {
        super::print_json(&json!({
            "ok": ok,
            "seconds_each": seconds,
            "negative_control": negative_control,
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
        let verdict = if negative_control && nothing_to_catch(r) {
            "nothing to catch: no THP, so no collapse frees a table".to_string()
        } else if r.clean() && negative_control {
            "not caught in this run (the walker was never inside a table at its free)".to_string()
        } else if r.clean() {
            "clean".to_string()
        } else if negative_control && r.caught_stale_table() {
            format!("caught: {} lost, {} reports", r.lost, r.reports.len())
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

/// A clean run without a single collapse or khugepaged pass: a
/// configuration without THP, where the negative control has nothing to
/// catch.
fn nothing_to_catch(r: &StressReport) -> bool {
    r.clean() && r.collapses == 0 && r.scans == 0
}
