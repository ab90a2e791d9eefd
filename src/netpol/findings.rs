//! The findings of the network reasoning (`checks/netpol.toml`): the database blocked
//! (NET004), DNS over UDP blocked (NET005), only DNS over TCP blocked (NET010), and
//! "cannot tell" (NET011, naming what could not be read). A finding names only the
//! policies that isolate its pods for egress, and carries the safe rule for them.

use super::*;
use crate::catalogue::{ids, RuleId};

/// A finding raised by the network reasoning.
#[derive(Clone, Debug, PartialEq)]
pub struct NetIssue {
    pub id: RuleId,
    /// The pods it names (their names).
    pub pods: Vec<String>,
    /// What is affected, e.g. `pods service=auth,scan of release R in namespace NS`.
    pub subject: String,
    pub evidence: String,
    pub captures: Vec<(String, String)>,
    /// The safe rule, when one can be printed.
    pub remedy: Option<Remedy>,
}

impl NetIssue {
    pub fn capture(&self, name: &str) -> Option<&str> {
        self.captures
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a db-init log line says about the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogCause {
    /// `dial tcp <addr>:<port>: i/o timeout` (NET001).
    DialTimeout { addr: IpAddr, port: u16 },
    /// Go's resolver got no answer from `server` (`lookup H on S:53: read udp …: i/o
    /// timeout`): the signature of blocked DNS egress.
    LookupTimeout {
        server: Option<IpAddr>,
        protocol: Protocol,
    },
    /// The name server answered (`no such host`, `server misbehaving`): not a policy.
    LookupAnswered,
}

/// Go's resolver timing out against a name server (netpol-plan §6).
pub const LOOKUP_TIMEOUT_PATTERN: &str = r"lookup (?P<dbhost>[^\s:]+) on \[?(?P<dnsaddr>[0-9A-Fa-f:.]+?)\]?:(?P<dnsport>\d+): (?:(?:read|write|dial) (?P<dnsproto>udp|tcp)[46]? \S+: )?i/o timeout";
const DIAL_PATTERN: &str = r"dial tcp \[?(?P<addr>[0-9A-Fa-f:.]+?)\]?:(?P<port>\d+): (?:i/o timeout|connect: connection timed out)";

impl LogCause {
    /// Reads the cause from a log line's text (None: not a network line).
    pub fn parse(text: &str) -> Option<LogCause> {
        static RE: std::sync::OnceLock<Option<(regex::Regex, regex::Regex)>> =
            std::sync::OnceLock::new();
        let (lookup, dial) = RE
            .get_or_init(|| {
                Some((
                    regex::Regex::new(LOOKUP_TIMEOUT_PATTERN).ok()?,
                    regex::Regex::new(DIAL_PATTERN).ok()?,
                ))
            })
            .as_ref()?;
        if let Some(c) = lookup.captures(text) {
            let server = c.name("dnsaddr").and_then(|m| m.as_str().parse().ok());
            let protocol = match c.name("dnsproto").map(|m| m.as_str()) {
                Some("tcp") => Protocol::Tcp,
                _ => Protocol::Udp,
            };
            return Some(LogCause::LookupTimeout { server, protocol });
        }
        if text.contains("lookup ") {
            return Some(LogCause::LookupAnswered);
        }
        let c = dial.captures(text)?;
        Some(LogCause::DialTimeout {
            addr: c.name("addr")?.as_str().parse().ok()?,
            port: c.name("port")?.as_str().parse().ok()?,
        })
    }
}

/// What a reason says about the pods: the isolating policies, each with what it
/// allows.
fn isolated_by(policies: &[NetworkPolicy], names: &BTreeSet<String>, facts: &Facts) -> String {
    let ips = service_ips(facts);
    policies
        .iter()
        .filter(|p| names.contains(&policy_name(p)))
        .map(|p| describe_policy(p, &ips))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) fn service_ips(facts: &Facts) -> Vec<(IpAddr, String)> {
    let mut out = Vec::new();
    if let Some(s) = &facts.dns.service {
        for ip in &s.cluster_ips {
            out.push((*ip, s.label()));
        }
    }
    if let Some(svc) = facts.db.as_ref().and_then(|d| d.service.as_ref()) {
        out.push((svc.cluster_ip, format!("{}/{}", svc.namespace, svc.name)));
    }
    out
}

/// `the pods of kube-system/kube-dns (10.244.0.10, 10.244.1.11)`.
pub fn dns_label(facts: &Facts) -> String {
    match &facts.dns.service {
        None => "the cluster DNS (its Service could not be read)".into(),
        Some(s) => match &facts.dns.endpoints {
            Some(e) if !e.is_empty() => format!(
                "the pods of {} ({})",
                s.label(),
                e.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => format!("the pods of {}", s.label()),
        },
    }
}

fn addr_port(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V6(_) => format!("[{ip}]:{port}"),
        IpAddr::V4(_) => format!("{ip}:{port}"),
    }
}

fn pods_words(pods: &[&PodAssessment], release: &str) -> String {
    let names: Vec<String> = pods.iter().map(|a| a.pod.name.clone()).collect();
    let ns = pods.first().map(|a| a.pod.namespace.as_str()).unwrap_or("");
    format!("pods {} of release {release} in {ns}", names.join(", "))
}

struct Cond {
    id: RuleId,
    kind: FlowKind,
    hit: fn(&PodAssessment) -> bool,
}

const CONDS: &[Cond] = &[
    Cond {
        id: ids::NET004,
        kind: FlowKind::Db,
        hit: |a| a.db_value() == Tri::No,
    },
    Cond {
        id: ids::NET005,
        kind: FlowKind::Dns,
        hit: |a| a.dns_udp.value == Tri::No,
    },
    Cond {
        id: ids::NET010,
        kind: FlowKind::Dns,
        hit: |a| a.dns_tcp.value == Tri::No && a.dns_udp.value != Tri::No,
    },
    Cond {
        id: ids::NET011,
        kind: FlowKind::Db,
        hit: |a| a.db_value() == Tri::Unknown,
    },
    Cond {
        id: ids::NET011,
        kind: FlowKind::Dns,
        hit: |a| a.dns_udp.value == Tri::Unknown || a.dns_tcp.value == Tri::Unknown,
    },
];

/// Why a kind is undecided: what could not be read, and a rule that only the
/// Service IP or port matches.
fn missing_for(kind: FlowKind, pods: &[&PodAssessment], facts: &Facts) -> String {
    let mut unread: Vec<String> = Vec::new();
    let pre_only = pods.iter().any(|a| match kind {
        FlowKind::Db => a.db.iter().any(|(_, v)| v.pre_only),
        FlowKind::Dns => a.dns_udp.pre_only || a.dns_tcp.pre_only,
    });
    match kind {
        FlowKind::Dns => unread.extend(facts.dns.missing.iter().cloned()),
        FlowKind::Db => {
            if let Some(svc) = facts.db.as_ref().and_then(|d| d.unread_service.as_ref()) {
                let ns = svc.split('/').next().unwrap_or_default();
                unread.push(format!(
                    "the Service {svc} that db.host names and its endpoints (grant get on services and list on endpointslices in {ns})"
                ));
            }
            if let Some(svc) = facts.db.as_ref().and_then(|d| d.service.as_ref()) {
                if svc.endpoints.is_none() {
                    unread.push(format!(
                        "the endpoints of Service {}/{} (grant get and list on endpointslices in {})",
                        svc.namespace, svc.name, svc.namespace
                    ));
                }
            }
        }
    }
    let mut out = Vec::new();
    if pre_only {
        out.push(
            "a rule allows only the Service IP or the Service port, and whether that counts \
             (before or after address translation) depends on the network plugin"
                .to_string(),
        );
    }
    if !unread.is_empty() {
        out.push(format!("the doctor could not read {}", unread.join("; ")));
    }
    if out.is_empty() {
        out.push("a fact the policies' rules depend on could not be read".into());
    }
    out.join("; ")
}

/// Whether a pod counts for a condition. Preflight (`causes` None): the condition
/// itself. Diagnosis: only the pods whose log shows the failure, for the flow the line
/// names (a dial timeout: the database; a lookup timeout: DNS over its protocol).
fn counts(cond: &Cond, a: &PodAssessment, causes: Option<&BTreeMap<String, LogCause>>) -> bool {
    let Some(causes) = causes else {
        return (cond.hit)(a);
    };
    match causes.get(&a.pod.name) {
        Some(LogCause::DialTimeout { .. }) => cond.kind == FlowKind::Db && (cond.hit)(a),
        Some(LogCause::LookupTimeout { protocol, .. }) => {
            let v = if *protocol == Protocol::Tcp {
                a.dns_tcp.value
            } else {
                a.dns_udp.value
            };
            (cond.id == ids::NET005 && v == Tri::No)
                || (cond.id == ids::NET011 && cond.kind == FlowKind::Dns && v == Tri::Unknown)
        }
        _ => false,
    }
}

/// The issues for a set of assessed pods; `causes` as for diagnosis (see [`explain`]),
/// None before install.
pub fn issues(
    policies: &[NetworkPolicy],
    assessed: &[PodAssessment],
    plan: &Plan,
    facts: &Facts,
    release: &str,
    causes: Option<&BTreeMap<String, LogCause>>,
) -> Vec<NetIssue> {
    let mut out = Vec::new();
    for cond in CONDS {
        let hit: Vec<&PodAssessment> = assessed
            .iter()
            .filter(|a| a.pod.labels.get("release").map(String::as_str) == Some(release))
            .filter(|a| counts(cond, a, causes))
            .collect();
        if hit.is_empty() {
            continue;
        }
        // One issue per printed rule, with the pods it applies to.
        let mut groups: Vec<(Option<&Remedy>, Vec<&PodAssessment>)> = Vec::new();
        for a in hit {
            let r = plan
                .remedies
                .iter()
                .find(|r| r.kind == cond.kind && r.applies_to.contains(&a.pod.name));
            match groups.iter_mut().find(|(g, _)| *g == r) {
                Some((_, v)) => v.push(a),
                None => groups.push((r, vec![a])),
            }
        }
        for (remedy, pods) in groups {
            out.push(issue(cond, policies, &pods, remedy, plan, facts, release));
        }
    }
    out
}

fn issue(
    cond: &Cond,
    policies: &[NetworkPolicy],
    pods: &[&PodAssessment],
    remedy: Option<&Remedy>,
    plan: &Plan,
    facts: &Facts,
    release: &str,
) -> NetIssue {
    let names: BTreeSet<String> = pods
        .iter()
        .flat_map(|a| a.isolating.iter().cloned())
        .collect();
    let policies_cap = names.iter().cloned().collect::<Vec<_>>().join(", ");
    let who = pods_words(pods, release);
    let iso = isolated_by(policies, &names, facts);
    let mut captures = vec![("policies".to_string(), policies_cap)];
    let evidence = match (cond.id, cond.kind) {
        (id, _) if id == ids::NET004 => {
            let port = facts.db.as_ref().map_or(0, |d| d.port);
            let blocked: BTreeSet<IpAddr> = pods
                .iter()
                .flat_map(|a| {
                    a.db.iter()
                        .filter(|(_, v)| v.value == Tri::No)
                        .map(|(ip, _)| *ip)
                })
                .collect();
            let addrs: Vec<String> = blocked
                .iter()
                .map(|ip| match facts.service_ip_owner(*ip) {
                    Some(o) => format!("{} (the Service IP of {o})", addr_port(*ip, port)),
                    None => addr_port(*ip, port),
                })
                .collect();
            captures.push((
                "dbaddr".into(),
                blocked
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
            // An ipBlock only for addresses outside the cluster: a Service's rule
            // names its endpoints or pods instead.
            let external = facts
                .db
                .as_ref()
                .is_some_and(|d| d.service.is_none() && d.unread_service.is_none());
            if external {
                captures.push((
                    "dbcidr".into(),
                    blocked
                        .iter()
                        .map(|ip| host_cidr(*ip))
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
            }
            captures.push(("dbport".into(), port.to_string()));
            format!(
                "egress from {who} to {} TCP is not allowed by any egress rule. The pods are isolated for egress by: {iso}",
                addrs.join(", ")
            )
        }
        (id, _) if id == ids::NET005 => {
            let tcp_too = pods.iter().any(|a| a.dns_tcp.value == Tri::No);
            let protos = if tcp_too {
                "UDP 53 (and TCP 53)"
            } else {
                "UDP 53"
            };
            let partial = partial_dns(pods, facts, Protocol::Udp);
            captures.push(("dns".into(), dns_label(facts)));
            captures.push(("protocols".into(), protos.into()));
            format!(
                "DNS over {protos} from {who} to {}{partial} is not allowed by any egress rule. The pods are isolated for egress by: {iso}",
                dns_label(facts)
            )
        }
        (id, _) if id == ids::NET010 => {
            let partial = partial_dns(pods, facts, Protocol::Tcp);
            captures.push(("dns".into(), dns_label(facts)));
            format!(
                "DNS over TCP 53 from {who} to {}{partial} is not allowed by any egress rule (UDP 53 is). The pods are isolated for egress by: {iso}",
                dns_label(facts)
            )
        }
        (_, kind) => {
            let flows = match kind {
                FlowKind::Db => {
                    let d = facts.db.as_ref();
                    format!(
                        "TCP to the database ({})",
                        d.map(|d| d
                            .ips
                            .iter()
                            .map(|ip| addr_port(*ip, d.port))
                            .collect::<Vec<_>>()
                            .join(", "))
                            .unwrap_or_default()
                    )
                }
                FlowKind::Dns => {
                    let udp = pods.iter().any(|a| a.dns_udp.value == Tri::Unknown);
                    let tcp = pods.iter().any(|a| a.dns_tcp.value == Tri::Unknown);
                    let p = match (udp, tcp) {
                        (true, true) => "UDP and TCP 53",
                        (true, false) => "UDP 53",
                        _ => "TCP 53",
                    };
                    format!("DNS over {p} to {}", dns_label(facts))
                }
            };
            let missing = missing_for(kind, pods, facts);
            captures.push(("flows".into(), flows.clone()));
            captures.push(("missing".into(), missing.clone()));
            format!(
                "cannot tell whether {flows} from {who} is allowed: {missing}. The pods are isolated for egress by: {iso}"
            )
        }
    };
    if let Some(r) = remedy {
        captures.push(("allow_cmd".into(), r.rule.apply_one_line.clone()));
        captures.push(("applies".into(), r.applies_to.join(", ")));
        captures.push(("via".into(), format!("{}/{}", pods[0].pod.namespace, r.via)));
        if let Some(a) = &r.assumption {
            captures.push(("assumption".into(), a.clone()));
        }
    } else if let Some((_, why)) = plan.unavailable.iter().find(|(k, _)| *k == cond.kind) {
        captures.push(("unavailable".into(), why.clone()));
    }
    NetIssue {
        id: cond.id,
        pods: pods.iter().map(|a| a.pod.name.clone()).collect(),
        subject: who,
        evidence,
        captures,
        remedy: remedy.cloned(),
    }
}

/// `` (all endpoints blocked) or ` (blocked to 1 of 2 DNS pods: 10.244.1.11)`.
fn partial_dns(pods: &[&PodAssessment], facts: &Facts, protocol: Protocol) -> String {
    let Some(eps) = facts.dns.endpoints.as_ref().filter(|e| e.len() > 1) else {
        return String::new();
    };
    let Some(a) = pods.first() else {
        return String::new();
    };
    let v = if protocol == Protocol::Udp {
        &a.dns_udp
    } else {
        &a.dns_tcp
    };
    let blocked: Vec<String> = eps
        .iter()
        .zip(&v.targets)
        .filter(|(_, t)| **t == Tri::No)
        .map(|(ip, _)| ip.to_string())
        .collect();
    if blocked.len() == eps.len() || blocked.is_empty() || v.targets.len() != eps.len() {
        return String::new();
    }
    format!(
        " (blocked to {} of {} DNS pods: {}; lookups fail at random)",
        blocked.len(),
        eps.len(),
        blocked.join(", ")
    )
}

/// Diagnosis: the network issues that explain db-init log lines (`causes`, by pod
/// name). The policies are evaluated for every pod (the remedies cover all blocked
/// pods of the release); only the pods whose line shows the failure are named. A
/// lookup that got an answer (`no such host`) is never put on a policy.
pub fn explain(
    policies: &[NetworkPolicy],
    pods: &[SourcePod],
    facts: &Facts,
    causes: &BTreeMap<String, LogCause>,
    namespace: &str,
    release: &str,
) -> Vec<NetIssue> {
    let servers: BTreeMap<String, IpAddr> = causes
        .iter()
        .filter_map(|(p, c)| match c {
            LogCause::LookupTimeout {
                server: Some(s), ..
            } => Some((p.clone(), *s)),
            _ => None,
        })
        .collect();
    let dials: BTreeSet<(IpAddr, u16)> = causes
        .values()
        .filter_map(|c| match c {
            LogCause::DialTimeout { addr, port } => Some((*addr, *port)),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    // One evaluation per address the logs dialled (usually one).
    let groups: Vec<Option<(IpAddr, u16)>> = if dials.is_empty() {
        vec![None]
    } else {
        dials.into_iter().map(Some).collect()
    };
    for g in groups {
        let mut f = facts.clone();
        let mut these = causes.clone();
        if let Some((addr, port)) = g {
            let old = facts.db.as_ref();
            f.db = Some(DbFacts {
                host: old.map(|d| d.host.clone()).unwrap_or_default(),
                ips: vec![addr],
                port,
                service: old
                    .and_then(|d| d.service.clone())
                    .filter(|s| s.cluster_ip == addr),
                unread_service: old.and_then(|d| d.unread_service.clone()),
            });
            these.retain(|_, c| match c {
                LogCause::DialTimeout { addr: a, port: p } => (*a, *p) == (addr, port),
                _ => out.is_empty(),
            });
        } else {
            f.db = None;
        }
        let assessed = assess(policies, pods, &f, &servers);
        let plan = plan(policies, &assessed, &f, namespace, release);
        out.extend(issues(
            policies,
            &assessed,
            &plan,
            &f,
            release,
            Some(&these),
        ));
    }
    out
}

/// Adds network issues to a finding set, one hit per pod. `origin` is where the
/// policies came from; `subject` overrides the pods as subjects (e.g. the pod that
/// logged the timeout).
pub fn add_findings(
    cat: &Catalogue,
    set: &mut FindingSet,
    issues: &[NetIssue],
    origin: Origin,
    subject: Option<Subject>,
    context: &BTreeMap<String, String>,
) {
    for i in issues {
        let Some(rule) = cat.index_of(i.id.as_str()) else {
            continue;
        };
        let subject = subject
            .clone()
            .unwrap_or_else(|| Subject::Other(i.subject.clone()));
        set.add(Hit::single(
            rule,
            i.captures.clone(),
            Some(subject),
            origin,
            i.evidence.clone(),
            context.clone(),
        ));
    }
}
