//! The pure request handler: method, path with query and Accept header in, a
//! [`Reply`] out (get, list with selectors, pod logs, discovery, version).

use super::*;

impl BundleApi {
    /// Answers one request. `target` is the path with its query string; `accept` the
    /// Accept header (a Table is returned when kubectl asks for one).
    /// The forbidden resource a request path names, if any.
    pub(crate) fn forbidden_resource(&self, segs: &[&str]) -> Option<String> {
        if self.forbidden.is_empty() {
            return None;
        }
        let rest = match segs {
            ["api", "v1", rest @ ..] | ["apis", _, _, rest @ ..] => rest,
            _ => return None,
        };
        let (res, cluster_wide) = match rest {
            ["namespaces", _, r, ..] => (r, false),
            [r] => (r, true),
            [r, ..] => (r, false),
            [] => return None,
        };
        // `RES` everywhere; `RES@cluster` only for lists across all namespaces.
        (self.forbidden.contains(*res)
            || (cluster_wide && self.forbidden.contains(&format!("{res}@cluster"))))
        .then(|| res.to_string())
    }

    pub fn respond(&self, method: &str, target: &str, accept: &str) -> Reply {
        if method != "GET" && method != "HEAD" {
            return method_not_allowed(&format!(
                "the server does not allow this method on the requested resource ({method}: this is a read-only API served from a support bundle)"
            ));
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let table = accept.contains("as=Table");
        if let Some(r) = self.forbidden_resource(&segs) {
            let ns = match segs.iter().position(|s| *s == "namespaces") {
                Some(i) if segs.len() > i + 2 => format!(" in the namespace \"{}\"", segs[i + 1]),
                _ if RESOURCES.iter().any(|d| d.name == r && d.namespaced) => {
                    " at the cluster scope".to_string()
                }
                _ => String::new(),
            };
            // The apiserver's text: verb of the request, qualified resource, the object
            // when one is named, the subresource (pods/log).
            let (group, rest) = match segs.as_slice() {
                ["apis", g, _, rest @ ..] => (*g, rest),
                [_, _, rest @ ..] => ("", rest),
                _ => ("", &segs[..0]),
            };
            let after: &[&str] = match rest {
                ["namespaces", _, _, tail @ ..] => tail,
                [_, tail @ ..] => tail,
                [] => &[],
            };
            let (name, sub) = (after.first(), after.get(1).filter(|s| **s != "status"));
            let verb = match (name, truthy(q.get("watch"))) {
                (Some(_), _) => "get",
                (None, true) => "watch",
                (None, false) => "list",
            };
            let qualified = if group.is_empty() {
                r.clone()
            } else {
                format!("{r}.{group}")
            };
            let subject = match name {
                Some(n) => format!("{qualified} \"{n}\""),
                None => qualified,
            };
            let resource = match sub {
                Some(s) => format!("{r}/{s}"),
                None => r.clone(),
            };
            let mut details = json!({"kind": r});
            if let Some(n) = name {
                details["name"] = json!(n);
            }
            if !group.is_empty() {
                details["group"] = json!(group);
            }
            return status(
                403,
                "Forbidden",
                format!(
                    "{subject} is forbidden: User \"system:serviceaccount:default:dssc-doctor\" cannot {verb} resource \"{resource}\" in API group \"{group}\"{ns}"
                ),
                Some(details),
            );
        }
        match segs.as_slice() {
            [] => Reply::json(
                200,
                &json!({"paths": ["/api", "/api/v1", "/apis", "/version"]}),
            ),
            ["version"] => Reply::json(200, &self.version_info()),
            ["healthz"] | ["livez"] | ["readyz"] => Reply::text(200, "ok"),
            ["api"] => Reply::json(
                200,
                &json!({
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
                }),
            ),
            ["apis"] => Reply::json(200, &api_group_list()),
            ["api", "v1"] => Reply::json(200, &resource_list("", "v1")),
            ["apis", g] => match api_group(g) {
                Some(v) => Reply::json(200, &v),
                None => not_found_path(),
            },
            ["apis", g, v] if api_group(g).is_some() && *v == "v1" => {
                Reply::json(200, &resource_list(g, v))
            }
            ["api", "v1", rest @ ..] => self.resource_path("", "v1", rest, &q, table),
            ["apis", g, v, rest @ ..] => self.resource_path(g, v, rest, &q, table),
            _ => not_found_path(),
        }
    }

    pub(crate) fn version_info(&self) -> Value {
        self.version.clone().unwrap_or_else(|| {
            json!({
                "major": "1", "minor": "30", "gitVersion": "v1.30.0",
                "gitCommit": "", "gitTreeState": "clean", "buildDate": "",
                "goVersion": "", "compiler": "gc", "platform": "linux/amd64",
            })
        })
    }

    pub(crate) fn resource_path(
        &self,
        group: &str,
        version: &str,
        rest: &[&str],
        q: &HashMap<String, String>,
        table: bool,
    ) -> Reply {
        let find = |name: &str| {
            RESOURCES
                .iter()
                .position(|d| d.group == group && d.version == version && d.name == name)
        };
        if rest.first() == Some(&"watch") || truthy(q.get("watch")) {
            return method_not_allowed(
                "watch is not supported: this is a read-only API served from a support bundle",
            );
        }
        match rest {
            ["namespaces", ns, res, tail @ ..]
                if find(res).is_some_and(|i| RESOURCES[i].namespaced) =>
            {
                let i = find(res).unwrap_or_default();
                match tail {
                    [] => self.list(i, Some(ns), q, table),
                    [name] | [name, "status"] => self.get(i, Some(ns), name, table),
                    [name, "log"] if RESOURCES[i].name == "pods" => self.log(ns, name, q),
                    _ => not_found_path(),
                }
            }
            [res] => match find(res) {
                Some(i) => self.list(i, None, q, table),
                None => not_found_path(),
            },
            [res, name] | [res, name, "status"] => match find(res) {
                Some(i) if !RESOURCES[i].namespaced => self.get(i, None, name, table),
                _ => not_found_path(),
            },
            _ => not_found_path(),
        }
    }

    pub(crate) fn get(&self, i: usize, ns: Option<&str>, name: &str, table: bool) -> Reply {
        let def = &RESOURCES[i];
        let found = self.objects[i].iter().find(|o| {
            field_str(o, "metadata.name") == name
                && ns.is_none_or(|ns| field_str(o, "metadata.namespace") == ns)
        });
        match found {
            Some(o) if table => Reply::json(200, &self.table(def, &[o])),
            Some(o) => Reply::json(200, o),
            None => not_found(def, name),
        }
    }

    pub(crate) fn list(
        &self,
        i: usize,
        ns: Option<&str>,
        q: &HashMap<String, String>,
        table: bool,
    ) -> Reply {
        let def = &RESOURCES[i];
        let labels = match q.get("labelSelector").map(|s| LabelSelector::parse(s)) {
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => return bad_request(format!("unable to parse requirement: {e}")),
            None => None,
        };
        let fields = match q.get("fieldSelector").map(|s| FieldSelector::parse(s)) {
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => return bad_request(format!("invalid field selector: {e}")),
            None => None,
        };
        let items: Vec<&Value> = self.objects[i]
            .iter()
            .filter(|o| ns.is_none_or(|ns| field_str(o, "metadata.namespace") == ns))
            .filter(|o| labels.as_ref().is_none_or(|s| s.matches(o)))
            .filter(|o| fields.as_ref().is_none_or(|s| s.matches(o)))
            .collect();
        if table {
            return Reply::json(200, &self.table(def, &items));
        }
        #[derive(Serialize)]
        struct List<'a> {
            #[serde(rename = "apiVersion")]
            api_version: String,
            kind: String,
            metadata: Value,
            items: Vec<&'a Value>,
        }
        Reply::json(
            200,
            &List {
                api_version: def.api_version(),
                kind: format!("{}List", def.kind),
                metadata: json!({"resourceVersion": self.resource_version}),
                items,
            },
        )
    }

