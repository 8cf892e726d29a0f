//! The kernel oracle: the kernel's own page-table helpers, compiled per
//! configuration from a kernel tree with the configuration's Kconfig
//! fragment (`oracle/config/<cfg>.config`) and the wrapper module
//! (`oracle/wrapper/`), loaded from the relocatable object, and run under
//! Unicorn against the model helper of the same name
//! (`mm_core::helpers`).
//!
//! * [`setup`]: the packages and the (slim) kernel tree;
//! * [`build`]: defconfig + fragment + `modules_prepare`, then the wrapper,
//!   cached by kernel version, fragment and wrapper source;
//! * [`loader`] and [`abi`]: the relocatable-object loader and the
//!   per-architecture relocator and calling convention;
//! * [`compare`]: inputs, the comparison (over a [`compare::Backend`]), and
//!   the known version deltas;
//! * [`qemu`]: the powerpc64 backend, a harness linked with the kernel's
//!   objects and run under `qemu-ppc64-static`.

pub mod abi;
pub mod build;
pub mod compare;
pub mod deltas;
pub mod loader;
pub mod qemu;
pub mod setup;

use std::path::{Path, PathBuf};

/// What the oracle can fail with.
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    /// A tool, package or kernel tree is missing; the message says what to
    /// run.
    #[error("{0}")]
    Missing(String),
    /// A command failed; the log file holds its output.
    #[error("{what} failed (exit {code:?}); see {log}{tail}")]
    Command {
        /// What was run.
        what: String,
        /// Its exit code.
        code: Option<i32>,
        /// The log file.
        log: String,
        /// The last lines of the log, indented.
        tail: String,
    },
    /// The kernel's configuration dropped an option the fragment sets.
    #[error("{config}: fragment option {option} did not survive olddefconfig (the .config has: {got}); fix oracle/config/{config}.config")]
    Fragment {
        /// The configuration.
        config: String,
        /// The option line.
        option: String,
        /// What the final `.config` says.
        got: String,
    },
    /// A malformed fragment or deltas file.
    #[error("{file}: {why}")]
    Parse {
        /// The file.
        file: String,
        /// What is wrong.
        why: String,
    },
    /// Loading an object.
    #[error("load: {0}")]
    Load(String),
    /// The emulator.
    #[error("emulator: {0}")]
    Emu(String),
    /// File system.
    #[error("{path}: {err}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        err: std::io::Error,
    },
}

impl OracleError {
    /// An [`OracleError::Io`] for `path`.
    pub fn io(path: &Path, err: std::io::Error) -> Self {
        OracleError::Io {
            path: path.display().to_string(),
            err,
        }
    }
}

/// The repository root (where `oracle/` lives): the runner crate's parent.
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The cache: `$PTLAB_ORACLE_CACHE`, else `target/oracle` in the repository.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("PTLAB_ORACLE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_dir().join("target").join("oracle"))
}

/// FNV-1a, 64-bit: a stable hash for cache keys.
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        // separator, so that ("ab","c") and ("a","bc") differ
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Read a file to a string.
///
/// # Errors
/// [`OracleError::Io`].
pub fn read(path: &Path) -> Result<String, OracleError> {
    std::fs::read_to_string(path).map_err(|e| OracleError::io(path, e))
}

/// A configuration's Kconfig fragment with its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// The model configuration it is for (the file stem).
    pub config: String,
    /// `ARCH=` for kbuild (`# ptlab-kernel-arch:`).
    pub kernel_arch: String,
    /// `CROSS_COMPILE=` (`# ptlab-cross-compile:`, may be empty).
    pub cross_compile: String,
    /// The defconfig target (`# ptlab-defconfig:`).
    pub defconfig: String,
    /// The loader ABI (`# ptlab-loader:`, see [`abi::by_name`]).
    pub loader: String,
    /// In-tree objects to build and link beside the wrapper
    /// (`# ptlab-extra-objects:`, space-separated).
    pub extra_objects: Vec<String>,
    /// Constants the model configuration defines differently by design
    /// (`# ptlab-model-differs: NAME why`, repeatable): the kernel's
    /// compile-time value describes something else than the model's
    /// geometry (s390's per-mm number of levels, the address range the
    /// model draws from).  Not version deltas and not bugs: `ptlab oracle
    /// test` reports them as BY DESIGN with the reason.
    pub model_differs: Vec<(String, String)>,
    /// The option lines (`CONFIG_X=y`, `# CONFIG_X is not set`).
    pub options: Vec<String>,
    /// The whole text (hashed into the cache key).
    pub text: String,
}

