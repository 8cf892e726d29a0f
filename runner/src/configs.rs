//! The configurations the runner knows, and dispatch from a name to the
//! monomorphised code for that architecture.

use mm_core::Arch;

use crate::error::CliError;

/// Every configuration, in the order `ptlab arches` lists them.
pub fn names() -> Vec<&'static str> {
    let mut v = arch_x86::X86::configurations().to_vec();
    v.extend_from_slice(arch_ppc::Ppc::configurations());
    v.extend_from_slice(arch_arm::Arm::configurations());
    v.extend_from_slice(arch_s390::S390::configurations());
    v.extend_from_slice(arch_sparc::Sparc64::configurations());
    v.extend_from_slice(arch_riscv::Riscv::configurations());
    v
}

/// Code generic over the architecture, run for one named configuration.
pub trait Visitor {
    /// What it returns.
    type Out;
    /// Run for configuration `a`.
    fn visit<A: Arch + Clone>(self, a: A) -> Self::Out;
}

/// Run `v` for the configuration called `name`.
///
/// # Errors
/// [`CliError::UnknownConfig`] naming the value and the known names.
pub fn with_config<V: Visitor>(name: &str, v: V) -> Result<V::Out, CliError> {
    if let Some(x) = arch_x86::X86::from_name(name) {
        return Ok(v.visit(x));
    }
    if let Some(x) = arch_ppc::Ppc::from_name(name) {
        return Ok(v.visit(x));
    }
    if let Some(x) = arch_arm::Arm::from_name(name) {
        return Ok(v.visit(x));
    }
    if let Some(x) = arch_s390::S390::from_name(name) {
        return Ok(v.visit(x));
    }
    if let Some(x) = arch_sparc::Sparc64::from_name(name) {
        return Ok(v.visit(x));
    }
    if let Some(x) = arch_riscv::Riscv::from_name(name) {
        return Ok(v.visit(x));
    }
    Err(CliError::UnknownConfig {
        name: name.to_string(),
        known: names().join(", "),
    })
}

/// Expand `all` into every name; check any other name.
///
/// # Errors
/// [`CliError::UnknownConfig`].
pub fn expand(arch: &str) -> Result<Vec<&'static str>, CliError> {
    if arch == "all" {
        return Ok(names());
    }
    names()
        .into_iter()
        .find(|n| *n == arch)
        .map(|n| vec![n])
        .ok_or_else(|| CliError::UnknownConfig {
            name: arch.to_string(),
            known: format!("all, {}", names().join(", ")),
        })
}
