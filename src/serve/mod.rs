//! `serve`: a read-only Kubernetes API over a support bundle (directory or tar.gz).
//!
//! Every file of the bundle is read into memory once ([`BundleApi::load`]); requests are
//! answered from there by [`BundleApi::respond`], a pure function, and served over
//! HTTP/1.1 by [`start`]. Enough of the API is implemented for `kubectl get/describe/
//! logs` and for the `kube` client: `/version`, legacy discovery (`/api`, `/apis`,
//! `/api/v1`, `/apis/<group>/<version>`), get and list of namespaced and cluster-scoped
//! resources with label and field selectors, `pods/{name}/log`, server-side Tables for
//! kubectl, and `Status` objects for errors. Only GET and HEAD are allowed; Secret
//! values are never served.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::model::error::InputError;
use crate::sources::{self, InputKind};

mod resources;
pub use resources::*;
mod reply;
pub use reply::*;
mod ingest;
pub use ingest::*;
mod respond;
use respond::*;
mod tables;
pub use tables::*;
mod discovery;
use discovery::*;
mod selectors;
pub use selectors::*;
mod http;
pub use http::*;
mod state;
pub use state::*;
mod watch;
use watch::*;
mod script;
pub use script::*;

#[cfg(test)]
mod tests {
    use super::*;

    /// `serve` had its own Secret masking, which served the last-applied-configuration
    /// annotation (a full copy of the Secret, values included) verbatim.
    #[test]
    fn secret_last_applied_annotation_is_not_served() {
        let applied = r#"{"apiVersion":"v1","kind":"Secret","data":{"password":"czNjcjN0"},"stringData":{"pw":"s3cr3t"}}"#;
        let list = json!({"kind": "SecretList", "apiVersion": "v1", "items": [{
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "ns",
                         "annotations": {crate::redact::LAST_APPLIED: applied}},
            "data": {"password": "czNjcjN0"}}]});
        let api = BundleApi::from_files([(
            "cluster-resources/secrets/ns.json".to_string(),
            serde_json::to_vec(&list).unwrap(),
        )]);
        let r = api.respond(
            "GET",
            "/api/v1/namespaces/ns/secrets/db",
            "application/json",
        );
        assert_eq!(r.status, 200, "{}", r.body_str());
        let body = r.body_str();
        assert!(
            !body.contains("s3cr3t") && !body.contains("czNjcjN0"),
            "{body}"
        );
        assert!(body.contains("password"), "keys stay: {body}");
    }

    /// 403 texts as the apiserver words them: the request's verb, the qualified
    /// resource, the named object, the subresource, the scope.
    #[test]
    fn forbidden_messages_follow_the_request() {
        let mut api = BundleApi::from_files(Vec::new());
        api.forbidden = ["pods", "deployments"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let msg = |t: &str| {
            let v: Value = serde_json::from_str(&api.respond("GET", t, "").body_str()).unwrap();
            v["message"].as_str().unwrap().to_string()
        };
        assert!(msg("/api/v1/namespaces/ns/pods").contains(
            "pods is forbidden: User \"system:serviceaccount:default:dssc-doctor\" cannot list resource \"pods\" in API group \"\" in the namespace \"ns\""
        ));
        assert!(msg("/api/v1/pods")
            .contains("cannot list resource \"pods\" in API group \"\" at the cluster scope"));
        assert!(msg("/api/v1/namespaces/ns/pods?watch=1").contains("cannot watch resource"));
        assert!(msg("/api/v1/namespaces/ns/pods/p1/log").contains(
            "pods \"p1\" is forbidden: User \"system:serviceaccount:default:dssc-doctor\" cannot get resource \"pods/log\""
        ));
        assert!(msg("/apis/apps/v1/namespaces/ns/deployments")
            .contains("deployments.apps is forbidden: User \"system:serviceaccount:default:dssc-doctor\" cannot list resource \"deployments\" in API group \"apps\""));
    }

    #[test]
    fn label_selector_parses_all_operators() {
        let s =
            LabelSelector::parse("app=auth,tier!=db,env in (a, b),x notin (c),has,!gone").unwrap();
        assert_eq!(s.0.len(), 6);
        let o = json!({"metadata": {"labels": {"app": "auth", "env": "b", "has": "1"}}});
        assert!(s.matches(&o));
        assert!(LabelSelector::parse("a in (x").is_err());
        assert!(LabelSelector::parse("bad key=1").is_err());
    }

    #[test]
    fn field_selector_generic_paths() {
        let s = FieldSelector::parse("status.phase!=Running,metadata.name=p").unwrap();
        assert!(s.matches(&json!({"metadata": {"name": "p"}, "status": {"phase": "Pending"}})));
        assert!(!s.matches(&json!({"metadata": {"name": "p"}, "status": {"phase": "Running"}})));
        assert!(FieldSelector::parse("nonsense").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(30), "30s");
        assert_eq!(human_duration(330), "5m30s");
        assert_eq!(human_duration(3 * 86400 + 7200), "3d2h");
    }

    #[test]
    fn tail_lines() {
        let d = b"a\nb\nc\n";
        assert_eq!(&d[tail_start(d, 2)..], b"b\nc\n");
        assert_eq!(&d[tail_start(d, 9)..], d);
        let e = b"a\nb";
        assert_eq!(&e[tail_start(e, 1)..], b"b");
    }
}
