//! `ptlab oracle setup`: the packages the build needs, and a kernel tree —
//! the user's (`--ksrc`, e.g. a v6.6 tree, the version the model follows)
//! or the slim part of Debian's `linux-source-6.12` that kbuild's
//! `modules_prepare` and an external module need (267 MB instead of
//! 1.7 GB).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{cache_dir, read, OracleError};

/// Debian packages for an x86 oracle build (cross compilers join this list
/// with their architectures' fragments).
pub const PACKAGES: &[&str] = &[
    "linux-source-6.12",
    "flex",
    "bison",
    "bc",
    "libelf-dev",
    "make",
    "gcc",
    "gcc-arm-linux-gnueabi",
    "gcc-s390x-linux-gnu",
    "gcc-sparc64-linux-gnu",
    "gcc-powerpc64-linux-gnu",
    // powerpc64 runs under QEMU's user-mode emulator (Unicorn 2.1.5 cannot).
    "qemu-user-static",
];
/// Debian's kernel source tarball.
pub const TARBALL: &str = "/usr/src/linux-source-6.12.tar.xz";
/// Its top directory.
pub const TOP: &str = "linux-source-6.12";

/// The parts of the tree kbuild needs for `modules_prepare` and `M=`.
const SLIM: &[&str] = &[
    "*Kconfig*",
    "*Makefile*",
    "*Kbuild*",
    "include/*",
    "scripts/*",
    "tools/*",
    "arch/x86/*",
    "arch/arm/*",
    "arch/s390/*",
    "arch/sparc/*",
    "arch/powerpc/*",
    "security/selinux/include/*",
    "kernel/bounds.c",
    "kernel/*.sh",
    "kernel/time/timeconst.bc",
    "lib/*.c",
    "usr/*",
    "certs/*",
    "init/*",
];

/// The file that records the kernel tree in use.
pub fn ksrc_file() -> PathBuf {
    cache_dir().join("ksrc")
}

/// The kernel tree recorded by the last `setup`.
///
/// # Errors
/// [`OracleError::Missing`] when setup has not run.
pub fn ksrc() -> Result<PathBuf, OracleError> {
    let f = ksrc_file();
    if !f.exists() {
        return Err(OracleError::Missing(
            "no kernel tree: run `ptlab oracle setup` (or `ptlab oracle setup --ksrc DIR`)".into(),
        ));
    }
    let p = PathBuf::from(read(&f)?.trim());
    if !p.join("Makefile").exists() {
        return Err(OracleError::Missing(format!(
            "kernel tree {} has gone: run `ptlab oracle setup` again",
            p.display()
        )));
    }
    Ok(p)
}

/// `VERSION.PATCHLEVEL.SUBLEVEL` from the tree's top Makefile.
///
/// # Errors
/// [`OracleError::Parse`] when the Makefile has no version.
pub fn kernel_version(ksrc: &Path) -> Result<String, OracleError> {
    let mk = ksrc.join("Makefile");
    let text = read(&mk)?;
    let get = |k: &str| {
        text.lines().find_map(|l| {
            l.strip_prefix(k)
                .map(|r| r.trim_start_matches([' ', '=']).trim().to_string())
        })
    };
    match (get("VERSION"), get("PATCHLEVEL"), get("SUBLEVEL")) {
        (Some(v), Some(p), Some(s)) => Ok(format!("{v}.{p}.{s}")),
        _ => Err(OracleError::Parse {
            file: mk.display().to_string(),
            why: "no VERSION/PATCHLEVEL/SUBLEVEL".into(),
        }),
    }
}

