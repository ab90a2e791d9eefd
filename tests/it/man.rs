//! The man pages in man/ and the shell completions in completions/ are generated from
//! the clap definitions; these tests fail when they are stale. Regenerate with:
//! BLESS=1 cargo test --test it man

use clap::CommandFactory;
use dssc_doctor::cli::Cli;

fn render(cmd: clap::Command) -> String {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut buf)
        .expect("render man page");
    String::from_utf8(buf).expect("utf-8 man page")
}

#[test]
fn man_pages_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let top = Cli::command().name("kubectl-dssc_doctor");
    let mut pages = vec![("kubectl-dssc_doctor.1".to_string(), render(top.clone()))];
    for sub in top.get_subcommands() {
        let name = format!("kubectl-dssc_doctor-{}", sub.get_name());
        pages.push((
            format!("{name}.1"),
            render(
                sub.clone()
                    .name(name.clone())
                    .bin_name(format!("kubectl dssc-doctor {}", sub.get_name())),
            ),
        ));
    }
    let bless = std::env::var_os("BLESS").is_some();
    let mut stale = Vec::new();
    for (file, text) in &pages {
        let path = dir.join(file);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(file.clone());
        }
    }
    // Pages of subcommands that no longer exist are stale too.
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let f = e.file_name().to_string_lossy().into_owned();
        if f.ends_with(".1") && !pages.iter().any(|(p, _)| *p == f) {
            if bless {
                std::fs::remove_file(e.path()).unwrap();
            } else {
                stale.push(f);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale man pages {stale:?}: run BLESS=1 cargo test --test it man"
    );
}

/// bash, zsh and fish completions, shipped like the man pages.
#[test]
fn completions_are_current() {
    use clap_complete::Shell;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let bless = std::env::var_os("BLESS").is_some();
    let mut stale = Vec::new();
    for (shell, file) in [
        (Shell::Bash, "kubectl-dssc_doctor.bash"),
        (Shell::Zsh, "_kubectl-dssc_doctor"),
        (Shell::Fish, "kubectl-dssc_doctor.fish"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "kubectl-dssc_doctor", &mut buf);
        let text = String::from_utf8(buf).expect("utf-8 completion");
        let path = dir.join(file);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "stale completions {stale:?}: run BLESS=1 cargo test --test it man"
    );
}
