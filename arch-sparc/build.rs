//! Cross-compile the guest refill path (`guest/tsb_refill.c`) for sparc64
//! when `sparc64-linux-gnu-gcc` is available (Debian package
//! `gcc-sparc64-linux-gnu`).  Without it the crate still builds: the guest is
//! left out, `cfg(sparc_guest)` is not set, and the emulated walker reports
//! itself unsupported with the install command (`SPARC_GUEST_STATUS`).
//!
//! The flags work around Unicorn 2.1.5's sparc64 defects
//! (`unicorn-notes.md` §3): `-mflat` (a `save` traps: CANSAVE is 0 at reset),
//! `-fno-delayed-branch` (every `jmpl`/`retl` raises TT_UNALIGNED, so the host
//! stops *at* the `retl`, which must not carry work in its delay slot),
//! `-fno-jump-tables` (a switch table would be an indirect `jmpl`), and a link
//! address of 0xe000_0000, above the model's physical memory, with
//! `-mcmodel=medlow` (32-bit absolute addresses).

use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALL: &str = "apt-get install -y gcc-sparc64-linux-gnu";

fn find_in_path(exe: &str) -> Option<PathBuf> {
    if exe.contains('/') {
        let p = PathBuf::from(exe);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(exe))
        .find(|p| p.is_file())
}

fn main() {
    println!("cargo:rustc-check-cfg=cfg(sparc_guest)");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=guest/tsb_refill.c");
    println!("cargo:rerun-if-env-changed=SPARC64_CC");
    let cc = std::env::var("SPARC64_CC").unwrap_or_else(|_| "sparc64-linux-gnu-gcc".into());
    let Some(cc_path) = find_in_path(&cc) else {
        // A path that does not exist makes cargo rerun this script on every
        // build, so installing the compiler later takes effect.
        println!("cargo:rerun-if-changed=/usr/bin/{cc}");
        println!(
            "cargo:warning=arch-sparc: {cc} not found; the sparc64 TSB refill guest is not built \
             and the emulated sparc64 walker is unsupported. Install it with: {INSTALL}"
        );
        println!(
            "cargo:rustc-env=SPARC_GUEST_STATUS={cc} was not found when arch-sparc was built; \
             install it with `{INSTALL}` and rebuild"
        );
        return;
    };
    println!("cargo:rerun-if-changed={}", cc_path.display());
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("tsb_refill.elf");
    let src = Path::new("guest/tsb_refill.c");
    let status = Command::new(&cc_path)
        .args([
            "-ffreestanding",
            "-nostdlib",
            "-static",
            "-O2",
            "-fno-pic",
            "-no-pie",
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
            "-fno-builtin",
            "-fno-jump-tables",
            "-mcmodel=medlow",
            "-mflat",
            "-fno-delayed-branch",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-Wl,--entry=tlb_miss",
            "-Wl,--build-id=none",
            "-Wl,-Ttext-segment=0xe0000000",
            "-o",
        ])
        .arg(&out)
        .arg(src)
        .output();
    match status {
        Ok(o) if o.status.success() => {
            println!("cargo:rustc-cfg=sparc_guest");
            println!("cargo:rustc-env=SPARC_GUEST_ELF={}", out.display());
            println!(
                "cargo:rustc-env=SPARC_GUEST_STATUS=built by {} from guest/tsb_refill.c",
                cc_path.display()
            );
        }
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr).replace('\n', " ");
            println!("cargo:warning=arch-sparc: compiling guest/tsb_refill.c failed: {err}");
            println!(
                "cargo:rustc-env=SPARC_GUEST_STATUS=compiling guest/tsb_refill.c with {} failed: {err}",
                cc_path.display()
            );
        }
        Err(e) => {
            println!(
                "cargo:warning=arch-sparc: running {} failed: {e}",
                cc_path.display()
            );
            println!(
                "cargo:rustc-env=SPARC_GUEST_STATUS=running {} failed: {e}; reinstall with `{INSTALL}`",
                cc_path.display()
            );
        }
    }
}
