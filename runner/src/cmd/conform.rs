//! `ptlab conform`: the per-configuration conformance suite.
//!
//! For each configuration it runs the groups that exist so far — helper
//! identities (`mm/debug_vm_pgtable.c`'s families), walk agreement with the
//! emulated MMU over random mappings, the lifecycle semantics of the v6.6
//! series, and khugepaged's collapse scenarios in v6.4 and v6.6 — and prints
//! a configuration × family matrix.  A family that
//! does not apply is a skip with its reason.  The exit code is 1 when any
//! family fails.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use mm_core::debug_vm_pgtable::{self, Params};
use mm_core::family::{FamilyResult, FamilyStatus};
use mm_core::walkcheck::{self, WalkParams};
use mm_core::{lifecycle, Arch};
use serde_json::json;

use crate::configs::{self, Visitor};
use crate::error::CliError;

/// Options of one run.
pub struct Options {
    /// A configuration or `all`.
    pub arch: String,
    /// Substring filter on group or family names.
    pub filter: Option<String>,
    /// JSON output.
    pub json: bool,
    /// JUnit XML output file.
    pub junit: Option<PathBuf>,
    /// Random pfns per protection value.
    pub pfns: u32,
    /// Random mappings for the walk family.
    pub mappings: usize,
    /// Seed.
    pub seed: u64,
}

/// The groups, in order.
const GROUPS: [&str; 4] = ["helpers", "walks", "lifecycle", "collapse"];

/// One row: a family's result in one configuration.
struct Row {
    config: &'static str,
    /// The group, with `:variant` for a non-default variant's lifecycle run.
    group: String,
    result: FamilyResult,
    seconds: f64,
}

struct RunGroup<'a> {
    group: &'static str,
    opts: &'a Options,
}

impl Visitor for RunGroup<'_> {
    type Out = Result<Vec<(String, FamilyResult)>, CliError>;
    fn visit<A: Arch + Clone>(self, a: A) -> Self::Out {
        let seed = self.opts.seed;
        let label = |rs: Vec<FamilyResult>| -> Vec<(String, FamilyResult)> {
            rs.into_iter()
                .map(|r| (self.group.to_string(), r))
                .collect()
        };
        if self.group == "lifecycle" {
            // Every variant of the deferred-free code: the flawed ones'
            // failures are expected (listed by the arch with the reason).
            let mut out = Vec::new();
            for (i, (name, _)) in a.variants().iter().enumerate() {
                let mut v = a.clone();
                v.select_variant(name)?;
                let group = if i == 0 {
                    "lifecycle".to_string()
                } else {
                    format!("lifecycle:{name}")
                };
                match lifecycle::run_all(&v) {
                    Ok(rs) => out.extend(rs.into_iter().map(|r| (group.clone(), r))),
                    Err(e) => {
                        // The run itself stopped (a flawed variant's bug can
                        // do that): a failure, expected if the arch says so.
                        let mut r = [FamilyResult {
                            name: "lifecycle_variant",
                            status: FamilyStatus::Fail,
                            checks: 1,
                            failures: vec![format!("variant {name}: {e}")],
                        }];
                        mm_core::family::apply_expected(&mut r, v.expected_failures());
                        let [r] = r;
                        out.push((group.clone(), r));
                    }
                }
            }
            return Ok(out);
        }
        Ok(label(match self.group {
            "helpers" => debug_vm_pgtable::run_all(
                &a,
                Params {
                    pfns_per_prot: self.opts.pfns,
                    seed,
                },
            )
            .map_err(CliError::Model)?,
            "walks" => vec![
                walkcheck::walk_family(
                    &a,
                    WalkParams {
                        mappings: self.opts.mappings,
                        seed,
                    },
                )?
                .family,
                walkcheck::upgrade_family(
                    &a,
                    WalkParams {
                        mappings: self.opts.mappings,
                        seed,
                    },
                )?,
            ],
            _ => mm_core::collapse_check::run_all(&a).map_err(CliError::Model)?,
        }))
    }
}

fn wanted(filter: &Option<String>, group: &str, family: &str) -> bool {
    match filter {
        None => true,
        Some(f) => group.contains(f.as_str()) || family.contains(f.as_str()),
    }
}