    pub(crate) fn log(&self, ns: &str, pod: &str, q: &HashMap<String, String>) -> Reply {
        let pod_obj = self.objects("pods").iter().find(|o| {
            field_str(o, "metadata.name") == pod && field_str(o, "metadata.namespace") == ns
        });
        let logged: BTreeSet<&str> = self
            .logs
            .keys()
            .filter(|k| k.namespace == ns && k.pod == pod)
            .map(|k| k.container.as_str())
            .collect();
        let pods_def = &RESOURCES[0];
        if pod_obj.is_none() && logged.is_empty() {
            return not_found(pods_def, pod);
        }
        let names = |key: &str| -> Vec<String> {
            pod_obj
                .and_then(|p| p.pointer(&format!("/spec/{key}")))
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| c.get("name").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let containers = names("containers");
        let inits = names("initContainers");
        let container = match q.get("container").filter(|c| !c.is_empty()) {
            Some(c) => c.clone(),
            None if containers.len() == 1 => containers[0].clone(),
            None if pod_obj.is_none() && logged.len() == 1 => logged
                .iter()
                .next()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            None => {
                return bad_request(format!(
                    "a container name must be specified for pod {pod}, choose one of: [{}]{}",
                    containers.join(" "),
                    if inits.is_empty() {
                        String::new()
                    } else {
                        format!(" or one of the init containers: [{}]", inits.join(" "))
                    }
                ))
            }
        };
        if pod_obj.is_some()
            && !containers.contains(&container)
            && !inits.contains(&container)
            && !logged.contains(container.as_str())
        {
            return bad_request(format!("container {container} is not valid for pod {pod}"));
        }
        let previous = truthy(q.get("previous"));
        let key = |previous: bool| LogKey {
            namespace: ns.to_string(),
            pod: pod.to_string(),
            container: container.clone(),
            previous,
        };
        // Which instance the kubelet would read (its validateContainerLogStatus): the
        // previous one is the last terminated instance; while the container waits
        // (CrashLoopBackOff) the current one is that same last terminated instance.
        let st = pod_obj.and_then(|p| container_status(p, &container));
        let waiting = st.is_some_and(|s| s.pointer("/state/waiting").is_some());
        let last_terminated = st
            .and_then(|s| s.pointer("/lastState/terminated"))
            .is_some();
        let data = if previous {
            // What `--previous` returned when the bundle was made, else the waiting
            // container's last terminated instance.
            self.logs.get(&key(true)).or_else(|| {
                (waiting && last_terminated)
                    .then(|| self.logs.get(&key(false)))
                    .flatten()
            })
        } else if waiting && last_terminated {
            self.logs
                .get(&key(true))
                .or_else(|| self.logs.get(&key(false)))
        } else {
            self.logs.get(&key(false))
        };
        let Some(data) = data else {
            let msg = if previous {
                format!("previous terminated container \"{container}\" in pod \"{pod}\" not found")
            } else if let Some(reason) = st
                .and_then(|s| s.pointer("/state/waiting/reason"))
                .and_then(Value::as_str)
            {
                match reason {
                    "ErrImagePull" => format!(
                        "container \"{container}\" in pod \"{pod}\" is waiting to start: image can't be pulled"
                    ),
                    "ImagePullBackOff" => format!(
                        "container \"{container}\" in pod \"{pod}\" is waiting to start: trying and failing to pull image"
                    ),
                    r => format!("container \"{container}\" in pod \"{pod}\" is waiting to start: {r}"),
                }
            } else {
                format!(
                    "container \"{container}\" in pod \"{pod}\" has no log in this support bundle"
                )
            };
            return bad_request(msg);
        };
        let mut body = data.clone();
        if let Some(n) = q.get("tailLines").and_then(|s| s.parse::<usize>().ok()) {
            body = body.slice(tail_start(&body, n)..);
        }
        if let Some(n) = q.get("limitBytes").and_then(|s| s.parse::<usize>().ok()) {
            if n < body.len() {
                body = body.slice(..n);
            }
        }
        Reply::text(200, body)
    }
}

/// The status of container `name` of a pod (init or app container).
pub(crate) fn container_status<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|k| pod.pointer(&format!("/status/{k}"))?.as_array())
        .flatten()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
}

