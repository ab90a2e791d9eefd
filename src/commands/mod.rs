//! Dispatch: turns the parsed command line into plain options for the engine, runs one
//! subcommand (one module each) on the one async runtime, and writes its output.

use std::io::{IsTerminal, Write};

use anyhow::Context as _;

use crate::catalogue::Catalogue;
use crate::cli::{Cli, ColorChoice, Command, Global};
use crate::model::error::{input_err, InputError};
use crate::report::Format;

pub mod analyze;
pub mod bundle;
pub mod catalogue;
pub mod diagnose;
pub mod exporter;
pub mod preflight;
pub mod probe;
pub mod push;
pub mod schema;
pub mod serve;
pub mod watch;

/// Runs the command; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    setup_color(&cli.global);
    if cli.command.is_some() && !(cli.values.files.is_empty() && cli.values.sets.is_empty()) {
        return input_err(
            "--values/--set before a subcommand apply to the live diagnosis only; put them after `bundle` or `preflight`",
        );
    }
    if cli.command.is_some() && cli.fleet.push.is_some() {
        return input_err("--push applies to the live diagnosis only (no subcommand)");
    }
    let cat =
        Catalogue::load(&cli.global.checks_dirs).map_err(|e| InputError::new(e.to_string()))?;
    let g = &cli.global;
    dispatch(&cli, g, &cat).map_err(|e| {
        // A cluster that cannot be read is the user's to fix: one line, exit 2.
        match e.downcast_ref::<crate::sources::cluster_error::ClusterError>() {
            Some(c) => InputError::new(c.message.clone()).into(),
            None => e,
        }
    })
}

fn dispatch(cli: &Cli, g: &Global, cat: &Catalogue) -> anyhow::Result<i32> {
    match &cli.command {
        Some(Command::Analyze(a)) => analyze::run(g, a, cat),
        Some(Command::Serve(a)) => serve::run(g, a),
        Some(Command::Checks) => {
            emit(&catalogue::list(cat, g.format()))?;
            Ok(0)
        }
        Some(Command::Explain { id }) => catalogue::explain(cat, id),
        Some(Command::Bundle(b)) => bundle::run(g, b, cat),
        None if cli.fleet.push.is_some() || g.format() == Format::OpenMetrics => {
            push::run(g, &cli.values, &cli.fleet, cat)
        }
        None => diagnose::run(g, &cli.values, cat),
        Some(Command::Exporter(a)) => exporter::run(g, &cli.fleet, a, cat),
        Some(Command::Probe(p)) => probe::run(g, p, cat),
        Some(Command::Preflight(p)) => preflight::run(g, p, cat),
        Some(Command::Schema) => schema::run(),
    }
}

/// Collection options from the command line.
pub fn cluster_options(g: &Global, keep_raw: bool) -> crate::sources::live::Options {
    let c = &g.cluster;
    crate::sources::live::Options {
        kubeconfig: c.kubeconfig.clone(),
        context: c.context.clone(),
        namespace: g.namespace.clone(),
        release: g.release.clone(),
        timeout: c.timeout,
        tail: c.tail,
        max_log_bytes: c.max_log_bytes,
        concurrency: c.concurrency as usize,
        keep_raw,
        progress: true,
    }
}

/// The one async runtime, for the commands that talk to the network.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn setup_color(g: &Global) {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let on = match (g.no_color, g.color) {
        (true, _) | (_, ColorChoice::Never) => false,
        (_, ColorChoice::Always) => true,
        (_, ColorChoice::Auto) => !no_color_env && std::io::stdout().is_terminal(),
    };
    colored::control::set_override(on && g.format() == Format::Text);
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub fn emit(s: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing the report"),
    }
}
