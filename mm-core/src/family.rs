//! Results of a check family, shared by the helper identities
//! ([`crate::debug_vm_pgtable`]) and the lifecycle checks
//! ([`crate::lifecycle`]), and the small generator they draw values from.

/// Outcome of one family on one configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FamilyStatus {
    /// Every check held.
    Pass,
    /// The family does not apply; the reason names the Kconfig option.
    Skip(String),
    /// At least one check failed.
    Fail,
    /// The family failed, as the configuration documents it must (a real
    /// kernel behaviour, or a known flaw of a variant), with the reason.
    ExpectedFail(String),
}

/// One family's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyResult {
    /// The family's name: the kernel function it mirrors (`pte_basic_tests`).
    pub name: &'static str,
    /// Pass, skip or fail.
    pub status: FamilyStatus,
    /// Individual identities checked.
    pub checks: u64,
    /// The first few failures, each naming the identity, prot index and
    /// value.
    pub failures: Vec<String>,
}

/// splitmix64: a tiny deterministic generator, so a failing pfn can be
/// reproduced from the seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Counts checks and keeps the first few failures.
#[derive(Debug, Default)]
pub struct Checker {
    checks: u64,
    failures: Vec<String>,
    nfail: u64,
}

impl Checker {
    /// An empty checker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record one check; `what` describes the failure (identity and values)
    /// and is only evaluated when `ok` is false.
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.checks += 1;
        if !ok {
            self.nfail += 1;
            if self.failures.len() < 8 {
                self.failures.push(what());
            }
        }
    }

    /// Number of failed checks so far.
    pub fn failed(&self) -> u64 {
        self.nfail
    }

    /// The family's result.
    pub fn finish(self, name: &'static str) -> FamilyResult {
        FamilyResult {
            name,
            status: if self.nfail == 0 {
                FamilyStatus::Pass
            } else {
                FamilyStatus::Fail
            },
            checks: self.checks,
            failures: self.failures,
        }
    }
}

/// A family that does not apply, with the reason.
pub fn skip(name: &'static str, why: &str) -> FamilyResult {
    FamilyResult {
        name,
        status: FamilyStatus::Skip(why.to_string()),
        checks: 0,
        failures: Vec::new(),
    }
}

/// Apply a configuration's documented expected failures
/// ([`crate::Arch::expected_failures`]): a listed family that fails becomes
/// [`FamilyStatus::ExpectedFail`]; one that *passes* is turned into a
/// failure, because the documentation is then wrong.
pub fn apply_expected(results: &mut [FamilyResult], expected: &[(&str, &str)]) {
    for r in results.iter_mut() {
        if let Some((_, why)) = expected.iter().find(|(n, _)| *n == r.name) {
            match r.status {
                FamilyStatus::Fail => r.status = FamilyStatus::ExpectedFail(why.to_string()),
                FamilyStatus::Pass => {
                    r.status = FamilyStatus::Fail;
                    r.failures
                        .push(format!("expected to fail ({why}) but passed"));
                }
                _ => {}
            }
        }
    }
}
