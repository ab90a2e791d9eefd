//! Configuration drift (CFG…): the pods' settings against the Helm release and the
//! values, and a release upgraded without the pods following.

use super::*;
use crate::catalogue::ids;

/// CFG001/CFG002: settings from overrides.yaml or the Helm release that the running
/// pods do not use.
pub(crate) fn config_drift(ev: &Evidence, set: &mut FindingSet) {
    let Some(p) = ev
        .dssc_pods()
        .into_iter()
        .find(|p| crate::model::evidence::has_db_init(p))
    else {
        return;
    };
    let pod = crate::model::evidence::pod_name(p).to_string();
    let ns = crate::model::evidence::pod_ns(p).to_string();
    let configured = |key: &str| {
        ev.settings
            .get(key)
            .filter(|s| !s.from.starts_with("pod "))
            .map(|s| (s.value.clone(), s.from.clone()))
    };
    let mut ctx = pod_env::pod_context(p);
    let subject = Some(Subject::Pod {
        namespace: ns.clone(),
        name: pod.clone(),
    });
    if let (Some((want, source)), Some((kind, have, key))) =
        (configured("ca_name"), pod_env::pod_ca_ref(p))
    {
        let want_key = configured("ca_key").map(|(k, _)| k).unwrap_or_default();
        if want != have || (!want_key.is_empty() && want_key != key) {
            ctx.insert("want".into(), format!("{want} key {want_key}"));
            ctx.insert("have".into(), format!("{kind} {have} key {key}"));
            ctx.insert("source".into(), source.clone());
            set.add_code(ids::CFG001,
                subject.clone(),
                Origin::Cluster,
                format!(
                    "{source} names CA {want} (key {want_key}); pod {pod} mounts {kind} {have} (key {key})"
                ),
                ctx.clone(),
                vec![("want".into(), want.clone()), ("have".into(), have.clone())],
            );
        }
    }
    let env = pod_env::db_init_env(p);
    for (key, var) in [
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("sslmode", "PGSSLMODE"),
    ] {
        let (Some((want, source)), Some(have)) = (configured(key), env.get(var)) else {
            continue;
        };
        if &want != have {
            let mut c = ctx.clone();
            c.insert("source".into(), source.clone());
            set.add_code(
                ids::CFG002,
                subject.clone(),
                Origin::Cluster,
                format!("{source} sets {key}={want}; db-init of {pod} runs with {var}={have}"),
                c,
                vec![
                    ("setting".into(), key.into()),
                    ("want".into(), want.clone()),
                    ("have".into(), have.clone()),
                ],
            );
        }
    }
}
