//! The runner's errors.  Bad input is exit code 2 with a message naming the
//! offending value; a check that ran and failed is exit code 1 (reported by
//! the command, not as an error); anything else is exit code 3.

use mm_core::emulate::EmuError;
use mm_core::MmError;

/// Everything a `ptlab` command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `--arch` names no known configuration.
    #[error("unknown configuration '{name}' (known: {known})")]
    UnknownConfig {
        /// What was given.
        name: String,
        /// The known names.
        known: String,
    },
    /// A number that does not parse.
    #[error("{what}: '{value}' is not a number (decimal, or hex with 0x)")]
    BadNumber {
        /// Which argument.
        what: &'static str,
        /// What was given.
        value: String,
    },
    /// A flag name the configuration does not have.
    #[error("unknown flag '{flag}' for {config} (known: {known})")]
    BadFlag {
        /// The flag.
        flag: String,
        /// The configuration.
        config: String,
        /// Its flag names.
        known: String,
    },
    /// A malformed `VA=PFN[:FLAGS]` argument.
    #[error("{what}: '{spec}' is not VA=PFN[:FLAGS] ({why})")]
    BadSpec {
        /// Which argument.
        what: &'static str,
        /// What was given.
        spec: String,
        /// What is wrong with it.
        why: String,
    },
    /// Input the model rejects (a VA outside the user range, an unaligned
    /// huge mapping, a pfn too wide, overlapping mappings).
    #[error("{0}")]
    Input(MmError),
    /// An emulator failure.
    #[error(transparent)]
    Emu(#[from] EmuError),
    /// Writing an output file.
    #[error("cannot write {path}: {err}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        err: std::io::Error,
    },
    /// A model error that is not the user's input.
    #[error("internal model error: {0}")]
    Model(MmError),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::UnknownConfig { .. }
            | CliError::BadNumber { .. }
            | CliError::BadFlag { .. }
            | CliError::BadSpec { .. }
            | CliError::Input(_) => 2,
            CliError::Emu(EmuError::Mm(e)) if is_input(e) => 2,
            _ => 3,
        }
    }
}

/// Model errors that come from what the user asked for.
pub fn is_input(e: &MmError) -> bool {
    matches!(
        e,
        MmError::BadVa { .. }
            | MmError::BadPfn { .. }
            | MmError::AlreadyMapped { .. }
            | MmError::Unaligned { .. }
            | MmError::Unsupported(_)
    )
}

impl From<MmError> for CliError {
    fn from(e: MmError) -> Self {
        if is_input(&e) {
            CliError::Input(e)
        } else {
            CliError::Model(e)
        }
    }
}
