//! The `network` group: the namespace's and the chart's NetworkPolicies evaluated
//! for the chart's database pods against the cluster DNS and the database as read
//! (NET004 database, NET005 DNS over UDP, NET010 DNS over TCP only, NET011 cannot
//! tell), with the safe rule for exactly the pods already isolated.

use super::*;
use crate::netpol::{FlowKind, Tri};
/// The database's addresses: the IP itself, or db.host resolved under `timeout`.
pub(crate) async fn resolve(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<IpAddr>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    match tokio::time::timeout(timeout, tokio::net::lookup_host((bare, port))).await {
        Err(_) => Err(format!("{bare} did not resolve within {timeout:?}")),
        Ok(Err(e)) => Err(format!("{bare} does not resolve: {e}")),
        Ok(Ok(addrs)) => {
            let set: BTreeSet<IpAddr> = addrs.map(|a| a.ip()).collect();
            Ok(set.into_iter().collect())
        }
    }
}

pub(crate) async fn network_group(
    run: &mut Run<'_>,
    vals: &Values,
    s: &DbSettings,
    cluster: Option<&ClusterFacts>,
    timeout: Duration,
) {
    let Some((existing, c)) = cluster.and_then(|c| c.policies.as_ref().map(|p| (p, c))) else {
        run.row(
            "network",
            "network policies",
            "skip",
            "the namespace's NetworkPolicies could not be read".into(),
            None,
        );
        return;
    };
    let (ns, release) = (run.namespace.clone(), run.release.clone());
    let mut policies = existing.clone();
    let chart = netpol::chart_policies(vals, &ns, &release);
    let chart_note = if chart.is_empty() {
        "the chart's policies are off: networkPolicy.enabled is false"
    } else {
        "with the chart's own policies"
    };
    policies.extend(chart);
    let pods: Vec<SourcePod> = DB_SERVICES
        .iter()
        .map(|svc| SourcePod::chart_pod(&ns, &release, svc))
        .collect();
    let ctx = run.context.clone();
    let objects = netpol::Objects {
        services: &c.dns.services,
        endpoint_slices: &c.dns.endpoint_slices,
        endpoints: &c.dns.endpoints,
        pods: &c.dns.pods,
        namespaces: &c.dns.namespaces,
    };
    let namespaces = netpol::Namespaces::from_objects(&c.dns.namespaces);
    let t0 = Instant::now();
    let db = if s.external {
        match resolve(&s.host, s.port, timeout).await {
            Ok(ips) if !ips.is_empty() => Ok(netpol::db_facts(&objects, &s.host, ips, s.port)),
            r => Err(r
                .err()
                .unwrap_or_else(|| format!("{} has no address", s.host))),
        }
    } else {
        Err(String::new())
    };
    let facts = netpol::Facts {
        dns: netpol::dns_facts(&objects, &namespaces, None),
        db: db.as_ref().ok().cloned(),
        namespaces: namespaces.clone(),
    };
    let assessed = netpol::assess(&policies, &pods, &facts, &BTreeMap::new());
    let plan = netpol::plan(&policies, &assessed, &facts, &ns, &release);
    let issues = netpol::issues(&policies, &assessed, &plan, &facts, &release, None);

    // DNS first: the pods need it to find db.host.
    let dns_dest = match &facts.dns.service {
        Some(d) => {
            let n = facts.dns.endpoints.as_ref().map_or(0, Vec::len);
            format!(
                "DNS to {}{}",
                d.label(),
                if n > 0 {
                    format!(" ({n} pods, UDP and TCP 53)")
                } else {
                    " (UDP and TCP 53)".into()
                }
            )
        }
        None => "DNS (UDP and TCP 53)".into(),
    };
    let (result, detail) = row(&assessed, &plan, FlowKind::Dns, &dns_dest, chart_note);
    run.row("network", "dns egress", result, detail, Some(t0));

    match &db {
        Err(why) if why.is_empty() => run.row(
            "network",
            "database egress",
            "skip",
            "built-in database (db.host is empty)".into(),
            None,
        ),
        Err(why) => run.row(
            "network",
            "database egress",
            "skip",
            format!("cannot evaluate: {why} from here"),
            Some(t0),
        ),
        Ok(d) => {
            let addrs = d
                .ips
                .iter()
                .map(|ip| match facts.service_ip_owner(*ip) {
                    Some(o) => format!("{ip} (the Service IP of {o})"),
                    None => ip.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            let dest = format!("TCP {} to {addrs}", d.port);
            let (result, detail) = row(&assessed, &plan, FlowKind::Db, &dest, chart_note);
            run.row("network", "database egress", result, detail, Some(t0));
        }
    }
    netpol::add_findings(run.cat, &mut run.set, &issues, Origin::Cluster, None, &ctx);
}

/// A row for a kind: pass (`… is allowed; <note>`), warn (cannot tell, or only DNS
/// over TCP blocked) or fail (`blocked for 2 of 6 pods (auth, scan); isolated by …;
/// allow it with:` and each rule with the pods it applies to).
fn row(
    assessed: &[netpol::PodAssessment],
    plan: &netpol::Plan,
    kind: FlowKind,
    dest: &str,
    note: &str,
) -> (&'static str, String) {
    let bad: Vec<&netpol::PodAssessment> = assessed
        .iter()
        .filter(|a| a.value(kind) != Tri::Yes)
        .collect();
    if bad.is_empty() {
        return ("pass", format!("{dest} is allowed; {note}"));
    }
    let hard = |a: &&netpol::PodAssessment| match kind {
        FlowKind::Db => a.db_value() == Tri::No,
        FlowKind::Dns => a.dns_udp.value == Tri::No,
    };
    let result = if bad.iter().any(hard) { "fail" } else { "warn" };
    let what = match (result, kind) {
        ("fail", _) => "blocked",
        (_, FlowKind::Dns) if bad.iter().any(|a| a.dns_tcp.value == Tri::No) => "blocked over TCP",
        _ => "cannot tell",
    };
    let names: Vec<&str> = bad.iter().map(|a| a.pod.name.as_str()).collect();
    let iso: BTreeSet<&str> = bad
        .iter()
        .flat_map(|a| a.isolating.iter().map(String::as_str))
        .collect();
    let mut detail = format!(
        "{dest}: {what} for {} of {} pods ({}); isolated by {}",
        bad.len(),
        assessed.len(),
        names.join(", "),
        iso.into_iter().collect::<Vec<_>>().join(", ")
    );
    let rules: Vec<&netpol::Remedy> = plan.remedies.iter().filter(|r| r.kind == kind).collect();
    if rules.is_empty() {
        if let Some((_, why)) = plan.unavailable.iter().find(|(k, _)| *k == kind) {
            detail.push_str(&format!("; no rule can be printed: {why}"));
        }
    } else {
        detail.push_str("; allow it with:");
        for r in rules {
            detail.push_str(&format!(
                "\n# applies to {} (already isolated for egress by {})\n{}",
                r.applies_to.join(", "),
                r.via,
                r.rule.apply
            ));
        }
    }
    (result, detail)
}