impl Fragment {
    /// Parse `text`, the fragment of configuration `config`.
    ///
    /// # Errors
    /// [`OracleError::Parse`] when a header key is missing.
    pub fn parse(config: &str, file: &str, text: &str) -> Result<Fragment, OracleError> {
        let mut f = Fragment {
            config: config.to_string(),
            kernel_arch: String::new(),
            cross_compile: String::new(),
            defconfig: String::new(),
            loader: String::new(),
            extra_objects: Vec::new(),
            model_differs: Vec::new(),
            options: Vec::new(),
            text: text.to_string(),
        };
        let (mut have_arch, mut have_def, mut have_loader) = (false, false, false);
        for line in text.lines().map(str::trim) {
            if let Some(h) = line.strip_prefix("# ptlab-") {
                let (k, v) = h.split_once(':').unwrap_or((h, ""));
                let v = v.trim().to_string();
                match k.trim() {
                    "kernel-arch" => (f.kernel_arch, have_arch) = (v, true),
                    "cross-compile" => f.cross_compile = v,
                    "defconfig" => (f.defconfig, have_def) = (v, true),
                    "loader" => (f.loader, have_loader) = (v, true),
                    "extra-objects" => {
                        f.extra_objects = v.split_whitespace().map(String::from).collect()
                    }
                    "model-differs" => match v.split_once(char::is_whitespace) {
                        Some((n, why)) if !why.trim().is_empty() => f
                            .model_differs
                            .push((n.to_string(), why.trim().to_string())),
                        _ => {
                            return Err(OracleError::Parse {
                                file: file.into(),
                                why: format!(
                                "'ptlab-model-differs: {v}': want a constant name and the reason"
                            ),
                            })
                        }
                    },
                    other => {
                        return Err(OracleError::Parse {
                            file: file.into(),
                            why: format!("unknown header key 'ptlab-{other}'"),
                        })
                    }
                }
            } else if line.starts_with("CONFIG_")
                || (line.starts_with("# CONFIG_") && line.ends_with(" is not set"))
            {
                f.options.push(line.to_string());
            }
        }
        for (have, key) in [
            (have_arch, "kernel-arch"),
            (have_def, "defconfig"),
            (have_loader, "loader"),
        ] {
            if !have {
                return Err(OracleError::Parse {
                    file: file.into(),
                    why: format!("missing header line '# ptlab-{key}: ...'"),
                });
            }
        }
        Ok(f)
    }

    /// Load `oracle/config/<config>.config`; `Ok(None)` when there is none.
    ///
    /// # Errors
    /// As [`Fragment::parse`], and [`OracleError::Io`].
    pub fn load(config: &str) -> Result<Option<Fragment>, OracleError> {
        let p = repo_dir()
            .join("oracle")
            .join("config")
            .join(format!("{config}.config"));
        if !p.exists() {
            return Ok(None);
        }
        let text = read(&p)?;
        Fragment::parse(config, &p.display().to_string(), &text).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_header_and_options() {
        let t =
            "# ptlab-kernel-arch: x86\n# ptlab-cross-compile:\n# ptlab-defconfig: i386_defconfig\n\
                 # ptlab-loader: i386\n# ptlab-extra-objects: arch/x86/mm/pgprot.o\n# comment\n\
                 CONFIG_A=y\n# CONFIG_B is not set\n";
        let f = Fragment::parse("x86-pae", "f", t).unwrap();
        assert_eq!(f.kernel_arch, "x86");
        assert_eq!(f.cross_compile, "");
        assert_eq!(f.loader, "i386");
        assert_eq!(f.extra_objects, vec!["arch/x86/mm/pgprot.o"]);
        assert!(f.model_differs.is_empty());
        let t2 =
            format!("{t}# ptlab-model-differs: TASK_SIZE_MAX the model draws from the low half\n");
        let f2 = Fragment::parse("x86-pae", "f", &t2).unwrap();
        assert_eq!(
            f2.model_differs,
            vec![(
                "TASK_SIZE_MAX".to_string(),
                "the model draws from the low half".to_string()
            )]
        );
        let e = Fragment::parse("c", "f", &format!("{t}# ptlab-model-differs: X\n")).unwrap_err();
        assert!(e.to_string().contains("reason"), "{e}");
        assert_eq!(f.options, vec!["CONFIG_A=y", "# CONFIG_B is not set"]);
        let e = Fragment::parse("c", "f", "CONFIG_A=y\n").unwrap_err();
        assert!(e.to_string().contains("ptlab-kernel-arch"), "{e}");
    }

    #[test]
    fn fnv_is_stable_and_separates() {
        assert_eq!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"ab", b"c"]));
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
    }
}
