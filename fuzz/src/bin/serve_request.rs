//! Feeds requests to `serve`'s answer function (`serve::BundleApi::respond`, what
//! every HTTP request reaches): the first line is the request target (path and query:
//! selectors, `watch`, `limit`, log options such as `tailLines`, `limitBytes`,
//! `sinceTime`), the second the `Accept` header, the rest records (`=== path\n…`, see
//! the crate docs) of the bundle being served; with no records, a fixture bundle
//! (testdata/bundles/multi) is served.
//!
//! Must hold: no panic; every answer is a valid HTTP status; a Secret value of the
//! bundle is never served (`serve` keeps keys only).
#![no_main]

use std::sync::OnceLock;

use base64::Engine as _;
use dssc_doctor::serve::BundleApi;
use libfuzzer_sys::fuzz_target;

/// A Secret value planted in every bundle served.
const PLANTED: &str = "fuzz-planted-secret-0xC0FFEE";

fn secret_file() -> (String, Vec<u8>) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(PLANTED);
    let list = serde_json::json!({"items": [{"metadata": {"name": "db", "namespace": "trendmicro"},
        "data": {"password": b64}, "stringData": {"token": PLANTED}}]});
    (
        "cluster-resources/secrets/trendmicro.json".into(),
        list.to_string().into_bytes(),
    )
}

fn fixture() -> &'static BundleApi {
    static API: OnceLock<BundleApi> = OnceLock::new();
    API.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/bundles/multi");
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("the fixture bundle").flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(rel) = p.strip_prefix(dir) {
                    let rel = rel.to_string_lossy().into_owned();
                    files.push((rel, std::fs::read(&p).expect("a fixture file")));
                }
            }
        }
        files.push(secret_file());
        BundleApi::from_files(files)
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(3, '\n');
    let target = lines.next().unwrap_or_default();
    let accept = lines.next().unwrap_or_default();
    let records = dssc_doctor_fuzz::records(data);
    let owned;
    let api = if records.is_empty() {
        fixture()
    } else {
        let mut files = records;
        files.push(secret_file());
        owned = BundleApi::from_files(files);
        &owned
    };
    let method = if target.len() % 7 == 0 { "HEAD" } else { "GET" };
    let reply = api.respond(method, target, accept);
    assert!(
        (100..600).contains(&reply.status),
        "status {}",
        reply.status
    );
    let body = reply.body_str();
    if !text.contains(PLANTED) && !text.contains("ZnV6ei1wbGFudGVk") {
        assert!(!body.contains(PLANTED), "a Secret value was served");
        let b64 = base64::engine::general_purpose::STANDARD.encode(PLANTED);
        assert!(!body.contains(&b64), "a Secret value was served");
    }
});
