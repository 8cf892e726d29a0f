//! `ptlab oracle build`: per configuration, the kernel's defconfig plus the
//! repository's fragment, `olddefconfig` (every fragment option is then
//! checked in the final `.config`), `modules_prepare`, and the wrapper
//! module with `make M=`.  The prepared tree is cached by (kernel tree,
//! kernel version, fragment); the objects by that plus the wrapper source.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::setup::{kernel_version, ksrc, run_logged};
use super::{cache_dir, fnv1a, read, repo_dir, Fragment, OracleError};

/// The wrapper's source files (hashed into the cache key).
pub const WRAPPER_FILES: &[&str] = &["oracle.c", "Makefile"];

/// Where one configuration's objects are, and what they were built from.
#[derive(Clone, Debug)]
pub struct Built {
    /// The directory holding `oracle.o` and the extra objects.
    pub dir: PathBuf,
    /// The objects to load, wrapper first.
    pub objects: Vec<PathBuf>,
    /// The kernel version.
    pub kernel: String,
    /// The cache key (hex).
    pub key: String,
}

/// The cache keys of `frag` with the current kernel tree and wrapper:
/// (prepared tree key, objects key, kernel version, tree).
///
/// # Errors
/// As [`ksrc`] and [`kernel_version`]; [`OracleError::Io`].
pub fn keys(frag: &Fragment) -> Result<(String, String, String, PathBuf), OracleError> {
    let tree = ksrc()?;
    let kver = kernel_version(&tree)?;
    // The prepared tree depends only on what kbuild sees (so the four s390
    // shapes, whose kernel configuration is the same, share one); the
    // objects also on the whole fragment (loader, extra objects) and the
    // wrapper.
    let options = frag.options.join("\n");
    let prep = fnv1a(&[
        tree.display().to_string().as_bytes(),
        kver.as_bytes(),
        frag.kernel_arch.as_bytes(),
        frag.cross_compile.as_bytes(),
        frag.defconfig.as_bytes(),
        options.as_bytes(),
    ]);
    let wdir = repo_dir().join("oracle").join("wrapper");
    let mut parts: Vec<Vec<u8>> = vec![
        format!("{prep:016x}").into_bytes(),
        frag.text.as_bytes().to_vec(),
    ];
    for f in WRAPPER_FILES {
        let p = wdir.join(f);
        parts.push(std::fs::read(&p).map_err(|e| OracleError::io(&p, e))?);
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let obj = fnv1a(&refs);
    Ok((format!("{prep:016x}"), format!("{obj:016x}"), kver, tree))
}

/// The objects of `frag` if they are built for the current tree, fragment
/// and wrapper.
///
/// # Errors
/// [`OracleError::Missing`] saying to run `ptlab oracle build`.
pub fn current(frag: &Fragment) -> Result<Built, OracleError> {
    let (_, okey, kver, _) = keys(frag)?;
    let dir = cache_dir()
        .join("obj")
        .join(format!("{}-{okey}", frag.config));
    let objects = object_list(frag, &dir);
    if objects.iter().any(|o| !o.exists()) {
        return Err(OracleError::Missing(format!(
            "{}: no oracle objects for this kernel/fragment/wrapper: run `ptlab oracle build --arch {}`",
            frag.config, frag.config
        )));
    }
    Ok(Built {
        dir,
        objects,
        kernel: kver,
        key: okey,
    })
}

fn object_list(frag: &Fragment, dir: &Path) -> Vec<PathBuf> {
    let mut v = vec![dir.join("oracle.o")];
    for x in &frag.extra_objects {
        v.push(dir.join(x.replace('/', "_")));
    }
    v
}

fn make(tree: &Path, out: &Path, frag: &Fragment) -> Command {
    let mut c = Command::new("make");
    c.arg("-C")
        .arg(tree)
        .arg(format!("O={}", out.display()))
        .arg(format!("ARCH={}", frag.kernel_arch));
    if !frag.cross_compile.is_empty() {
        c.arg(format!("CROSS_COMPILE={}", frag.cross_compile));
    }
    c
}

/// Check that every fragment option is in the final `.config`.
fn check_options(frag: &Fragment, dotconfig: &Path) -> Result<(), OracleError> {
    let text = read(dotconfig)?;
    for opt in &frag.options {
        let sym = opt
            .trim_start_matches("# ")
            .split(['=', ' '])
            .next()
            .unwrap_or("");
        let unset = opt.ends_with(" is not set");
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{sym}=")) || *l == format!("# {sym} is not set"));
        let ok = match line {
            Some(l) => l == opt,
            None => unset, // not even visible: off, which is what "is not set" asks
        };
        if !ok {
            return Err(OracleError::Fragment {
                config: frag.config.clone(),
                option: opt.clone(),
                got: line.unwrap_or("(absent)").to_string(),
            });
        }
    }
    Ok(())
}

/// Build (or find cached) the oracle objects of `frag`.  Returns the
/// result and lines to print.
///
/// # Errors
/// [`OracleError::Command`] (with the log), [`OracleError::Fragment`].
pub fn build(frag: &Fragment) -> Result<(Built, Vec<String>), OracleError> {
    let mut out = Vec::new();
    let (pkey, okey, kver, tree) = keys(frag)?;
    let cache = cache_dir();
    let logs = cache.join("logs");
    let bdir = cache
        .join("build")
        .join(format!("{}-{}-{pkey}", frag.kernel_arch, frag.defconfig));
    let marker = bdir.join(".ptlab-prepared");
    if marker.exists() {
        out.push(format!(
            "{}: prepared tree cached ({})",
            frag.config,
            bdir.display()
        ));
    } else {
        let t = std::time::Instant::now();
        std::fs::create_dir_all(&bdir).map_err(|e| OracleError::io(&bdir, e))?;
        let log = logs.join(format!("{}-prepare.log", frag.config));
        let _ = std::fs::remove_file(&log);
        let mut c = make(&tree, &bdir, frag);
        c.arg(&frag.defconfig);
        run_logged(c, &format!("make {}", frag.defconfig), &log)?;
        let dotconfig = bdir.join(".config");
        let mut cfg = read(&dotconfig)?;
        cfg.push_str("\n# ---- ptlab fragment\n");
        cfg.push_str(&frag.text);
        std::fs::write(&dotconfig, cfg).map_err(|e| OracleError::io(&dotconfig, e))?;
        let mut c = make(&tree, &bdir, frag);
        c.arg("olddefconfig");
        run_logged(c, "make olddefconfig", &log)?;
        check_options(frag, &dotconfig)?;
        let mut c = make(&tree, &bdir, frag);
        c.arg("-j2").arg("modules_prepare");
        run_logged(c, "make modules_prepare", &log)?;
        std::fs::write(&marker, &kver).map_err(|e| OracleError::io(&marker, e))?;
        out.push(format!(
            "{}: defconfig + fragment + modules_prepare ({:.1}s, log {})",
            frag.config,
            t.elapsed().as_secs_f64(),
            log.display()
        ));
    }
    let odir = cache.join("obj").join(format!("{}-{okey}", frag.config));
    let objects = object_list(frag, &odir);
    if objects.iter().all(|o| o.exists()) {
        out.push(format!(
            "{}: oracle objects cached ({})",
            frag.config,
            odir.display()
        ));
    } else {
        let t = std::time::Instant::now();
        let log = logs.join(format!("{}-wrapper.log", frag.config));
        let _ = std::fs::remove_file(&log);
        // kbuild writes next to the sources: build in a private copy.
        let wcopy = cache
            .join("wrapper")
            .join(format!("{}-{okey}", frag.config));
        std::fs::create_dir_all(&wcopy).map_err(|e| OracleError::io(&wcopy, e))?;
        let wsrc = repo_dir().join("oracle").join("wrapper");
        for f in WRAPPER_FILES {
            let (s, d) = (wsrc.join(f), wcopy.join(f));
            std::fs::copy(&s, &d).map_err(|e| OracleError::io(&s, e))?;
        }
        let mut c = make(&tree, &bdir, frag);
        c.arg(format!("M={}", wcopy.display()))
            .arg("KBUILD_MODPOST_WARN=1")
            .arg("V=1")
            .arg("modules");
        run_logged(c, "make M=oracle/wrapper modules", &log)?;
        std::fs::create_dir_all(&odir).map_err(|e| OracleError::io(&odir, e))?;
        let built = wcopy.join("oracle.o");
        std::fs::copy(&built, &objects[0]).map_err(|e| OracleError::io(&built, e))?;
        for (x, dst) in frag.extra_objects.iter().zip(&objects[1..]) {
            let mut c = make(&tree, &bdir, frag);
            c.arg(x);
            run_logged(c, &format!("make {x}"), &log)?;
            let src = bdir.join(x);
            std::fs::copy(&src, dst).map_err(|e| OracleError::io(&src, e))?;
        }
        out.push(format!(
            "{}: oracle objects built ({:.1}s, log {})",
            frag.config,
            t.elapsed().as_secs_f64(),
            log.display()
        ));
    }
    Ok((
        Built {
            dir: odir,
            objects,
            kernel: kver,
            key: okey,
        },
        out,
    ))
}
