//! The interface between the model and an emulated MMU.
//!
//! mm-core knows nothing about any emulator; each arch crate implements
//! [`HwWalker`] for its configurations (in its `emulate.rs`) by handing the
//! machine's physical memory — the same bytes the model walks — to an
//! emulator and asking the guest CPU's own MMU, or a guest-code walker, to
//! translate.  The runner compares that answer with [`crate::vtop::vtop`].

use crate::MmError;

/// The access whose permission the translation checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// A data read.
    Read,
    /// A data write.
    Write,
}

/// What the emulated MMU did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HwOutcome {
    /// The access translates to `pa`.
    Translated {
        /// The physical address.
        pa: u64,
    },
    /// The access faults (not present, protection, reserved bit ...): a
    /// result, not an error.
    Fault {
        /// What the emulator said, as precisely as it says it.
        detail: String,
    },
}

impl HwOutcome {
    /// The physical address, if it translated.
    pub fn pa(&self) -> Option<u64> {
        match self {
            HwOutcome::Translated { pa } => Some(*pa),
            HwOutcome::Fault { .. } => None,
        }
    }
}

/// Errors of driving an emulator (not faults of the guest: those are
/// [`HwOutcome::Fault`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmuError {
    /// The emulator refused an operation.
    #[error("emulator error in {op}: {detail}")]
    Emulator {
        /// What was being done.
        op: &'static str,
        /// The emulator's error.
        detail: String,
    },
    /// The configuration has no emulated walk (yet).
    #[error("no emulated page walk for configuration {0}")]
    Unsupported(String),
    /// A model error while preparing the walk.
    #[error(transparent)]
    Mm(#[from] MmError),
}

/// A translator backed by an emulated CPU.
pub trait HwWalker {
    /// One line saying what this walker checks and what it does not (e.g.
    /// "x86-64 long-mode MMU via unicorn vmem_translate, supervisor
    /// accesses with CR0.WP=1; the USER bit is not checked").
    fn describe(&self) -> String;

    /// Translate `va` for `access` with the page tables rooted at `root_pa`.
    /// The emulator must see the current contents of memory (flush its TLB).
    ///
    /// `root_pa` is what [`crate::Mm::hw_root`] returns: the top table's
    /// address, with the mm's shape index in the low bits on arches whose
    /// mms change shape (s390 loads the ASCE of that shape); on every other
    /// arch it is the table address itself.
    ///
    /// # Errors
    /// [`EmuError`] when the emulator itself fails.
    fn translate(&mut self, root_pa: u64, va: u64, access: Access) -> Result<HwOutcome, EmuError>;

    /// Why the emulator cannot judge `va` under the tables at `root_pa`, if
    /// it cannot (an entry format the emulated CPU lacks: Unicorn's s390x
    /// has no EDAT-1, so a valid large segment is misread as a page-table
    /// pointer).  Walk-agreement runs leave such probes out and say how
    /// many.  Default: every address can be judged.
    ///
    /// # Errors
    /// [`EmuError`] when reading the tables fails.
    fn unchecked(&mut self, root_pa: u64, va: u64) -> Result<Option<String>, EmuError> {
        let _ = (root_pa, va);
        Ok(None)
    }

    /// Physical address bits the emulated CPU accepts in an entry
    /// (MAXPHYADDR on x86): a leaf above it is a reserved-bit fault there,
    /// so random mappings stay below it.  Default: no limit.
    fn phys_bits(&self) -> u32 {
        64
    }
}