fn missing_packages(pkgs: &[&str]) -> Vec<String> {
    pkgs.iter()
        .filter(|p| {
            let out = Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output();
            !matches!(out, Ok(o) if String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .map(|p| p.to_string())
        .collect()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Run `cmd`, logging to `log`.
///
/// # Errors
/// [`OracleError::Command`] with the log's tail when it fails;
/// [`OracleError::Missing`] when the program cannot be started.
pub fn run_logged(mut cmd: Command, what: &str, log: &Path) -> Result<(), OracleError> {
    if let Some(d) = log.parent() {
        std::fs::create_dir_all(d).map_err(|e| OracleError::io(d, e))?;
    }
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| OracleError::io(log, e))?;
    let f2 = f.try_clone().map_err(|e| OracleError::io(log, e))?;
    let st = cmd
        .stdout(f)
        .stderr(f2)
        .status()
        .map_err(|e| OracleError::Missing(format!("cannot run {what}: {e}")))?;
    if st.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(12)..]
        .iter()
        .map(|l| format!("\n    {l}"))
        .collect::<String>();
    Err(OracleError::Command {
        what: what.to_string(),
        code: st.code(),
        log: log.display().to_string(),
        tail,
    })
}

/// `ptlab oracle setup`.  Returns the lines to print.
///
/// # Errors
/// [`OracleError::Missing`] (not root and packages missing: the message
/// has the apt-get command), [`OracleError::Command`].
pub fn setup(ksrc: Option<&Path>) -> Result<Vec<String>, OracleError> {
    let mut out = Vec::new();
    let cache = cache_dir();
    std::fs::create_dir_all(&cache).map_err(|e| OracleError::io(&cache, e))?;
    let pkgs: Vec<&str> = if ksrc.is_some() {
        PACKAGES
            .iter()
            .copied()
            .filter(|p| !p.starts_with("linux-source"))
            .collect()
    } else {
        PACKAGES.to_vec()
    };
    let missing = missing_packages(&pkgs);
    if !missing.is_empty() {
        let cmdline = format!(
            "apt-get install -y --no-install-recommends {}",
            missing.join(" ")
        );
        if !is_root() {
            return Err(OracleError::Missing(format!(
                "missing packages; run as root: apt-get update && {cmdline}"
            )));
        }
        let log = cache.join("logs").join("setup-apt.log");
        let t = std::time::Instant::now();
        let mut c = Command::new("apt-get");
        c.args(["install", "-y", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive");
        if run_logged(c, "apt-get install", &log).is_err() {
            // The package lists may be stale: update once and retry.
            let mut u = Command::new("apt-get");
            u.arg("update");
            run_logged(u, "apt-get update", &log)?;
            let mut c = Command::new("apt-get");
            c.args(["install", "-y", "--no-install-recommends"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive");
            run_logged(c, "apt-get install", &log)?;
        }
        out.push(format!(
            "installed {} ({:.1}s)",
            missing.join(" "),
            t.elapsed().as_secs_f64()
        ));
    } else {
        out.push(format!("packages present: {}", pkgs.join(" ")));
    }
    let tree = match ksrc {
        Some(d) => {
            let d = d.canonicalize().map_err(|e| OracleError::io(d, e))?;
            if !d.join("Makefile").exists() || !d.join("arch").exists() {
                return Err(OracleError::Missing(format!(
                    "--ksrc {}: not a kernel tree (no Makefile/arch)",
                    d.display()
                )));
            }
            d
        }
        None => {
            let dst = cache.join("src");
            let tree = dst.join(TOP);
            let marker = dst.join(".ptlab-unpacked");
            let tar_meta =
                std::fs::metadata(TARBALL).map_err(|e| OracleError::io(Path::new(TARBALL), e))?;
            // The stamp names the slim list too: a new architecture's
            // directory re-extracts the tree.
            let stamp = format!("{TARBALL} {} {}", tar_meta.len(), SLIM.join(" "));
            if marker.exists() && read(&marker)?.trim() == stamp && tree.join("Makefile").exists() {
                out.push(format!("kernel tree already unpacked: {}", tree.display()));
            } else {
                std::fs::create_dir_all(&dst).map_err(|e| OracleError::io(&dst, e))?;
                let t = std::time::Instant::now();
                let mut c = Command::new("tar");
                c.arg("-xJf")
                    .arg(TARBALL)
                    .arg("-C")
                    .arg(&dst)
                    .arg("--wildcards");
                for p in SLIM {
                    c.arg(format!("{TOP}/{p}"));
                }
                run_logged(
                    c,
                    "tar (slim kernel tree)",
                    &cache.join("logs").join("setup-tar.log"),
                )?;
                std::fs::write(&marker, &stamp).map_err(|e| OracleError::io(&marker, e))?;
                out.push(format!(
                    "unpacked the slim kernel tree into {} ({:.1}s)",
                    tree.display(),
                    t.elapsed().as_secs_f64()
                ));
            }
            tree
        }
    };
    let f = ksrc_file();
    std::fs::write(&f, tree.display().to_string()).map_err(|e| OracleError::io(&f, e))?;
    out.push(format!(
        "kernel tree: {} (Linux {})",
        tree.display(),
        kernel_version(&tree)?
    ));
    Ok(out)
}
