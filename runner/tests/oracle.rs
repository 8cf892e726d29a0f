//! The kernel-oracle tier: `ptlab oracle setup`, `build` and `test` for
//! every configuration with a fragment.  It needs the kernel source and a
//! few minutes, so it runs only with `PTLAB_ORACLE=1`.

use std::process::Command;

fn ptlab(args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_ptlab"))
        .args(args)
        .output()
        .expect("run ptlab");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), text)
}

#[test]
fn oracle_setup_build_test() {
    if std::env::var_os("PTLAB_ORACLE").is_none() {
        eprintln!("skipped: set PTLAB_ORACLE=1 to run the kernel-oracle tier");
        return;
    }
    for args in [
        &["oracle", "setup"][..],
        &["oracle", "build", "--arch", "all"][..],
        &["oracle", "test", "--arch", "all"][..],
    ] {
        let (code, text) = ptlab(args);
        println!("{text}");
        assert_eq!(code, Some(0), "ptlab {args:?}:\n{text}");
    }
}
