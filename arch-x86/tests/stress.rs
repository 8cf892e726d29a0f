//! The bounded stress run on the three x86 configurations, both khugepaged
//! versions: zero stale reads, lost bytes, leaked tables and bad pages.
//! (`ptlab stress` runs it for longer.)

use std::time::Duration;

use arch_x86::X86;
use mm_core::khugepaged::Version;
use mm_core::stress;

#[test]
fn stress_is_clean_on_every_configuration() {
    // A watchdog: a deadlock would otherwise hang CI until its time limit.
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(120));
        eprintln!("stress test watchdog: no progress in 120 s (deadlock?)");
        std::process::exit(101);
    });
    let only: Option<String> = std::env::var("PTLAB_STRESS_VERSION").ok();
    for cfg in ["x86_64", "x86-pae", "x86-32"] {
        for v in [Version::V6_6, Version::V6_4] {
            if only.as_deref().is_some_and(|o| o != format!("{v:?}")) {
                continue;
            }
            let a = X86::from_name(cfg).unwrap();
            let r = stress::run(&a, v, Duration::from_millis(400), 0xfeed)
                .unwrap_or_else(|e| panic!("{cfg} {v:?}: {e}"));
            assert!(r.clean(), "{cfg} {v:?}: {r:#?}");
            assert!(
                r.writes > 0 && r.reads > 0 && r.walks > 0,
                "{cfg} {v:?}: {r:?}"
            );
            assert!(
                r.collapses + r.scans > 0 && r.cycles > 0,
                "{cfg} {v:?}: {r:?}"
            );
        }
    }
}

/// The negative control: the same run with v6.4's immediate table free but
/// walkers protected by RCU alone (the series without `pte_free_defer()`)
/// must be caught — a check that cannot fail proves nothing.
#[test]
fn stress_catches_lockless_walks_over_immediate_frees() {
    let a = X86::from_name("x86_64").unwrap();
    let mut caught = None;
    // The race needs a walker inside a table at the moment retract frees
    // it; a few short runs make that overwhelmingly likely.
    for seed in 0..8u64 {
        match stress::run_with(
            &a,
            Version::V6_4,
            stress::WalkerLocking::RcuOnly,
            Duration::from_millis(500),
            0xbad0 + seed,
        ) {
            Ok(r) if r.clean() => continue,
            // Only the bug's own signatures count: a lost write or a stale
            // page-table read.  Anything else is a failure of the run.
            Ok(r) if r.caught_stale_table() => {
                caught = Some(format!("run {seed}: {} lost, {:?}", r.lost, r.reports))
            }
            Ok(r) => panic!("run {seed} failed otherwise: {r:#?}"),
            Err(e @ mm_core::MmError::StaleRead { .. }) => {
                caught = Some(format!("run {seed}: {e}"))
            }
            Err(e) => panic!("run {seed} failed otherwise: {e}"),
        }
        break;
    }
    let what = caught.expect("8 runs of lockless walks over immediate frees were all clean");
    eprintln!("caught: {what}");
}
