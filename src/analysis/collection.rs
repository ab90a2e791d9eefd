//! Findings about the evidence itself: what could not be read (DOC001) and no Smart
//! Check pods at all (DOC002).

use std::collections::BTreeMap;

use super::Context;
use crate::catalogue::ids;
use crate::model::findings::{FindingSet, Origin, Subject};

pub(crate) fn add(cx: &Context, set: &mut FindingSet) {
    let (ev, dssc) = (cx.ev, &cx.dssc);
    for s in &ev.skipped {
        set.add_code(
            ids::DOC001,
            Some(Subject::Other(s.what.clone())),
            Origin::Collector,
            format!("{}: {}", s.what, s.why),
            BTreeMap::new(),
            Vec::new(),
        );
    }
    if dssc.is_empty() && ev.logs.iter().all(|l| l.pod.is_some()) {
        set.add_code(
            ids::DOC002,
            None,
            Origin::Collector,
            format!(
                "{} pods read, none with a db-init init container{}",
                ev.pods.len(),
                ev.release
                    .as_ref()
                    .map(|r| format!(" or label release={r}"))
                    .unwrap_or_default()
            ),
            BTreeMap::new(),
            Vec::new(),
        );
    }
}