/// A core/v1 Event as `events.k8s.io/v1` shows it (`regarding`, `note`, `deprecated*`).
pub(crate) fn to_events_v1(e: &Value) -> Value {
    let mut o = Map::new();
    o.insert("kind".into(), json!("Event"));
    o.insert("apiVersion".into(), json!("events.k8s.io/v1"));
    for (from, to) in [
        ("metadata", "metadata"),
        ("eventTime", "eventTime"),
        ("series", "series"),
        ("involvedObject", "regarding"),
        ("related", "related"),
        ("message", "note"),
        ("reason", "reason"),
        ("type", "type"),
        ("action", "action"),
        ("reportingComponent", "reportingController"),
        ("reportingInstance", "reportingInstance"),
        ("source", "deprecatedSource"),
        ("firstTimestamp", "deprecatedFirstTimestamp"),
        ("lastTimestamp", "deprecatedLastTimestamp"),
        ("count", "deprecatedCount"),
    ] {
        if let Some(v) = e.get(from).filter(|v| !v.is_null()) {
            o.insert(to.into(), v.clone());
        }
    }
    if !o.contains_key("reportingController") {
        if let Some(c) = e.pointer("/source/component").filter(|v| v.is_string()) {
            o.insert("reportingController".into(), c.clone());
        }
    }
    Value::Object(o)
}

/// The first non-empty of several fields.
pub(crate) fn first_field(o: &Value, paths: &[&str]) -> String {
    paths
        .iter()
        .map(|p| field_str(o, p))
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

pub(crate) fn truthy(v: Option<&String>) -> bool {
    v.is_some_and(|s| s == "true" || s == "1")
}

/// The byte offset where the last `n` lines of `data` begin.
pub(crate) fn tail_start(data: &[u8], n: usize) -> usize {
    if n == 0 {
        return data.len();
    }
    let end = if data.last() == Some(&b'\n') {
        data.len() - 1
    } else {
        data.len()
    };
    let mut seen = 0;
    for i in (0..end).rev() {
        if data[i] == b'\n' {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    0
}

pub(crate) fn count_keys(o: &Value, key: &str) -> usize {
    o.get(key).and_then(Value::as_object).map_or(0, Map::len)
}
