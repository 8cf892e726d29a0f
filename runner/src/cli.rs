//! Command-line definitions (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// ptlab: Linux page-table management on x86, arm, powerpc, sparc and s390,
/// with each architecture's real entry encodings, checked under CPU
/// emulation.
#[derive(Parser, Debug)]
#[command(name = "ptlab", version, about, long_about = None)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// Which table level an entry belongs to.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryLevel {
    /// A pte.
    Pte,
    /// A pmd (a huge leaf when encoding).
    Pmd,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List the known configurations with levels, page size, entry size and
    /// byte order.
    Arches {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Encode or decode one raw entry.
    Pte {
        /// Configuration (see `ptlab arches`).
        #[arg(long)]
        arch: String,
        /// Machine-readable output.
        #[arg(long, global = true)]
        json: bool,
        /// encode or decode.
        #[command(subcommand)]
        op: PteOp,
    },
    /// Build tables, walk one address with the model (every level, as
    /// crash's vtop does) and with the emulated MMU, and compare.
    Walk {
        /// Configuration (see `ptlab arches`).
        #[arg(long)]
        arch: String,
        /// A 4K mapping VA=PFN[:FLAGS] (repeatable). FLAGS: flag names
        /// joined by '|', a raw number, or vm:rwxs.
        #[arg(long = "map")]
        maps: Vec<String>,
        /// A huge pmd mapping VA=PFN[:FLAGS] (repeatable).
        #[arg(long = "huge")]
        huges: Vec<String>,
        /// The address to translate.
        #[arg(long)]
        va: String,
        /// Skip the emulator (model walk only).
        #[arg(long)]
        no_emulate: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Run the conformance suite: helper identities, walks under emulation,
    /// lifecycle semantics.
    Conform {
        /// A configuration, or `all`.
        #[arg(long, default_value = "all")]
        arch: String,
        /// Only families whose name contains this.
        #[arg(long)]
        filter: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Also write JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Random pfns per protection value in the helper families.
        #[arg(long, default_value_t = 64)]
        pfns: u32,
        /// Random mappings in the walk family.
        #[arg(long, default_value_t = 400)]
        mappings: usize,
        /// Seed for every random choice (printed, so a failure replays).
        #[arg(long, default_value = "0x5eedcafe")]
        seed: String,
    },
}

/// `ptlab pte` operations.
#[derive(Subcommand, Debug)]
pub enum PteOp {
    /// pfn + protection to a raw entry (`pfn_pte`, or `pmd_mkhuge(pfn_pmd)`).
    Encode {
        /// Page frame number.
        #[arg(long)]
        pfn: String,
        /// Protection: flag names joined by '|', a raw number, or vm:rwxs.
        #[arg(long)]
        prot: String,
        /// Level of the entry.
        #[arg(long, value_enum, default_value_t = EntryLevel::Pte)]
        level: EntryLevel,
    },
    /// A raw entry to its flags and meaning.
    Decode {
        /// The raw value.
        value: String,
        /// Level of the entry.
        #[arg(long, value_enum, default_value_t = EntryLevel::Pte)]
        level: EntryLevel,
    },
}
