//! The install's settings, wherever they come from: Helm values (`overrides.yaml` files
//! merged in order like `helm install -f a.yaml -f b.yaml`, then `--set` strings with
//! Helm's syntax: [`merge`], [`set`]), their typed view ([`values`], read by
//! [`reader`]), the checks on the values alone ([`rules`], IDs `VAL…`), the deployed
//! Helm release ([`helm`]) and the db-init pods' environment ([`pod_env`]).
//!
//! ```no_run
//! # use std::path::PathBuf;
//! # fn main() -> Result<(), dssc_doctor::model::error::InputError> {
//! let v = dssc_doctor::settings::load(&[PathBuf::from("overrides.yaml")], &["db.port=5433".into()])?;
//! for issue in dssc_doctor::settings::check(&v) {
//!     println!("{} {}: {}", issue.id, issue.subject, issue.evidence);
//! }
//! # Ok(()) }
//! ```
//!
//! The database password is kept out of every `Debug` output and evidence text; the only
//! way to read it is [`Values::password`].

pub mod helm;
pub mod pod_env;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use yaml::{Mapping, Value};

use crate::catalogue::Catalogue;
use crate::model::error::InputError;
use crate::model::findings::{FindingSet, Hit, Origin, Subject};
use crate::redact::HIDDEN;

