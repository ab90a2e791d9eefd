#!/usr/bin/env python3
"""Writes the example support bundles in testdata/bundles/ (troubleshoot.sh layout,
kubectl List JSON) from the event and log lines of the vendor's troubleshooting guide.
Re-run after changing a scenario: python3 testdata/make_bundles.py"""
import json, os, shutil

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundles")
NS = "trendmicro"
REL = "deepsecurity-smartcheck"
T0 = "2026-11-23T02:10:00Z"
T1 = "2026-11-23T02:17:13Z"
CHART = "smartcheck-1.2.74"

# (deployment, pod name, second init container?)
PODS = [
    ("auth", "auth-7d78dccff7-nfh97", False),
    ("openscap-scan", "openscap-scan-ddc7b9d-jrhc7", False),
    ("registryviews", "registryviews-5f46786b46-m6x84", False),
    ("scan", "scan-568ffb49d7-dp2tt", False),
    ("vulnerability-scan", "vulnerability-scan-7b7c59d6f8-d5ql9", True),
]
OTHER = [("frontend", "frontend-6b8f9d7c5-x2kqp"), ("proxy", "proxy-5c7d8f6b4-q9w8e")]


def uid(n):
    return "ff34aa94-94fc-11e9-90aa-%012x" % n


def env(host, sslmode, ca):
    e = [
        {"name": "PGHOST", "value": host},
        {"name": "PGPORT", "value": "5432"},
        {"name": "PGSSLMODE", "value": sslmode},
        {"name": "PGUSER", "valueFrom": {"secretKeyRef": {"name": REL + "-db", "key": "database-user"}}},
        {"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": REL + "-db", "key": "database-password"}}},
        {"name": "PGCONNECT_TIMEOUT", "value": "5"},
    ]
    if ca:
        e.insert(3, {"name": "PGSSLROOTCERT", "value": "/trust/db/ca.pem"})
    return e


def init_c(name, service, host, sslmode, ca):
    c = {
        "name": name,
        "image": "deepsecurity/db-init@sha256:5b1e0f5a",
        "args": ["postgres", "--service-username=$(SERVICE_USER)", "--service-password=$(SERVICE_PASSWORD)",
                 "--service-database=%sdb" % service.replace("-", "")],
        "env": env(host, sslmode, ca),
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }
    if ca:
        c["volumeMounts"] = [{"name": "database-ca", "mountPath": "/trust/db", "readOnly": True}]
    return c


