//! powerpc64 under QEMU's user-mode emulator.
//!
//! Unicorn 2.1.5 cannot execute 64-bit PowerPC, so for the book3s64
//! configurations the kernel's objects (the wrapper `oracle.o` and the
//! in-tree objects the fragment names, unmodified) are linked with the
//! harness in `oracle/ppc64/` (`start.S`, `harness.c`, `harness.lds`) and a
//! generated table of the wrappers into a freestanding big-endian ELFv2
//! program, and run as one long-lived `qemu-ppc64-static` process that
//! answers batches of binary requests on stdin/stdout (the protocol is
//! described in `harness.c`).
//!
//! Nothing is hand-maintained: the wrapper table comes from `oracle.o`'s
//! symbols (every defined `oracle_*` function), and every symbol the
//! objects leave undefined gets zero-filled storage (reported: a call that
//! reaches one crashes, and the crash is reported as a call error).
//!
//! The boot-time knob is the MMU: the loader name `qemu-ppc64-radix` or
//! `qemu-ppc64-hash` in the fragment.  At start the harness assigns the
//! run-time geometry as `radix__early_init_mmu()` / `hash__early_init_mmu()`
//! do (from the kernel's own macros, in `oracle/wrapper/oracle.c`) and
//! patches every `__jump_table` entry keyed on `mmu_feature_keys` as
//! `jump_label_init()` would for `mmu_features` = `MMU_FTR_TYPE_RADIX` (radix)
//! or 0 (hash).  `WARN_ON()`/`VM_BUG_ON()` traps (`CONFIG_DEBUG_VM`) come back
//! with each result ([`Trap`]).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use goblin::elf::sym::{STB_GLOBAL, STB_WEAK, STT_FUNC};
use goblin::elf::Elf;

use super::build::Built;
use super::compare::{Backend, Outcome, Trap};
use super::setup::run_logged;
use super::{fnv1a, read, repo_dir, OracleError};

/// The emulator (`$PTLAB_QEMU_PPC64` overrides the program name).
pub const QEMU: &str = "qemu-ppc64-static";

/// The emulator program to run: `$PTLAB_QEMU_PPC64`, else [`QEMU`].
pub fn qemu_program() -> String {
    std::env::var("PTLAB_QEMU_PPC64").unwrap_or_else(|_| QEMU.to_string())
}
/// The cross compiler (also the assembler driver).
pub const CC: &str = "powerpc64-linux-gnu-gcc";
/// The linker.
pub const LD: &str = "powerpc64-linux-gnu-ld";
/// The harness sources in `oracle/ppc64/` (hashed into the cache key).
pub const HARNESS_FILES: &[&str] = &["harness.c", "start.S", "harness.lds"];
/// `MMU_FTR_TYPE_RADIX` (arch/powerpc/include/asm/mmu.h): feature bit 6.
pub const MMU_FTR_TYPE_RADIX: u64 = 0x40;
/// Requests per round trip: the harness buffers 4096, and a batch of at
/// most that many cannot deadlock on the pipes (see `harness.c`).
pub const BATCH: usize = 2048;

const OP_INIT: u64 = 0xffff_ffff_ffff_0001;
const OP_GEOM: u64 = 0xffff_ffff_ffff_0002;
const OP_COUNT: u64 = 0xffff_ffff_ffff_0003;
const K_OK: u64 = 0;
const K_WARN: u64 = 1;
const K_BUG: u64 = 2;
const K_TRAP: u64 = 3;
const K_CRASH: u64 = 4;

/// The boot-time choice a `qemu-ppc64-*` loader name stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Knobs {
    /// Radix (true) or hash (false): which `*__early_init_mmu()` sets the
    /// run-time geometry.
    pub radix: bool,
    /// `cur_cpu_spec->mmu_features` as `mmu_feature_keys_init()` sees it:
    /// which `mmu_feature_keys[i]` are enabled.
    pub mmu_features: u64,
}

