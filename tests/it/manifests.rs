//! The shipped manifests: every `deploy/*.yaml` and `plugins/*.yaml`, and the `Dockerfile`.
//!
//! - Parsed as YAML by the real `kubectl` (`annotate --local`, which needs no cluster).
//! - Kubernetes objects: decoded into the `k8s-openapi` type of their kind (the types are
//!   generated from the Kubernetes OpenAPI spec) and encoded again; a field lost on the way
//!   is a field Kubernetes does not know, i.e. a typo. Then the security context of every
//!   container, resources, probes, the ServiceAccount, and the Service/Deployment wiring.
//! - `kubectl apply --dry-run=client` against the doctor's own read-only API server
//!   (`serve` over a bundle), which answers discovery, so kubectl maps every kind and
//!   name. Without a reachable cluster kubectl cannot download an OpenAPI schema, hence
//!   `--validate=false` there and the typed check above for field names. `serve` does
//!   not list the RBAC group: Role, RoleBinding, ClusterRole and ClusterRoleBinding must be
//!   answered "no matches for kind" by kubectl and nothing else; once `serve` lists them
//!   they are applied like the rest.
//! - The krew manifest: the fields and rules krew validates, and `bin` = Cargo's binary.
//! - Broken copies of the manifests (a typo in a kind, in a field name, in the YAML, in
//!   the krew manifest) must each be reported.
//!
//! Under CI=true a missing kubectl fails these tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PARSED: &str = "dssc-doctor.test/parsed";
/// Kinds `serve` does not list today (kubectl answers "no matches for kind").
const SERVE_LACKS: &[&str] = &["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"];

fn root() -> &'static Path {
    Path::new(ROOT)
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The real kubectl, or None outside CI (a note on stderr); under CI=true its absence fails.
fn kubectl_available() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !ci(),
            "kubectl is not installed (scripts/test.sh installs kubernetes-client)"
        );
        eprintln!("note: kubectl not installed; manifest checks skipped");
    }
    ok
}

/// Runs a command with a hard deadline; (exit ok, stdout, stderr).
fn run(cmd: &mut Command, what: &str) -> (bool, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish in 60s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// kubectl with no kubeconfig of the user's: `--local` commands need none.
fn kubectl_local(scratch: &Path) -> Command {
    let mut c = Command::new("kubectl");
    c.env("KUBECONFIG", scratch.join("no-kubeconfig"))
        .env("HOME", scratch)
        .arg("--cache-dir")
        .arg(scratch.join("cache"));
    c
}

/// Every YAML document of `file`, as kubectl parses it.
fn parse(file: &Path, scratch: &Path) -> Result<Vec<Value>, String> {
    let (ok, out, err) = run(
        kubectl_local(scratch)
            .args(["annotate", "--local", "-o", "json", "-f"])
            .arg(file)
            .arg(format!("{PARSED}=yes")),
        "kubectl annotate --local",
    );
    if !ok {
        return Err(format!(
            "{}: kubectl cannot parse it: {}",
            file.display(),
            err.trim()
        ));
    }
    let mut docs = Vec::new();
    for v in serde_json::Deserializer::from_str(&out).into_iter::<Value>() {
        let mut v = v.map_err(|e| format!("{}: kubectl's JSON: {e}", file.display()))?;
        if let Some(md) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            if let Some(a) = md.get_mut("annotations").and_then(Value::as_object_mut) {
                a.remove(PARSED);
                if a.is_empty() {
                    md.remove("annotations");
                }
            }
        }
        docs.push(v);
    }
    if docs.is_empty() {
        return Err(format!("{}: no documents", file.display()));
    }
    Ok(docs)
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn id(doc: &Value) -> String {
    format!("{} {}", s(doc, "/kind"), s(doc, "/metadata/name"))
}

/// Paths present in `a` that `b` lost or changed (nulls count as absent).
fn lost(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Null, _) => {}
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let p = format!("{path}.{k}");
                match y.get(k) {
                    Some(w) => lost(v, w, &p, out),
                    None if v.is_null() => {}
                    None => out.push(p),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                lost(v, w, &format!("{path}[{i}]"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path} ({a} became {b})")),
    }
}

fn typed<T: DeserializeOwned + Serialize>(doc: &Value) -> Result<Value, String> {
    let t: T = serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(&t).map_err(|e| e.to_string())
}

/// Decodes `doc` into the Kubernetes type of its kind and reports the fields it does not have.
fn check_typed(doc: &Value, problems: &mut Vec<String>) {
    use k8s_openapi::api::{apps, batch, core, rbac};
    let round = match (s(doc, "/apiVersion"), s(doc, "/kind")) {
        ("v1", "ServiceAccount") => typed::<core::v1::ServiceAccount>(doc),
        ("v1", "Service") => typed::<core::v1::Service>(doc),
        ("v1", "ConfigMap") => typed::<core::v1::ConfigMap>(doc),
        ("apps/v1", "Deployment") => typed::<apps::v1::Deployment>(doc),
        ("batch/v1", "CronJob") => typed::<batch::v1::CronJob>(doc),
        ("batch/v1", "Job") => typed::<batch::v1::Job>(doc),
        ("rbac.authorization.k8s.io/v1", "Role") => typed::<rbac::v1::Role>(doc),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => typed::<rbac::v1::RoleBinding>(doc),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => typed::<rbac::v1::ClusterRole>(doc),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            typed::<rbac::v1::ClusterRoleBinding>(doc)
        }
        (api, kind) => Err(format!("unknown kind {kind:?} in {api:?}")),
    };
    match round {
        Err(e) => problems.push(format!("{}: {e}", id(doc))),
        Ok(r) => {
            let mut gone = Vec::new();
            lost(doc, &r, "", &mut gone);
            for g in gone {
                problems.push(format!(
                    "{}: field not in the Kubernetes schema: {g}",
                    id(doc)
                ));
            }
        }
    }
}

