//! Code checks on pod state: stuck in Init with nothing explaining it (POD001),
//! restart loops (POD002).

use super::Context;
use crate::catalogue::{ids, Severity};
use crate::model::findings::{FindingSet, Origin, Subject};
use crate::settings::pod_env;

/// Restarts at or above this count make a container "restarting".
const RESTART_WARN: i32 = 3;

pub(crate) fn add(cx: &Context, set: &mut FindingSet) {
    let (dssc, pods) = (&cx.dssc, &cx.pods);
    // 4. Code checks on pod state.
    for (p, row) in dssc.iter().zip(pods) {
        let ns = row.namespace.clone();
        let ctx = pod_env::pod_context(p);
        if row.in_init && !row.ok && !set.explains_pod(&ns, &row.name, Severity::Warn) {
            set.add_code(
                ids::POD001,
                Some(Subject::Pod {
                    namespace: ns.clone(),
                    name: row.name.clone(),
                }),
                Origin::Cluster,
                format!("{} {} {}", row.name, row.ready, row.status),
                ctx.clone(),
                Vec::new(),
            );
        }
        for cs in p
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .into_iter()
            .flatten()
        {
            let waiting = cs
                .state
                .as_ref()
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref());
            if (waiting == Some("CrashLoopBackOff") || cs.restart_count >= RESTART_WARN)
                && !set.explains_pod(&ns, &row.name, Severity::Error)
            {
                let mut c = ctx.clone();
                c.insert("container".into(), cs.name.clone());
                set.add_code(
                    ids::POD002,
                    Some(Subject::Pod {
                        namespace: ns.clone(),
                        name: row.name.clone(),
                    }),
                    Origin::Cluster,
                    format!(
                        "container {} of {}: {} restarts{}",
                        cs.name,
                        row.name,
                        cs.restart_count,
                        waiting.map(|w| format!(", {w}")).unwrap_or_default()
                    ),
                    c,
                    Vec::new(),
                );
            }
        }
    }
}