/// The knobs of loader `name`, or `None` when it is not a qemu loader.
pub fn loader_knobs(name: &str) -> Option<Knobs> {
    match name {
        "qemu-ppc64-radix" => Some(Knobs {
            radix: true,
            mmu_features: MMU_FTR_TYPE_RADIX,
        }),
        "qemu-ppc64-hash" => Some(Knobs {
            radix: false,
            mmu_features: 0,
        }),
        _ => None,
    }
}

fn install_hint(what: &str, pkg: &str) -> OracleError {
    OracleError::Missing(format!(
        "{what} not found (powerpc64 runs under QEMU's user-mode emulator); \
         install it as root: apt-get install -y --no-install-recommends {pkg} \
         (or run `ptlab oracle setup`)"
    ))
}

/// Check that the emulator and the cross toolchain are installed.
///
/// # Errors
/// [`OracleError::Missing`] with the exact `apt-get` command.
pub fn check_tools() -> Result<(), OracleError> {
    let qemu = qemu_program();
    for (tool, pkg) in [
        (qemu.as_str(), "qemu-user-static"),
        (CC, "gcc-powerpc64-linux-gnu"),
        (LD, "binutils-powerpc64-linux-gnu"),
    ] {
        let ok = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !ok {
            return Err(install_hint(tool, pkg));
        }
    }
    Ok(())
}

/// A linked harness.
#[derive(Clone, Debug)]
pub struct Harness {
    /// The program.
    pub exe: PathBuf,
    /// The wrappers without the `oracle_` prefix, in table order.
    pub wrappers: Vec<String>,
    /// Undefined kernel symbols given zero-filled storage.
    pub stubs: Vec<String>,
}

/// The global symbols of one object.
#[derive(Default)]
struct Symbols {
    /// Defined.
    def: Vec<String>,
    /// Undefined.
    undef: Vec<String>,
    /// Defined `oracle_*` functions.
    fns: Vec<String>,
}

/// The global symbols of the object at `path`.
fn symbols(path: &Path) -> Result<Symbols, OracleError> {
    let bytes = std::fs::read(path).map_err(|e| OracleError::io(path, e))?;
    let elf =
        Elf::parse(&bytes).map_err(|e| OracleError::Load(format!("{}: {e}", path.display())))?;
    let (mut def, mut undef, mut fns) = (Vec::new(), Vec::new(), Vec::new());
    for s in elf.syms.iter() {
        let bind = s.st_bind();
        if s.st_name == 0 || (bind != STB_GLOBAL && bind != STB_WEAK) {
            continue;
        }
        let name = elf.strtab.get_at(s.st_name).unwrap_or("").to_string();
        if s.st_shndx == 0 {
            undef.push(name);
        } else {
            if s.st_type() == STT_FUNC && name.starts_with("oracle_") {
                fns.push(name.clone());
            }
            def.push(name);
        }
    }
    Ok(Symbols { def, undef, fns })
}

/// Symbols the link itself provides.
fn linker_provided(name: &str) -> bool {
    name == ".TOC."
        || name == "ptlab_fns"
        || name == "ptlab_nfns"
        || name.starts_with("__start_")
        || name.starts_with("__stop_")
}

fn cc(args: &[&str], log: &Path, what: &str) -> Result<(), OracleError> {
    let mut c = Command::new(CC);
    c.args([
        "-mabi=elfv2",
        "-mbig-endian",
        "-O2",
        "-ffreestanding",
        "-fno-stack-protector",
        "-fno-builtin",
        "-mcmodel=medium",
        "-Wall",
    ])
    .args(args);
    run_logged(c, what, log)
}

