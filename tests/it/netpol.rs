//! NetworkPolicy reasoning end to end on bundles (`analyze`): the db-init line of Go's
//! resolver timing out against the cluster DNS, produced by a real Go program whose
//! resolver asks a loopback UDP socket that never answers, is NET003 with NET005 when
//! the policies block DNS, NET011 when the doctor cannot tell, and no NetworkPolicy
//! finding when they allow it or when the name server answered (`no such host`).
//! Bundles carry the DNS Service and EndpointSlices and round-trip through `bundle`.

use crate::support::cli::copy_tree;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::support::ci;
use crate::support::cli::{run, serve_bin, show, testdata, BIN};

const NS: &str = "trendmicro";
const AUTH: &str = "auth-7d78dccff7-nfh97";

const RESOLVER: &str = r#"package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

// Holds a UDP socket on os.Args[1] (the name server of this network namespace's
// resolv.conf) that never answers, then dials the database by name as db-init does,
// with Go's own resolver.
func main() {
	silent, err := net.ListenPacket("udp", os.Args[1])
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(2)
	}
	defer silent.Close()
	net.DefaultResolver.PreferGo = true
	d := net.Dialer{Timeout: 20 * time.Second}
	_, err = d.Dial("tcp", "database.example.com:5432")
	fmt.Println(err)
}
"#;

/// Runs `ip ARGS`.
fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A network namespace whose only interface is `lo`, carrying the DNS Service IP, and
/// whose resolv.conf names that IP (one attempt of one second).
struct Netns {
    name: String,
}

impl Netns {
    fn new(dns_ip: &str) -> Result<Netns, String> {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("dssc-np-{}-{n}", std::process::id());
        if !ip(&["netns", "add", &name]) {
            return Err("ip netns add failed (needs root and iproute2)".into());
        }
        let ns = Netns { name };
        let etc = Path::new("/etc/netns").join(&ns.name);
        std::fs::create_dir_all(&etc).map_err(|e| e.to_string())?;
        std::fs::write(
            etc.join("resolv.conf"),
            format!("nameserver {dns_ip}\noptions timeout:1 attempts:1\n"),
        )
        .map_err(|e| e.to_string())?;
        let prefix = if dns_ip.contains(':') { "128" } else { "32" };
        let exec = |a: &[&str]| {
            let mut v = vec!["netns", "exec", &ns.name, "ip"];
            v.extend_from_slice(a);
            ip(&v)
        };
        if !exec(&["link", "set", "lo", "up"])
            || !exec(&[
                "addr",
                "add",
                &format!("{dns_ip}/{prefix}"),
                "dev",
                "lo",
                "nodad",
            ])
        {
            return Err("cannot configure lo in the namespace".into());
        }
        Ok(ns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        ip(&["netns", "del", &self.name]);
        let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(&self.name));
    }
}

