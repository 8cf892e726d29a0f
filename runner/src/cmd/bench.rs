//! `ptlab bench latency`: fault latency under MADV_COLLAPSE, v6.4 vs v6.6.

use indicatif::ProgressBar;
use mm_core::collapse_latency::{run as run_latency, LatencyParams, LatencyReport};
use mm_core::khugepaged::Version;
use mm_core::Arch;
use serde_json::json;

use crate::cli::BenchCmd;
use crate::configs::{self, Visitor};
use crate::error::CliError;

struct Latency {
    params: LatencyParams,
    repeat: u32,
    bar: ProgressBar,
}

/// Pool several runs of one version: percentiles of the pooled runs are
/// taken as the worst (max) of each run's, counts are summed.
fn pool(v: Version, runs: &[LatencyReport]) -> LatencyReport {
    let max = |f: fn(&LatencyReport) -> u64| runs.iter().map(f).max().unwrap_or(0);
    let seconds: f64 = runs.iter().map(|r| r.seconds).sum();
    let faults: u64 = runs.iter().map(|r| r.faults).sum();
    LatencyReport {
        version: v,
        faults,
        p50_ns: {
            let mut p: Vec<u64> = runs.iter().map(|r| r.p50_ns).collect();
            p.sort_unstable();
            p.get(p.len() / 2).copied().unwrap_or(0)
        },
        p99_ns: max(|r| r.p99_ns),
        p999_ns: max(|r| r.p999_ns),
        max_ns: max(|r| r.max_ns),
        faults_per_sec: faults as f64 / seconds.max(1e-9),
        collapses: runs.iter().map(|r| r.collapses).sum(),
        pmd_mapped: runs.iter().map(|r| r.pmd_mapped).sum(),
        seconds,
    }
}

impl Visitor for Latency {
    type Out = Result<Vec<LatencyReport>, CliError>;
    fn visit<A: Arch + Clone>(self, a: A) -> Self::Out {
        let mut out = Vec::new();
        for v in [Version::V6_4, Version::V6_6] {
            let mut runs = Vec::new();
            for _ in 0..self.repeat {
                self.bar.set_message(format!("{v:?}"));
                runs.push(run_latency(&a, v, self.params)?);
                self.bar.inc(1);
            }
            out.push(pool(v, &runs));
        }
        Ok(out)
    }
}

fn row(r: &LatencyReport) -> serde_json::Value {
    json!({
        "version": match r.version { Version::V6_4 => "v6.4", Version::V6_6 => "v6.6" },
        "faults": r.faults,
        "p50_ns": r.p50_ns,
        "p99_ns": r.p99_ns,
        "p999_ns": r.p999_ns,
        "max_ns": r.max_ns,
        "faults_per_sec": r.faults_per_sec,
        "collapses": r.collapses,
        "pmd_mapped": r.pmd_mapped,
        "seconds": r.seconds,
    })
}

/// Run a benchmark.
///
/// # Errors
/// Bad input; the output file cannot be written.
pub fn run(which: BenchCmd) -> Result<bool, CliError> {
    let BenchCmd::Latency {
        arch,
        ranges,
        faulters,
        repeat,
        output,
        json,
    } = which;
    let bar = ProgressBar::new(2 * repeat as u64);
    if json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let params = LatencyParams {
        ranges,
        faulters,
        ..LatencyParams::default()
    };
    let reports = configs::with_config(
        &arch,
        Latency {
            params,
            repeat: repeat.max(1),
            bar: bar.clone(),
        },
    )??;
    bar.finish_and_clear();
    let ratio = match (reports.first(), reports.get(1)) {
        (Some(old), Some(new)) if new.p99_ns > 0 => old.p99_ns as f64 / new.p99_ns as f64,
        _ => 0.0,
    };
    let doc = json!({
        "config": arch,
        "ranges": ranges,
        "faulters": faulters,
        "repeat": repeat,
        "results": reports.iter().map(row).collect::<Vec<_>>(),
        "p99_ratio_v64_over_v66": ratio,
        "note": "model timings: the ratio between versions in one run is the figure; absolute times are the model's, not the kernel's",
    });
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|err| CliError::Io {
            path: dir.display().to_string(),
            err,
        })?;
    }
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    std::fs::write(&output, text).map_err(|err| CliError::Io {
        path: output.display().to_string(),
        err,
    })?;
    if json {
        super::print_json(&doc);
        return Ok(true);
    }
    outln!(
        "fault latency while MADV_COLLAPSE runs in the same mm ({arch}, {ranges} ranges, {faulters} faulting threads, {repeat} runs each)"
    );
    outln!(
        "{:<6} {:>9} {:>10} {:>10} {:>10} {:>10} {:>12} {:>14}",
        "kernel",
        "faults",
        "p50 µs",
        "p99 µs",
        "p99.9 µs",
        "max µs",
        "faults/s",
        "PMD-mapped"
    );
    for r in &reports {
        outln!(
            "{:<6} {:>9} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>12.0} {:>8}/{:<5}",
            match r.version {
                Version::V6_4 => "v6.4",
                Version::V6_6 => "v6.6",
            },
            r.faults,
            r.p50_ns as f64 / 1e3,
            r.p99_ns as f64 / 1e3,
            r.p999_ns as f64 / 1e3,
            r.max_ns as f64 / 1e3,
            r.faults_per_sec,
            r.pmd_mapped,
            r.collapses
        );
    }
    outln!(
        "p99 ratio v6.4 / v6.6: {ratio:.1}  (figures written to {})",
        output.display()
    );
    Ok(true)
}
