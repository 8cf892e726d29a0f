//! `ptlab helper --arch CFG NAME ARG...` and `ptlab helper --arch CFG
//! --batch FILE`: evaluate the model's helpers under their kernel names
//! (the table is `mm_core::helpers`, shared with the kernel oracle).
//!
//! Batch lines are `name,arg,arg...` (numbers decimal, or hex with 0x);
//! blank lines and `#` comments are copied through; each other line is
//! printed back followed by `,result` — `0x...` for a value, `0` or `1`
//! for a predicate.  A bad line (unknown name, wrong arity, a number that
//! does not parse or does not fit its C type) stops the batch before any
//! output, with exit code 2 and the line number.

use std::io::Read as _;
use std::path::Path;

use mm_core::helpers::{self, HelperError, Val};
use mm_core::Arch;
use serde_json::json;

use crate::configs::{with_config, Visitor};
use crate::error::CliError;

/// One parsed batch line: (line number, text, helper name, arguments), or
/// a line to copy through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// A call.
    Call {
        /// 1-based line number.
        n: usize,
        /// The line as given (without its newline).
        text: String,
        /// The helper name.
        name: String,
        /// The arguments.
        args: Vec<u64>,
    },
    /// A blank or comment line, copied through.
    Other(String),
}

/// Parse a batch file's text.
///
/// # Errors
/// The first bad line: `line N: 'VALUE' is not a number ...`.
pub fn parse_batch(text: &str) -> Result<Vec<Line>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let text = raw.trim_end_matches('\r');
        let t = text.trim();
        if t.is_empty() || t.starts_with('#') {
            out.push(Line::Other(text.to_string()));
            continue;
        }
        let mut it = t.split(',').map(str::trim);
        let name = it.next().unwrap_or("").to_string();
        if name.is_empty() {
            return Err(format!("line {}: '{text}' has no helper name", i + 1));
        }
        let args = it
            .map(|s| {
                crate::parse::number("argument", s).map_err(|_| {
                    format!(
                        "line {}: '{s}' is not a number (decimal, or hex with 0x)",
                        i + 1
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Line::Call {
            n: i + 1,
            text: text.to_string(),
            name,
            args,
        });
    }
    Ok(out)
}

/// Format a result: `0`/`1` for a predicate, `0x...` otherwise.
pub fn fmt_result(ret: Val, v: u64) -> String {
    match ret {
        Val::Bool => v.to_string(),
        _ => format!("{v:#x}"),
    }
}

/// Print `msg` as an input error and exit with code 2 (the runner's
/// bad-input code; `CliError` has no variant for helper errors).
fn input_error(msg: &str) -> ! {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    eprintln!("ptlab: error: {msg}");
    std::process::exit(2)
}

struct Run<'a> {
    batch: Option<&'a Path>,
    list: bool,
    json: bool,
    name: Option<&'a str>,
    args: &'a [String],
}

fn kind(v: Val) -> &'static str {
    match v {
        Val::Entry => "entry",
        Val::Long => "unsigned long",
        Val::Bool => "predicate",
    }
}

