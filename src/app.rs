//! Dispatch: turns parsed arguments into a run of the pipeline and a rendered report.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use anyhow::Context as _;

use crate::bundle::{self, InputKind};
use crate::catalogue::Catalogue;
use crate::checks;
use crate::cli::{AnalyzeArgs, Cli, ColorChoice, Command, Global};
use crate::evidence::{Evidence, Log, SourceKind};
use crate::input::{input_err, InputError};
use crate::report::{Format, Report, SourceInfo};
use crate::scan::Scanner;

/// Runs the command; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    setup_color(&cli.global);
    if cli.command.is_some() && !(cli.values.files.is_empty() && cli.values.sets.is_empty()) {
        return input_err(
            "--values/--set before a subcommand apply to the live diagnosis only; put them after `bundle` or `preflight`",
        );
    }
    let cat =
        Catalogue::load(&cli.global.checks_dirs).map_err(|e| InputError::new(e.to_string()))?;
    match &cli.command {
        Some(Command::Analyze(a)) => {
            let ev = analyze_input(&cli.global, a, &cat)?;
            let report = build_report(&cat, &ev);
            emit(&report.render(cli.global.format()))?;
            Ok(report.exit_code())
        }
        Some(Command::Serve(a)) => crate::serve::run_cli(&cli.global, a),
        Some(Command::Checks) => {
            emit(&list_checks(&cat, cli.global.format()))?;
            Ok(0)
        }
        Some(Command::Explain { id }) => match cat.get(id) {
            Some(rule) => {
                emit(&cat.explain(rule))?;
                Ok(0)
            }
            None => input_err(format!(
                "no check with ID {id}; `kubectl dssc-doctor checks` lists them"
            )),
        },
        Some(Command::Bundle(b)) => bundle_cmd(&cli.global, b, &cat),
        None => diagnose(&cli.global, &cli.values, &cat),
        Some(Command::Probe(p)) => {
            let (out, code) = crate::probe::command::run(&cli.global, p, &cat)?;
            emit(&out)?;
            Ok(code)
        }
        Some(Command::Preflight(p)) => {
            let (out, code) = crate::preflight::run(&cli.global, p, &cat)?;
            emit(&out)?;
            Ok(code)
        }
    }
}

