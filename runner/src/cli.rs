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
    /// Run a small pte_free_defer() scenario and print what happened, in
    /// order: tables allocated, retracted, deferred, grace periods,
    /// callbacks, pages freed, mm dropped.
    Lifecycle {
        /// Configuration (see `ptlab arches`).
        #[arg(long)]
        arch: String,
        /// Variant of the deferred-free code (default: the configuration's
        /// first, "merged").
        #[arg(long)]
        variant: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// A bounded stress run with real threads (faults, reads, lockless
    /// walks, MADV_COLLAPSE, khugepaged, munmap and exit), checked for stale
    /// reads, lost bytes, leaked tables and bad pages.
    Stress {
        /// A configuration, or `all`.
        #[arg(long, default_value = "all")]
        arch: String,
        /// Seconds per configuration and kernel version.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
        /// Seed.
        #[arg(long, default_value = "0xfeed")]
        seed: String,
        /// Run the negative control instead: v6.4's immediate table free
        /// with the walker on RCU alone (the series without
        /// `pte_free_defer()`); fails unless some run catches it.
        #[arg(long)]
        negative_control: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Benchmarks that write their figures.
    Bench {
        /// Which benchmark.
        #[command(subcommand)]
        which: BenchCmd,
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
    /// Evaluate one of the model's helpers under its kernel name
    /// (`pte_mkyoung`, `pfn_pte`, `__swp_entry`, ...), or a batch of them.
    Helper {
        /// Configuration (see `ptlab arches`).
        #[arg(long)]
        arch: String,
        /// A file of `name,arg,arg...` lines (`-` for stdin); each output
        /// line is the input line followed by `,result` in hex.
        #[arg(long, conflicts_with_all = ["name", "list"])]
        batch: Option<PathBuf>,
        /// List the helpers with their arguments.
        #[arg(long)]
        list: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// The helper's kernel name.
        #[arg(required_unless_present_any = ["batch", "list"])]
        name: Option<String>,
        /// Its arguments (decimal, or hex with 0x).
        #[arg(allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The kernel as oracle: build the kernel's own helpers per
    /// configuration and compare them with the model under emulation.
    Oracle {
        /// setup, build or test.
        #[command(subcommand)]
        op: OracleOp,
    },
}

/// `ptlab oracle` operations.
#[derive(Subcommand, Debug)]
pub enum OracleOp {
    /// Install what is missing (kernel source, flex, bison, libelf) and
    /// unpack the slim kernel tree, or use the tree given.
    Setup {
        /// A kernel tree to use instead of Debian's linux-source-6.12
        /// (e.g. a v6.6 tree, the version the model follows).
        #[arg(long)]
        ksrc: Option<PathBuf>,
    },
    /// Per configuration: defconfig + fragment + modules_prepare, and the
    /// wrapper module (cached).
    Build {
        /// A configuration with a fragment in oracle/config, or `all`.
        #[arg(long, default_value = "all")]
        arch: String,
    },
    /// Run every wrapper under emulation and compare with the model.
    Test {
        /// A configuration with a fragment in oracle/config, or `all`.
        #[arg(long, default_value = "all")]
        arch: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Random values per input kind (on top of the exhaustive ones).
        #[arg(long, default_value_t = 4096)]
        random: usize,
        /// Seed for the random values.
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

/// `ptlab bench` benchmarks.
#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Fault latency while MADV_COLLAPSE runs in the same mm, v6.4 against
    /// v6.6 in one run.
    Latency {
        /// Configuration (see `ptlab arches`).
        #[arg(long, default_value = "x86_64")]
        arch: String,
        /// PMD ranges to collapse.
        #[arg(long, default_value_t = 24)]
        ranges: u64,
        /// Faulting threads.
        #[arg(long, default_value_t = 2)]
        faulters: usize,
        /// Runs of each version (their results are pooled).
        #[arg(long, default_value_t = 3)]
        repeat: u32,
        /// Where to write the figures as JSON.
        #[arg(long, default_value = "target/bench/latency.json")]
        output: PathBuf,
        /// Also print the JSON on stdout instead of the table.
        #[arg(long)]
        json: bool,
    },
}
