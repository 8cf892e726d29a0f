//! The `ptlab` command end to end: output, JSON, and exit codes on bad input.

use std::process::{Command, Output};

fn ptlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ptlab"))
        .args(args)
        .output()
        .expect("run ptlab")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn arches_lists_the_x86_configurations() {
    let o = ptlab(&["arches", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    // x86 first; other arches follow as they are registered.
    assert_eq!(names[..3], ["x86_64", "x86-pae", "x86-32"]);
    assert!(names.contains(&"arm") && names.contains(&"arm-lpae"));
    let pae = &v[1];
    assert_eq!(pae["levels"], 3);
    assert_eq!(pae["entry_bytes"], 8);
    assert_eq!(pae["split_halves"], true);
    assert_eq!(v[2]["entry_bytes"], 4);
    assert_eq!(v[2]["pmd_leaf_size"], 4 << 20);
    let human = ptlab(&["arches"]);
    assert!(stdout(&human).contains("x86-pae"));
}

#[test]
fn pte_encode_then_decode_round_trips() {
    let o = ptlab(&[
        "pte",
        "--arch",
        "x86_64",
        "encode",
        "--pfn",
        "0x1234",
        "--prot",
        "PRESENT|RW|USER",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    let raw = v["entry"]["raw"].as_str().unwrap().to_string();
    assert_eq!(raw, "0x1234007");
    let d = json(&ptlab(&[
        "pte", "--arch", "x86_64", "decode", &raw, "--json",
    ]));
    assert_eq!(d["entry"]["pte_pfn"], "0x1234");
    assert_eq!(d["entry"]["pte_write"], true);
    assert_eq!(d["entry"]["pte_present"], true);
    // PAGE_NONE is protnone: present to Linux, not to the MMU.
    let n = json(&ptlab(&[
        "pte", "--arch", "x86_64", "encode", "--pfn", "7", "--prot", "vm:none", "--json",
    ]));
    assert_eq!(n["entry"]["pte_protnone"], true);
    assert_eq!(n["entry"]["mmu_accepts"], false);
    assert_eq!(n["entry"]["pte_pfn"], "0x7");
}

#[test]
fn bad_input_is_exit_code_2_naming_the_value() {
    let cases: &[(&[&str], &str)] = &[
        (&["pte", "--arch", "sparc99", "decode", "0"], "sparc99"),
        (&["pte", "--arch", "x86_64", "decode", "0xzz"], "0xzz"),
        (
            &[
                "pte",
                "--arch",
                "x86_64",
                "encode",
                "--pfn",
                "1",
                "--prot",
                "PRESENT|BOGUS",
            ],
            "BOGUS",
        ),
        (
            &["pte", "--arch", "x86-32", "decode", "0x100000000"],
            "0x100000000",
        ),
        (
            &[
                "pte", "--arch", "x86-32", "encode", "--pfn", "0x100000", "--prot", "PRESENT",
            ],
            "0x100000",
        ),
        (
            &["walk", "--arch", "x86_64", "--va", "0x800000000000"],
            "0x800000000000",
        ),
        (
            &[
                "walk", "--arch", "x86_64", "--map", "0x1000", "--va", "0x1000",
            ],
            "0x1000",
        ),
        (
            &[
                "walk",
                "--arch",
                "x86_64",
                "--huge",
                "0x1000=0x200",
                "--va",
                "0x1000",
            ],
            "0x1000",
        ),
        (&["conform", "--arch", "nosuch"], "nosuch"),
    ];
    for (args, needle) in cases {
        let o = ptlab(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn walk_shows_each_level_and_agrees_with_the_emulator() {
    for (arch, va) in [
        ("x86_64", "0x7f0000001abc"),
        ("x86-pae", "0xbf001abc"),
        ("x86-32", "0x08048abc"),
    ] {
        let map = format!("{}000=0x1234", &va[..va.len() - 3]);
        let o = ptlab(&["walk", "--arch", arch, "--map", &map, "--va", va, "--json"]);
        assert!(o.status.success(), "{arch}: {} {}", stdout(&o), stderr(&o));
        let v = json(&o);
        assert_eq!(v["model"]["mapped"], true, "{arch}");
        let pa = u64::from_str_radix(
            v["model"]["pa"].as_str().unwrap().trim_start_matches("0x"),
            16,
        )
        .unwrap();
        assert_eq!(pa, 0x1234abc, "{arch}");
        assert_eq!(v["emulator"]["agree"], true, "{arch}");
        assert_eq!(v["emulator"]["read"]["pa"], "0x1234abc", "{arch}");
        let levels = v["steps"].as_array().unwrap().len();
        assert_eq!(
            levels,
            match arch {
                "x86_64" => 4,
                "x86-pae" => 3,
                _ => 2,
            },
            "{arch}"
        );
        let human = ptlab(&["walk", "--arch", arch, "--map", &map, "--va", va]);
        assert!(
            stdout(&human).contains("agree:    yes"),
            "{}",
            stdout(&human)
        );
    }
    // A huge mapping and an unmapped address.
    let o = ptlab(&[
        "walk",
        "--arch",
        "x86-32",
        "--huge",
        "0x40000000=0x400",
        "--va",
        "0x40123456",
        "--json",
    ]);
    let v = json(&o);
    assert_eq!(v["model"]["size"], 4 << 20);
    assert_eq!(v["emulator"]["read"]["pa"], "0x523456");
    let o = ptlab(&["walk", "--arch", "x86_64", "--va", "0x5000", "--json"]);
    let v = json(&o);
    assert!(o.status.success());
    assert_eq!(v["model"]["mapped"], false);
    assert!(v["emulator"]["read"]["fault"].is_string());
    assert_eq!(v["emulator"]["agree"], true);
}

#[test]
fn conform_filtered_json_and_junit() {
    let dir = std::env::temp_dir().join(format!("ptlab-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junit = dir.join("c.xml");
    let o = ptlab(&[
        "conform",
        "--arch",
        "x86-pae",
        "--filter",
        "swap",
        "--json",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    let results = v["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(results
        .iter()
        .all(|r| r["family"].as_str().unwrap().contains("swap")));
    assert!(results.iter().any(|r| r["status"] == "pass"));
    // pmd swap entries need THP migration, which 32-bit x86 lacks.
    let pmd_swap = results
        .iter()
        .find(|r| r["family"] == "pmd_swap_tests")
        .unwrap();
    assert_eq!(pmd_swap["status"], "skip");
    assert!(pmd_swap["reason"]
        .as_str()
        .unwrap()
        .contains("THP_MIGRATION"));
    // PAE's swap entries go through a 32-bit swp_entry_t: the kernel's own
    // pte_swap_tests would fail there (x86 runs debug_vm_pgtable only
    // without PAE), and the matrix says so as an expected failure.
    let pte_swap = results
        .iter()
        .find(|r| r["family"] == "pte_swap_tests")
        .unwrap();
    assert_eq!(pte_swap["status"], "xfail", "{pte_swap}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite name=\"x86-pae\"") && xml.contains("<skipped"));
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ptlab"))
        .args(["conform", "--arch", "x86-32", "--filter", "basic"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

#[test]
fn lifecycle_scenario_prints_the_deferred_free_in_order() {
    let o = ptlab(&["lifecycle", "--arch", "x86-pae", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    let kinds: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    let pos = |k: &str| {
        kinds
            .iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("no {k} in {kinds:?}"))
    };
    // Deferred before the blocked grace period, callbacks only after it.
    assert!(pos("deferred") < pos("grace_period"));
    assert!(pos("grace_period") < pos("callback_ran"));
    assert!(pos("callback_ran") < pos("mm_dropped"));
    assert!(v["reports"].as_array().unwrap().is_empty());
    let texts: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(texts.iter().any(|t| t.contains("cannot end")), "{texts:?}");
    let bad = ptlab(&["lifecycle", "--arch", "x86_64", "--variant", "v1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("v1"));
}

#[test]
fn stress_is_clean_on_every_configuration() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    // A hang (deadlock) must fail the test, not CI's time limit.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ptlab"))
        .args(["stress", "--arch", "all", "--seconds", "0.15", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(240) {
            let _ = child.kill();
            panic!("ptlab stress did not finish in 240 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = child.wait_with_output().expect("output");
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2 * v_configs(), "{v}");
    for r in runs {
        assert_eq!(r["clean"], true, "{r}");
    }
}

/// The negative control (v6.4's immediate free under RCU-only walkers)
/// must be caught somewhere: the stress checks can fail.
#[test]
fn stress_negative_control_is_caught() {
    let o = ptlab(&[
        "stress",
        "--arch",
        "all",
        "--seconds",
        "0.2",
        "--negative-control",
        "--json",
    ]);
    let v = json(&o);
    assert!(o.status.success(), "{v}");
    assert_eq!(v["negative_control"], true, "{v}");
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), v_configs(), "{v}");
    let caught: Vec<_> = runs.iter().filter(|r| r["clean"] == false).collect();
    assert!(!caught.is_empty(), "{v}");
    for r in caught {
        let reports = r["reports"].as_array().unwrap();
        assert!(
            r["lost"].as_u64().unwrap() > 0
                || reports
                    .iter()
                    .any(|x| x.as_str().unwrap().contains("stale")),
            "{r}"
        );
    }
}

fn v_configs() -> usize {
    json(&ptlab(&["arches", "--json"]))
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn walk_says_what_the_emulator_cannot_judge_and_shows_fragments() {
    // s390x: Unicorn's DAT refuses frames it does not back: not a disagreement.
    let o = ptlab(&[
        "walk",
        "--arch",
        "s390x",
        "--map",
        "0x10000000000=0x1234",
        "--va",
        "0x10000000010",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    assert!(
        v["emulator"]["unchecked"]
            .as_str()
            .unwrap()
            .contains("beyond"),
        "{v}"
    );
    // Two 2K pte tables share one 4K page on s390x: the walk shows which half.
    let o = ptlab(&[
        "walk",
        "--arch",
        "s390x",
        "--map",
        "0x10000000000=0x234",
        "--map",
        "0x10000100000=0x235",
        "--va",
        "0x10000100010",
        "--json",
    ]);
    let v = json(&o);
    assert_eq!(v["emulator"]["agree"], true, "{v}");
    let pte = v["steps"].as_array().unwrap().last().unwrap().clone();
    assert!(
        pte["fragment"].as_str().unwrap().starts_with("fragment "),
        "{pte}"
    );
}
