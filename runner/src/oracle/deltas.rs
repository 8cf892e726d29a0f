//! Known differences between the oracle's kernel and the v6.6 model,
//! listed in the repository (`oracle/version-deltas.md`), each with the
//! kernel commit that made it.  `ptlab oracle test` reports a mismatch
//! that a row explains as a known delta (never silently), and anything
//! else as a mismatch.
//!
//! A row of the file's table is
//! `| configs | helper | bits | kernels | commit | explanation |`:
//! `configs` is `*` or names separated by `,`; `bits` is the mask the
//! differing bits must fall in (hex), or `any`; `kernels` is the oracle
//! kernel versions the row applies to as `A.B+` (this version and later)
//! or `A.B-C.D` (inclusive).

use super::{read, repo_dir, OracleError};

/// One known delta.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delta {
    /// The configurations it applies to (empty: all).
    pub configs: Vec<String>,
    /// The helper (or `const_NAME`).
    pub helper: String,
    /// The bits it may change (`None`: any).
    pub bits: Option<u64>,
    /// Oracle kernel versions (major, minor) it applies to, inclusive.
    pub kernels: ((u32, u32), (u32, u32)),
    /// The commit, as written (`abcdef123456 ("title")`).
    pub commit: String,
    /// Why.
    pub why: String,
}

fn ver(s: &str) -> Option<(u32, u32)> {
    let mut it = s.trim().split('.');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

impl Delta {
    /// Whether this row explains a difference `xor` of `helper` on
    /// `config` with oracle kernel `kernel` (`6.12.117`).
    pub fn explains(&self, config: &str, kernel: &str, helper: &str, xor: u64) -> bool {
        let Some(k) = ver(kernel) else { return false };
        (self.configs.is_empty() || self.configs.iter().any(|c| c == config))
            && self.helper == helper
            && self.bits.is_none_or(|m| xor & !m == 0)
            && self.kernels.0 <= k
            && k <= self.kernels.1
    }
}

/// `deltas` plus one row per constant that `frag` declares different by
/// design (`# ptlab-model-differs:`): that configuration only, any bits,
/// any kernel, its "commit" saying that it is not a kernel change.
pub fn with_model_differs(deltas: &[Delta], frag: &super::Fragment) -> Vec<Delta> {
    let mut v = deltas.to_vec();
    for (name, why) in &frag.model_differs {
        v.push(Delta {
            configs: vec![frag.config.clone()],
            helper: format!("const_{name}"),
            bits: None,
            kernels: ((0, 0), (u32::MAX, u32::MAX)),
            commit: format!(
                "BY DESIGN, not a kernel change (oracle/config/{}.config): {why}",
                frag.config
            ),
            why: why.clone(),
        });
    }
    v
}

/// Parse the table rows of `text` (file name `file` for errors).
///
/// # Errors
/// [`OracleError::Parse`] naming the line.
pub fn parse(file: &str, text: &str) -> Result<Vec<Delta>, OracleError> {
    let mut v = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let l = line.trim();
        if !l.starts_with('|') || l.starts_with("|---") || l.starts_with("| configs") {
            continue;
        }
        // `\|` is a literal bar inside a cell.
        let l = l.replace("\\|", "\u{1}");
        let cols: Vec<String> = l
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().replace('\u{1}', "|"))
            .collect();
        let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
        let err = |why: String| OracleError::Parse {
            file: file.to_string(),
            why: format!("line {}: {why}", n + 1),
        };
        if cols.len() != 6 {
            return Err(err(format!("{} columns, want 6", cols.len())));
        }
        let configs = if cols[0] == "*" {
            Vec::new()
        } else {
            cols[0]
                .split(',')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect()
        };
        let bits = if cols[2] == "any" {
            None
        } else {
            let h = cols[2].trim_matches('`');
            Some(
                u64::from_str_radix(h.trim_start_matches("0x"), 16)
                    .map_err(|_| err(format!("bits '{h}' is not hex or 'any'")))?,
            )
        };
        let k = cols[3].trim_matches('`');
        let kernels = if let Some(lo) = k.strip_suffix('+') {
            (
                ver(lo).ok_or_else(|| err(format!("kernels '{k}'")))?,
                (u32::MAX, u32::MAX),
            )
        } else if let Some((lo, hi)) = k.split_once('-') {
            (
                ver(lo).ok_or_else(|| err(format!("kernels '{k}'")))?,
                ver(hi).ok_or_else(|| err(format!("kernels '{k}'")))?,
            )
        } else {
            return Err(err(format!("kernels '{k}' is not A.B+ or A.B-C.D")));
        };
        if cols[4].is_empty() {
            return Err(err("no commit".into()));
        }
        v.push(Delta {
            configs,
            helper: cols[1].trim_matches('`').to_string(),
            bits,
            kernels,
            commit: cols[4].to_string(),
            why: cols[5].to_string(),
        });
    }
    Ok(v)
}

/// The repository's list.
///
/// # Errors
/// As [`parse`], and [`OracleError::Io`].
pub fn load() -> Result<Vec<Delta>, OracleError> {
    let p = repo_dir().join("oracle").join("version-deltas.md");
    if !p.exists() {
        return Ok(Vec::new());
    }
    parse(&p.display().to_string(), &read(&p)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_and_match() {
        let t = "# x\n| configs | helper | bits | kernels | commit | explanation |\n|---|---|---|---|---|---|\n\
                 | x86_64, x86-pae | `pte_mkdirty` | 0x400 | 6.7+ | abc (\"t\") | why |\n\
                 | * | const_MAX_SWAPFILES | any | 6.1-6.6 | def | w |\n";
        let d = parse("f", t).unwrap();
        assert_eq!(d.len(), 2);
        assert!(d[0].explains("x86-pae", "6.12.117", "pte_mkdirty", 0x400));
        assert!(!d[0].explains("x86-pae", "6.12.117", "pte_mkdirty", 0x401));
        assert!(!d[0].explains("x86-32", "6.12.117", "pte_mkdirty", 0x400));
        assert!(!d[0].explains("x86-pae", "6.6.0", "pte_mkdirty", 0x400));
        assert!(d[1].explains("any", "6.1.5", "const_MAX_SWAPFILES", 7));
        assert!(!d[1].explains("any", "6.12.1", "const_MAX_SWAPFILES", 7));
        assert!(parse("f", "| a | b | c |\n").is_err());
    }
}
