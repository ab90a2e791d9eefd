//! The probe's record as it runs: stage results and the hits it raises, with the names
//! the catalogue declares for each rule.

use super::*;

/// Collects stages and hits while the probe runs.
pub(crate) struct Recorder {
    pub(crate) res: ProbeResult,
    pub(crate) context: BTreeMap<String, String>,
}

impl Recorder {
    pub(crate) fn stage(
        &mut self,
        name: &str,
        result: StageResult,
        t0: Option<Instant>,
        detail: String,
    ) {
        self.res.stages.push(Stage {
            name: name.into(),
            result,
            ok: result != StageResult::Fail,
            ms: t0.map(ms_since),
            detail,
        });
    }

    pub(crate) fn hit(&mut self, id: RuleId, captures: &[(&str, String)], evidence: String) {
        id.check_vars(captures.iter().map(|(k, _)| *k));
        self.res.hits.push(ProbeHit {
            id: id.as_str().into(),
            captures: captures
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            context: self.context.clone(),
            evidence,
        });
    }

    pub(crate) fn skip_rest(&mut self, names: &[&str], why: &str) {
        for n in names {
            if self.res.stage(n).is_none() {
                self.stage(n, StageResult::Skip, None, why.into());
            }
        }
    }
}

/// Milliseconds since `t0`.
pub(crate) fn ms_since(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}
