//! `kubectl dssc-doctor --watch`: follows the install as it comes up. The namespace's
//! pods and events are watched (kube's `watcher`: list, then watch with bookmarks,
//! resuming from the last resourceVersion after a dropped connection, relisting after
//! 410 Expired); on every change the install is read again and each finding not seen
//! before is printed at once, pod progress goes to stderr. Ends with exit 0 once every
//! Smart Check pod is Ready, 3 once a root cause (an error finding) has held for
//! `--settle` with no pod progressing, and at `--watch-timeout` with the report's code
//! (3 with errors, else 4: not every pod came up).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use futures::{stream, StreamExt};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::Api;
use kube::runtime::{watcher, WatchStreamExt};
use kube::Client;

use crate::analysis::{self, scan::Scanner};
use crate::catalogue::{Catalogue, Severity};
use crate::cli::{Global, ValuesArgs};
use crate::model::evidence::Evidence;
use crate::model::findings::Finding;
use crate::report::{Format, Report};
use crate::sources::cluster_error::{self, ClusterError};

/// What a watch stream said.
enum Tick {
    Changed,
    /// 401 on a (re)list or watch: the credentials expired meanwhile.
    Unauthorized,
    /// 403 on the pods' list: nothing can be followed.
    Forbidden(String),
}

fn tick<K>(r: Result<watcher::Event<K>, watcher::Error>) -> Tick {
    use watcher::Error as E;
    match r {
        Ok(_) => Tick::Changed,
        Err(
            E::InitialListFailed(kube::Error::Api(s)) | E::WatchStartFailed(kube::Error::Api(s)),
        ) if s.code == 401 => Tick::Unauthorized,
        Err(E::InitialListFailed(kube::Error::Api(s))) if s.code == 403 => {
            Tick::Forbidden(s.message.clone())
        }
        // Connection trouble, 410 Expired: the watcher relists or resumes.
        Err(_) => Tick::Changed,
    }
}

/// How far a pod has come: ready containers, finished init containers, running.
fn progress(p: &Pod) -> (usize, usize, bool) {
    let st = p.status.as_ref();
    let ready = st
        .and_then(|s| s.container_statuses.as_ref())
        .map_or(0, |cs| cs.iter().filter(|c| c.ready).count());
    let init_done = st
        .and_then(|s| s.init_container_statuses.as_ref())
        .map_or(0, |cs| {
            cs.iter()
                .filter(|c| {
                    c.state
                        .as_ref()
                        .and_then(|s| s.terminated.as_ref())
                        .is_some_and(|t| t.exit_code == 0)
                })
                .count()
        });
    let running = st.and_then(|s| s.phase.as_deref()) == Some("Running");
    (ready, init_done, running)
}

fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn key(f: &Finding) -> String {
    f.id.clone()
}

/// A finding as it appears: one block, for a terminal.
fn block(f: &Finding) -> String {
    let sev = match f.severity {
        Severity::Error => "error",
        Severity::Warn => "warn",
        Severity::Info => "info",
    };
    let mut o = format!(
        "[{}] {sev}[{}] {}\n",
        chrono::Utc::now().format("%H:%M:%S"),
        f.id,
        f.title
    );
    if !f.subjects.is_empty() {
        o.push_str(&format!("  affects: {}\n", f.subjects.join(", ")));
    }
    for e in f.evidence.iter().take(2) {
        o.push_str(&format!("  {}: {}\n", e.source.as_str(), e.text));
    }
    for line in f.fix.iter().take(3) {
        o.push_str(&format!("  fix: {line}\n"));
    }
    o
}

