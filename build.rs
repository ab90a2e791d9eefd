//! Embeds every `checks/*.toml` file into the binary (the catalogue is data that ships
//! with the doctor), and generates a typed constant for every rule ID
//! (`catalogue::ids::MNT001`), so code that raises a misspelt ID does not compile. Each
//! constant carries the rule's template variables (the named captures of its patterns
//! and its `vars`): the names the probe and the code may supply.
use std::collections::BTreeSet;
use std::{env, fs, path::Path};

fn main() {
    let dir = Path::new("checks");
    println!("cargo:rerun-if-changed=checks");
    let mut files: Vec<_> = fs::read_dir(dir)
        .expect("checks/ directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    let mut ids = String::new();
    let mut all = Vec::new();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let abs = fs::canonicalize(f).expect("canonical path");
        let name = f.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
        let text = fs::read_to_string(f).expect("read rule file");
        let table: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let Some(rules) = table.get("rule").and_then(|r| r.as_array()) else {
            continue;
        };
        for r in rules {
            let Some(id) = r.get("id").and_then(|v| v.as_str()) else {
                panic!("{}: a rule without id", f.display());
            };
            let code = r.get("code").and_then(|v| v.as_bool()).unwrap_or(false);
            let mut vars = BTreeSet::new();
            for v in r
                .get("vars")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                if let Some(s) = v.as_str() {
                    vars.insert(s.to_string());
                }
            }
            for m in r
                .get("match")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                if let Some(p) = m.get("pattern").and_then(|v| v.as_str()) {
                    vars.extend(named_groups(p));
                }
            }
            let vars: Vec<String> = vars.into_iter().collect();
            ids.push_str(&format!(
                "/// `{id}`, from `checks/{name}`.\npub const {id}: RuleId = RuleId {{ id: {id:?}, code: {code}, vars: &{vars:?} }};\n",
            ));
            all.push(id.to_string());
        }
    }
    out.push(']');
    ids.push_str(&format!(
        "/// Every built-in rule ID, in file order.\npub const ALL: &[RuleId] = &[{}];\n",
        all.join(", ")
    ));
    let out_dir = env::var("OUT_DIR").unwrap();
    fs::write(Path::new(&out_dir).join("catalogue.rs"), out).expect("write catalogue.rs");
    fs::write(Path::new(&out_dir).join("ids.rs"), ids).expect("write ids.rs");
    git_commit();
}

/// `DSSC_DOCTOR_COMMIT`: the abbreviated commit being built (`unknown` without git),
/// re-captured when HEAD or the branch it names moves.
fn git_commit() {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=DSSC_DOCTOR_COMMIT={commit}");
    let branch = git(&["symbolic-ref", "-q", "HEAD"]);
    for path in ["HEAD", "packed-refs"].into_iter().chain(branch.as_deref()) {
        // A path that does not exist would make cargo rerun this script every build.
        if let Some(p) = git(&["rev-parse", "--git-path", path]).filter(|p| Path::new(p).exists()) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
}

/// The names of a regex's named groups (`(?P<name>…)` and `(?<name>…)`).
fn named_groups(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    for start in ["(?P<", "(?<"] {
        let mut rest = p;
        while let Some(i) = rest.find(start) {
            rest = &rest[i + start.len()..];
            if let Some(end) = rest.find('>') {
                out.push(rest[..end].to_string());
            }
        }
    }
    out
}
