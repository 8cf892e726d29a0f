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
