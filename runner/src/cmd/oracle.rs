//! `ptlab oracle setup|build|test`: the kernel's own helpers as the
//! model's oracle (see `runner/src/oracle/`).

pub(crate) use runner::oracle as engine;

use std::time::Instant;

use mm_core::Arch;
use serde_json::json;

use crate::cli::OracleOp;
use crate::configs::{self, with_config, Visitor};
use crate::error::CliError;
use engine::compare::{self, bit_list, hexes, Backend as _, Options, Report};
use engine::{abi, build, deltas, loader, qemu, setup, Fragment, OracleError};

/// An oracle failure (no kernel tree, a failed build, a malformed
/// fragment): printed, and exit code 3 (`CliError` has no variant for it).
fn cli_err(e: OracleError) -> CliError {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    eprintln!("ptlab: error: oracle: {e}");
    std::process::exit(3)
}

/// The configurations `arch` names, each with its fragment or `None`.
fn fragments(arch: &str) -> Result<Vec<(&'static str, Option<Fragment>)>, CliError> {
    configs::expand(arch)?
        .into_iter()
        .map(|c| Ok((c, Fragment::load(c).map_err(cli_err)?)))
        .collect()
}

/// Run one `ptlab oracle` operation.
///
/// # Errors
/// [`CliError::UnknownConfig`]; oracle failures (missing tree, failed
/// build) as [`CliError::Io`] (exit code 3).
pub fn run(op: OracleOp) -> Result<bool, CliError> {
    match op {
        OracleOp::Setup { ksrc } => {
            let t = Instant::now();
            for l in setup::setup(ksrc.as_deref()).map_err(cli_err)? {
                outln!("{l}");
            }
            outln!("setup done in {:.1}s", t.elapsed().as_secs_f64());
            Ok(true)
        }
        OracleOp::Build { arch } => {
            let t = Instant::now();
            for (c, f) in fragments(&arch)? {
                match f {
                    None => outln!(
                        "{c}: no fragment oracle/config/{c}.config: not covered by the oracle"
                    ),
                    Some(f) => {
                        if qemu::loader_knobs(&f.loader).is_some() {
                            // Stop before the kernel build when qemu or the
                            // cross tools are missing: the message has the
                            // install command.
                            qemu::check_tools().map_err(cli_err)?;
                        }
                        let (built, lines) = build::build(&f).map_err(cli_err)?;
                        for l in lines {
                            outln!("{l}");
                        }
                        if qemu::loader_knobs(&f.loader).is_some() {
                            let (_, lines) = qemu::link(&built).map_err(cli_err)?;
                            for l in lines {
                                outln!("{c}: {l}");
                            }
                        }
                    }
                }
            }
            outln!("build done in {:.1}s", t.elapsed().as_secs_f64());
            Ok(true)
        }
        OracleOp::Test {
            arch,
            json,
            random,
            seed,
        } => {
            let seed = crate::parse::number("--seed", &seed)?;
            // Each random value becomes a call per helper; past ten million
            // the run would take hours and its inputs would not fit memory.
            if random > 10_000_000 {
                return Err(CliError::BadNumber {
                    what: "--random",
                    value: random.to_string(),
                });
            }
            let deltas = deltas::load().map_err(cli_err)?;
            let mut ok = true;
            let mut all = Vec::new();
            for (c, f) in fragments(&arch)? {
                let Some(f) = f else {
                    if !json {
                        outln!("{c}: no fragment oracle/config/{c}.config: NOT COVERED");
                    }
                    all.push(json!({"config": c, "covered": false}));
                    continue;
                };
                let t = Instant::now();
                let built = build::current(&f).map_err(cli_err)?;
                // The fragment's by-design differences join the listed
                // version deltas, each labelled as what it is.
                let deltas = deltas::with_model_differs(&deltas, &f);
                let opt = Options { random, seed };
                let (rep, run) = if let Some(knobs) = qemu::loader_knobs(&f.loader) {
                    // powerpc64: the harness under qemu-user.
                    let (h, _) = qemu::link(&built).map_err(cli_err)?;
                    let mut be = qemu::Qemu::start(&h, knobs).map_err(cli_err)?;
                    let rep = with_config(c, Cmp::new(&mut be, &built.kernel, &deltas, opt))?
                        .map_err(cli_err)?;
                    let run = Run {
                        backend: be.describe(),
                        knobs: be.knobs(),
                        unknown_externs: h.stubs.clone(),
                        print_unknown: false,
                    };
                    (rep, run)
                } else {
                    let abi = abi::by_name(&f.loader).ok_or_else(|| {
                        cli_err(OracleError::Parse {
                            file: format!("oracle/config/{c}.config"),
                            why: format!(
                                "unknown loader '{}' (known: {}, qemu-ppc64-radix, qemu-ppc64-hash)",
                                f.loader,
                                abi::NAMES.join(", ")
                            ),
                        })
                    })?;
                    let mut objs = Vec::new();
                    for p in &built.objects {
                        let b = std::fs::read(p).map_err(|e| cli_err(OracleError::io(p, e)))?;
                        objs.push((p.display().to_string(), b));
                    }
                    let img = loader::load(abi.as_ref(), &objs).map_err(cli_err)?;
                    let mut be =
                        compare::UnicornBackend::new(abi.as_ref(), &img).map_err(cli_err)?;
                    let rep = with_config(c, Cmp::new(&mut be, &built.kernel, &deltas, opt))?
                        .map_err(cli_err)?;
                    let mut knobs = abi.knobs();
                    if img.patched > 0 {
                        knobs.push(format!(
                            "{} words patched at load (boot-time fix-ups: Abi::patch)",
                            img.patched
                        ));
                    }
                    let run = Run {
                        backend: format!(
                            "{}, {} wrappers, {} relocations",
                            be.describe(),
                            img.wrappers.len(),
                            img.relocations
                        ),
                        knobs,
                        unknown_externs: img.unknown_externs.clone(),
                        print_unknown: true,
                    };
                    (rep, run)
                };
                let secs = t.elapsed().as_secs_f64();
                let pass = rep.mismatches() == 0 && rep.call_errors.is_empty();
                ok &= pass;
                if json {
                    all.push(json!({
                        "config": c, "covered": true, "kernel": built.kernel,
                        "loader": f.loader, "backend": run.backend, "cache_key": built.key,
                        "objects": built.dir.display().to_string(),
                        "knobs": run.knobs, "unknown_externs": run.unknown_externs,
                        "helpers_compared": rep.helpers.len(), "calls": rep.calls(),
                        "mismatches": rep.mismatches(), "known_deltas": rep.known(),
                        "warn_agreed": rep.warns(), "bug_agreed": rep.bugs(),
                        "pass": pass, "seconds": secs, "report": rep,
                    }));
                } else {
                    print_report(c, &built.kernel, &f, &run, &rep, secs);
                }
            }
            if json {
                super::print_json(&json!({"configs": all, "pass": ok}));
            }
            Ok(ok)
        }
    }
}

