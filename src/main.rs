//! `kubectl-dssc_doctor`: parses the command line, runs it, maps errors to exit codes.

use clap::{CommandFactory, FromArgMatches};
use dssc_doctor::report::sanitize;
use dssc_doctor::{cli::Cli, commands, model::error::InputError, report::build::Build};

/// An error as one line a terminal shows as it is: paths from tar entries and
/// `--set` strings may hold control characters.
fn one_line(s: &str) -> String {
    sanitize::terminal(s).replace('\n', "^J")
}

fn main() {
    // --version names the commit and the catalogue size too (set here, not in the clap
    // definition, so the generated man pages do not change with every commit).
    let cmd = Cli::command().version(Build::current().to_string());
    let cli = match cmd
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<InputError>().is_some() => {
            eprintln!("error: {}", one_line(&e.to_string()));
            2
        }
        Err(e) => {
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            1
        }
    };
    std::process::exit(code);
}