/// The pod template of a workload, if it has one.
fn pod_spec(doc: &Value) -> Option<&Value> {
    match s(doc, "/kind") {
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => doc.pointer("/spec/template/spec"),
        "CronJob" => doc.pointer("/spec/jobTemplate/spec/template/spec"),
        "Pod" => doc.get("spec"),
        _ => None,
    }
}

fn flag(v: Option<&Value>) -> Option<bool> {
    v.and_then(Value::as_bool)
}

/// Non-root, read-only root filesystem, no privilege escalation, no capabilities,
/// RuntimeDefault seccomp, requests and limits, on every container of every pod template.
fn check_security(doc: &Value, service_accounts: &BTreeSet<String>, problems: &mut Vec<String>) {
    let Some(spec) = pod_spec(doc) else { return };
    let who = id(doc);
    let sa = s(spec, "/serviceAccountName");
    if !service_accounts.contains(sa) {
        problems.push(format!(
            "{who}: serviceAccountName {sa:?} is not a ServiceAccount of deploy/ ({service_accounts:?})"
        ));
    }
    if flag(spec.get("automountServiceAccountToken")) == Some(false) {
        problems.push(format!(
            "{who}: the in-cluster config needs the ServiceAccount token"
        ));
    }
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        if flag(spec.get(host)) == Some(true) {
            problems.push(format!("{who}: {host}"));
        }
    }
    let pod_sc = spec.get("securityContext").cloned().unwrap_or(Value::Null);
    let containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Value::as_array))
        .flatten()
        .collect();
    if containers.is_empty() {
        problems.push(format!("{who}: no containers"));
    }
    for c in containers {
        let at = format!("{who} container {}", s(c, "/name"));
        let sc = c.get("securityContext").cloned().unwrap_or(Value::Null);
        // Container settings win over the pod's.
        let eff = |k: &str| sc.get(k).or_else(|| pod_sc.get(k)).cloned();
        if flag(eff("runAsNonRoot").as_ref()) != Some(true) {
            problems.push(format!("{at}: runAsNonRoot is not true"));
        }
        if eff("runAsUser").and_then(|u| u.as_i64()) == Some(0) {
            problems.push(format!("{at}: runAsUser 0"));
        }
        if flag(sc.get("allowPrivilegeEscalation")) != Some(false) {
            problems.push(format!("{at}: allowPrivilegeEscalation is not false"));
        }
        if flag(sc.get("readOnlyRootFilesystem")) != Some(true) {
            problems.push(format!("{at}: readOnlyRootFilesystem is not true"));
        }
        if flag(sc.get("privileged")) == Some(true) {
            problems.push(format!("{at}: privileged"));
        }
        let drop: Vec<&str> = sc
            .pointer("/capabilities/drop")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !drop.contains(&"ALL") {
            problems.push(format!("{at}: capabilities.drop does not hold ALL"));
        }
        if sc
            .pointer("/capabilities/add")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            problems.push(format!("{at}: capabilities.add"));
        }
        let seccomp = eff("seccompProfile");
        if seccomp.as_ref().map(|p| s(p, "/type")) != Some("RuntimeDefault") {
            problems.push(format!("{at}: seccompProfile is not RuntimeDefault"));
        }
        for kind in ["requests", "limits"] {
            for res in ["cpu", "memory"] {
                if c.pointer(&format!("/resources/{kind}/{res}")).is_none() {
                    problems.push(format!("{at}: no resources.{kind}.{res}"));
                }
            }
        }
        if s(c, "/image").is_empty() {
            problems.push(format!("{at}: no image"));
        }
    }
}

