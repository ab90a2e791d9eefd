//! kubectl's server-side Tables: the columns and cells `kubectl get` prints for
//! each kind, including the pod STATUS printer (no crate has it).

use super::*;

impl BundleApi {
    pub(crate) fn table(&self, def: &ResourceDef, items: &[&Value]) -> Value {
        let now = chrono::Utc::now();
        let (cols, cells): (Vec<Column>, CellsFn) = match def.kind {
            "Pod" => (
                vec![
                    ("Name", "name", 0),
                    ("Ready", "", 0),
                    ("Status", "", 0),
                    ("Restarts", "", 0),
                    ("Age", "", 0),
                    ("IP", "", 1),
                    ("Node", "", 1),
                ],
                pod_cells,
            ),
            "Event" => (
                vec![
                    ("Last Seen", "", 0),
                    ("Type", "", 0),
                    ("Reason", "", 0),
                    ("Object", "", 0),
                    ("Message", "", 0),
                ],
                event_cells,
            ),
            "Node" => (
                vec![
                    ("Name", "name", 0),
                    ("Status", "", 0),
                    ("Roles", "", 0),
                    ("Age", "", 0),
                    ("Version", "", 0),
                ],
                node_cells,
            ),
            "Namespace" => (
                vec![("Name", "name", 0), ("Status", "", 0), ("Age", "", 0)],
                |o, now| {
                    vec![
                        json!(field_str(o, "metadata.name")),
                        json!(field_str(o, "status.phase")),
                        json!(age(o, "metadata.creationTimestamp", now)),
                    ]
                },
            ),
            "Service" => (
                vec![
                    ("Name", "name", 0),
                    ("Type", "", 0),
                    ("Cluster-IP", "", 0),
                    ("External-IP", "", 0),
                    ("Port(s)", "", 0),
                    ("Age", "", 0),
                ],
                service_cells,
            ),
            "ConfigMap" => (
                vec![("Name", "name", 0), ("Data", "", 0), ("Age", "", 0)],
                |o, now| {
                    let n = count_keys(o, "data") + count_keys(o, "binaryData");
                    vec![
                        json!(field_str(o, "metadata.name")),
                        json!(n),
                        json!(age(o, "metadata.creationTimestamp", now)),
                    ]
                },
            ),
            "Secret" => (
                vec![
                    ("Name", "name", 0),
                    ("Type", "", 0),
                    ("Data", "", 0),
                    ("Age", "", 0),
                ],
                |o, now| {
                    vec![
                        json!(field_str(o, "metadata.name")),
                        json!(field_str(o, "type")),
                        json!(count_keys(o, "data")),
                        json!(age(o, "metadata.creationTimestamp", now)),
                    ]
                },
            ),
            "Deployment" => (
                vec![
                    ("Name", "name", 0),
                    ("Ready", "", 0),
                    ("Up-to-date", "", 0),
                    ("Available", "", 0),
                    ("Age", "", 0),
                ],
                |o, now| {
                    let n = |p: &str| o.pointer(p).and_then(Value::as_i64).unwrap_or(0);
                    vec![
                        json!(field_str(o, "metadata.name")),
                        json!(format!(
                            "{}/{}",
                            n("/status/readyReplicas"),
                            o.pointer("/spec/replicas")
                                .and_then(Value::as_i64)
                                .unwrap_or(1)
                        )),
                        json!(n("/status/updatedReplicas")),
                        json!(n("/status/availableReplicas")),
                        json!(age(o, "metadata.creationTimestamp", now)),
                    ]
                },
            ),
            _ => (vec![("Name", "name", 0), ("Age", "", 0)], |o, now| {
                vec![
                    json!(field_str(o, "metadata.name")),
                    json!(age(o, "metadata.creationTimestamp", now)),
                ]
            }),
        };
        let column_definitions: Vec<Value> = cols
            .iter()
            .map(|(name, format, priority)| {
                json!({"name": name, "type": "string", "format": format, "description": "", "priority": priority})
            })
            .collect();
        let rows: Vec<Value> = items
            .iter()
            .map(|o| json!({"cells": cells(o, now), "object": o}))
            .collect();
        json!({
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": self.resource_version},
            "columnDefinitions": column_definitions,
            "rows": rows,
        })
    }
}

pub(crate) type Column = (&'static str, &'static str, i32);
pub(crate) type CellsFn = fn(&Value, chrono::DateTime<chrono::Utc>) -> Vec<Value>;