def pod(i, deploy, name, two_inits, state, sc):
    """state: 'mount' (volumes not mounted), 'init-running', 'init-crash', 'running'."""
    host, sslmode, ca = sc["host"], sc["sslmode"], sc["ca"]
    inits = [init_c("db-init", deploy, host, sslmode, ca)]
    if two_inits:
        inits.append(init_c("vulnerabilityscan-db-init", "vulnerabilityscan", host, sslmode, ca))
    vols = [{"name": "tmp", "emptyDir": {}}]
    if ca:
        kind, cname, key = ca
        if kind == "configmap":
            vols.append({"name": "database-ca", "configMap": {"name": cname, "items": [{"key": key, "path": "ca.pem"}], "defaultMode": 420}})
        else:
            vols.append({"name": "database-ca", "secret": {"secretName": cname, "items": [{"key": key, "path": "ca.pem"}], "defaultMode": 420}})
    main_c = {"name": deploy, "image": "deepsecurity/%s@sha256:77aa" % deploy, "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
              "resources": {}, "imagePullPolicy": "IfNotPresent"}
    containers = [main_c]
    if deploy == "openscap-scan":
        containers.append({"name": "openscap-feed-consumer", "image": "deepsecurity/openscap-feed-consumer@sha256:1", "resources": {}})

    def cs(c, st, ready=False, restarts=0):
        return {"name": c["name"], "image": c["image"], "imageID": "", "ready": ready, "restartCount": restarts, "state": st}

    waiting_init = {"waiting": {"reason": "PodInitializing"}}
    if state == "mount":
        ics = [cs(c, waiting_init) for c in inits]
        ccs = [cs(c, waiting_init) for c in containers]
        phase = "Pending"
    elif state == "init-running":
        ics = [cs(inits[0], {"running": {"startedAt": T0}})] + [cs(c, waiting_init) for c in inits[1:]]
        ccs = [cs(c, waiting_init) for c in containers]
        phase = "Pending"
    elif state == "init-crash":
        ics = [dict(cs(inits[0], {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=db-init"}}, restarts=6),
                    lastState={"terminated": {"exitCode": 1, "reason": "Error", "startedAt": T0, "finishedAt": T0}})] + [cs(c, waiting_init) for c in inits[1:]]
        ccs = [cs(c, waiting_init) for c in containers]
        phase = "Pending"
    else:
        ics = [cs(c, {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": T0, "finishedAt": T0}}, ready=True) for c in inits]
        ccs = [cs(c, {"running": {"startedAt": T0}}, ready=True) for c in containers]
        phase = "Running"
    return {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {
            "name": name, "generateName": name.rsplit("-", 1)[0] + "-", "namespace": NS, "uid": uid(i),
            "resourceVersion": str(4000 + i), "creationTimestamp": T0,
            "labels": {"app": deploy, "release": REL, "service": deploy, "heritage": "Helm",
                       "pod-template-hash": name.split("-")[-2]},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name.rsplit("-", 1)[0],
                                 "uid": uid(900 + i), "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {"volumes": vols, "initContainers": inits, "containers": containers, "restartPolicy": "Always",
                 "serviceAccountName": REL + "-" + deploy, "nodeName": "node-1",
                 "securityContext": {"runAsNonRoot": True, "runAsUser": 1}},
        "status": {"phase": phase, "hostIP": "10.0.0.11", "podIP": "172.17.0.%d" % (10 + i), "startTime": T0,
                   "qosClass": "BestEffort",
                   "conditions": [{"type": "Initialized", "status": "False", "reason": "ContainersNotInitialized"}] if phase != "Running" else
                   [{"type": "Ready", "status": "True"}],
                   "initContainerStatuses": ics, "containerStatuses": ccs},
    }


def plain_pod(i, deploy, name, crash=False):
    st = {"running": {"startedAt": T0}}
    c = {"name": deploy, "image": "deepsecurity/%s@sha256:9" % deploy, "imageID": "", "ready": not crash,
         "restartCount": 9 if crash else 0,
         "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}} if crash else st}
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": NS, "uid": uid(i), "creationTimestamp": T0,
                         "labels": {"app": deploy, "release": REL, "service": deploy, "heritage": "Helm"}},
            "spec": {"containers": [{"name": deploy, "image": c["image"]}]},
            "status": {"phase": "Running", "containerStatuses": [c]}}


def event(i, pod_name, reason, msg, typ="Warning", count=1, first=T0, last=T1, comp="kubelet"):
    return {"kind": "Event", "apiVersion": "v1",
            "metadata": {"name": "%s.%x" % (pod_name, 0x15a9b2c3d4e5f000 + i), "namespace": NS, "uid": uid(5000 + i),
                         "creationTimestamp": first},
            "involvedObject": {"kind": "Pod", "namespace": NS, "name": pod_name, "uid": uid(i), "apiVersion": "v1"},
            "reason": reason, "message": msg, "source": {"component": comp, "host": "minikube"},
            "firstTimestamp": first, "lastTimestamp": last, "count": count, "type": typ,
            "reportingComponent": comp, "reportingInstance": "minikube"}


def normal_events(n, p):
    return [event(n, p, "Scheduled", "Successfully assigned %s/%s to minikube" % (NS, p), "Normal", comp="default-scheduler"),
            event(n + 1, p, "Pulled", 'Container image "deepsecurity/db-init@sha256:5b1e0f5a" already present on machine', "Normal"),
            event(n + 2, p, "Created", "Created container db-init", "Normal"),
            event(n + 3, p, "Started", "Started container db-init", "Normal")]


def cm(name, data):
    return {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name, "namespace": NS, "uid": uid(7000), "creationTimestamp": T0}, "data": data}


def secret(name, keys, typ="Opaque"):
    return {"kind": "Secret", "apiVersion": "v1", "type": typ, "metadata": {"name": name, "namespace": NS, "creationTimestamp": T0,
            "labels": {"release": REL, "heritage": "Helm"}}, "data": {k: "KioqSElEREVOKioq" for k in keys}}


def lst(kind, items):
    return {"kind": kind + "List", "apiVersion": "v1", "metadata": {"resourceVersion": "27131"}, "items": items}


CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBdummyNotARealCertificateButAPlaceholderForKeysOnly\n-----END CERTIFICATE-----\n"

STARTING = '{"commit":"79d968b712cfba4407e2cdc6f848034435c04859","component":"db-init","message":"Starting up","severity":"audit","timestamp":"2026-11-23T02:10:15Z"}'


def jline(err, ts="2026-11-23T02:10:20Z"):
    return json.dumps({"component": "db-init", "error": err, "message": "could not get database connection", "severity": "info", "timestamp": ts}, separators=(",", ":"))


def write(bundle, rel, obj):
    path = os.path.join(ROOT, bundle, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        if isinstance(obj, str):
            f.write(obj)
        else:
            json.dump(obj, f, indent=2)
            f.write("\n")


def base(bundle, pods, events, cms, logs, secrets=None, extra_pods=()):
    write(bundle, "cluster-info/cluster_version.json", {"info": {"major": "1", "minor": "29", "gitVersion": "v1.29.4", "platform": "linux/amd64"}, "string": "v1.29.4"})
    write(bundle, "cluster-resources/namespaces.json", {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {}, "items": [
        {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": n, "labels": {"kubernetes.io/metadata.name": n}}, "status": {"phase": "Active"}} for n in ("default", "kube-system", NS)]})
    write(bundle, "cluster-resources/nodes.json", {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": [
        {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
         "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.11"}], "conditions": [{"type": "Ready", "status": "True"}],
                    "nodeInfo": {"kubeletVersion": "v1.29.4", "osImage": "Ubuntu 22.04", "architecture": "amd64", "containerRuntimeVersion": "containerd://1.7", "kernelVersion": "5.15", "kubeProxyVersion": "v1.29.4", "machineID": "", "systemUUID": "", "bootID": "", "operatingSystem": "linux"}}}]})
    write(bundle, "cluster-resources/pods/%s.json" % NS, lst("Pod", list(pods) + list(extra_pods)))
    write(bundle, "cluster-resources/events/%s.json" % NS, lst("Event", events))
    write(bundle, "cluster-resources/configmaps/%s.json" % NS, lst("ConfigMap", cms))
    write(bundle, "cluster-resources/secrets/%s.json" % NS, lst("Secret", secrets if secrets is not None else [
        secret(REL + "-db", ["database-user", "database-password"]),
        secret(REL + "-auth-db", ["database-user", "database-user-full", "database-password", "database-secret"])]))
    write(bundle, "cluster-resources/services/%s.json" % NS, lst("Service", [
        {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "auth", "namespace": NS, "labels": {"release": REL, "service": "auth"}},
         "spec": {"ports": [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": 8080}], "selector": {"service": "auth", "release": REL}, "type": "ClusterIP", "clusterIP": "10.96.10.1"}}]))
    write(bundle, "cluster-resources/deployments/%s.json" % NS, {"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {}, "items": [
        {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": d, "namespace": NS, "labels": {"release": REL, "service": d, "chart": CHART}},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"service": d, "release": REL}}, "template": {"metadata": {"labels": {"service": d, "release": REL}}, "spec": {"containers": [{"name": d, "image": "x"}]}}},
         "status": {"replicas": 1, "unavailableReplicas": 1}} for d, _, _ in PODS]})
    for (p, c), text in logs.items():
        write(bundle, "cluster-resources/pods/logs/%s/%s/%s.log" % (NS, p, c), text)


def scenario_pods(state, sc, start=0):
    return [pod(start + i, d, n, two, state, sc) for i, (d, n, two) in enumerate(PODS)]


VERIFY = {"host": "database.example.com", "sslmode": "verify-full", "ca": ("configmap", "dssc-db-trust", "ca")}


def log_all(lines, pods=PODS):
    return {(n, "db-init"): "\n".join(lines) + "\n" for _, n, _ in pods}


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    others = [plain_pod(40 + i, d, n) for i, (d, n) in enumerate(OTHER)]

    # MNT001: the CA ConfigMap was never created.
    ev = []
    for i, (_, n, _) in enumerate(PODS):
        ev += [event(100 + 10 * i, n, "Scheduled", "Successfully assigned %s/%s to minikube" % (NS, n), "Normal", comp="default-scheduler"),
               event(101 + 10 * i, n, "FailedMount", 'MountVolume.SetUp failed for volume "database-ca" : configmap "dssc-db-trust" not found', count=11),
               event(102 + 10 * i, n, "FailedMount", 'Unable to mount volumes for pod "%s_%s(%s)": timeout expired waiting for volumes to attach or mount for pod "%s"/"%s". list of unmounted volumes=[database-ca]. list of unattached volumes=[database-ca]' % (n, NS, uid(i), NS, n), count=3)]
    # A stale event of a pod that no longer exists must not count.
    ev.append(event(199, "auth-7d78dccff7-old00", "FailedMount", 'MountVolume.SetUp failed for volume "database-ca" : configmap "old-trust" not found'))
    base("mnt001", scenario_pods("mount", VERIFY), ev, [cm("kube-root-ca.crt", {"ca.crt": CA_PEM})], {}, extra_pods=others)

    # MNT002: the ConfigMap exists, but with key ca.pem instead of ca.
    ev = []
    for i, (_, n, _) in enumerate(PODS):
        ev.append(event(200 + i, n, "FailedMount", "MountVolume.SetUp failed for volume \"database-ca\" : configmap references non-existent config key: ca", count=5))
    base("mnt002", scenario_pods("mount", VERIFY), ev, [cm("dssc-db-trust", {"ca.pem": CA_PEM})], {}, extra_pods=others)

    trust = [cm("dssc-db-trust", {"ca": CA_PEM})]

    # NET001: i/o timeout to the database (IPv4 address in PGHOST).
    sc = {"host": "192.168.19.226", "sslmode": "verify-full", "ca": ("configmap", "dssc-db-trust", "ca")}
    lines = [STARTING] + [jline("dial tcp 192.168.19.226:5432: i/o timeout", "2026-11-23T02:1%d:20Z" % k) for k in range(6)]
    ev = sum([normal_events(300 + 10 * i, n) for i, (_, n, _) in enumerate(PODS)], [])
    base("net001", scenario_pods("init-running", sc), ev, trust, log_all(lines), extra_pods=others)

    # AUTH001: wrong password; db-init exits and restarts.
    lines = ['{"commit":"5c108f2e383fd54fef8d3f6848c0424d9de9e001","component":"db-init","message":"Starting up","severity":"audit","timestamp":"2019-06-22T15:22:08Z"}',
             'Error: could not set up database: database not available: could not get database connection: pq: password authentication failed for user "postgres"']
    logs = log_all(lines)
    for _, n, _ in PODS:
        logs[(n, "db-init-previous")] = "\n".join(lines) + "\n"
    ev = []
    for i, (_, n, _) in enumerate(PODS):
        ev += normal_events(400 + 10 * i, n)
        ev.append(event(405 + 10 * i, n, "BackOff", "Back-off restarting failed container db-init in pod %s_%s(%s)" % (n, NS, uid(i)), count=24))
    base("auth001", scenario_pods("init-crash", VERIFY), ev, trust, logs, extra_pods=others)

    # TLS001: the CA in the ConfigMap did not sign the server certificate.
    lines = [STARTING, jline('x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" while trying to verify candidate authority certificate "database.example.com")')] * 3
    base("tls001", scenario_pods("init-running", VERIFY), sum([normal_events(500 + 10 * i, n) for i, (_, n, _) in enumerate(PODS)], []), trust, log_all(lines), extra_pods=others)

    # TLS002: connecting by IP, certificate without IP SANs.
    sc = {"host": "192.168.2.54", "sslmode": "verify-full", "ca": ("configmap", "dssc-db-trust", "ca")}
    lines = [jline("x509: cannot validate certificate for 192.168.2.54 because it doesn't contain any IP SANs", "2019-07-11T11:29:45Z")] * 4
    base("tls002", scenario_pods("init-running", sc), sum([normal_events(600 + 10 * i, n) for i, (_, n, _) in enumerate(PODS)], []), trust, log_all(lines), extra_pods=others)

    # TLS003: SSL is not enabled on the server.
    lines = ['{"commit":"5c108f2e383fd54fef8d3f6848c0424d9de9e001","component":"db-init","message":"Starting up","severity":"audit","timestamp":"2019-06-22T15:26:42Z"}',
             jline("pq: SSL is not enabled on the server", "2019-06-22T15:26:42Z")]
    base("tls003", scenario_pods("init-running", VERIFY), sum([normal_events(700 + 10 * i, n) for i, (_, n, _) in enumerate(PODS)], []), trust, log_all(lines), extra_pods=others)

    # Healthy: everything Running, db-init completed.
    ok_lines = [STARTING, '{"component":"db-init","message":"Database initialized","severity":"audit","timestamp":"2026-11-23T02:10:17Z"}']
    base("healthy", scenario_pods("running", VERIFY), sum([normal_events(800 + 10 * i, n) for i, (_, n, _) in enumerate(PODS)], []), trust, log_all(ok_lines), extra_pods=others)

    # Multi: several causes at once.
    #  - auth, scan, registryviews: TLS002 (IP host); vulnerability-scan's second init container
    #    gets AUTH001 for its own user; openscap-scan stuck with no explanation (POD001);
    #    frontend in CrashLoopBackOff (POD002); an unreadable item in the secrets list.
    sc = {"host": "10.20.30.40", "sslmode": "verify-full", "ca": ("configmap", "dssc-db-trust", "ca")}
    pods = scenario_pods("init-running", sc)
    vs = pods[4]
    vs["status"]["initContainerStatuses"][0]["state"] = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": T0, "finishedAt": T0}}
    vs["status"]["initContainerStatuses"][1]["state"] = {"running": {"startedAt": T0}}
    logs = {}
    for _, n, _ in PODS[:4]:
        if not n.startswith("openscap"):
            logs[(n, "db-init")] = "\n".join([STARTING] + [jline("tls: failed to verify certificate: x509: cannot validate certificate for 10.20.30.40 because it doesn't contain any IP SANs")] * 7) + "\n"
    logs[(PODS[4][1], "db-init")] = STARTING + "\n" + '{"component":"db-init","message":"Database initialized","severity":"audit","timestamp":"2026-11-23T02:10:17Z"}\n'
    logs[(PODS[4][1], "vulnerabilityscan-db-init")] = 'failed to connect to `host=10.20.30.40 user=vulnerabilityscan database=vulnerabilityscandb`: failed SASL auth (FATAL: password authentication failed for user "vulnerabilityscan" (SQLSTATE 28P01))\n' * 2
    crash = plain_pod(60, "frontend", "frontend-6b8f9d7c5-x2kqp", crash=True)
    logs[("frontend-6b8f9d7c5-x2kqp", "frontend-previous")] = 'panic: runtime error: invalid memory address or nil pointer dereference\n'
    secrets = [secret(REL + "-db", ["database-user", "database-password"]), {"kind": "Secret", "metadata": "broken"}]
    base("multi", pods, sum([normal_events(900 + 10 * i, n) for i, (_, n, _) in enumerate(PODS)], []), trust, logs, secrets=secrets, extra_pods=[crash])


if __name__ == "__main__":
    main()