/// The Go toolchain and network namespaces (CI=true fails without them).
fn go() -> Option<PathBuf> {
    let p = ["/usr/lib/go/bin/go", "/usr/local/go/bin/go"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    let root = unsafe { libc::geteuid() } == 0;
    let ok = ci::require("the Go toolchain (/usr/lib/go/bin/go)", p.is_some())
        && ci::require(
            "root and iproute2 for a network namespace",
            root && ip(&["-V"]),
        );
    ok.then(|| p.unwrap())
}

/// The error line of Go's resolver when the cluster DNS at `dns_ip` never answers,
/// printed by a real Go program in a network namespace whose resolv.conf names it.
fn resolver_timeout_line(go: &Path, dir: &Path, dns_ip: &str) -> String {
    let src = dir.join("resolver.go");
    let bin = dir.join("resolver");
    if !bin.exists() {
        std::fs::write(&src, RESOLVER).unwrap();
        let o = Command::new(go)
            .args(["build", "-o"])
            .arg(&bin)
            .arg(&src)
            .env("GOCACHE", dir.join("gocache"))
            .env("GOPATH", dir.join("gopath"))
            .env("GO111MODULE", "off")
            .env("CGO_ENABLED", "0")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let ns = Netns::new(dns_ip).unwrap();
    let listen = if dns_ip.contains(':') {
        format!("[{dns_ip}]:53")
    } else {
        format!("{dns_ip}:53")
    };
    let o = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(&bin)
        .arg(&listen)
        .output()
        .unwrap();
    let line = String::from_utf8(o.stdout).unwrap().trim().to_string();
    assert!(
        line.starts_with(&format!(
            "dial tcp: lookup database.example.com on {listen}: read udp "
        )),
        "{line}"
    );
    assert!(
        line.ends_with(&format!("->{listen}: i/o timeout")),
        "{line}"
    );
    line
}

fn list(kind: &str, items: Vec<Value>) -> String {
    json!({"kind": format!("{kind}List"), "apiVersion": "v1", "metadata": {}, "items": items})
        .to_string()
}

fn deny() -> Value {
    json!({"metadata": {"name": "default-deny-egress", "namespace": NS},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"]}})
}

fn allow_dns() -> Value {
    json!({"metadata": {"name": "allow-dns", "namespace": NS},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}})
}

/// The net001 bundle with the auth pod's db-init log replaced by `line` (the other
/// pods' logs removed), these policies, and kube-dns at `dns_ip` with endpoints
/// `eps` (None: no EndpointSlice file).
fn bundle(
    dir: &Path,
    line: &str,
    policies: Vec<Value>,
    dns_ip: &str,
    eps: Option<&[&str]>,
) -> PathBuf {
    let b = dir.join("b");
    let _ = std::fs::remove_dir_all(&b);
    copy_tree(&testdata("net001"), &b);
    let logs = b.join("cluster-resources/pods/logs").join(NS);
    for e in std::fs::read_dir(&logs).unwrap() {
        let e = e.unwrap();
        if e.file_name() != AUTH {
            std::fs::remove_dir_all(e.path()).unwrap();
        }
    }
    let entry = json!({"component": "db-init", "error": line,
        "message": "could not get database connection", "severity": "info",
        "timestamp": "2026-11-23T02:10:20Z"});
    std::fs::write(logs.join(AUTH).join("db-init.log"), format!("{entry}\n")).unwrap();
    let cr = b.join("cluster-resources");
    std::fs::create_dir_all(cr.join("network-policy")).unwrap();
    std::fs::write(
        cr.join(format!("network-policy/{NS}.json")),
        list("NetworkPolicy", policies),
    )
    .unwrap();
    let family = if dns_ip.contains(':') { "IPv6" } else { "IPv4" };
    std::fs::write(
        cr.join("services/kube-system.json"),
        list(
            "Service",
            vec![json!({"metadata": {"name": "kube-dns", "namespace": "kube-system"},
                "spec": {"selector": {"k8s-app": "kube-dns"}, "clusterIP": dns_ip,
                    "ports": [{"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 53},
                              {"name": "dns-tcp", "protocol": "TCP", "port": 53, "targetPort": 53}]}})],
        ),
    )
    .unwrap();
    if let Some(eps) = eps {
        std::fs::create_dir_all(cr.join("endpointslices")).unwrap();
        std::fs::write(
            cr.join("endpointslices/kube-system.json"),
            list(
                "EndpointSlice",
                vec![json!({"metadata": {"name": "kube-dns-x1", "namespace": "kube-system",
                        "labels": {"kubernetes.io/service-name": "kube-dns"}},
                    "addressType": family,
                    "endpoints": eps.iter().map(|a| json!({"addresses": [a], "conditions": {"ready": true}})).collect::<Vec<_>>(),
                    "ports": [{"name": "dns", "protocol": "UDP", "port": 53},
                              {"name": "dns-tcp", "protocol": "TCP", "port": 53}]})],
            ),
        )
        .unwrap();
    }
    b
}

fn analyze(b: &Path) -> (i32, Value) {
    let o = run(&["analyze", "-o", "json", b.to_str().unwrap()]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", show(&o)));
    (o.status.code().unwrap_or(-1), v)
}

fn ids(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .filter(|i| i.starts_with("NET"))
        .collect()
}

fn finding<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id}: {r}"))
}

#[test]
fn go_resolver_timeout_is_blocked_dns_when_the_policies_block_it() {
    let Some(go) = go() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (dns_ip, eps) in [
        ("10.96.0.10", ["10.244.0.10", "10.244.1.11"]),
        ("fd00:10:96::a", ["fd00:10:244::a", "fd00:10:244:1::b"]),
    ] {
        let line = resolver_timeout_line(&go, dir.path(), dns_ip);
        // Default deny: NET003 explained by NET005, on the pod that logged it.
        let b = bundle(dir.path(), &line, vec![deny()], dns_ip, Some(&eps));
        let (code, r) = analyze(&b);
        assert_eq!(code, 3, "{r}");
        assert_eq!(ids(&r), ["NET003", "NET005"], "{line}\n{r}");
        // -n reads the DNS Service and its EndpointSlices in kube-system all the same.
        let o = run(&["analyze", "-o", "json", "-n", NS, b.to_str().unwrap()]);
        let with_n: Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", show(&o)));
        assert_eq!(ids(&with_n), ["NET003", "NET005"], "{with_n}");
        assert_eq!(
            finding(&with_n, "NET005")["fix"],
            finding(&r, "NET005")["fix"]
        );
        let f = finding(&r, "NET005");
        assert_eq!(f["subjects"], json!([format!("{NS}/{AUTH}")]), "{f}");
        let text = f.to_string();
        assert!(
            text.contains("trendmicro/default-deny-egress, which allows no egress"),
            "{f}"
        );
        assert!(
            text.contains(&format!(
                "the pods of kube-system/kube-dns ({}, {})",
                eps[0], eps[1]
            )),
            "{f}"
        );
        assert!(
            text.contains(
                r#"\"podSelector\":{\"matchLabels\":{\"release\":\"deepsecurity-smartcheck\"}}"#
            ),
            "{f}"
        );

        // The policies allow DNS: the timeout is not theirs.
        let b = bundle(
            dir.path(),
            &line,
            vec![deny(), allow_dns()],
            dns_ip,
            Some(&eps),
        );
        assert_eq!(ids(&analyze(&b).1), ["NET003"]);

        // DNS allowed to 0.0.0.0/0 (::/0) and the endpoints not in the bundle: cannot tell.
        let any = if dns_ip.contains(':') {
            "::/0"
        } else {
            "0.0.0.0/0"
        };
        let by_ip = json!({"metadata": {"name": "dns-by-ip", "namespace": NS},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": any}}],
                            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}});
        let b = bundle(dir.path(), &line, vec![deny(), by_ip.clone()], dns_ip, None);
        let (_, r) = analyze(&b);
        assert_eq!(ids(&r), ["NET003", "NET011"], "{r}");
        assert!(finding(&r, "NET011")
            .to_string()
            .contains("the EndpointSlices of kube-system/kube-dns"));
        // With them: allowed.
        let b = bundle(dir.path(), &line, vec![deny(), by_ip], dns_ip, Some(&eps));
        assert_eq!(ids(&analyze(&b).1), ["NET003"]);
    }
}

#[test]
fn an_answered_lookup_is_never_put_on_a_policy() {
    let dir = tempfile::tempdir().unwrap();
    let line = "dial tcp: lookup database.example.com on 10.96.0.10:53: no such host";
    let b = bundle(
        dir.path(),
        line,
        vec![deny()],
        "10.96.0.10",
        Some(&["10.244.0.10"]),
    );
    assert_eq!(ids(&analyze(&b).1), ["NET003"]);
    // pgx's wording of a resolver timeout is recognised too.
    let pgx = "failed to connect to `host=database.example.com user=postgres database=postgres`: hostname resolving error (lookup database.example.com on 10.96.0.10:53: read udp 10.244.3.6:51234->10.96.0.10:53: i/o timeout)";
    let b = bundle(
        dir.path(),
        pgx,
        vec![deny()],
        "10.96.0.10",
        Some(&["10.244.0.10"]),
    );
    assert_eq!(ids(&analyze(&b).1), ["NET003", "NET005"]);
}

#[test]
fn the_dns_objects_survive_a_bundle_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let line = "dial tcp: lookup database.example.com on 10.96.0.10:53: read udp 10.244.3.5:38233->10.96.0.10:53: i/o timeout";
    let any = json!({"metadata": {"name": "dns-by-ip", "namespace": NS},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "UDP", "port": 53}]}]}});
    let b = bundle(
        dir.path(),
        line,
        vec![deny(), any],
        "10.96.0.10",
        Some(&["10.244.0.10"]),
    );
    // Before: from the bundle itself.
    assert_eq!(ids(&analyze(&b).1), ["NET003"]);
    // Served as a cluster, collected live (the DNS Service and its EndpointSlices read
    // from kube-system) and written as a bundle again: the same answer. Without them
    // it would be NET011 (cannot tell).
    let s = serve_bin(b.to_str().unwrap(), &[]);
    let out = dir.path().join("again");
    let o = Command::new(BIN)
        .arg("--kubeconfig")
        .arg(&s.kubeconfig)
        .args(["-n", NS, "--no-probe", "bundle", "--dir"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    drop(s);
    assert!(out
        .join("cluster-resources/endpointslices/kube-system.json")
        .exists());
    assert!(out
        .join("cluster-resources/services/kube-system.json")
        .exists());
    let (_, r) = analyze(&out);
    assert_eq!(ids(&r), ["NET003"], "{r}");
}

#[test]
fn the_optional_dns_role_grants_what_the_reasoning_reads() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/rbac.yaml")).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let role = docs
        .iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["name"] == "dssc-doctor-dns-read")
        .expect("the DNS Role");
    assert_eq!(role["metadata"]["namespace"], "kube-system");
    let grants = |group: &str, res: &str, verb: &str| {
        role["rules"].as_array().unwrap().iter().any(|r| {
            r["apiGroups"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g == group)
                && r["resources"].as_array().unwrap().iter().any(|x| x == res)
                && r["verbs"].as_array().unwrap().iter().any(|v| v == verb)
        })
    };
    assert!(grants("", "services", "get"));
    assert!(grants("discovery.k8s.io", "endpointslices", "list"));
    assert!(grants("", "endpoints", "get"));
    assert!(grants("", "pods", "list"));
    // Read-only: nothing but get and list.
    for r in role["rules"].as_array().unwrap() {
        for v in r["verbs"].as_array().unwrap() {
            assert!(v == "get" || v == "list", "{v}");
        }
    }
    let binding = docs
        .iter()
        .find(|d| d["kind"] == "RoleBinding" && d["metadata"]["name"] == "dssc-doctor-dns-read")
        .expect("its binding");
    assert_eq!(binding["metadata"]["namespace"], "kube-system");
    assert_eq!(binding["roleRef"]["name"], "dssc-doctor-dns-read");
}