/// A dotted field of an object as a string (`""` when absent), as field selectors
/// compare it.
pub fn field_str(o: &Value, path: &str) -> String {
    let mut cur = o;
    for part in path.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

pub(crate) fn age(o: &Value, path: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let s = field_str(o, path);
    match chrono::DateTime::parse_from_rfc3339(&s) {
        Ok(t) => human_duration((now - t.with_timezone(&chrono::Utc)).num_seconds()),
        Err(_) => "<unknown>".into(),
    }
}

/// kubectl's `HumanDuration`: `45s`, `5m30s`, `3h`, `2d4h`, `400d`, `3y20d`.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let s = secs.max(0);
    let (m, h) = (s / 60, s / 3600);
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        if h % 24 == 0 {
            format!("{}d", h / 24)
        } else {
            format!("{}d{}h", h / 24, h % 24)
        }
    } else if h < 24 * 365 * 2 {
        format!("{}d", h / 24)
    } else if h < 24 * 365 * 8 {
        let d = h / 24;
        if d % 365 == 0 {
            format!("{}y", d / 365)
        } else {
            format!("{}y{}d", d / 365, d % 365)
        }
    } else {
        format!("{}y", h / 24 / 365)
    }
}

pub(crate) fn or_none(s: String) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s
    }
}

pub(crate) fn pod_cells(o: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    let (ready, st, restarts) =
        match serde_json::from_value::<k8s_openapi::api::core::v1::Pod>(o.clone()) {
            Ok(p) => {
                let r = crate::model::evidence::pod_row(&p);
                (r.ready, r.status, r.restarts.to_string())
            }
            Err(_) => ("0/0".into(), field_str(o, "status.phase"), "0".into()),
        };
    vec![
        json!(field_str(o, "metadata.name")),
        json!(ready),
        json!(st),
        json!(restarts),
        json!(age(o, "metadata.creationTimestamp", now)),
        json!(or_none(field_str(o, "status.podIP"))),
        json!(or_none(field_str(o, "spec.nodeName"))),
    ]
}

pub(crate) fn event_cells(o: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    let last = [
        "lastTimestamp",
        "deprecatedLastTimestamp",
        "series.lastObservedTime",
        "eventTime",
        "firstTimestamp",
        "metadata.creationTimestamp",
    ]
    .iter()
    .find(|p| !field_str(o, p).is_empty())
    .map(|p| age(o, p, now))
    .unwrap_or_else(|| "<unknown>".into());
    vec![
        json!(last),
        json!(field_str(o, "type")),
        json!(field_str(o, "reason")),
        json!(format!(
            "{}/{}",
            first_field(o, &["involvedObject.kind", "regarding.kind"]).to_lowercase(),
            first_field(o, &["involvedObject.name", "regarding.name"])
        )),
        json!(first_field(o, &["message", "note"]).trim()),
    ]
}

pub(crate) fn node_cells(o: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    let ready = o
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
        })
        .map(|c| field_str(c, "status"));
    let mut st = match ready.as_deref() {
        Some("True") => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        st.push_str(",SchedulingDisabled");
    }
    let roles: Vec<&str> = o
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|l| {
            l.keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                .filter(|r| !r.is_empty())
                .collect()
        })
        .unwrap_or_default();
    vec![
        json!(field_str(o, "metadata.name")),
        json!(st),
        json!(or_none(roles.join(","))),
        json!(age(o, "metadata.creationTimestamp", now)),
        json!(field_str(o, "status.nodeInfo.kubeletVersion")),
    ]
}

pub(crate) fn service_cells(o: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    let ports: Vec<String> = o
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let port = field_str(p, "port");
                    let proto = field_str(p, "protocol");
                    let proto = if proto.is_empty() {
                        "TCP".into()
                    } else {
                        proto
                    };
                    match field_str(p, "nodePort") {
                        np if np.is_empty() => format!("{port}/{proto}"),
                        np => format!("{port}:{np}/{proto}"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let external: Vec<String> = o
        .pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .map(|is| {
            is.iter()
                .map(|i| {
                    let ip = field_str(i, "ip");
                    if ip.is_empty() {
                        field_str(i, "hostname")
                    } else {
                        ip
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let ty = field_str(o, "spec.type");
    let external = if !external.is_empty() {
        external.join(",")
    } else if ty == "LoadBalancer" {
        "<pending>".into()
    } else {
        "<none>".into()
    };
    vec![
        json!(field_str(o, "metadata.name")),
        json!(if ty.is_empty() {
            "ClusterIP".into()
        } else {
            ty
        }),
        json!(or_none(field_str(o, "spec.clusterIP"))),
        json!(external),
        json!(or_none(ports.join(","))),
        json!(age(o, "metadata.creationTimestamp", now)),
    ]
}