/// Collection options from the command line.
pub fn cluster_options(g: &Global, keep_raw: bool) -> crate::collect::Options {
    let c = &g.cluster;
    crate::collect::Options {
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

/// A runtime for the commands that talk to the network.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Reads the live install into evidence; settings from `--values` take precedence.
pub async fn collect_live(
    g: &Global,
    v: &crate::cli::ValuesArgs,
    cat: &Catalogue,
    keep_raw: bool,
) -> anyhow::Result<Evidence> {
    // Bad values files are a usage error before anything is read from the cluster.
    let values = if v.files.is_empty() && v.sets.is_empty() {
        None
    } else {
        Some(crate::values::load(&v.files, &v.sets)?)
    };
    let opts = cluster_options(g, keep_raw);
    let (client, ns, origin) = crate::collect::client(&opts).await?;
    let scanner = Scanner::new(cat);
    let mut ev = crate::collect::collect(&client, &ns, &origin, &opts, cat, &scanner).await?;
    if let Some(values) = values {
        apply_values(&mut ev, &values);
    }
    Ok(ev)
}

/// Records the settings of a values file over those from other sources.
pub fn apply_values(ev: &mut Evidence, values: &crate::values::Values) {
    let from = format!("values {}", values.sources().join(", "));
    for (k, v) in values.db_settings().pairs() {
        ev.settings.insert(
            k.to_string(),
            crate::evidence::Setting {
                value: v,
                from: from.clone(),
            },
        );
    }
    if let Some(pw) = values.password() {
        ev.db_password = Some(crate::redact::Sensitive::new(pw));
    }
    ev.values = Some(values.redacted_json());
}

/// `kubectl dssc-doctor`: diagnose the live install, probing the database with the
/// discovered settings unless `--no-probe`.
fn diagnose(g: &Global, v: &crate::cli::ValuesArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let rt = runtime()?;
    let ev = rt.block_on(collect_live(g, v, cat, false))?;
    let probe = if g.probe.no_probe {
        None
    } else {
        probe_config(g, &ev).map(|cfg| rt.block_on(crate::probe::run(&cfg)))
    };
    let report = build_report_with_probe(cat, &ev, probe.as_ref());
    emit(&report.render(g.format()))?;
    Ok(report.exit_code())
}

/// The diagnosis probe's configuration, when the discovered settings allow one.
pub fn probe_config(g: &Global, ev: &Evidence) -> Option<crate::probe::ProbeConfig> {
    crate::probe::from_evidence(
        ev,
        &crate::probe::DiscoverOptions {
            connect_timeout: g.probe.probe_timeout,
            samples: g.probe.probe_samples,
        },
    )
}

/// `kubectl dssc-doctor bundle`: collect, analyse, redact, write.
fn bundle_cmd(g: &Global, b: &crate::cli::BundleArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let out = match (&b.dir, &g.output) {
        (Some(_), crate::cli::Output::File(_)) => {
            return input_err("give either -o FILE.tar.gz or --dir DIR, not both")
        }
        (Some(d), _) => d.clone(),
        (None, crate::cli::Output::File(p)) => p.clone(),
        _ => std::path::PathBuf::from(format!(
            "dssc-support-bundle-{}.tar.gz",
            chrono::Utc::now().format("%Y-%m-%dT%H_%M_%S")
        )),
    };
    let ev = runtime()?.block_on(collect_live(g, &b.values, cat, true))?;
    let report = build_report(cat, &ev);
    bundle::write(&ev, &report.render(Format::Json), &out)
        .with_context(|| format!("writing the bundle {}", out.display()))?;
    eprintln!(
        "wrote {} ({} pods, {} events, {} logs; {} item(s) skipped, see dssc/collection.log)",
        out.display(),
        ev.pods.len(),
        ev.events.len(),
        ev.logs.len(),
        ev.skipped.len()
    );
    emit(&report.render(g.format()))?;
    Ok(0)
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

/// Reads whatever `analyze` was given into evidence.
pub fn analyze_input(g: &Global, a: &AnalyzeArgs, cat: &Catalogue) -> anyhow::Result<Evidence> {
    let scanner = Scanner::new(cat);
    let kind = bundle::classify(&a.path)?;
    let mut ev = match kind {
        InputKind::BundleDir | InputKind::BundleTarGz => {
            bundle::load(&a.path, &kind, cat, &scanner, false)?
        }
        InputKind::Stdin => {
            let stdin = std::io::stdin();
            read_log(cat, &scanner, stdin.lock(), "-", a.container.as_deref())?
        }
        InputKind::LogFile { gzip } => {
            let f = std::fs::File::open(&a.path)
                .map_err(|e| InputError::new(format!("{}: {e}", a.path.display())))?;
            let origin = a.path.display().to_string();
            if gzip {
                read_log(
                    cat,
                    &scanner,
                    flate2::read::MultiGzDecoder::new(f),
                    &origin,
                    a.container.as_deref(),
                )?
            } else {
                read_log(cat, &scanner, f, &origin, a.container.as_deref())?
            }
        }
    };
    if let Some(ns) = &g.namespace {
        restrict_namespace(&mut ev, ns);
    }
    if let Some(r) = &g.release {
        ev.release = Some(r.clone());
    }
    Ok(ev)
}

fn read_log(
    cat: &Catalogue,
    scanner: &Scanner,
    r: impl Read,
    origin: &str,
    container: Option<&str>,
) -> anyhow::Result<Evidence> {
    let scan = scanner
        .scan(cat, r, container)
        .map_err(|e| InputError::new(format!("{origin}: {e}")))?;
    if scan.binary {
        return input_err(format!(
            "{origin}: binary data, not a text log (pass a container log, a support bundle directory or a .tar.gz)"
        ));
    }
    let mut ev = Evidence::new(SourceKind::Log, origin);
    ev.logs.push(Log {
        namespace: None,
        pod: None,
        container: container.map(str::to_string),
        previous: false,
        scan,
        raw: None,
        origin: origin.to_string(),
    });
    Ok(ev)
}

/// Keeps only the objects and logs of one namespace (cluster-scoped objects stay).
pub fn restrict_namespace(ev: &mut Evidence, ns: &str) {
    let keep = |m: &Option<String>| m.as_deref().is_none_or(|x| x == ns);
    ev.pods.retain(|p| keep(&p.metadata.namespace));
    ev.events.retain(|e| keep(&e.metadata.namespace));
    ev.configmaps.retain(|c| keep(&c.metadata.namespace));
    ev.secrets.retain(|c| keep(&c.metadata.namespace));
    ev.services.retain(|c| keep(&c.metadata.namespace));
    ev.deployments.retain(|c| keep(&c.metadata.namespace));
    ev.network_policies.retain(|c| keep(&c.metadata.namespace));
    ev.logs.retain(|l| keep(&l.namespace));
    ev.namespace = Some(ns.to_string());
}

/// Runs the checks and assembles the report.
pub fn build_report(cat: &Catalogue, ev: &Evidence) -> Report {
    build_report_with_probe(cat, ev, None)
}

/// Runs the checks with a probe's findings merged in, and assembles the report (the
/// probe's stages as `database` check lines, its JSON as `probe`).
pub fn build_report_with_probe(
    cat: &Catalogue,
    ev: &Evidence,
    probe: Option<&crate::probe::ProbeResult>,
) -> Report {
    let out = checks::run_with_probe(cat, ev, probe);
    let mut r = Report::new(
        SourceInfo {
            kind: ev.kind,
            origin: ev.origin.clone(),
            namespace: ev.namespace.clone(),
            release: ev.release.clone(),
        },
        out.findings,
    );
    r.settings = ev.settings.clone();
    r.pods = out.pods;
    r.skipped = ev.skipped.clone();
    if let Some(res) = probe {
        crate::probe::attach(&mut r, res);
    }
    r
}

fn list_checks(cat: &Catalogue, format: Format) -> String {
    // By ID, as rule registries list their codes, whatever file a rule lives in.
    let mut rules: Vec<&crate::catalogue::Rule> = cat.rules.iter().collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    match format {
        Format::Json => {
            let v: Vec<serde_json::Value> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "severity": r.severity, "title": r.title,
                        "kind": if r.code { "code" } else { "pattern" },
                        "reference": r.reference,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        Format::Markdown => {
            let mut s = String::from("| id | severity | title |\n|---|---|---|\n");
            for r in &rules {
                s.push_str(&format!("| {} | {} | {} |\n", r.id, r.severity, r.title));
            }
            s
        }
        _ => {
            let mut s = String::new();
            for r in &rules {
                s.push_str(&format!(
                    "{:<8} {:<6} {}\n",
                    r.id,
                    r.severity.to_string(),
                    r.title
                ));
            }
            s
        }
    }
}

/// Whether a path names stdin.
pub fn is_stdin(p: &Path) -> bool {
    p.as_os_str() == "-"
}
