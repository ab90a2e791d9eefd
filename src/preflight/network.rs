//! The `network` group: the namespace's and the chart's NetworkPolicies evaluated
//! for the chart's database pods (NET004 egress, NET005 DNS).

use super::*;

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
    let Some(existing) = cluster.and_then(|c| c.policies.as_ref()) else {
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
        "the chart's policies are off (networkPolicy.enabled: false)"
    } else {
        "with the chart's own policies"
    };
    policies.extend(chart);
    let pods: Vec<PodRef> = DB_SERVICES
        .iter()
        .map(|svc| PodRef::chart_pod(&ns, &release, svc))
        .collect();
    let ctx = run.context.clone();

    // DNS first: the pods need it to find db.host.
    let t0 = Instant::now();
    let mut issues = Vec::new();
    let dns_peer = Peer::kube_dns();
    for p in &pods {
        issues.extend(netpol::check_dns(&policies, p, &release, &dns_peer));
    }
    match issues.first() {
        None => run.row(
            "network",
            "dns egress",
            "pass",
            format!("DNS (UDP/TCP 53) to {dns_peer} is allowed ({chart_note})"),
            Some(t0),
        ),
        Some(i) => {
            let detail = format!(
                "blocked by {} for {} of {} pods; allow it with:\n{}",
                i.capture("policies").unwrap_or("?"),
                issues.len(),
                pods.len(),
                i.allow.apply
            );
            run.row("network", "dns egress", "fail", detail, Some(t0));
        }
    }
    netpol::add_findings(run.cat, &mut run.set, &issues, Origin::Cluster, None, &ctx);

    if !s.external {
        run.row(
            "network",
            "database egress",
            "skip",
            "built-in database (db.host is empty)".into(),
            None,
        );
        return;
    }
    let t0 = Instant::now();
    let ips = match resolve(&s.host, s.port, timeout).await {
        Ok(ips) if !ips.is_empty() => ips,
        r => {
            let why = r
                .err()
                .unwrap_or_else(|| format!("{} has no address", s.host));
            run.row(
                "network",
                "database egress",
                "skip",
                format!("cannot evaluate: {why} from here"),
                Some(t0),
            );
            return;
        }
    };
    let mut issues = Vec::new();
    for p in &pods {
        for ip in &ips {
            issues.extend(netpol::check_db_egress(&policies, p, &release, *ip, s.port));
        }
    }
    let addrs = ips
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    match issues.first() {
        None => run.row(
            "network",
            "database egress",
            "pass",
            format!("TCP {} to {addrs} is allowed ({chart_note})", s.port),
            Some(t0),
        ),
        Some(i) => {
            let detail = format!(
                "TCP {} to {} is blocked by {} for {} of {} pods; allow it with:\n{}",
                s.port,
                i.capture("dbaddr").unwrap_or("?"),
                i.capture("policies").unwrap_or("?"),
                issues.len() / ips.len().max(1),
                pods.len(),
                i.allow.apply
            );
            run.row("network", "database egress", "fail", detail, Some(t0));
        }
    }
    netpol::add_findings(run.cat, &mut run.set, &issues, Origin::Cluster, None, &ctx);
}