impl Visitor for Run<'_> {
    type Out = Result<bool, CliError>;

    fn visit<A: Arch + Clone>(self, a: A) -> Self::Out {
        let cfg = a.geometry().name;
        if self.list {
            let t = helpers::table::<A>();
            if self.json {
                let v: Vec<_> = t
                    .iter()
                    .map(|h| {
                        json!({"name": h.name,
                               "args": h.args.iter().map(|x| json!({"name": x.name, "type": kind(x.val), "bits": x.val.bits(&a)})).collect::<Vec<_>>(),
                               "result": kind(h.ret)})
                    })
                    .collect();
                super::print_json(&json!({"arch": cfg, "helpers": v}));
            } else {
                for h in &t {
                    outln!("{:<40} -> {}", h.usage(), kind(h.ret));
                }
            }
            return Ok(true);
        }
        if let Some(file) = self.batch {
            let text = if file == Path::new("-") {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|e| CliError::Io {
                        path: "-".into(),
                        err: e,
                    })?;
                s
            } else {
                std::fs::read_to_string(file)
                    .unwrap_or_else(|e| input_error(&format!("--batch {}: {e}", file.display())))
            };
            let lines = parse_batch(&text)
                .unwrap_or_else(|e| input_error(&format!("--batch {}: {e}", file.display())));
            let mut results = Vec::with_capacity(lines.len());
            for l in &lines {
                if let Line::Call { n, name, args, .. } = l {
                    let r = helpers::lookup::<A>(name)
                        .and_then(|h| h.call(&a, args).map(|v| (h.ret, v)))
                        .unwrap_or_else(|e| {
                            input_error(&format!("--batch {}: line {n}: {e}", file.display()))
                        });
                    results.push(Some(r));
                } else {
                    results.push(None);
                }
            }
            if self.json {
                let v: Vec<_> = lines
                    .iter()
                    .zip(&results)
                    .filter_map(|(l, r)| match (l, r) {
                        (Line::Call { n, name, args, .. }, Some((ret, v))) => Some(json!({
                            "line": n, "helper": name,
                            "args": args.iter().map(|x| format!("{x:#x}")).collect::<Vec<_>>(),
                            "result": fmt_result(*ret, *v)})),
                        _ => None,
                    })
                    .collect();
                super::print_json(&json!({"arch": cfg, "results": v}));
            } else {
                for (l, r) in lines.iter().zip(&results) {
                    match (l, r) {
                        (Line::Call { text, .. }, Some((ret, v))) => {
                            outln!("{text},{}", fmt_result(*ret, *v))
                        }
                        (Line::Other(t), _) | (Line::Call { text: t, .. }, None) => outln!("{t}"),
                    }
                }
            }
            return Ok(true);
        }
        let name = self.name.unwrap_or_default();
        let h = helpers::lookup::<A>(name).unwrap_or_else(|e| input_error(&e.to_string()));
        let args: Vec<u64> = self
            .args
            .iter()
            .map(|s| crate::parse::number("helper argument", s))
            .collect::<Result<_, _>>()?;
        let v = h
            .call(&a, &args)
            .unwrap_or_else(|e: HelperError| input_error(&e.to_string()));
        if self.json {
            super::print_json(&json!({
                "arch": cfg, "helper": h.name,
                "args": args.iter().map(|x| format!("{x:#x}")).collect::<Vec<_>>(),
                "result": fmt_result(h.ret, v), "type": kind(h.ret)}));
        } else {
            outln!("{}", fmt_result(h.ret, v));
        }
        Ok(true)
    }
}

/// Run `ptlab helper`.
///
/// # Errors
/// [`CliError::UnknownConfig`], [`CliError::BadNumber`]; helper errors
/// (unknown name, arity, width) exit with code 2 directly.
pub fn run(
    arch: &str,
    batch: Option<&Path>,
    list: bool,
    json: bool,
    name: Option<&str>,
    args: &[String],
) -> Result<bool, CliError> {
    with_config(
        arch,
        Run {
            batch,
            list,
            json,
            name,
            args,
        },
    )?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_lines() {
        let t = "# c\npte_mkyoung,0x63\n\npfn_pte, 4660 , 0x63\r\n";
        let l = parse_batch(t).unwrap();
        assert_eq!(l[0], Line::Other("# c".into()));
        assert_eq!(
            l[1],
            Line::Call {
                n: 2,
                text: "pte_mkyoung,0x63".into(),
                name: "pte_mkyoung".into(),
                args: vec![0x63]
            }
        );
        assert_eq!(l[2], Line::Other(String::new()));
        match &l[3] {
            Line::Call {
                n,
                text,
                name,
                args,
            } => {
                assert_eq!(
                    (*n, text.as_str(), name.as_str()),
                    (4, "pfn_pte, 4660 , 0x63", "pfn_pte")
                );
                assert_eq!(args, &vec![4660, 0x63]);
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn batch_errors_name_line_and_value() {
        let e = parse_batch("pte_mkyoung,0x63\npte_mkold,0xzz\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("0xzz"), "{e}");
        let e = parse_batch(",1\n").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn results_format() {
        assert_eq!(fmt_result(Val::Bool, 1), "1");
        assert_eq!(fmt_result(Val::Entry, 0x63), "0x63");
        assert_eq!(fmt_result(Val::Long, 0), "0x0");
    }
}