fn args(c: &Value) -> Vec<String> {
    c.get("args")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn has_flag(args: &[String], name: &str, value: Option<&str>) -> bool {
    args.windows(2)
        .any(|w| w[0] == name && value.is_none_or(|v| w[1] == v))
        || (value.is_none() && args.iter().any(|a| a == name))
}

/// What the push CronJob and the scrape Deployment + Service must say to each other and
/// to the doctor.
fn check_modes(docs: &[Value], problems: &mut Vec<String>) {
    for doc in docs {
        let Some(spec) = pod_spec(doc) else { continue };
        let Some(c) = spec.pointer("/containers/0") else {
            continue;
        };
        let a = args(c);
        let who = id(doc);
        let env: BTreeSet<&str> = c
            .get("env")
            .and_then(Value::as_array)
            .map(|e| e.iter().map(|v| s(v, "/name")).collect())
            .unwrap_or_default();
        // Every $(VAR) in the args is defined in the container's env.
        for arg in &a {
            for var in arg.split("$(").skip(1).filter_map(|t| t.split_once(')')) {
                if !env.contains(var.0) {
                    problems.push(format!("{who}: $({}) is not in env", var.0));
                }
            }
        }
        match s(doc, "/kind") {
            "CronJob" => {
                for (f, v) in [
                    ("-o", Some("openmetrics")),
                    ("--push", None),
                    ("--cluster-name", None),
                ] {
                    if !has_flag(&a, f, v) {
                        problems.push(format!("{who}: args lack {f} {}", v.unwrap_or("")));
                    }
                }
                if s(spec, "/restartPolicy") == "Always" {
                    problems.push(format!("{who}: restartPolicy Always"));
                }
            }
            "Deployment" => {
                if a.first().map(String::as_str) != Some("exporter")
                    || !has_flag(&a, "--listen", Some(":9464"))
                    || !has_flag(&a, "--interval", None)
                {
                    problems.push(format!("{who}: not `exporter --listen :9464 --interval …`"));
                }
                let ports: Vec<&Value> = c
                    .get("ports")
                    .and_then(Value::as_array)
                    .map(|p| p.iter().collect())
                    .unwrap_or_default();
                let port_ok = |p: &Value| {
                    ports.iter().any(|cp| {
                        (p.as_str().is_some() && s(cp, "/name") == p.as_str().unwrap_or(""))
                            || cp.get("containerPort") == Some(p)
                    }) && ports.iter().any(|cp| cp["containerPort"] == 9464)
                };
                for probe in ["livenessProbe", "readinessProbe"] {
                    let path = s(c, &format!("/{probe}/httpGet/path"));
                    let port = c.pointer(&format!("/{probe}/httpGet/port"));
                    if path != "/healthz" || !port.is_some_and(port_ok) {
                        problems.push(format!("{who}: {probe} is not GET /healthz on :9464"));
                    }
                }
                let ann = doc.pointer("/spec/template/metadata/annotations");
                check_scrape_annotations(&who, ann, problems);
                let labels = doc
                    .pointer("/spec/template/metadata/labels")
                    .cloned()
                    .unwrap_or(Value::Null);
                let svc = docs.iter().find(|d| {
                    s(d, "/kind") == "Service"
                        && d.pointer("/spec/selector")
                            .and_then(Value::as_object)
                            .is_some_and(|sel| {
                                !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
                            })
                });
                match svc {
                    None => problems.push(format!("{who}: no Service selects its pods")),
                    Some(svc) => {
                        let sp = svc.pointer("/spec/ports/0/targetPort");
                        if !sp.is_some_and(port_ok) || svc["spec"]["ports"][0]["port"] != 9464 {
                            problems.push(format!("{}: does not serve :9464", id(svc)));
                        }
                        check_scrape_annotations(
                            &id(svc),
                            svc.pointer("/metadata/annotations"),
                            problems,
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

fn check_scrape_annotations(who: &str, ann: Option<&Value>, problems: &mut Vec<String>) {
    let get = |k: &str| ann.and_then(|a| a.get(k)).and_then(Value::as_str);
    if get("prometheus.io/scrape") != Some("true")
        || get("prometheus.io/port") != Some("9464")
        || get("prometheus.io/path") != Some("/metrics")
    {
        problems.push(format!(
            "{who}: prometheus.io/scrape, port 9464, path /metrics"
        ));
    }
}

/// The cargo binary's name (`[[bin]] name`) and the package version.
fn cargo() -> (String, String) {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let t: toml::Table = toml::from_str(&text).unwrap();
    let bin = t["bin"].as_array().unwrap()[0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let version = t["package"]["version"].as_str().unwrap().to_string();
    (bin, version)
}

/// The rules krew validates a plugin manifest with, and ours: bin = Cargo's binary, the
/// version = Cargo's, the RBAC caveat, the four platforms.
fn check_krew(file: &Path, doc: &Value, problems: &mut Vec<String>) {
    let (bin, version) = cargo();
    let stem = file.file_stem().and_then(|x| x.to_str()).unwrap_or("");
    let name = s(doc, "/metadata/name");
    let mut bad = |m: String| problems.push(format!("{}: {m}", file.display()));
    if s(doc, "/apiVersion") != "krew.googlecontainertools.github.com/v1alpha2" {
        bad(format!("apiVersion {:?}", s(doc, "/apiVersion")));
    }
    if s(doc, "/kind") != "Plugin" {
        bad(format!("kind {:?}", s(doc, "/kind")));
    }
    let safe = regex::Regex::new(r"^[\w-]+$").unwrap();
    if name != stem || !safe.is_match(name) {
        bad(format!(
            "metadata.name {name:?} must be the file name and match ^[\\w-]+$"
        ));
    }
    // kubectl finds `kubectl dssc-doctor` as kubectl-dssc_doctor.
    if format!("kubectl-{}", name.replace('-', "_")) != bin {
        bad(format!("plugin name {name:?} does not invoke {bin}"));
    }
    let spec = doc.get("spec").cloned().unwrap_or(Value::Null);
    let semver =
        regex::Regex::new(r"^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$").unwrap();
    let v = s(&spec, "/version");
    if !semver.is_match(v) || v != format!("v{version}") {
        bad(format!("spec.version {v:?} is not v{version}"));
    }
    let short = s(&spec, "/shortDescription");
    if short.trim().is_empty() || short.contains(['\r', '\n']) || short.len() > 80 {
        bad(format!("shortDescription {short:?}"));
    }
    if s(&spec, "/description").trim().is_empty() {
        bad("no description".into());
    }
    if !s(&spec, "/homepage").starts_with("https://") {
        bad("homepage is not an https URL".into());
    }
    if !s(&spec, "/caveats").contains("deploy/rbac.yaml") {
        bad("caveats do not name deploy/rbac.yaml".into());
    }
    let sha = regex::Regex::new(r"^[a-f0-9]{64}$").unwrap();
    let mut seen = BTreeSet::new();
    let platforms = spec.get("platforms").and_then(Value::as_array);
    if platforms.is_none_or(|p| p.is_empty()) {
        bad("no platforms".into());
    }
    for p in platforms.into_iter().flatten() {
        let uri = s(p, "/uri");
        if !uri.starts_with("https://") || !(uri.ends_with(".tar.gz") || uri.ends_with(".zip")) {
            bad(format!("uri {uri:?}"));
        }
        if !sha.is_match(s(p, "/sha256")) {
            bad(format!(
                "sha256 {:?} must match ^[a-f0-9]{{64}}$",
                s(p, "/sha256")
            ));
        }
        let b = s(p, "/bin");
        if b.trim_start_matches("./") != bin {
            bad(format!("bin {b:?} is not Cargo's binary {bin:?}"));
        }
        if let Some(files) = p.get("files") {
            let ok = files.as_array().is_some_and(|f| {
                !f.is_empty()
                    && f.iter()
                        .all(|op| !s(op, "/from").is_empty() && !s(op, "/to").is_empty())
            });
            if !ok {
                bad("files must be absent or non-empty with from and to".into());
            }
        }
        let Some(sel) = p.get("selector").filter(|x| x.is_object()) else {
            bad("platform without selector".into());
            continue;
        };
        let mut labels = BTreeMap::new();
        for (k, v) in sel
            .get("matchLabels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            labels.insert(k.clone(), v.as_str().unwrap_or("").to_string());
        }
        for e in sel
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let vals = e.get("values").and_then(Value::as_array);
            let one = vals.filter(|v| v.len() == 1).and_then(|v| v[0].as_str());
            if s(e, "/operator") == "In" {
                if let Some(one) = one {
                    labels.insert(s(e, "/key").to_string(), one.to_string());
                    continue;
                }
            }
            labels.insert(s(e, "/key").to_string(), String::new());
        }
        if labels.is_empty() || labels.keys().any(|k| k != "os" && k != "arch") {
            bad(format!(
                "selector keys {:?}: only os and arch",
                labels.keys()
            ));
        }
        let os_arch = (
            labels.get("os").cloned().unwrap_or_default(),
            labels.get("arch").cloned().unwrap_or_default(),
        );
        if !seen.insert(os_arch.clone()) {
            bad(format!("platform {os_arch:?} twice"));
        }
    }
    for os in ["linux", "darwin"] {
        for arch in ["amd64", "arm64"] {
            if !seen.contains(&(os.to_string(), arch.to_string())) {
                bad(format!("no platform {os}/{arch}"));
            }
        }
    }
}

/// `kubectl-dssc_doctor serve` over a bundle, stopped on drop.
struct Serve {
    child: Child,
    kubeconfig: PathBuf,
}

impl Serve {
    fn start(dir: &Path) -> Serve {
        let kubeconfig = dir.join("serve-kubeconfig.yaml");
        let child = Command::new(env!("CARGO_BIN_EXE_kubectl-dssc_doctor"))
            .arg("serve")
            .arg(root().join("testdata/bundles/healthy"))
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let mut s = Serve { child, kubeconfig };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let t = std::fs::read_to_string(&s.kubeconfig).unwrap_or_default();
            if t.contains("current-context") {
                return s;
            }
            if Instant::now() > deadline || s.child.try_wait().unwrap().is_some() {
                panic!("serve did not write its kubeconfig");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `kubectl apply --dry-run=client` of the file as it is, against `serve`.
fn check_apply(
    file: &Path,
    docs: &[Value],
    serve: &Serve,
    scratch: &Path,
    problems: &mut Vec<String>,
) {
    let (_ok, out, err) = run(
        Command::new("kubectl")
            .env("HOME", scratch)
            .arg("--kubeconfig")
            .arg(&serve.kubeconfig)
            .arg("--cache-dir")
            .arg(scratch.join("cache"))
            .args([
                "--request-timeout=10s",
                "apply",
                "--dry-run=client",
                "--validate=false",
            ])
            .args(["-o", "name", "-f"])
            .arg(file),
        "kubectl apply --dry-run=client",
    );
    let applied: BTreeSet<&str> = out.lines().map(str::trim).collect();
    let mut explained = BTreeSet::new();
    for doc in docs {
        let (api, kind, name) = (
            s(doc, "/apiVersion"),
            s(doc, "/kind"),
            s(doc, "/metadata/name"),
        );
        let group = api
            .split_once('/')
            .map(|(g, _)| format!(".{g}"))
            .unwrap_or_default();
        let want = format!("{}{group}/{name}", kind.to_lowercase());
        if applied.contains(want.as_str()) {
            continue;
        }
        let unmapped = format!("no matches for kind \"{kind}\" in version \"{api}\"");
        if SERVE_LACKS.contains(&kind) && err.contains(&unmapped) {
            explained.insert(kind.to_string());
            continue;
        }
        problems.push(format!(
            "{}: kubectl apply --dry-run=client did not take {kind} {name}: {}",
            file.display(),
            err.trim()
        ));
    }
    for line in err.lines() {
        let known = line.trim() == "ensure CRDs are installed first"
            || explained
                .iter()
                .any(|k| line.contains(&format!("no matches for kind \"{k}\" ")));
        if !known && !line.trim().is_empty() {
            problems.push(format!("{}: kubectl: {line}", file.display()));
        }
    }
}

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    v.sort();
    v
}

/// Every check on the deploy/ files (a directory) and the krew manifests; the problems found.
fn check_all(
    deploy: &[PathBuf],
    plugins: &[PathBuf],
    serve: &Serve,
    scratch: &Path,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut parsed = Vec::new();
    for f in deploy {
        match parse(f, scratch) {
            Ok(d) => parsed.push((f.clone(), d)),
            Err(e) => problems.push(e),
        }
    }
    let all: Vec<Value> = parsed.iter().flat_map(|(_, d)| d.iter().cloned()).collect();
    let sas: BTreeSet<String> = all
        .iter()
        .filter(|d| s(d, "/kind") == "ServiceAccount")
        .map(|d| s(d, "/metadata/name").to_string())
        .collect();
    // The RBAC binds the ServiceAccount the workloads run as.
    for d in all
        .iter()
        .filter(|d| s(d, "/kind").ends_with("RoleBinding"))
    {
        let bound = d
            .get("subjects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|x| s(x, "/kind") == "ServiceAccount" && sas.contains(s(x, "/name")));
        if !bound {
            problems.push(format!("{}: binds no ServiceAccount of deploy/", id(d)));
        }
    }
    for (f, docs) in &parsed {
        for d in docs {
            check_typed(d, &mut problems);
            check_security(d, &sas, &mut problems);
        }
        check_apply(f, docs, serve, scratch, &mut problems);
    }
    check_modes(&all, &mut problems);
    let kinds: BTreeSet<&str> = all.iter().map(|d| s(d, "/kind")).collect();
    for k in ["CronJob", "Deployment", "Service", "ServiceAccount"] {
        if !kinds.contains(k) {
            problems.push(format!("deploy/ has no {k}"));
        }
    }
    for f in plugins {
        match parse(f, scratch) {
            Ok(d) if d.len() == 1 => check_krew(f, &d[0], &mut problems),
            Ok(d) => problems.push(format!(
                "{}: {} documents, krew reads one",
                f.display(),
                d.len()
            )),
            Err(e) => problems.push(e),
        }
    }
    problems
}

#[test]
fn shipped_manifests_are_valid() {
    if !kubectl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    let plugins = yaml_files("plugins");
    assert!(!plugins.is_empty());
    let problems = check_all(&yaml_files("deploy"), &plugins, &serve, dir.path());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Copies deploy/ and plugins/ into `dir` with one replacement made in `file`.
fn broken_copy(dir: &Path, file: &str, from: &str, to: &str) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut found = false;
    let mut lists = (Vec::new(), Vec::new());
    for (sub, list) in [("deploy", &mut lists.0), ("plugins", &mut lists.1)] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for f in yaml_files(sub) {
            let rel = format!("{sub}/{}", f.file_name().unwrap().to_string_lossy());
            let mut text = std::fs::read_to_string(&f).unwrap();
            if rel == file {
                assert!(text.contains(from), "{rel} has no {from:?}");
                text = text.replacen(from, to, 1);
                found = true;
            }
            let out = dir.join(&rel);
            std::fs::write(&out, text).unwrap();
            list.push(out);
        }
    }
    assert!(found, "no {file}");
    lists
}

#[test]
fn a_typo_in_a_manifest_is_reported() {
    if !kubectl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path());
    // (file, text, typo, what the report must say)
    let cases = [
        ("deploy/cronjob.yaml", "kind: CronJob", "kind: CronJobb", "did not take CronJobb dssc-doctor"),
        ("deploy/cronjob.yaml", "kind: CronJob", "kind: CronJobb", "unknown kind \"CronJobb\""),
        (
            "deploy/exporter.yaml",
            "readOnlyRootFilesystem: true",
            "readOnlyRootFileSystem: true",
            "field not in the Kubernetes schema: .spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem",
        ),
        (
            "deploy/exporter.yaml",
            "readOnlyRootFilesystem: true",
            "readOnlyRootFileSystem: true",
            "container exporter: readOnlyRootFilesystem is not true",
        ),
        ("deploy/exporter.yaml", "  replicas: 1", "  replicas: one", "Deployment dssc-doctor-exporter: invalid type"),
        ("deploy/exporter.yaml", "targetPort: metrics", "targetPort: metric", "Service dssc-doctor-exporter: does not serve :9464"),
        ("deploy/cronjob.yaml", "\"*/15 * * * *\"", "\"*/15 * * * *", "kubectl cannot parse it"),
        ("deploy/cronjob.yaml", "\"--cluster-name\"", "\"--clustername\"", "args lack --cluster-name"),
        ("deploy/cronjob.yaml", "drop: [\"ALL\"]", "drop: [\"NET_RAW\"]", "capabilities.drop does not hold ALL"),
        ("deploy/rbac.yaml", "kind: ServiceAccount\nmetadata:\n  name: dssc-doctor", "kind: ServiceAccount\nmetadata:\n  name: dssc-doktor", "serviceAccountName \"dssc-doctor\" is not a ServiceAccount"),
        ("plugins/dssc-doctor.yaml", "bin: kubectl-dssc_doctor", "bin: kubectl-dssc-doctor", "is not Cargo's binary"),
        ("plugins/dssc-doctor.yaml", "name: dssc-doctor", "name: dssc_doctor", "must be the file name"),
        ("plugins/dssc-doctor.yaml", "version: v", "version: ", "spec.version"),
        ("plugins/dssc-doctor.yaml", "os: darwin", "os: darwn", "no platform darwin/amd64"),
        ("plugins/dssc-doctor.yaml", "sha256: \"0", "sha256: \"X", "must match ^[a-f0-9]{64}$"),
        ("plugins/dssc-doctor.yaml", "arch: arm64", "cpu: arm64", "only os and arch"),
    ];
    for (i, (file, from, to, says)) in cases.iter().enumerate() {
        let case = dir.path().join(format!("case{i}"));
        let (deploy, plugins) = broken_copy(&case, file, from, to);
        let problems = check_all(&deploy, &plugins, &serve, &case);
        assert!(
            problems.iter().any(|p| p.contains(says)),
            "{file}: {from:?} -> {to:?} must be reported with {says:?}; got:\n{}",
            problems.join("\n")
        );
    }
}

/// The Dockerfile, read: a rust builder stage that builds Cargo's binary with the locked
/// dependencies from what Cargo needs, and a minimal final stage that runs it as non-root.
#[test]
fn dockerfile_builds_the_binary_on_a_minimal_base() {
    let (bin, _) = cargo();
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    // Join continuation lines; drop comments.
    let joined = text.replace("\\\n", " ");
    let lines: Vec<&str> = joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let arg = |name: &str| {
        lines.iter().find_map(|l| {
            l.strip_prefix("ARG ")
                .and_then(|a| a.strip_prefix(&format!("{name}=")))
                .map(str::to_string)
        })
    };
    let mut stages: Vec<(String, String, Vec<&str>)> = Vec::new();
    for l in &lines {
        if let Some(rest) = l.strip_prefix("FROM ") {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            let image =
                parts[0].replace("${RUST_VERSION}", &arg("RUST_VERSION").unwrap_or_default());
            let name = match parts.as_slice() {
                [_, as_, n] if as_.eq_ignore_ascii_case("as") => n.to_string(),
                _ => String::new(),
            };
            stages.push((image, name, Vec::new()));
        } else if let Some(st) = stages.last_mut() {
            st.2.push(l);
        }
    }
    assert!(stages.len() >= 2, "multi-stage: {stages:?}");
    let (builder_image, builder, build) = &stages[0];
    assert!(builder_image.starts_with("rust:"), "{builder_image}");
    // The toolchain is not older than the package's rust-version.
    let t: toml::Table =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap()).unwrap();
    let msrv = t["package"]["rust-version"].as_str().unwrap();
    let ver = |v: &str| -> Vec<u32> { v.split('.').map(|x| x.parse().unwrap_or(0)).collect() };
    let tag = builder_image["rust:".len()..].split('-').next().unwrap();
    assert!(
        ver(tag) >= ver(msrv),
        "builder rust {tag} < rust-version {msrv}"
    );
    let run = build
        .iter()
        .find(|l| l.starts_with("RUN ") && l.contains("cargo build"))
        .expect("a RUN cargo build");
    for w in ["--release", "--locked", &format!("--bin {bin}")] {
        assert!(run.contains(w), "{run} lacks {w}");
    }
    assert!(run.contains(&format!("target/release/{bin}")), "{run}");
    // Everything Cargo reads to build is copied in and exists here.
    let copied: Vec<&str> = build
        .iter()
        .filter_map(|l| l.strip_prefix("COPY "))
        .flat_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w[..w.len() - 1].to_vec()
        })
        .collect();
    let mut needed = vec!["Cargo.toml", "Cargo.lock", "build.rs", "checks", "src"];
    if t.contains_key("bench") {
        needed.push("benches");
    }
    for n in needed {
        assert!(
            copied.contains(&n),
            "the builder does not copy {n}: {copied:?}"
        );
    }
    for c in &copied {
        assert!(root().join(c).exists(), "COPY {c}: not in the repository");
    }
    // Files the sources embed at compile time are copied too.
    let lit = regex::Regex::new(r#"include_(?:str|bytes)!\(\s*"([^"]+)"\s*\)"#).unwrap();
    let mut stack = vec![root().join("src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let code = std::fs::read_to_string(&p).unwrap();
                for m in lit.captures_iter(&code) {
                    let abs = p.parent().unwrap().join(&m[1]);
                    let abs = abs.canonicalize().unwrap_or(abs);
                    let rel = abs.strip_prefix(root()).unwrap_or(&abs);
                    let top = rel
                        .components()
                        .next()
                        .unwrap()
                        .as_os_str()
                        .to_string_lossy();
                    assert!(
                        copied.contains(&top.as_ref()),
                        "{} embeds {}, which the builder does not copy",
                        p.display(),
                        &m[1]
                    );
                }
            }
        }
    }
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap_or_default();
    for pat in ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let p = pat.trim_end_matches('/');
        assert!(
            !copied.contains(&p),
            ".dockerignore drops {p}, which the builder copies"
        );
    }
    assert!(ignore
        .lines()
        .any(|l| l.trim().trim_end_matches('/') == "target"));
    // The final stage: not a toolchain image, the binary at /usr/local/bin, non-root.
    let (base, _, fin) = stages.last().unwrap();
    assert!(!base.starts_with("rust:"), "final stage on {base}");
    let installed = format!("/usr/local/bin/{bin}");
    assert!(
        fin.iter()
            .any(|l| l.starts_with(&format!("COPY --from={builder} "))
                && l.ends_with(&installed)
                && l.contains(&format!("/{bin} "))),
        "the final stage copies {bin} from {builder} to {installed}: {fin:?}"
    );
    let user = fin
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("USER in the final stage");
    let uid = user.split(':').next().unwrap();
    assert!(
        uid != "0" && uid != "root" && !uid.is_empty(),
        "USER {user}"
    );
    let entry = fin
        .iter()
        .find_map(|l| l.strip_prefix("ENTRYPOINT "))
        .expect("ENTRYPOINT");
    let entry: Vec<String> = serde_json::from_str(entry).expect("ENTRYPOINT in exec form");
    assert_eq!(entry, vec![installed.clone()]);
    // The manifests run this image's user.
    for f in ["deploy/cronjob.yaml", "deploy/exporter.yaml"] {
        let m = std::fs::read_to_string(root().join(f)).unwrap();
        assert!(
            m.contains(&format!("runAsUser: {uid}")),
            "{f} does not run as {uid}"
        );
    }
}

/// scripts/krew-package.sh: the archive holds Cargo's binary under the manifest's `bin`,
/// and the manifest it writes carries the archive's sha256 (what `kubectl krew install
/// --manifest=… --archive=…` verifies) and still passes the krew rules.
#[test]
fn krew_package_fills_the_manifest() {
    if !kubectl_available() {
        return;
    }
    let (bin, _) = cargo();
    let dir = tempfile::tempdir().unwrap();
    // A small stand-in for the built binary: packaging does not look inside it.
    let stand_in = dir.path().join("built");
    std::fs::write(&stand_in, b"#!/bin/sh\necho dssc-doctor\n").unwrap();
    let out = dir.path().join("krew");
    let script = root().join("scripts/krew-package.sh");
    let (ok, stdout, err) = run(
        Command::new(&script)
            .arg(&stand_in)
            .args(["linux", "amd64", ""])
            .arg(&out),
        "krew-package.sh",
    );
    assert!(ok, "{err}");
    let archive = out.join(format!("{bin}-linux-amd64.tar.gz"));
    let manifest = out.join("dssc-doctor.yaml");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            archive.display().to_string(),
            manifest.display().to_string()
        ]
    );
    let (ok, list, err) = run(Command::new("tar").arg("tzf").arg(&archive), "tar tzf");
    assert!(ok, "{err}");
    assert_eq!(list.lines().collect::<Vec<_>>(), [bin.as_str()]);
    let sum: String = openssl::sha::sha256(&std::fs::read(&archive).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let docs = parse(&manifest, dir.path()).unwrap();
    let mut problems = Vec::new();
    check_krew(&manifest, &docs[0], &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for p in docs[0]["spec"]["platforms"].as_array().unwrap() {
        let os_arch = (
            s(p, "/selector/matchLabels/os"),
            s(p, "/selector/matchLabels/arch"),
        );
        let want = if os_arch == ("linux", "amd64") {
            sum.clone()
        } else {
            "0".repeat(64)
        };
        assert_eq!(s(p, "/sha256"), want, "{os_arch:?}");
        assert_eq!(s(p, "/bin"), bin);
    }
    // A platform the manifest does not have is refused.
    let (ok, _, err) = run(
        Command::new(&script)
            .arg(&stand_in)
            .args(["plan9", "amd64", ""])
            .arg(&out),
        "krew-package.sh",
    );
    assert!(!ok && err.contains("no plan9/amd64 platform"), "{err}");
}
