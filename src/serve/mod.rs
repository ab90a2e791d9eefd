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
use base64::Engine as _;
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
pub use respond::*;
mod tables;
pub use tables::*;
mod discovery;
use discovery::*;
mod selectors;
pub use selectors::*;
mod http;
pub use http::*;

#[cfg(test)]
mod tests {
    use super::*;

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
