//! Embeds every `checks/*.toml` file into the binary, so the catalogue is data that
//! ships with the doctor and a new rule file needs no Rust code.
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
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let abs = fs::canonicalize(f).expect("canonical path");
        let name = f.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
    }
    out.push(']');
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("catalogue.rs");
    fs::write(dest, out).expect("write catalogue.rs");
}