pub async fn run(g: &Global, v: &ValuesArgs, cat: &Catalogue) -> anyhow::Result<i32> {
    let values = super::diagnose::load_values(v)?;
    let mut opts = super::cluster_options(g, false);
    opts.progress = false;
    let (target, choice) = super::diagnose::connect(&opts).await?;
    let ns = choice.namespace.clone();
    let who = target.identity.clone();
    let scanner = Scanner::new(cat);
    // Watches are long requests: no read timeout on their client (the watcher has its
    // own idle timeout: the server's timeoutSeconds plus a margin).
    let mut wcfg = target.config.clone();
    wcfg.read_timeout = None;
    let wclient = Client::try_from(wcfg).map_err(|e| match &e {
        kube::Error::Auth(a) => anyhow::Error::from(cluster_error::auth_plugin(&who, a)),
        _ => anyhow::anyhow!("watch client: {e}"),
    })?;
    let cfg = watcher::Config::default().timeout(60);
    let pods = watcher(Api::<Pod>::namespaced(wclient.clone(), &ns), cfg.clone())
        .default_backoff()
        .map(tick);
    // Events the account may not list are a DOC001 of the collection, not the end of
    // the watch (the pods still tell progress).
    let events = watcher(Api::<Event>::namespaced(wclient, &ns), cfg)
        .default_backoff()
        .map(|r| match tick(r) {
            Tick::Forbidden(_) => Tick::Changed,
            t => t,
        });
    let mut changes = Box::pin(stream::select(pods.boxed(), events.boxed()));

    let start = Instant::now();
    let deadline = start + g.watch.watch_timeout;
    let settle = g.watch.settle;
    let json = g.format() == Format::Json;
    let mut printed: BTreeSet<String> = BTreeSet::new();
    let mut rows: BTreeMap<String, String> = BTreeMap::new();
    let mut best: BTreeMap<String, (usize, usize, bool)> = BTreeMap::new();
    let mut last_progress = start;
    let mut error_since: Option<Instant> = None;
    let mut first = true;
    loop {
        let got = crate::sources::live::collect_as(
            &target.client,
            &ns,
            &target.origin,
            &who,
            &opts,
            cat,
            &scanner,
        )
        .await;
        let mut ev: Evidence = match got {
            Ok(ev) => ev,
            // Once the watch runs, a server that goes away for a moment (a restart, a
            // load balancer) is waited for, up to --watch-timeout; 401 still ends it.
            Err(e)
                if !first
                    && Instant::now() < deadline
                    && e.downcast_ref::<ClusterError>()
                        .is_some_and(|c| c.kind == "unreachable") =>
            {
                eprintln!("warning: {e}; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        first = false;
        if let Some((what, why)) = &choice.skipped {
            ev.skip(what.clone(), why.clone());
        }
        if let Some(values) = &values {
            crate::settings::apply_values(&mut ev, values);
        }
        let report = analysis::build_report_with_probe(cat, &ev, None);
        let now = Instant::now();
        // Pod progress, on stderr.
        for p in &report.pods {
            let row = format!("{} {} restarts {}", p.ready, p.status, p.restarts);
            if rows.get(&p.name) != Some(&row) {
                eprintln!(
                    "[{}] pod {}: {row}",
                    chrono::Utc::now().format("%H:%M:%S"),
                    p.name
                );
                rows.insert(p.name.clone(), row);
            }
        }
        let dssc = ev.dssc_pods();
        for p in &dssc {
            let name = p.metadata.name.clone().unwrap_or_default();
            let pr = progress(p);
            match best.get(&name) {
                Some(b) if pr <= *b => {}
                _ => {
                    best.insert(name, pr);
                    last_progress = now;
                }
            }
        }
        // New findings, the moment their evidence is there.
        for f in &report.findings {
            if printed.insert(key(f)) && !json {
                super::emit(&block(f))?;
            }
        }
        let errors = report
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error);
        error_since = if errors {
            Some(error_since.unwrap_or(now))
        } else {
            None
        };
        if !dssc.is_empty() && dssc.iter().all(|p| is_ready(p)) {
            eprintln!("every Smart Check pod is Ready ({})", dssc.len());
            return finish(g, &report, 0, json);
        }
        if let Some(since) = error_since {
            let held = now.duration_since(since.max(last_progress));
            if held >= settle {
                eprintln!(
                    "a root cause has held for {}s with no pod progressing",
                    held.as_secs()
                );
                return finish(g, &report, 3, json);
            }
        }
        if now >= deadline {
            eprintln!("--watch-timeout reached before every Smart Check pod was Ready");
            let code = if errors { 3 } else { report.exit_code().max(4) };
            return finish(g, &report, code, json);
        }
        // Wait for a change (then let a burst of them settle), the settle check, or the
        // deadline.
        let check = error_since
            .map(|s| s.max(last_progress) + settle)
            .unwrap_or(deadline)
            .min(deadline);
        tokio::select! {
            t = changes.next() => match drain(t, &mut changes).await {
                Some(Tick::Unauthorized) => return Err(cluster_error::unauthorized(&who).into()),
                Some(Tick::Forbidden(why)) => {
                    eprintln!("cannot watch pods in namespace {ns}: {why}");
                    let code = match report.exit_code() { 0 => 4, c => c };
                    return finish(g, &report, code, json);
                }
                Some(Tick::Changed) => {}
                None => return Err(ClusterError::new("unreachable", &who, "the watch ended").into()),
            },
            _ = tokio::time::sleep_until(check.into()) => {}
        }
    }
}

/// After a change, lets a burst of them settle (200 ms without news); an error among
/// them wins over plain changes.
async fn drain<S>(first: Option<Tick>, changes: &mut S) -> Option<Tick>
where
    S: futures::Stream<Item = Tick> + Unpin,
{
    let mut got = first?;
    if !matches!(got, Tick::Changed) {
        return Some(got);
    }
    let quiet = tokio::time::sleep(std::time::Duration::from_millis(200));
    tokio::pin!(quiet);
    loop {
        tokio::select! {
            _ = &mut quiet => return Some(got),
            more = changes.next() => match more {
                None => return Some(got),
                Some(Tick::Changed) => {}
                Some(t) => {
                    got = t;
                    return Some(got);
                }
            },
        }
    }
}

/// The end of a watch: the whole report as JSON, or a summary line.
fn finish(g: &Global, report: &Report, code: i32, json: bool) -> anyhow::Result<i32> {
    if json {
        super::emit(&report.render(g.format()))?;
    } else {
        let errors = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.id.as_str())
            .collect::<Vec<_>>();
        let line = if errors.is_empty() {
            format!(
                "{} of {} pods ready\n",
                report.pods.iter().filter(|p| p.ok).count(),
                report.pods.len()
            )
        } else {
            format!("root cause: {}\n", errors.join(", "))
        };
        super::emit(&line)?;
    }
    Ok(code)
}
