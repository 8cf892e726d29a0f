//! Build the guest-code page-table walker (`guest/walk.c`) as a 32-bit
//! big-endian PowerPC ELF when the cross compiler is installed.
//!
//! Without the compiler the build still succeeds: an empty file stands in
//! for the ELF, and `arch_ppc::emulate` reports the walker unsupported with
//! the exact command that installs the compiler.  Until then this script
//! re-runs on every build (it watches the compiler's path, which does not
//! exist), so installing the compiler is enough: no `cargo clean` needed.

use std::path::{Path, PathBuf};
use std::process::Command;

const SRC: &str = "guest/walk.c";
const DEFAULT_CC: &str = "powerpc64-linux-gnu-gcc";

fn find_in_path(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.exists().then_some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.exists())
    })
}

fn main() {
    println!("cargo:rerun-if-changed={SRC}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PTLAB_PPC_CC");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let elf = out.join("walk-ppc32.elf");
    let cc = std::env::var("PTLAB_PPC_CC").unwrap_or_else(|_| DEFAULT_CC.to_string());
    let status = match find_in_path(&cc) {
        None => {
            println!("cargo:rerun-if-changed=/usr/bin/{DEFAULT_CC}");
            format!("the PowerPC cross compiler `{cc}` is not installed")
        }
        Some(path) => {
            println!("cargo:rerun-if-changed={}", path.display());
            match compile(&path, Path::new(SRC), &elf) {
                Ok(()) => String::new(),
                Err(e) => {
                    println!("cargo:warning=arch-ppc: guest walker not built: {e}");
                    format!("building {SRC} with `{cc}` failed: {e}")
                }
            }
        }
    };
    if !status.is_empty() {
        std::fs::write(&elf, []).expect("write the placeholder ELF");
    }
    println!("cargo:rustc-env=PTLAB_PPC_GUEST_STATUS={status}");
}

fn compile(cc: &Path, src: &Path, elf: &Path) -> Result<(), String> {
    let out = Command::new(cc)
        .args([
            "-m32",
            "-mbig-endian",
            "-O2",
            "-ffreestanding",
            "-nostdlib",
            "-static",
            "-fno-pic",
            "-no-pie",
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
            "-fno-builtin",
            "-Wall",
            "-Werror",
            "-Wl,--entry=walk",
            "-Wl,--build-id=none",
            "-o",
        ])
        .arg(elf)
        .arg(src)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cc.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr)
            .trim()
            .replace('\n', " | "))
    }
}
