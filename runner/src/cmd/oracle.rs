//! `ptlab oracle setup|build|test`: the kernel's own helpers as the
//! model's oracle (see `runner/src/oracle/`).

#[path = "../oracle/mod.rs"]
pub(crate) mod engine;

use std::time::Instant;

use mm_core::Arch;
use serde_json::json;

use crate::cli::OracleOp;
use crate::configs::{self, with_config, Visitor};
use crate::error::CliError;
use engine::compare::{self, bit_list, hexes, Options, Report};
use engine::{abi, build, deltas, loader, setup, Fragment, OracleError};

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
                        let (_, lines) = build::build(&f).map_err(cli_err)?;
                        for l in lines {
                            outln!("{l}");
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
                let abi = abi::by_name(&f.loader).ok_or_else(|| {
                    cli_err(OracleError::Parse {
                        file: format!("oracle/config/{c}.config"),
                        why: format!("unknown loader '{}' (known: x86_64, i386)", f.loader),
                    })
                })?;
                let mut objs = Vec::new();
                for p in &built.objects {
                    let b = std::fs::read(p).map_err(|e| cli_err(OracleError::io(p, e)))?;
                    objs.push((p.display().to_string(), b));
                }
                let img = loader::load(abi.as_ref(), &objs).map_err(cli_err)?;
                let rep = with_config(
                    c,
                    Cmp {
                        abi: abi.as_ref(),
                        img: &img,
                        kernel: &built.kernel,
                        deltas: &deltas,
                        opt: Options { random, seed },
                    },
                )?
                .map_err(cli_err)?;
                let secs = t.elapsed().as_secs_f64();
                let pass = rep.mismatches() == 0 && rep.call_errors.is_empty();
                ok &= pass;
                if json {
                    all.push(json!({
                        "config": c, "covered": true, "kernel": built.kernel,
                        "loader": abi.name(), "cache_key": built.key, "objects": built.dir.display().to_string(),
                        "knobs": abi.knobs(), "unknown_externs": img.unknown_externs,
                        "helpers_compared": rep.helpers.len(), "calls": rep.calls(),
                        "mismatches": rep.mismatches(), "known_deltas": rep.known(),
                        "pass": pass, "seconds": secs, "report": rep,
                    }));
                } else {
                    print_report(c, &built.kernel, &f, abi.as_ref(), &img, &rep, secs);
                }
            }
            if json {
                super::print_json(&json!({"configs": all, "pass": ok}));
            }
            Ok(ok)
        }
    }
}

struct Cmp<'a> {
    abi: &'a dyn abi::Abi,
    img: &'a loader::Image,
    kernel: &'a str,
    deltas: &'a [deltas::Delta],
    opt: Options,
}

impl Visitor for Cmp<'_> {
    type Out = Result<Report, OracleError>;
    fn visit<A: Arch + Clone>(self, a: A) -> Self::Out {
        compare::compare(&a, self.abi, self.img, self.kernel, self.deltas, self.opt)
    }
}

fn print_report(
    c: &str,
    kernel: &str,
    f: &Fragment,
    abi: &dyn abi::Abi,
    img: &loader::Image,
    rep: &Report,
    secs: f64,
) {
    outln!(
        "{c}: Linux {kernel} ({} + oracle/config/{c}.config), loader {}, {} wrappers, {} relocations",
        f.defconfig,
        abi.name(),
        img.wrappers.len(),
        img.relocations
    );
    for k in abi.knobs() {
        outln!("  boot: {k}");
    }
    if !img.unknown_externs.is_empty() {
        outln!(
            "  unknown externals (zero-filled): {}",
            img.unknown_externs.join(", ")
        );
    }
    for (name, h) in &rep.helpers {
        for m in &h.examples {
            outln!(
                "  MISMATCH {name}({}): kernel {:#x} model {:#x} differing bits {}",
                hexes(&m.args),
                m.kernel,
                m.model,
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
                Some(d) => outln!("  KNOWN DELTA const {n}: kernel {k:#x} model {m:#x}; {d}"),
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
    let pass = rep.mismatches() == 0 && rep.call_errors.is_empty();
    outln!(
        "  {}: {} helpers + {} constants, {} calls, {} mismatches, {} known-delta calls ({:.1}s)",
        if pass { "PASS" } else { "FAIL" },
        rep.helpers.len(),
        rep.constants.len(),
        rep.calls(),
        rep.mismatches(),
        rep.known(),
        secs
    );
}
