//! API discovery documents: `/api`, `/apis`, group and resource lists.

use super::*;

pub(crate) fn api_groups() -> Vec<&'static str> {
    let mut gs: Vec<&str> = Vec::new();
    for d in RESOURCES {
        if !d.group.is_empty() && !gs.contains(&d.group) {
            gs.push(d.group);
        }
    }
    gs
}

pub(crate) fn api_group(g: &str) -> Option<Value> {
    api_groups().contains(&g).then(|| {
        let gv = json!({"groupVersion": format!("{g}/v1"), "version": "v1"});
        json!({
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": g,
            "versions": [gv],
            "preferredVersion": gv,
        })
    })
}

pub(crate) fn api_group_list() -> Value {
    let groups: Vec<Value> = api_groups()
        .into_iter()
        .filter_map(api_group)
        .map(|mut g| {
            if let Some(o) = g.as_object_mut() {
                o.remove("kind");
                o.remove("apiVersion");
            }
            g
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub(crate) fn resource_list(group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for d in RESOURCES
        .iter()
        .filter(|d| d.group == group && d.version == version)
    {
        let mut r = json!({
            "name": d.name,
            "singularName": d.singular,
            "namespaced": d.namespaced,
            "kind": d.kind,
            "verbs": ["get", "list"],
        });
        if !d.short_names.is_empty() {
            r["shortNames"] = json!(d.short_names);
        }
        if !d.categories.is_empty() {
            r["categories"] = json!(d.categories);
        }
        resources.push(r);
        if d.name == "pods" {
            resources.push(json!({
                "name": "pods/log", "singularName": "", "namespaced": true,
                "kind": "Pod", "verbs": ["get"],
            }));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}
