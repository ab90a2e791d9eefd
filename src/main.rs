//! `kubectl-dssc_doctor`: parses the command line, runs it, maps errors to exit codes.

use clap::{CommandFactory, FromArgMatches};
use dssc_doctor::{cli::Cli, commands, model::error::InputError, report::build::Build};

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
            eprintln!("error: {e}");
            2
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    std::process::exit(code);
}
