//! The commands.

mod arches;
mod bench;
mod conform;
mod helper;
mod lifecycle;
mod oracle;
mod pte;
mod stress;
mod walk;

use crate::cli::Cmd;
use crate::error::CliError;

/// Run one command.  `Ok(false)` means it ran and a check failed.
///
/// # Errors
/// [`CliError`] for bad input or an internal failure.
pub fn run(cmd: Cmd) -> Result<bool, CliError> {
    match cmd {
        Cmd::Arches { json } => arches::run(json),
        Cmd::Pte { arch, json, op } => pte::run(&arch, op, json),
        Cmd::Bench { which } => bench::run(which),
        Cmd::Stress {
            arch,
            seconds,
            seed,
            negative_control,
            json,
        } => stress::run(
            &arch,
            seconds,
            crate::parse::number("--seed", &seed)?,
            negative_control,
            json,
        ),
        Cmd::Lifecycle {
            arch,
            variant,
            json,
        } => lifecycle::run(&arch, variant.as_deref(), json),
        Cmd::Walk {
            arch,
            maps,
            huges,
            va,
            no_emulate,
            json,
        } => walk::run(&arch, &maps, &huges, &va, no_emulate, json),
        Cmd::Conform {
            arch,
            filter,
            json,
            junit,
            pfns,
            mappings,
            seed,
        } => conform::run(conform::Options {
            arch,
            filter,
            json,
            junit,
            pfns,
            mappings,
            seed: crate::parse::number("--seed", &seed)?,
        }),
        Cmd::Helper {
            arch,
            batch,
            list,
            json,
            name,
            args,
        } => helper::run(&arch, batch.as_deref(), list, json, name.as_deref(), &args),
        Cmd::Oracle { op } => oracle::run(op),
    }
}

/// Print a JSON value (pretty) to stdout.
pub(crate) fn print_json(v: &serde_json::Value) {
    outln!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    );
}