/// Link (or find cached) the harness for the objects in `built`.  Returns
/// it and lines to print.
///
/// # Errors
/// [`OracleError::Missing`] (tools), [`OracleError::Command`] (compile or
/// link, with the log), [`OracleError::Load`] (unreadable objects).
pub fn link(built: &Built) -> Result<(Harness, Vec<String>), OracleError> {
    check_tools()?;
    let src = repo_dir().join("oracle").join("ppc64");
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for f in HARNESS_FILES {
        let p = src.join(f);
        parts.push(std::fs::read(&p).map_err(|e| OracleError::io(&p, e))?);
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let dir = built.dir.join(format!("harness-{:016x}", fnv1a(&refs)));
    let exe = dir.join("harness");
    let (wlist, slist) = (dir.join("wrappers.txt"), dir.join("stubs.txt"));
    let lines_of = |p: &Path| -> Result<Vec<String>, OracleError> {
        Ok(read(p)?.lines().map(String::from).collect())
    };
    if exe.exists() && wlist.exists() && slist.exists() {
        let h = Harness {
            exe,
            wrappers: lines_of(&wlist)?,
            stubs: lines_of(&slist)?,
        };
        return Ok((h, vec![format!("harness cached ({})", dir.display())]));
    }
    let t = std::time::Instant::now();
    std::fs::create_dir_all(&dir).map_err(|e| OracleError::io(&dir, e))?;
    let log = dir.join("link.log");
    let _ = std::fs::remove_file(&log);
    let (start_o, harness_o, fns_c, fns_o) = (
        dir.join("start.o"),
        dir.join("harness.o"),
        dir.join("fns.c"),
        dir.join("fns.o"),
    );
    let s = |p: &Path| p.display().to_string();
    cc(
        &["-c", &s(&src.join("start.S")), "-o", &s(&start_o)],
        &log,
        "assemble oracle/ppc64/start.S",
    )?;
    cc(
        &["-c", &s(&src.join("harness.c")), "-o", &s(&harness_o)],
        &log,
        "compile oracle/ppc64/harness.c",
    )?;
    // Symbols of everything linked, to find the wrappers and the holes.
    let mut defined = std::collections::HashSet::new();
    let mut undefined = std::collections::BTreeSet::new();
    let mut wrappers = Vec::new();
    let mut objs: Vec<PathBuf> = vec![start_o.clone(), harness_o.clone()];
    objs.extend(built.objects.iter().cloned());
    for (i, o) in objs.iter().enumerate() {
        let sy = symbols(o)?;
        defined.extend(sy.def);
        undefined.extend(sy.undef);
        if i == 2 {
            wrappers = sy.fns; // oracle.o, the first of the built objects
        }
    }
    wrappers.sort();
    let stubs: Vec<String> = undefined
        .into_iter()
        .filter(|u| !defined.contains(u) && !linker_provided(u))
        .collect();
    let mut c = String::from(
        "/* Generated by ptlab (runner/src/oracle/qemu.rs) from oracle.o's symbols. */\n\
         typedef unsigned long ul;\n",
    );
    for w in &wrappers {
        c.push_str(&format!("extern ul {w}(ul, ul);\n"));
    }
    c.push_str("ul (*const ptlab_fns[])(ul, ul) = {\n");
    for w in &wrappers {
        c.push_str(&format!("\t{w},\n"));
    }
    c.push_str(&format!(
        "}};\nconst ul ptlab_nfns = {};\n\n\
         /* Undefined in the kernel objects: zero-filled storage (the run-time\n \
         * geometry variables are assigned by ptlab_ppc64_early_init_mmu()). */\n",
        wrappers.len()
    ));
    for st in &stubs {
        c.push_str(&format!("char {st}[4096] __attribute__((aligned(64)));\n"));
    }
    std::fs::write(&fns_c, c).map_err(|e| OracleError::io(&fns_c, e))?;
    cc(
        &["-c", &s(&fns_c), "-o", &s(&fns_o)],
        &log,
        "compile the wrapper table",
    )?;
    let mut l = Command::new(LD);
    l.args(["-static", "-nostdlib", "-e", "_start", "-T"])
        .arg(src.join("harness.lds"))
        .arg("-o")
        .arg(&exe)
        .arg(&start_o)
        .arg(&harness_o)
        .arg(&fns_o)
        .args(&built.objects);
    run_logged(l, "link the powerpc64 harness", &log)?;
    let names: Vec<String> = wrappers
        .iter()
        .map(|w| w.trim_start_matches("oracle_").to_string())
        .collect();
    std::fs::write(&wlist, names.join("\n")).map_err(|e| OracleError::io(&wlist, e))?;
    std::fs::write(&slist, stubs.join("\n")).map_err(|e| OracleError::io(&slist, e))?;
    let line = format!(
        "harness linked: {} wrappers, {} undefined kernel symbols zero-filled ({:.1}s, {})",
        names.len(),
        stubs.len(),
        t.elapsed().as_secs_f64(),
        exe.display()
    );
    Ok((
        Harness {
            exe,
            wrappers: names,
            stubs,
        },
        vec![line],
    ))
}

/// A running harness: the [`Backend`] of the `qemu-ppc64-*` loaders.
pub struct Qemu {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    index: HashMap<String, u64>,
    names: Vec<String>,
    knobs: Knobs,
    /// `__jump_table` entries patched (keyed on `mmu_feature_keys`), and
    /// the others left as compiled.
    pub jump_entries: (u64, u64),
    /// The run-time geometry after init: index sizes pte/pmd/pud/pgd, table
    /// sizes pte/pmd/pud/pgd, `__pte_frag_nr`, `__pmd_frag_nr`.
    pub geometry: [u64; 10],
    stubs: usize,
    /// Calls made so far.
    pub calls: u64,
}

impl Qemu {
    /// Start `h` under qemu with `knobs`, and initialise it.
    ///
    /// # Errors
    /// [`OracleError::Missing`] when qemu is not installed,
    /// [`OracleError::Emu`] when the harness does not answer.
    pub fn start(h: &Harness, knobs: Knobs) -> Result<Qemu, OracleError> {
        check_tools()?;
        let mut child = Command::new(qemu_program())
            .arg(&h.exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => install_hint(QEMU, "qemu-user-static"),
                _ => OracleError::Emu(format!("{QEMU}: {e}")),
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(OracleError::Emu(format!("{QEMU}: no pipes")));
        };
        let mut q = Qemu {
            child,
            stdin: Some(stdin),
            stdout,
            index: h
                .wrappers
                .iter()
                .enumerate()
                .map(|(i, w)| (w.clone(), i as u64))
                .collect(),
            names: h.wrappers.clone(),
            knobs,
            jump_entries: (0, 0),
            geometry: [0; 10],
            stubs: h.stubs.len(),
            calls: 0,
        };
        let n = q.roundtrip(&[[OP_COUNT, 0, 0]])?[0].0;
        if n != h.wrappers.len() as u64 {
            return Err(OracleError::Emu(format!(
                "harness has {n} wrappers, its table {}",
                h.wrappers.len()
            )));
        }
        let r = q.roundtrip(&[[OP_INIT, u64::from(knobs.radix), knobs.mmu_features]])?[0].0;
        q.jump_entries = (r & 0xffff_ffff, r >> 32);
        let g: Vec<[u64; 3]> = (0..10).map(|i| [OP_GEOM, i, 0]).collect();
        for (i, (v, _)) in q.roundtrip(&g)?.into_iter().enumerate() {
            q.geometry[i] = v;
        }
        Ok(q)
    }

    /// Send `reqs` (at most [`BATCH`]) and read their replies.
    fn roundtrip(&mut self, reqs: &[[u64; 3]]) -> Result<Vec<(u64, u64)>, OracleError> {
        let mut buf = Vec::with_capacity(reqs.len() * 24);
        for r in reqs {
            for v in r {
                buf.extend_from_slice(&v.to_be_bytes());
            }
        }
        let dead = |what: &str, e: std::io::Error| {
            OracleError::Emu(format!(
                "{QEMU} harness {what}: {e} (it exited or crashed outside a call)"
            ))
        };
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| OracleError::Emu("harness stdin closed".into()))?;
        stdin.write_all(&buf).map_err(|e| dead("write", e))?;
        stdin.flush().map_err(|e| dead("flush", e))?;
        let mut out = vec![0u8; reqs.len() * 16];
        self.stdout
            .read_exact(&mut out)
            .map_err(|e| dead("read", e))?;
        Ok(out
            .chunks_exact(16)
            .map(|c| {
                let w = |i: usize| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&c[i..i + 8]);
                    u64::from_be_bytes(b)
                };
                (w(0), w(8))
            })
            .collect())
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        // End of input ends the harness; reap it.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

