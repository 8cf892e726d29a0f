//! `ptlab helper`: one helper by its kernel name, a batch file, `--json`,
//! and exit code 2 naming the bad value.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

fn ptlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ptlab"))
        .args(args)
        .output()
        .expect("run ptlab")
}

fn ptlab_stdin(args: &[&str], input: &str) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ptlab"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ptlab");
    c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn one(arch: &str, args: &[&str]) -> String {
    let mut a = vec!["helper", "--arch", arch];
    a.extend_from_slice(args);
    let o = ptlab(&a);
    assert!(o.status.success(), "{args:?}: {}", err(&o));
    out(&o).trim().to_string()
}

#[test]
fn single_helpers_hex_and_decimal() {
    // SavedDirty: Dirty of a Write=0 pte goes to bit 58 on x86_64 (plus soft-dirty, bit 11), bit 10 on 32-bit.
    assert_eq!(one("x86_64", &["pte_mkdirty", "0"]), "0x400000000000800"); // + SOFT_DIRTY
    assert_eq!(one("x86-pae", &["pte_mkdirty", "0"]), "0x400");
    assert_eq!(one("x86_64", &["pte_mkyoung", "0x63"]), "0x63");
    assert_eq!(one("x86_64", &["pfn_pte", "4660", "0x63"]), "0x1234063");
    assert_eq!(one("x86_64", &["pmd_trans_huge", "0x80"]), "1");
    assert_eq!(one("x86_64", &["pte_present", "0x2"]), "0");
    assert_eq!(
        one("x86_64", &["vm_get_page_prot", "0xb"]),
        one("x86_64", &["vm_get_page_prot", "11"])
    );
}

#[test]
fn batch_echoes_lines_with_results() {
    let input = "# x86_64\npte_mkyoung,0\n\npte_write, 0x2\npfn_pte,0x1234,0x63\n";
    let o = ptlab_stdin(&["helper", "--arch", "x86_64", "--batch", "-"], input);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        out(&o),
        "# x86_64\npte_mkyoung,0,0x20\n\npte_write, 0x2,1\npfn_pte,0x1234,0x63,0x1234063\n"
    );
    let o = ptlab_stdin(
        &["helper", "--arch", "x86_64", "--batch", "-", "--json"],
        input,
    );
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["results"][0]["helper"], "pte_mkyoung");
    assert_eq!(v["results"][0]["result"], "0x20");
    assert_eq!(v["results"][1]["line"], 4);
}

#[test]
fn json_and_list() {
    let o = ptlab(&[
        "helper",
        "--arch",
        "x86-pae",
        "--json",
        "pte_pfn",
        "0x123456067",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["result"], "0x123456");
    assert_eq!(v["helper"], "pte_pfn");
    let o = ptlab(&["helper", "--arch", "x86_64", "--list"]);
    assert!(o.status.success());
    assert!(out(&o).contains("pfn_pte PFN PROT"), "{}", out(&o));
}

fn bad(args: &[&str], needle: &str) {
    let o = ptlab(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
    assert!(
        err(&o).contains(needle),
        "{args:?}: stderr {:?} lacks {needle:?}",
        err(&o)
    );
    assert!(!err(&o).contains("panicked"), "{}", err(&o));
}

#[test]
fn bad_input_exits_2_naming_the_value() {
    bad(
        &["helper", "--arch", "x86_64", "pte_mkfoo", "0"],
        "pte_mkfoo",
    );
    bad(
        &["helper", "--arch", "x86_64", "pfn_pte", "1"],
        "pfn_pte PFN PROT",
    );
    bad(
        &["helper", "--arch", "x86_64", "pte_mkyoung", "0xzz"],
        "0xzz",
    );
    bad(
        &["helper", "--arch", "x86-32", "pte_mkyoung", "0x100000000"],
        "0x100000000",
    );
    bad(&["helper", "--arch", "vax", "pte_mkyoung", "0"], "vax");
    bad(
        &[
            "helper",
            "--arch",
            "x86_64",
            "--batch",
            "/nonexistent/ptlab-batch",
        ],
        "/nonexistent/ptlab-batch",
    );
    let o = ptlab_stdin(
        &["helper", "--arch", "x86_64", "--batch", "-"],
        "pte_mkyoung,0\npte_mkold,0x1g\n",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("line 2") && err(&o).contains("0x1g"),
        "{}",
        err(&o)
    );
    assert_eq!(out(&o), "", "no partial output");
    let o = ptlab_stdin(
        &["helper", "--arch", "x86_64", "--batch", "-"],
        "pte_mkold\n",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("line 1") && err(&o).contains("pte_mkold PTE"),
        "{}",
        err(&o)
    );
}