/// Run the suite.
///
/// # Errors
/// [`CliError::UnknownConfig`] for a bad `--arch`; emulator or model
/// failures that stop a group (reported after everything else has run).
pub fn run(opts: Options) -> Result<bool, CliError> {
    let start = Instant::now();
    let cfgs = configs::expand(&opts.arch)?;
    let bar = ProgressBar::new((cfgs.len() * GROUPS.len()) as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if opts.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for cfg in &cfgs {
        for group in GROUPS {
            bar.set_message(format!("{cfg}: {group}"));
            let t = Instant::now();
            match configs::with_config(cfg, RunGroup { group, opts: &opts })? {
                Ok(results) => {
                    let n = results.len().max(1) as f64;
                    let secs = t.elapsed().as_secs_f64() / n;
                    for (g, r) in results {
                        if wanted(&opts.filter, &g, r.name) {
                            rows.push(Row {
                                config: cfg,
                                group: g,
                                result: r,
                                seconds: secs,
                            });
                        }
                    }
                }
                // Keep going: nothing already computed is lost.
                Err(e) => errors.push(format!("{cfg} {group}: {e}")),
            }
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let failed = rows
        .iter()
        .filter(|r| r.result.status == FamilyStatus::Fail)
        .count();
    let ok = failed == 0 && errors.is_empty();
    if let Some(path) = &opts.junit {
        std::fs::write(path, junit(&rows)).map_err(|err| CliError::Io {
            path: path.display().to_string(),
            err,
        })?;
    }
    if opts.json {
        super::print_json(&json!({
            "configs": cfgs,
            "seed": format!("{:#x}", opts.seed),
            "seconds": secs,
            "ok": ok,
            "errors": errors,
            "results": rows.iter().map(|r| json!({
                "config": r.config,
                "group": r.group,
                "family": r.result.name,
                "status": match &r.result.status {
                    FamilyStatus::Pass => "pass",
                    FamilyStatus::Skip(_) => "skip",
                    FamilyStatus::Fail => "fail",
                    FamilyStatus::ExpectedFail(_) => "xfail",
                },
                "checks": r.result.checks,
                "reason": match &r.result.status {
                    FamilyStatus::Skip(w) | FamilyStatus::ExpectedFail(w) => Some(w.clone()),
                    _ => None,
                },
                "failures": r.result.failures,
            })).collect::<Vec<_>>(),
        }));
    } else {
        out!("{}", matrix(&cfgs, &rows));
        for e in &errors {
            outln!("ERROR {e}");
        }
        let pass = rows
            .iter()
            .filter(|r| r.result.status == FamilyStatus::Pass)
            .count();
        let xfail = rows
            .iter()
            .filter(|r| matches!(r.result.status, FamilyStatus::ExpectedFail(_)))
            .count();
        let skip = rows.len() - pass - failed - xfail;
        let checks: u64 = rows.iter().map(|r| r.result.checks).sum();
        outln!(
            "\n{} configuration(s), {} families: {pass} passed, {failed} failed, {xfail} failed as expected, {skip} skipped; {checks} checks in {secs:.1}s (seed {:#x})",
            cfgs.len(),
            rows.len(),
            opts.seed
        );
    }
    Ok(ok)
}

/// The human-readable matrix, skip reasons and failures.
fn matrix(cfgs: &[&'static str], rows: &[Row]) -> String {
    let mut s = String::new();
    let mut families: Vec<(&str, &str)> = Vec::new();
    for r in rows {
        if !families.contains(&(r.group.as_str(), r.result.name)) {
            families.push((r.group.as_str(), r.result.name));
        }
    }
    let _ = write!(s, "{:<10} {:<28}", "group", "family");
    for c in cfgs {
        let _ = write!(s, " {c:>14}");
    }
    s.push('\n');
    for (g, f) in &families {
        let _ = write!(s, "{g:<10} {f:<28}");
        for c in cfgs {
            let cell = rows
                .iter()
                .find(|r| r.config == *c && r.group == *g && r.result.name == *f)
                .map(|r| match r.result.status {
                    FamilyStatus::Pass => format!("pass {}", r.result.checks),
                    FamilyStatus::Skip(_) => "skip".to_string(),
                    FamilyStatus::Fail => format!("FAIL {}", r.result.failures.len()),
                    FamilyStatus::ExpectedFail(_) => "xfail".to_string(),
                })
                .unwrap_or_else(|| "-".into());
            let _ = write!(s, " {cell:>14}");
        }
        s.push('\n');
    }
    let mut reasons: Vec<String> = Vec::new();
    for r in rows {
        match &r.result.status {
            FamilyStatus::Skip(why) => {
                reasons.push(format!("  skip {} ({}): {why}", r.result.name, r.config))
            }
            FamilyStatus::ExpectedFail(why) => reasons.push(format!(
                "  xfail {} ({}): {why}\n    first: {}",
                r.result.name,
                r.config,
                r.result.failures.first().map(String::as_str).unwrap_or("")
            )),
            _ => {}
        }
    }
    if !reasons.is_empty() {
        s.push_str("\nskipped and expected failures:\n");
        for l in reasons {
            s.push_str(&l);
            s.push('\n');
        }
    }
    for r in rows
        .iter()
        .filter(|r| r.result.status == FamilyStatus::Fail)
    {
        let _ = writeln!(s, "\nFAIL {} / {} / {}:", r.config, r.group, r.result.name);
        for f in &r.result.failures {
            let _ = writeln!(s, "  {f}");
        }
    }
    s
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one testsuite per configuration, one testcase per family.
fn junit(rows: &[Row]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ptlab conform\">\n",
    );
    let mut cfgs: Vec<&str> = rows.iter().map(|r| r.config).collect();
    cfgs.dedup();
    for c in cfgs {
        let mine: Vec<&Row> = rows.iter().filter(|r| r.config == c).collect();
        let failures = mine
            .iter()
            .filter(|r| r.result.status == FamilyStatus::Fail)
            .count();
        let skipped = mine
            .iter()
            .filter(|r| matches!(r.result.status, FamilyStatus::Skip(_)))
            .count();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
            xml_escape(c),
            mine.len()
        );
        for r in mine {
            let _ = write!(
                s,
                "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.4}\"",
                xml_escape(c),
                r.group,
                r.result.name,
                r.seconds
            );
            match &r.result.status {
                FamilyStatus::Pass => s.push_str("/>\n"),
                FamilyStatus::Skip(why) => {
                    let _ = writeln!(s, "><skipped message=\"{}\"/></testcase>", xml_escape(why));
                }
                FamilyStatus::ExpectedFail(why) => {
                    let _ = writeln!(
                        s,
                        "><system-out>expected failure: {}</system-out></testcase>",
                        xml_escape(why)
                    );
                }
                FamilyStatus::Fail => {
                    let _ = writeln!(
                        s,
                        "><failure message=\"{} failed checks\">{}</failure></testcase>",
                        r.result.failures.len(),
                        xml_escape(&r.result.failures.join("\n"))
                    );
                }
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}