/// What one configuration ran on, for the report.
struct Run {
    backend: String,
    knobs: Vec<String>,
    unknown_externs: Vec<String>,
    /// List the unknown externals by name (the qemu harness only counts
    /// them among its knobs: they are the many unreached symbols of the
    /// in-tree objects).
    print_unknown: bool,
}

struct Cmp<'a> {
    be: &'a mut dyn compare::Backend,
    kernel: &'a str,
    deltas: &'a [deltas::Delta],
    opt: Options,
}

impl<'a> Cmp<'a> {
    fn new(
        be: &'a mut dyn compare::Backend,
        kernel: &'a str,
        deltas: &'a [deltas::Delta],
        opt: Options,
    ) -> Self {
        Cmp {
            be,
            kernel,
            deltas,
            opt,
        }
    }
}

impl Visitor for Cmp<'_> {
    type Out = Result<Report, OracleError>;
    fn visit<A: Arch + Clone>(self, a: A) -> Self::Out {
        compare::compare(&a, self.be, self.kernel, self.deltas, self.opt)
    }
}

fn print_report(c: &str, kernel: &str, f: &Fragment, run: &Run, rep: &Report, secs: f64) {
    outln!(
        "{c}: Linux {kernel} ({} + oracle/config/{c}.config), {}",
        f.defconfig,
        run.backend
    );
    for k in &run.knobs {
        outln!("  boot: {k}");
    }
    if run.print_unknown && !run.unknown_externs.is_empty() {
        outln!(
            "  unknown externals (zero-filled): {}",
            run.unknown_externs.join(", ")
        );
    }
    for (name, h) in &rep.helpers {
        for m in &h.examples {
            outln!(
                "  MISMATCH {name}({}): kernel {:#x}{} model {:#x}{} differing bits {}",
                hexes(&m.args),
                m.kernel,
                m.kernel_trap.suffix(),
                m.model,
                m.model_trap.suffix(),
                bit_list(m.xor)
            );
        }
        if h.mismatches > h.examples.len() as u64 {
            outln!(
                "  MISMATCH {name}: {} more",
                h.mismatches - h.examples.len() as u64
            );
        }
        if let Some(m) = &h.known_example {
            outln!(
                "  KNOWN DELTA {name}: {} of {} calls, e.g. ({}): kernel {:#x} model {:#x} bits {}; {}",
                h.known,
                h.calls,
                hexes(&m.args),
                m.kernel,
                m.model,
                bit_list(m.xor),
                h.delta.as_deref().unwrap_or("")
            );
        }
    }
    for (n, k, m, d) in &rep.constants {
        if k != m {
            match d {
                Some(d) => match d.strip_prefix("BY DESIGN, ") {
                    // A fragment's `ptlab-model-differs` row, not a version delta.
                    Some(why) => outln!("  BY DESIGN const {n}: kernel {k:#x} model {m:#x}; {why}"),
                    None => outln!("  KNOWN DELTA const {n}: kernel {k:#x} model {m:#x}; {d}"),
                },
                None => outln!("  MISMATCH const {n}: kernel {k:#x} model {m:#x}"),
            }
        }
    }
    for e in &rep.call_errors {
        outln!("  CALL ERROR {e}");
    }
    if !rep.model_only.is_empty() {
        outln!(
            "  model only (no kernel wrapper in this configuration): {}",
            rep.model_only.join(" ")
        );
    }
    if !rep.kernel_only.is_empty() {
        outln!(
            "  kernel only (no model helper): {}",
            rep.kernel_only.join(" ")
        );
    }
    for (name, h) in &rep.helpers {
        if h.warns + h.bugs > 0 {
            outln!(
                "  TRAPS {name}: kernel and model agree on {} WARN calls (values compared) and {} BUG calls (no value) of {}",
                h.warns,
                h.bugs,
                h.calls
            );
        }
    }
    let pass = rep.mismatches() == 0 && rep.call_errors.is_empty();
    outln!(
        "  {}: {} helpers + {} constants, {} calls, {} mismatches, {} known-delta calls ({:.1}s, {:.0} calls/s)",
        if pass { "PASS" } else { "FAIL" },
        rep.helpers.len(),
        rep.constants.len(),
        rep.calls(),
        rep.mismatches(),
        rep.known(),
        secs,
        rep.calls() as f64 / secs.max(1e-9)
    );
}