impl Backend for Qemu {
    fn describe(&self) -> String {
        format!(
            "{QEMU} ({}), {} wrappers",
            if self.knobs.radix { "radix" } else { "hash" },
            self.names.len()
        )
    }

    fn knobs(&self) -> Vec<String> {
        let g = &self.geometry;
        vec![
            format!(
                "MMU {}: mmu_features = {:#x} (mmu_feature_keys[6] MMU_FTR_TYPE_RADIX {}, every other mmu feature key off); {} __jump_table entries patched, {} of other keys left as compiled",
                if self.knobs.radix { "radix" } else { "hash" },
                self.knobs.mmu_features,
                if self.knobs.radix { "on" } else { "off" },
                self.jump_entries.0,
                self.jump_entries.1
            ),
            format!(
                "{}__early_init_mmu(): index sizes pte/pmd/pud/pgd {}/{}/{}/{}, table sizes {}/{}/{}/{} bytes, PTE_FRAG_NR {}, PMD_FRAG_NR {}",
                if self.knobs.radix { "radix" } else { "hash" },
                g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9]
            ),
            "traps (CONFIG_DEBUG_VM=y): WARN_ON(), BUG() and VM_BUG_ON() are caught (SIGTRAP, __bug_table flags) and compared with the model's statement; after a WARN the call goes on, after a BUG it ends with no value".to_string(),
            format!(
                "{} undefined kernel symbols zero-filled (a call reaching one would crash and be reported)",
                self.stubs
            ),
        ]
    }

    fn wrappers(&self) -> Vec<String> {
        self.names.clone()
    }

    fn call_many(
        &mut self,
        name: &str,
        calls: &[Vec<(u64, u32)>],
        ret_bits: u32,
    ) -> Result<Vec<Result<Outcome, String>>, OracleError> {
        let Some(&id) = self.index.get(name) else {
            return Err(OracleError::Emu(format!("no wrapper oracle_{name}")));
        };
        let rmask = mm_core::helpers::mask(ret_bits);
        let mut out = Vec::with_capacity(calls.len());
        for chunk in calls.chunks(BATCH) {
            let reqs: Vec<[u64; 3]> = chunk
                .iter()
                .map(|a| {
                    let g = |i: usize| a.get(i).map_or(0, |x| x.0);
                    [id, g(0), g(1)]
                })
                .collect();
            for (v, st) in self.roundtrip(&reqs)? {
                self.calls += 1;
                let kind = st & 0xff;
                out.push(match kind {
                    K_OK | K_WARN | K_BUG | K_TRAP => Ok(Outcome {
                        value: v & rmask,
                        trap: match kind {
                            K_OK => Trap::None,
                            K_WARN => Trap::Warn,
                            K_BUG => Trap::Bug,
                            _ => Trap::Unknown,
                        },
                    }),
                    K_CRASH => Err(format!(
                        "crashed with signal {} at {v:#x}",
                        (st >> 16) & 0xff
                    )),
                    _ => Err(format!("harness refused request {v:#x} (status {st:#x})")),
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loader_names_are_the_mmu_knob() {
        let r = loader_knobs("qemu-ppc64-radix").unwrap();
        assert!(r.radix);
        assert_eq!(r.mmu_features, MMU_FTR_TYPE_RADIX);
        let h = loader_knobs("qemu-ppc64-hash").unwrap();
        assert!(!h.radix);
        assert_eq!(h.mmu_features, 0);
        assert!(loader_knobs("x86_64").is_none());
    }

    #[test]
    fn missing_qemu_names_the_install_command() {
        std::env::set_var("PTLAB_QEMU_PPC64", "ptlab-no-such-qemu-ppc64");
        let e = check_tools().unwrap_err().to_string();
        std::env::remove_var("PTLAB_QEMU_PPC64");
        assert!(e.contains("ptlab-no-such-qemu-ppc64 not found"), "{e}");
        assert!(
            e.contains("apt-get install -y --no-install-recommends qemu-user-static"),
            "{e}"
        );
    }

    #[test]
    fn linker_provided_symbols() {
        assert!(linker_provided(".TOC."));
        assert!(linker_provided("__start___jump_table"));
        assert!(linker_provided("ptlab_fns"));
        assert!(!linker_provided("mmu_feature_keys"));
    }
}