pub mod merge;
pub use merge::*;
pub mod reader;
use reader::*;
pub mod rules;
pub use rules::*;
pub mod set;
pub use set::*;
pub mod suggest;
pub use suggest::*;
pub mod values;
pub use values::*;
pub mod yaml;

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/values")
            .join(name)
    }

    fn load_fixture(names: &[&str], sets: &[&str]) -> Values {
        let files: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        load(&files, &sets).unwrap()
    }

    /// `(id, subject)` of every issue, in order.
    fn ids(v: &Values) -> Vec<(&'static str, String)> {
        check(v)
            .into_iter()
            .map(|i| (i.id.as_str(), i.subject))
            .collect()
    }

    fn pair(id: &'static str, s: &str) -> (&'static str, String) {
        (id, s.to_string())
    }

    #[test]
    fn good_values_have_no_issues() {
        let v = load_fixture(&["good.yaml"], &[]);
        assert_eq!(ids(&v), vec![]);
        let s = v.db_settings();
        assert_eq!(
            s,
            DbSettings {
                host: "database.example.com".into(),
                external: true,
                port: 5432,
                user: Some("postgres".into()),
                sslmode: SslMode::VerifyFull,
                ca_kind: Some(CaKind::ConfigMap),
                ca_name: Some("dssc-db-trust".into()),
                ca_key: Some("ca".into()),
            }
        );
        assert_eq!(v.password(), Some("s3cr3t-pa55"));
        assert_eq!(v.db.max_open_connections, Some(25));
        assert_eq!(v.db.conn_max_lifetime.as_deref(), Some("10m"));
        assert!(v.network_policy_enabled);
        assert_eq!(
            s.pairs().iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            ["host", "port", "sslmode", "user", "ca_kind", "ca_name", "ca_key"]
        );
    }

    #[test]
    fn password_never_in_debug_or_evidence() {
        for f in [
            "good.yaml",
            "typo.yaml",
            "wrong-types.yaml",
            "azure-user.yaml",
        ] {
            let v = load_fixture(&[f], &[]);
            let dbg = format!("{v:?} {:?} {:?}", v.db, v.db_settings());
            assert!(!dbg.contains("s3cr3t"), "{f}: {dbg}");
            assert!(
                dbg.contains(HIDDEN) || dbg.contains("REDACTED"),
                "{f}: {dbg}"
            );
            for i in check(&v) {
                assert!(!format!("{i:?}").contains("s3cr3t"), "{f}: {i:?}");
            }
        }
        // A wrongly typed password is not echoed either.
        let v = Values::from_yaml("x.yaml", "db:\n  host: h\n  password: [s3cr3t]\n").unwrap();
        let issues = check(&v);
        assert!(issues
            .iter()
            .any(|i| i.id == "VAL004" && i.subject == "db.password"));
        assert!(!format!("{issues:?}").contains("s3cr3t"), "{issues:?}");
    }

    #[test]
    fn typos_get_did_you_mean() {
        let v = load_fixture(&["typo.yaml"], &[]);
        let issues = check(&v);
        assert_eq!(
            issues
                .iter()
                .map(|i| (i.id.as_str(), i.subject.as_str()))
                .collect::<Vec<_>>(),
            vec![
                ("VAL001", "db.usr"),
                ("VAL001", "db.maxOpenConnection"),
                ("VAL001", "db.tls.mod"),
            ]
        );
        let sugg: Vec<_> = issues.iter().map(|i| i.capture("suggestion")).collect();
        assert_eq!(
            sugg,
            vec![
                Some("db.user"),
                Some("db.maxOpenConnections"),
                Some("db.tls.mode")
            ]
        );
        assert!(
            issues[2].evidence.contains("typo.yaml"),
            "{}",
            issues[2].evidence
        );
        assert!(issues[2].evidence.contains("did you mean db.tls.mode?"));
        // db.user is missing because of the typo: reported once, as the typo.
        assert!(v.db.user.is_none());
        // The misspelt mode is ignored: the chart's default applies.
        assert_eq!(v.db_settings().sslmode, SslMode::VerifyFull);
    }

    #[test]
    fn did_you_mean_distances() {
        assert_eq!(did_you_mean("mod", TLS_KEYS), Some("mode"));
        assert_eq!(did_you_mean("hots", DB_KEYS), Some("host"));
        assert_eq!(did_you_mean("Host", DB_KEYS), Some("host"));
        assert_eq!(did_you_mean("sslmode", DB_KEYS), Some("tls"));
        assert_eq!(
            did_you_mean("configmapkeyref", VALUE_FROM_KEYS),
            Some("configMapKeyRef")
        );
        assert_eq!(did_you_mean("banana", DB_KEYS), None);
        assert_eq!(strsim::osa_distance("ab", "ba"), 1);
        assert_eq!(strsim::osa_distance("kitten", "sitting"), 3);
        // No suggestion: the known keys are listed instead.
        let v =
            Values::from_yaml("x.yaml", "db:\n  host: h\n  password: p\n  banana: 1\n").unwrap();
        let i = check(&v).into_iter().find(|i| i.id == "VAL001").unwrap();
        assert_eq!(i.capture("suggestion"), None);
        assert!(
            i.evidence.contains("db has user, password, host"),
            "{}",
            i.evidence
        );
    }

    #[test]
    fn top_level_misspelling_of_db() {
        let v = Values::from_yaml(
            "x.yaml",
            "DB:\n  host: h\nnetworkpolicy:\n  enabled: false\n",
        )
        .unwrap();
        let issues = check(&v);
        assert_eq!(issues[0].id, "VAL001");
        assert_eq!(issues[0].capture("suggestion"), Some("db"));
        assert_eq!(issues[1].capture("suggestion"), Some("networkPolicy"));
        // And db itself is unset: the built-in database.
        assert_eq!(issues[2].id, "VAL010");
    }

    #[test]
    fn wrong_types_are_errors() {
        let v = load_fixture(&["wrong-types.yaml"], &[]);
        assert_eq!(
            ids(&v),
            vec![
                pair("VAL002", "db.port"),
                pair("VAL004", "db.maxOpenConnections"),
                pair("VAL004", "db.connMaxLifetime"),
                pair("VAL003", "db.tls.mode"),
                pair("VAL004", "networkPolicy.enabled"),
            ]
        );
        let issues = check(&v);
        assert_eq!(issues[0].capture("value"), Some("five-four-three-two"));
        assert!(
            issues[0].evidence.contains("not a port number"),
            "{}",
            issues[0].evidence
        );
        assert_eq!(issues[3].capture("value"), Some("verify_full"));
        // Unusable values fall back to the chart's defaults in the settings.
        let s = v.db_settings();
        assert_eq!((s.port, s.sslmode), (5432, SslMode::VerifyFull));
        for cat in [&Catalogue::builtin().unwrap()] {
            for i in &issues {
                assert_eq!(
                    cat.get(i.id.as_str()).unwrap().severity,
                    crate::catalogue::Severity::Error
                );
            }
        }
    }

    #[test]
    fn port_range_and_quoted_numbers() {
        let p = |y: &str| {
            let v = Values::from_yaml(
                "x.yaml",
                &format!("db:\n  host: h\n  password: p\n  port: {y}\n"),
            )
            .unwrap();
            (v.db.port, check(&v).iter().any(|i| i.id == "VAL002"))
        };
        assert_eq!(p("5433"), (Some(5433), false));
        assert_eq!(p("\"5433\""), (Some(5433), false));
        assert_eq!(p("0"), (None, true));
        assert_eq!(p("65536"), (None, true));
        assert_eq!(p("-1"), (None, true));
        assert_eq!(p("5432.5"), (None, true));
    }

    #[test]
    fn ip_host_under_verify_full() {
        let v = load_fixture(&["ip-host.yaml"], &[]);
        let issues = check(&v);
        assert_eq!(
            issues
                .iter()
                .map(|i| (i.id.as_str(), i.subject.as_str()))
                .collect::<Vec<_>>(),
            vec![("VAL013", "db.host")]
        );
        assert_eq!(issues[0].capture("ip"), Some("192.168.2.54"));
        assert!(issues[0].evidence.contains("IP Address:192.168.2.54"));
        assert_eq!(v.db_settings().ca_kind, Some(CaKind::Secret));
        assert_eq!(v.db_settings().ca_key.as_deref(), Some("ca.pem"));
        // Not under verify-ca, and IPv6 in brackets is an IP too.
        let v = load_fixture(&["ip-host.yaml"], &["db.tls.mode=verify-ca"]);
        assert_eq!(ids(&v), vec![pair("VAL012", "db.tls.mode")]);
        let v = load_fixture(&["ip-host.yaml"], &["db.host=[fd00::5]"]);
        assert_eq!(check(&v)[0].capture("ip"), Some("fd00::5"));
    }

    /// Repeated ports were `dedup()`ed unsorted, so only neighbours were removed.
    #[test]
    fn repeated_outbound_ports_are_listed_once() {
        let v = Values::from_yaml(
            "t.yaml",
            "networkPolicy:\n  additionalOutboundPorts: [5432, 6000, 5432]\n",
        )
        .unwrap();
        assert_eq!(v.additional_outbound_ports, vec![5432, 6000]);
    }

    #[test]
    fn azure_user_needs_server() {
        let v = load_fixture(&["azure-user.yaml"], &[]);
        let issues = check(&v);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(
            (issues[0].id.as_str(), issues[0].subject.as_str()),
            ("VAL014", "db.user")
        );
        assert_eq!(issues[0].capture("azure_user"), Some("dsscadmin@dssc-pg"));
        let v = load_fixture(&["azure-user.yaml"], &["db.user=dsscadmin@dssc-pg"]);
        assert_eq!(ids(&v), vec![]);
    }

    #[test]
    fn malformed_yaml_names_file_line_column() {
        let f = fixture("malformed.yaml");
        let err = load(std::slice::from_ref(&f), &[]).unwrap_err().to_string();
        let want = format!("{}:4:9: malformed YAML: ", f.display());
        assert!(err.starts_with(&want), "{err}");
        assert!(!err.contains(" at line "), "{err}");
        let err = Values::from_yaml("t.yaml", "db: [1, 2\n")
            .unwrap_err()
            .to_string();
        // The position of the bracket left open.
        assert!(err.starts_with("t.yaml:1:5: malformed YAML"), "{err}");
        let err = Values::from_yaml("t.yaml", "- a\n- b\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "t.yaml: the values must be a map of keys, not a list");
        let err = load(&[fixture("missing.yaml")], &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.yaml: "), "{err}");
    }

    #[test]
    fn files_merge_in_order() {
        let v = load_fixture(&["base.yaml", "prod.yaml"], &[]);
        let s = v.db_settings();
        assert_eq!(s.host, "prod-db.example.com");
        assert_eq!(s.sslmode, SslMode::VerifyFull);
        // Untouched keys of the first file survive the deep merge.
        assert_eq!(s.ca_name.as_deref(), Some("dssc-db-trust"));
        assert_eq!(v.password(), Some("from-base"));
        assert_eq!(
            v.origin("db.tls.mode"),
            Some(fixture("prod.yaml").display().to_string().as_str())
        );
        assert_eq!(
            v.origin("db.tls.ca.valueFrom.configMapKeyRef.key"),
            Some(fixture("base.yaml").display().to_string().as_str())
        );
        assert_eq!(ids(&v), vec![]);
        // The other order: base wins.
        let v = load_fixture(&["prod.yaml", "base.yaml"], &[]);
        assert_eq!(v.db_settings().host, "staging-db.example.com");
        assert_eq!(ids(&v), vec![pair("VAL011", "db.tls.mode")]);
        let i = &check(&v)[0];
        assert!(
            i.evidence.contains("db.tls.mode: require (from"),
            "{}",
            i.evidence
        );
        assert!(i.capture("lost").unwrap().contains("interceptor"));
    }

    #[test]
    fn set_overrides_files() {
        let v = load_fixture(
            &["good.yaml"],
            &[
                "db.port=5433,db.tls.mode=disable",
                "networkPolicy.enabled=false",
            ],
        );
        assert_eq!(v.db.port, Some(5433));
        assert!(!v.network_policy_enabled);
        assert_eq!(v.origin("db.port"), Some("--set"));
        assert_eq!(ids(&v), vec![pair("VAL011", "db.tls.mode")]);
        // null removes a key: back to the built-in database.
        let v = load_fixture(&["good.yaml"], &["db.host=null"]);
        assert_eq!(v.db_settings().host, "db");
        assert_eq!(v.db_settings().sslmode, SslMode::Disable);
        assert_eq!(ids(&v), vec![pair("VAL010", "db.host")]);
        // --set typos are caught like file typos.
        let v = load_fixture(&["good.yaml"], &["db.tls.mod=disable"]);
        let i = &check(&v)[0];
        assert_eq!(
            (i.id.as_str(), i.capture("suggestion")),
            ("VAL001", Some("db.tls.mode"))
        );
        assert!(i.evidence.contains("(from --set)"), "{}", i.evidence);
    }

    #[test]
    fn set_syntax_like_helm() {
        let m = parse_set(r"a.b=c,n=42,z=0,lead=007,t=true,neg=-3,e=,esc=x\,y,dot\.ted=1").unwrap();
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"a": {"b": "c"}, "n": 42, "z": 0, "lead": "007", "t": true,
                               "neg": -3, "e": "", "esc": "x,y", "dot.ted": 1})
        );
        let m =
            parse_set("networkPolicy.additionalOutboundPorts={443,8443},l[1]=b,o[0].k=v").unwrap();
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"networkPolicy": {"additionalOutboundPorts": [443, 8443]},
                               "l": [null, "b"], "o": [{"k": "v"}]})
        );
        assert_eq!(parse_set("").unwrap().len(), 0);
        assert!(parse_set("db.host").unwrap_err().contains("has no value"));
        assert!(parse_set("a,b=c")
            .unwrap_err()
            .contains("key \"a\" has no value"));
        assert!(parse_set("l[x]=1").is_err());
        assert!(parse_set("l={1,2").is_err());
        let err = load(&[], &["db.host".into()]).unwrap_err().to_string();
        assert_eq!(err, "--set db.host: key \"db.host\" has no value");
        let v = load(
            &[],
            &["networkPolicy.additionalOutboundPorts={443,8443}".into()],
        )
        .unwrap();
        assert_eq!(v.additional_outbound_ports, vec![443, 8443]);
    }

    #[test]
    fn ca_reference_problems() {
        let v = load_fixture(&["refs.yaml"], &[]);
        assert_eq!(
            ids(&v),
            vec![
                pair("VAL016", "db.tls.ca.valueFrom"),
                pair("VAL017", "db.tls.ca.valueFrom.secretKeyRef.key"),
            ]
        );
        let i = &check(&v)[1];
        assert_eq!(i.capture("kind"), Some("secret"));
        assert_eq!(i.capture("name"), Some("dssc-db-ca"));
        assert_eq!(v.db_settings().ca_kind, Some(CaKind::Secret));
        // A reference without a name is ignored by the chart.
        let v = Values::from_yaml(
            "x.yaml",
            "db:\n  host: h\n  user: u\n  password: p\n  tls:\n    ca:\n      valueFrom:\n        configMapKeyRef:\n          key: ca\n",
        )
        .unwrap();
        assert_eq!(
            ids(&v),
            vec![pair("VAL018", "db.tls.ca.valueFrom.configMapKeyRef.name")]
        );
        assert_eq!(v.db_settings().ca_kind, None);
        // Verification with no CA at all.
        let v = Values::from_yaml("x.yaml", "db:\n  host: h\n  user: u\n  password: p\n").unwrap();
        assert_eq!(ids(&v), vec![pair("VAL019", "db.tls.ca")]);
    }

    #[test]
    fn builtin_database_and_missing_password() {
        let v = load_fixture(&["builtin.yaml"], &[]);
        assert_eq!(ids(&v), vec![pair("VAL010", "db.host")]);
        assert!(!v.db_settings().external);
        let v = load_fixture(&["good.yaml"], &["db.password=null"]);
        assert_eq!(ids(&v), vec![pair("VAL015", "db.password")]);
        assert_eq!(v.password(), None);
        let v = load_fixture(&["good.yaml"], &["db.password="]);
        assert_eq!(ids(&v), vec![pair("VAL015", "db.password")]);
    }

    #[test]
    fn user_and_password_must_be_strings() {
        let v = Values::from_yaml(
            "x.yaml",
            "db:\n  host: h\n  user: 1234\n  password: 98765\n  tls:\n    mode: require\n",
        )
        .unwrap();
        let issues = check(&v);
        assert_eq!(
            issues
                .iter()
                .map(|i| (i.id.as_str(), i.subject.as_str()))
                .collect::<Vec<_>>(),
            vec![
                ("VAL004", "db.user"),
                ("VAL004", "db.password"),
                ("VAL011", "db.tls.mode")
            ]
        );
        assert_eq!(issues[1].capture("value"), Some(HIDDEN));
        assert!(!format!("{issues:?}").contains("98765"));
        // Still usable by the rest of the tool.
        assert_eq!(v.password(), Some("98765"));
        assert_eq!(v.db_settings().user.as_deref(), Some("1234"));
        assert_eq!(
            v.get("db.tls.mode").and_then(Value::as_str),
            Some("require")
        );
        assert_eq!(v.get("db.nope"), None);
        assert!(v.get("db").is_some_and(Value::is_mapping));
    }

    #[test]
    fn external_database_without_user() {
        let v = load_fixture(&["good.yaml"], &["db.user=null"]);
        assert_eq!(ids(&v), vec![pair("VAL020", "db.user")]);
    }

    #[test]
    fn every_value_issue_renders_a_finding() {
        let cat = Catalogue::builtin().unwrap();
        for f in [
            "typo.yaml",
            "wrong-types.yaml",
            "ip-host.yaml",
            "azure-user.yaml",
            "refs.yaml",
            "builtin.yaml",
        ] {
            let v = load_fixture(&[f], &[]);
            let issues = check(&v);
            let mut set = FindingSet::new(&cat);
            add_findings(&cat, &mut set, &v, &issues);
            let found = set.finish(&BTreeMap::new());
            let mut want: Vec<(&str, &str)> = issues
                .iter()
                .map(|i| (i.id.as_str(), i.subject.as_str()))
                .collect();
            want.sort();
            want.dedup();
            let mut got: Vec<(&str, &str)> = found
                .iter()
                .flat_map(|f| f.subjects.iter().map(move |s| (f.id.as_str(), s.as_str())))
                .collect();
            got.sort();
            assert_eq!(got, want, "{f}");
            for fi in &found {
                assert!(!fi.fix.is_empty(), "{f} {}", fi.id);
                assert_eq!(fi.confirmed_by, vec![Origin::Values]);
                for l in &fi.fix {
                    assert!(!l.contains("{key}") && !l.contains("{ip}"), "{l}");
                }
            }
        }
        // The fixes carry the real key and value.
        let v = load_fixture(&["azure-user.yaml"], &[]);
        let mut set = FindingSet::new(&cat);
        add_findings(&cat, &mut set, &v, &check(&v));
        let f = set.finish(&BTreeMap::new());
        assert_eq!(
            f[0].fix,
            vec!["# in overrides.yaml: db.user: dsscadmin@dssc-pg"]
        );
        let v = load_fixture(&["typo.yaml"], &[]);
        let mut set = FindingSet::new(&cat);
        add_findings(&cat, &mut set, &v, &check(&v));
        let f = set.finish(&BTreeMap::new());
        assert!(
            f.iter()
                .any(|f| f.fix[0] == "# rename db.tls.mod to db.tls.mode in overrides.yaml"),
            "{f:?}"
        );
        let v = load_fixture(&["ip-host.yaml"], &[]);
        let mut set = FindingSet::new(&cat);
        add_findings(&cat, &mut set, &v, &check(&v));
        let f = set.finish(&BTreeMap::new());
        assert!(
            f[0].fix[0].contains("-connect 192.168.2.54:5432 "),
            "{:?}",
            f[0].fix
        );
    }
}
