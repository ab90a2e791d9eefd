//! db-init as it really fails. A stand-in for db-init (testdata/dbinit, built by
//! scripts/dbinit-clients.sh with lib/pq and pgx v4 under Go 1.19 and a current Go) is
//! run against real PostgreSQL 15 servers, certificates and network set-ups in every
//! failure mode that can be made on this machine. What each client printed is put, as
//! the db-init log of a stuck pod, into a bundle for the real `analyze`, once as JSON
//! lines and once as the plain `Error: …` line. The test asserts the finding ID and
//! that the fix names the real host, port and user. No error text is typed here.
//!
//! Only loopback traffic: servers listen on 127.0.0.1 and ::1; name resolution and
//! routing failures happen inside a network namespace of the test's own whose only
//! interface is `lo` and whose resolver is a responder on 127.0.0.1 inside it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use scaffold::{Ca, Cert, DnsMode, Listener, Netns, PgOptions, PgServer};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-dssc_doctor");
/// What the chart sets is 5 s; 2 s keeps the timeouts of the suite short.
const CONNECT_TIMEOUT: &str = "2";
const NS: &str = "trendmicro";
const POD: &str = "auth-7d78dccff7-nfh97";

// ======================================================================================
// Scaffolding: PostgreSQL servers, certificates, listeners and the network namespace.
// Self-contained on purpose (to be moved into the shared tests/support).
// ======================================================================================
/// JSON reports checked against the shipped schema, as in the other `it` tests.
use crate::support::report;

#[allow(dead_code)]
mod scaffold {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex, OnceLock};
    use std::thread;
    use std::time::{Duration, Instant};

    use openssl::asn1::{Asn1Integer, Asn1Time};
    use openssl::bn::{BigNum, MsbOption};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::{PKey, Private};
    use openssl::rsa::Rsa;
    use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
    use openssl::x509::{X509Builder, X509NameBuilder, X509};

    // ---------------------------------------------------------------- PostgreSQL

    /// Smart Check's master user (CREATEROLE, CREATEDB), scram password.
    pub use crate::support::pg::MASTER;
    /// A user whose password is stored as md5.
    pub const MD5USER: (&str, &str) = ("md5user", "md5user-pw");
    /// A plain user for filling connection slots.
    pub const FILLER: (&str, &str) = ("filler", "filler-pw");

    // The PostgreSQL binaries and running as the postgres OS user: the suite's own.
    pub use crate::support::pg::{as_pg, bin_dir, chown_pg, is_root, write_pg};

    /// This test's scratch directory, inside the suite's.
    pub fn root() -> &'static Path {
        static ROOT: OnceLock<PathBuf> = OnceLock::new();
        ROOT.get_or_init(|| {
            let d = crate::support::pg::root().join("dbinit");
            std::fs::create_dir_all(&d).expect("scratch dir");
            chown_pg(&d);
            d
        })
    }

    /// The suite's template maker with this test's roles (an md5 one, a filler).
    fn template() -> &'static Path {
        static T: OnceLock<PathBuf> = OnceLock::new();
        T.get_or_init(|| {
            let sql = format!(
                "CREATE ROLE {} LOGIN CREATEROLE CREATEDB PASSWORD '{}'\n\
                 CREATE ROLE {} LOGIN PASSWORD '{}'\n\
                 SET password_encryption = 'md5'\n\
                 CREATE ROLE {} LOGIN PASSWORD '{}'\n",
                MASTER.0, MASTER.1, FILLER.0, FILLER.1, MD5USER.0, MD5USER.1
            );
            crate::support::pg::make_template("dbinit-template", &sql)
        })
    }

    pub use crate::support::pg::free_port;

    /// How to run one server.
    #[derive(Clone, Debug, Default)]
    pub struct PgOptions {
        /// Server certificate and key (PEM); `None` runs with `ssl = off`.
        pub tls: Option<(Vec<u8>, Vec<u8>)>,
        /// CA for client certificates (`ssl_ca_file`).
        pub client_ca: Option<Vec<u8>>,
        pub hba: String,
        pub max_connections: u32,
        /// More `name=value` settings.
        pub settings: Vec<String>,
        /// Files put into the data directory before start (`standby.signal`).
        pub data_files: Vec<(&'static str, String)>,
        /// Wait only for the port, not for "ready to accept connections".
        pub port_only: bool,
        /// OpenSSL at security level 0 (SHA-1 signatures, TLS 1.1), through
        /// OPENSSL_CONF for this server only.
        pub weak_openssl: bool,
    }

    /// A running server; stopped (and its directory removed) when dropped.
    pub struct PgServer {
        pub port: u16,
        pub dir: PathBuf,
        guard: Mutex<Option<Child>>,
    }

    impl Drop for PgServer {
        fn drop(&mut self) {
            // Closing the wrapper's stdin stops PostgreSQL and removes the directory.
            if let Ok(mut g) = self.guard.lock() {
                if let Some(mut c) = g.take() {
                    drop(c.stdin.take());
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while Instant::now() < deadline {
                        if let Ok(Some(_)) = c.try_wait() {
                            break;
                        }
                        thread::sleep(Duration::from_millis(20));
                    }
                }
            }
        }
    }

    impl PgServer {
        pub fn log(&self) -> String {
            std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
        }

        /// The postmaster's PID (first line of postmaster.pid).
        pub fn pid(&self) -> i32 {
            let s = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
                .expect("postmaster.pid");
            s.lines().next().unwrap().trim().parse().unwrap()
        }

        /// Opens `n` sessions as `user` over TCP and keeps them open until the
        /// returned processes are dropped (killed). Waits until the server logged them.
        pub fn hold_sessions(&self, user: (&str, &str), n: usize) -> Vec<Held> {
            let bin = bin_dir().unwrap();
            let authorized = |log: &str| {
                log.matches(&format!("connection authorized: user={} ", user.0))
                    .count()
            };
            let before = authorized(&self.log());
            let mut v = Vec::new();
            for _ in 0..n {
                let child = Command::new(bin.join("psql"))
                    .env("PGPASSWORD", user.1)
                    .env("PGSSLMODE", "disable")
                    .args(["-X", "-q", "-h", "127.0.0.1"])
                    .args(["-p", &self.port.to_string(), "-U", user.0, "-d", "postgres"])
                    .args(["-c", "SELECT pg_sleep(600)"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("psql");
                v.push(Held(child));
            }
            let deadline = Instant::now() + Duration::from_secs(20);
            while authorized(&self.log()) < before + n {
                assert!(
                    Instant::now() < deadline,
                    "{n} sessions of {} did not open:\n{}",
                    user.0,
                    self.log()
                );
                thread::sleep(Duration::from_millis(20));
            }
            v
        }
    }

    /// A process the test started; killed when dropped.
    pub struct Held(pub Child);

    impl Drop for Held {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    pub fn start(opts: &PgOptions) -> PgServer {
        let mut last = String::new();
        for _ in 0..4 {
            match try_start(opts) {
                Ok(s) => return s,
                Err(log) => last = log,
            }
        }
        panic!("PostgreSQL did not start:\n{last}");
    }

    fn try_start(opts: &PgOptions) -> Result<PgServer, String> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let bin = bin_dir().expect("PostgreSQL binaries");
        let dir = root().join(format!("srv-{}", N.fetch_add(1, Ordering::SeqCst)));
        std::fs::create_dir_all(&dir).expect("server dir");
        chown_pg(&dir);
        let data = dir.join("data");
        let st = as_pg("cp")
            .arg("-a")
            .arg(template())
            .arg(&data)
            .status()
            .expect("cp");
        assert!(st.success(), "copying the template failed");
        for (name, text) in &opts.data_files {
            write_pg(&data.join(name), text.as_bytes(), 0o600);
        }
        let port = free_port();
        write_pg(&dir.join("pg_hba.conf"), opts.hba.as_bytes(), 0o600);
        let mut args: Vec<String> = vec![
            "-D".into(),
            data.display().to_string(),
            "-p".into(),
            port.to_string(),
        ];
        let mut set = |s: String| {
            args.push("-c".into());
            args.push(s);
        };
        set("listen_addresses=127.0.0.1,::1".into());
        set(format!("unix_socket_directories={}", dir.display()));
        set(format!("hba_file={}", dir.join("pg_hba.conf").display()));
        set(format!(
            "max_connections={}",
            if opts.max_connections == 0 {
                20
            } else {
                opts.max_connections
            }
        ));
        for s in [
            "fsync=off",
            "synchronous_commit=off",
            "full_page_writes=off",
            "shared_buffers=8MB",
            "max_wal_senders=0",
            "wal_level=minimal",
            "logging_collector=off",
            "log_connections=on",
            "log_disconnections=on",
        ] {
            set(s.into());
        }
        match &opts.tls {
            Some((cert, key)) => {
                write_pg(&dir.join("server.crt"), cert, 0o644);
                write_pg(&dir.join("server.key"), key, 0o600);
                set("ssl=on".into());
                set(format!(
                    "ssl_cert_file={}",
                    dir.join("server.crt").display()
                ));
                set(format!("ssl_key_file={}", dir.join("server.key").display()));
            }
            None => set("ssl=off".into()),
        }
        if let Some(ca) = &opts.client_ca {
            write_pg(&dir.join("client-ca.crt"), ca, 0o644);
            set(format!(
                "ssl_ca_file={}",
                dir.join("client-ca.crt").display()
            ));
        }
        for s in &opts.settings {
            set(s.replace("{dir}", &dir.display().to_string()));
        }
        // Stops PostgreSQL and removes the directory when stdin closes.
        let script = r#"D="$1"; shift; "$@" >"$D/postgres.log" 2>&1 & p=$!; read _x; kill -QUIT $p 2>/dev/null; wait $p; rm -rf "$D""#;
        let mut sh = as_pg("sh");
        if opts.weak_openssl {
            let conf = dir.join("openssl.cnf");
            write_pg(
                &conf,
                b"openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n[sys]\nCipherString = DEFAULT:@SECLEVEL=0\nMinProtocol = TLSv1\n",
                0o644,
            );
            sh.env("OPENSSL_CONF", &conf);
        }
        let child = sh
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(&dir)
            .arg(bin.join("postgres"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postgres");
        let server = PgServer {
            port,
            dir: dir.clone(),
            guard: Mutex::new(Some(child)),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = server.log();
            let up = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok();
            if up && (opts.port_only || log.contains("ready to accept connections")) {
                return Ok(server);
            }
            if log.contains("FATAL") || Instant::now() > deadline {
                return Err(log);
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    // ---------------------------------------------------------------- certificates

    fn rsa_key() -> PKey<Private> {
        PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
    }

    fn serial() -> Asn1Integer {
        let mut bn = BigNum::new().unwrap();
        bn.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
        bn.to_asn1_integer().unwrap()
    }

    fn name(cn: &str) -> openssl::x509::X509Name {
        let mut n = X509NameBuilder::new().unwrap();
        n.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
        n.build()
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    /// A test certificate authority (RSA, SHA-256).
    pub struct Ca {
        pub cert: X509,
        key: PKey<Private>,
    }

    /// What a server certificate looks like.
    pub struct Cert {
        pub cn: &'static str,
        /// `DNS:name` or `IP:addr` entries; none means a CN-only certificate.
        pub sans: Vec<&'static str>,
        pub expired: bool,
        pub sha1: bool,
    }

    impl Cert {
        pub fn dns(name: &'static str) -> Cert {
            Cert {
                cn: name,
                sans: vec![name],
                expired: false,
                sha1: false,
            }
        }
    }

    impl Ca {
        pub fn new(cn: &str) -> Ca {
            let key = rsa_key();
            let mut b = X509Builder::new().unwrap();
            b.set_version(2).unwrap();
            b.set_serial_number(&serial()).unwrap();
            b.set_subject_name(&name(cn)).unwrap();
            b.set_issuer_name(&name(cn)).unwrap();
            b.set_pubkey(&key).unwrap();
            b.set_not_before(&Asn1Time::from_unix(now() - 86400).unwrap())
                .unwrap();
            b.set_not_after(&Asn1Time::days_from_now(3650).unwrap())
                .unwrap();
            b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
                .unwrap();
            b.append_extension(
                KeyUsage::new()
                    .critical()
                    .key_cert_sign()
                    .crl_sign()
                    .build()
                    .unwrap(),
            )
            .unwrap();
            b.sign(&key, MessageDigest::sha256()).unwrap();
            Ca {
                cert: b.build(),
                key,
            }
        }

        pub fn pem(&self) -> Vec<u8> {
            self.cert.to_pem().unwrap()
        }

        /// A server certificate and its key (PEM).
        pub fn issue(&self, c: &Cert) -> (Vec<u8>, Vec<u8>) {
            let pkey = rsa_key();
            let mut b = X509Builder::new().unwrap();
            b.set_version(2).unwrap();
            b.set_serial_number(&serial()).unwrap();
            b.set_subject_name(&name(c.cn)).unwrap();
            b.set_issuer_name(self.cert.subject_name()).unwrap();
            b.set_pubkey(&pkey).unwrap();
            let (nb, na) = if c.expired {
                (now() - 90 * 86400, now() - 86400)
            } else {
                (now() - 86400, now() + 365 * 86400)
            };
            b.set_not_before(&Asn1Time::from_unix(nb).unwrap()).unwrap();
            b.set_not_after(&Asn1Time::from_unix(na).unwrap()).unwrap();
            b.append_extension(BasicConstraints::new().build().unwrap())
                .unwrap();
            if !c.sans.is_empty() {
                let mut s = SubjectAlternativeName::new();
                for n in &c.sans {
                    if let Some(d) = n.strip_prefix("IP:") {
                        s.ip(d);
                    } else {
                        s.dns(n.strip_prefix("DNS:").unwrap_or(n));
                    }
                }
                let ext = s.build(&b.x509v3_context(Some(&self.cert), None)).unwrap();
                b.append_extension(ext).unwrap();
            }
            let md = if c.sha1 {
                MessageDigest::sha1()
            } else {
                MessageDigest::sha256()
            };
            b.sign(&self.key, md).unwrap();
            (
                b.build().to_pem().unwrap(),
                pkey.private_key_to_pem_pkcs8().unwrap(),
            )
        }
    }

    // ---------------------------------------------------------------- listeners

    /// Loopback TCP services that are not PostgreSQL; they live as long as the test
    /// process (their threads block in accept).
    pub struct Listener;

    impl Listener {
        /// A port nothing listens on.
        pub fn closed() -> u16 {
            free_port()
        }

        /// Accepts and never answers.
        pub fn silent() -> u16 {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = l.local_addr().unwrap().port();
            thread::spawn(move || {
                let mut held = Vec::new();
                for s in l.incoming().flatten() {
                    held.push(s);
                }
            });
            port
        }

        /// Accepts, reads what the client sends first, then resets the connection.
        pub fn resetting() -> u16 {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = l.local_addr().unwrap().port();
            thread::spawn(move || {
                for mut s in l.incoming().flatten() {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut b = [0u8; 64];
                    let _ = s.read(&mut b);
                    let linger = libc::linger {
                        l_onoff: 1,
                        l_linger: 0,
                    };
                    // SAFETY: a valid socket and a linger struct of the right size.
                    unsafe {
                        libc::setsockopt(
                            s.as_raw_fd(),
                            libc::SOL_SOCKET,
                            libc::SO_LINGER,
                            &linger as *const _ as *const libc::c_void,
                            std::mem::size_of::<libc::linger>() as libc::socklen_t,
                        );
                    }
                    drop(s);
                }
            });
            port
        }

        /// Greets every connection with `banner` (as SSH servers do) and then holds it.
        pub fn greeting(banner: &'static [u8]) -> u16 {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = l.local_addr().unwrap().port();
            thread::spawn(move || {
                let mut held = Vec::new();
                for mut s in l.incoming().flatten() {
                    let _ = s.write_all(banner);
                    held.push(s);
                }
            });
            port
        }

        /// A listener that never accepts, with its accept queue filled: further SYNs
        /// are dropped, so connecting times out. Returns the port and what keeps it so.
        pub fn full_backlog() -> (u16, FullBacklog) {
            // SAFETY: plain socket calls on a descriptor this function owns.
            let l = unsafe {
                let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
                assert!(fd >= 0, "socket");
                let mut sa: libc::sockaddr_in = std::mem::zeroed();
                sa.sin_family = libc::AF_INET as libc::sa_family_t;
                sa.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
                let r = libc::bind(
                    fd,
                    &sa as *const _ as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                );
                assert_eq!(r, 0, "bind");
                assert_eq!(libc::listen(fd, 0), 0, "listen");
                TcpListener::from_raw_fd(fd)
            };
            let addr = l.local_addr().unwrap();
            let mut fillers = Vec::new();
            for _ in 0..16 {
                match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                    Ok(s) => fillers.push(s),
                    Err(_) => break,
                }
            }
            (
                addr.port(),
                FullBacklog {
                    _listener: l,
                    _fillers: fillers,
                },
            )
        }
    }

    pub struct FullBacklog {
        _listener: TcpListener,
        _fillers: Vec<TcpStream>,
    }

    // ---------------------------------------------------------------- network namespace

    /// What the resolver inside the namespace does with a query.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[repr(u8)]
    pub enum DnsMode {
        NxDomain = 0,
        ServFail = 1,
        /// Reads the query and never answers.
        Silent = 2,
        /// The socket is closed: queries get ICMP port unreachable.
        Closed = 3,
    }

    /// A network namespace whose only interface is `lo`, with
    /// /etc/netns/<name>/resolv.conf naming a responder on 127.0.0.1 inside it, and
    /// routes that make 192.0.2.0/24 unreachable and 198.51.100.0/24 "no route".
    pub struct Netns {
        pub name: String,
        mode: Arc<AtomicU8>,
        stop: Arc<AtomicBool>,
        responder: Option<thread::JoinHandle<()>>,
    }

    fn ip(args: &[&str]) -> bool {
        Command::new("ip")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    impl Netns {
        /// `Err` with the reason when namespaces cannot be made here.
        pub fn new() -> Result<Netns, String> {
            if !is_root() {
                return Err("not root: cannot create a network namespace".into());
            }
            // Namespaces of dead test processes.
            if let Ok(rd) = std::fs::read_dir("/run/netns") {
                for e in rd.flatten() {
                    let n = e.file_name().to_string_lossy().to_string();
                    if let Some(pid) = n.strip_prefix("dssc-dbinit-") {
                        if !Path::new("/proc").join(pid).exists() {
                            ip(&["netns", "del", &n]);
                            let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(&n));
                        }
                    }
                }
            }
            let name = format!("dssc-dbinit-{}", std::process::id());
            ip(&["netns", "del", &name]);
            if !ip(&["netns", "add", &name]) {
                return Err("ip netns add failed".into());
            }
            let etc = Path::new("/etc/netns").join(&name);
            std::fs::create_dir_all(&etc).map_err(|e| e.to_string())?;
            std::fs::write(
                etc.join("resolv.conf"),
                "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
            )
            .map_err(|e| e.to_string())?;
            let ok = ip(&["-n", &name, "link", "set", "lo", "up"])
                && ip(&[
                    "-n",
                    &name,
                    "route",
                    "add",
                    "unreachable",
                    "198.51.100.0/24",
                ]);
            let mut ns = Netns {
                name,
                mode: Arc::new(AtomicU8::new(DnsMode::NxDomain as u8)),
                stop: Arc::new(AtomicBool::new(false)),
                responder: None,
            };
            if !ok {
                return Err("setting up lo or routes in the namespace failed".into());
            }
            ns.start_responder()?;
            Ok(ns)
        }

        fn start_responder(&mut self) -> Result<(), String> {
            let path = format!("/run/netns/{}", self.name);
            let f = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
            let (tx, rx) = std::sync::mpsc::channel();
            let mode = self.mode.clone();
            let stop = self.stop.clone();
            let h = thread::spawn(move || {
                // SAFETY: setns on this thread only, with a namespace file we opened.
                let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
                if r != 0 {
                    let _ = tx.send(Err(format!("setns: {}", std::io::Error::last_os_error())));
                    return;
                }
                let sock = match UdpSocket::bind("127.0.0.1:53") {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Err(format!("bind 127.0.0.1:53: {e}")));
                        return;
                    }
                };
                let _ = sock.set_read_timeout(Some(Duration::from_millis(50)));
                let _ = tx.send(Ok(()));
                let mut buf = [0u8; 1500];
                while !stop.load(Ordering::SeqCst) {
                    let m = mode.load(Ordering::SeqCst);
                    if m == DnsMode::Closed as u8 {
                        return; // the socket closes
                    }
                    let Ok((n, from)) = sock.recv_from(&mut buf) else {
                        continue;
                    };
                    if n < 12 || m == DnsMode::Silent as u8 {
                        continue;
                    }
                    let mut resp = buf[..n].to_vec();
                    // QR=1, opcode and RD kept; RA=1; RCODE 3 (NXDOMAIN) or 2 (SERVFAIL).
                    resp[2] = 0x80 | (buf[2] & 0x79);
                    resp[3] = 0x80 | if m == DnsMode::ServFail as u8 { 2 } else { 3 };
                    // No answer, authority or additional records (EDNS dropped too).
                    for b in &mut resp[6..12] {
                        *b = 0;
                    }
                    // Keep the header and the question only.
                    let mut end = 12;
                    while end < resp.len() && resp[end] != 0 {
                        end += 1 + resp[end] as usize;
                    }
                    end = (end + 5).min(resp.len());
                    resp.truncate(end);
                    let _ = sock.send_to(&resp, from);
                }
            });
            match rx.recv_timeout(Duration::from_secs(5)) {
                Ok(Ok(())) => {
                    self.responder = Some(h);
                    Ok(())
                }
                Ok(Err(e)) => Err(e),
                Err(_) => Err("the resolver did not start".into()),
            }
        }

        pub fn set_dns(&self, m: DnsMode) {
            self.mode.store(m as u8, Ordering::SeqCst);
            if m == DnsMode::Closed {
                if let Some(h) = &self.responder {
                    let deadline = Instant::now() + Duration::from_secs(2);
                    while !h.is_finished() && Instant::now() < deadline {
                        thread::sleep(Duration::from_millis(10));
                    }
                }
            }
        }

        /// `ip netns exec NAME program`.
        pub fn command(&self, program: &Path) -> Command {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &self.name]).arg(program);
            c
        }
    }

    impl Drop for Netns {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            if let Some(h) = self.responder.take() {
                let _ = h.join();
            }
            ip(&["netns", "del", &self.name]);
            let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(&self.name));
        }
    }
}

// ======================================================================================
// The clients: the four builds of the stand-in.
// ======================================================================================

struct Client {
    /// e.g. `go1.19.8-pq`
    name: String,
    path: PathBuf,
}

/// Builds (or finds) the stand-ins through scripts/dbinit-clients.sh (without
/// installing anything: scripts/test.sh does that). `Err` says why there are none.
fn clients() -> Result<Vec<Client>, String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(Path::new(root).join("scripts/dbinit-clients.sh"))
        .arg("--no-install")
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("scripts/dbinit-clients.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "scripts/dbinit-clients.sh failed (run scripts/test.sh to install Go and the drivers): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let v: Vec<Client> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let path = PathBuf::from(l.trim());
            let name = path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .trim_start_matches("dbinit-")
                .to_string();
            Client { name, path }
        })
        .collect();
    if v.len() != 4 {
        return Err(format!("expected four clients, got {}", v.len()));
    }
    Ok(v)
}

/// The real parts are there, or the reason they are not. Under CI=true a missing
/// part fails the test; elsewhere the test says why it does not run.
fn need(what: Result<(), String>) -> bool {
    match what {
        Ok(()) => true,
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true and a real part is missing: {why}")
        }
        Err(why) => {
            eprintln!("skipping: {why}");
            false
        }
    }
}

/// One run of a client.
#[derive(Clone, Debug)]
struct Run {
    exit: Option<i32>,
    /// Everything it printed, stdout then stderr (as `kubectl logs` shows both).
    json_lines: Vec<String>,
    plain_lines: Vec<String>,
    all: String,
}

/// Where a client connects and how.
#[derive(Clone, Debug)]
struct Target {
    host: String,
    port: u16,
    user: String,
    password: String,
    sslmode: &'static str,
    rootcert: Option<PathBuf>,
    database: String,
    /// Extra environment (GODEBUG for the resolver choice).
    env: Vec<(&'static str, &'static str)>,
    in_netns: bool,
}

impl Target {
    fn new(host: &str, port: u16, user: (&str, &str), sslmode: &'static str) -> Target {
        Target {
            host: host.into(),
            port,
            user: user.0.into(),
            password: user.1.into(),
            sslmode,
            rootcert: None,
            database: "postgres".into(),
            env: Vec::new(),
            in_netns: false,
        }
    }
    fn ca(mut self, p: &Path) -> Target {
        self.rootcert = Some(p.to_path_buf());
        self
    }
    fn password(mut self, p: &str) -> Target {
        self.password = p.into();
        self
    }
}

fn run_client(c: &Client, t: &Target, ns: Option<&Netns>) -> Run {
    let mut cmd = match (t.in_netns, ns) {
        (true, Some(ns)) => ns.command(&c.path),
        _ => Command::new(&c.path),
    };
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") || k == "GODEBUG" {
            cmd.env_remove(k);
        }
    }
    cmd.env("PGHOST", &t.host)
        .env("PGPORT", t.port.to_string())
        .env("PGUSER", &t.user)
        .env("PGPASSWORD", &t.password)
        .env("PGSSLMODE", t.sslmode)
        .env("PGCONNECT_TIMEOUT", CONNECT_TIMEOUT)
        // No ~/.postgresql/root.crt or .pgpass of the machine.
        .env("HOME", scaffold::root());
    if let Some(p) = &t.rootcert {
        cmd.env("PGSSLROOTCERT", p);
    }
    for (k, v) in &t.env {
        cmd.env(k, v);
    }
    cmd.arg(&t.database)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn client");
    let deadline = Instant::now() + Duration::from_secs(40);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    use std::io::Read;
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut stdout);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let all = format!("{stdout}{stderr}");
    Run {
        exit: status.and_then(|s| s.code()),
        json_lines: all
            .lines()
            .filter(|l| l.starts_with('{') && l.contains("\"error\""))
            .map(str::to_string)
            .collect(),
        plain_lines: all
            .lines()
            .filter(|l| l.starts_with("Error: "))
            .map(str::to_string)
            .collect(),
        all,
    }
}

// ======================================================================================
// `analyze` on a bundle with one stuck pod whose db-init log is what a client printed.
// ======================================================================================

fn pod_json(t: &Target, running: bool) -> Value {
    let mut env = vec![
        json!({"name": "PGHOST", "value": t.host}),
        json!({"name": "PGPORT", "value": t.port.to_string()}),
        // As the chart does: the user comes from a Secret the bundle does not hold.
        json!({"name": "PGUSER", "valueFrom": {"secretKeyRef": {"name": "deepsecurity-smartcheck-db", "key": "database-user"}}}),
        json!({"name": "PGSSLMODE", "value": t.sslmode}),
        json!({"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": "deepsecurity-smartcheck-db", "key": "database-password"}}}),
        json!({"name": "PGCONNECT_TIMEOUT", "value": CONNECT_TIMEOUT}),
    ];
    if t.rootcert.is_some() {
        env.push(json!({"name": "PGSSLROOTCERT", "value": "/trust/db/ca.pem"}));
    }
    let (phase, init_state) = if running {
        (
            "Running",
            json!({"terminated": {"exitCode": 0, "reason": "Completed"}}),
        )
    } else {
        (
            "Pending",
            json!({"running": {"startedAt": "2026-11-23T02:10:00Z"}}),
        )
    };
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": POD, "namespace": NS, "uid": "ff34aa94-94fc-11e9-90aa-000000000001",
            "labels": {"app": "auth", "release": "deepsecurity-smartcheck", "service": "auth", "heritage": "Helm"}},
        "spec": {
            "initContainers": [{"name": "db-init", "image": "deepsecurity/db-init@sha256:5b1e0f5a",
                "args": ["postgres"], "env": env}],
            "containers": [{"name": "auth", "image": "deepsecurity/auth@sha256:77aa"}],
            "volumes": [{"name": "database-ca", "configMap": {"name": "dssc-db-trust", "items": [{"key": "ca", "path": "ca.pem"}]}}]
        },
        "status": {"phase": phase,
            "initContainerStatuses": [{"name": "db-init", "ready": running, "restartCount": 0, "image": "", "imageID": "", "state": init_state}],
            "containerStatuses": [{"name": "auth", "ready": running, "restartCount": 0, "image": "", "imageID": "",
                "state": if running { json!({"running": {}}) } else { json!({"waiting": {"reason": "PodInitializing"}}) }}]}
    })
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({"kind": format!("{kind}List"), "apiVersion": "v1", "metadata": {}, "items": items})
}

/// Writes a bundle and runs `analyze -o json` on it.
fn analyze(dir: &Path, t: &Target, log: &str, events: Vec<Value>, running: bool) -> Value {
    let _ = std::fs::remove_dir_all(dir);
    let res = dir.join("cluster-resources");
    let logs = res.join("pods/logs").join(NS).join(POD);
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::create_dir_all(res.join("events")).unwrap();
    let w =
        |p: PathBuf, v: &Value| std::fs::write(p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    w(
        res.join("pods").join(format!("{NS}.json")),
        &list("Pod", vec![pod_json(t, running)]),
    );
    w(
        res.join("events").join(format!("{NS}.json")),
        &list("Event", events),
    );
    std::fs::write(logs.join("db-init.log"), log).unwrap();
    let out = Command::new(BIN)
        .args(["analyze", "-o", "json"])
        .arg(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("run analyze");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "analyze panicked: {stderr}");
    report::json(&out.stdout, &stderr)
}

fn finding_ids(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn fix_of(r: &Value, id: &str) -> String {
    r["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["id"] == id))
        .and_then(|f| f["fix"].as_array())
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

// ======================================================================================
// The failure modes.
// ======================================================================================

/// Families the catalogue knows that none of the four clients can print on this
/// machine (their patterns are tested only by the catalogue's own checks).
const NOT_PRODUCIBLE: &[(&str, &str)] = &[
    (
        "lib/pq >= 1.12 \"(SQLSTATE)\" suffix",
        "Debian ships lib/pq 1.10.7; the patterns do not anchor at the end of the message, so a suffix does not change the match",
    ),
    (
        "Azure \"SSL connection is required\"",
        "a managed-server message; PostgreSQL itself reports hostssl-only as no pg_hba.conf entry (produced above)",
    ),
    (
        "\"remote error: tls: certificate required\"",
        "PostgreSQL asks for a client certificate without requiring it in the handshake; its cert method refuses after the handshake (produced above)",
    ),
];

/// Set-up run right before a mode's clients; what it returns is kept while they run.
type Prepare = Box<dyn Fn() -> Box<dyn std::any::Any> + Send + Sync>;

/// One failure mode: where the clients connect and which finding the doctor owes.
struct Mode {
    name: &'static str,
    expect: &'static str,
    target: Target,
    /// Run before the clients (fills connection slots, shuts a server down, sets the
    /// resolver's behaviour); what it returns is kept until the clients ran.
    prepare: Option<Prepare>,
}

fn mode(name: &'static str, expect: &'static str, target: Target) -> Mode {
    Mode {
        name,
        expect,
        target,
        prepare: None,
    }
}

/// The outcome of one client in one mode.
enum Outcome {
    Recognised,
    /// The client could not produce the mode (connected, or printed no error line).
    CannotProduce(String),
    Wrong(String),
}

const HBA_PLAIN: &str = "local all all trust\n\
host all master,filler 127.0.0.1/32 scram-sha-256\n\
host all master,filler ::1/128 scram-sha-256\n\
host all md5user 127.0.0.1/32 md5\n\
host all nosuchrole 127.0.0.1/32 trust\n\
host all refused 127.0.0.1/32 reject\n";

const HBA_TLS: &str = "local all all trust\n\
hostssl all master,filler 127.0.0.1/32 scram-sha-256\n\
hostssl all master,filler ::1/128 scram-sha-256\n\
hostnossl all md5user 127.0.0.1/32 md5\n\
hostnossl all md5user ::1/128 md5\n\
hostssl all certuser 127.0.0.1/32 cert\n\
hostssl all certuser ::1/128 cert\n";

fn write_file(name: &str, data: &[u8]) -> PathBuf {
    let p = scaffold::root().join(name);
    std::fs::write(&p, data).unwrap();
    p
}

fn tls_server(ca: &Ca, cert: Cert, extra: Vec<String>) -> PgServer {
    let weak = cert.sha1 || !extra.is_empty();
    let mut settings = Vec::new();
    if weak {
        settings.push("ssl_ciphers=DEFAULT:@SECLEVEL=0".to_string());
    }
    settings.extend(extra);
    scaffold::start(&PgOptions {
        weak_openssl: weak,
        tls: Some(ca.issue(&cert)),
        client_ca: Some(ca.pem()),
        hba: HBA_TLS.into(),
        settings,
        ..Default::default()
    })
}

struct World {
    _servers: Vec<PgServer>,
    /// Servers and guards the modes need until the end.
    _keep: Vec<Box<dyn std::any::Any>>,
    modes: Vec<Mode>,
    netns: Option<Netns>,
    /// Modes that could not be set up on this machine, and why.
    not_set_up: Vec<(&'static str, String)>,
}

fn world() -> World {
    use scaffold::{MASTER, MD5USER};
    let ca = Ca::new("Test Root CA");
    let other_ca = Ca::new("Some Other CA");
    let ca_file = write_file("ca.pem", &ca.pem());
    let other_ca_file = write_file("other-ca.pem", &other_ca.pem());
    let junk_ca_file = write_file("junk-ca.pem", b"this is not a PEM certificate\n");
    let missing_ca_file = scaffold::root().join("no-such-dir/ca.pem");

    let plain = scaffold::start(&PgOptions {
        hba: HBA_PLAIN.into(),
        ..Default::default()
    });
    let good = tls_server(&ca, Cert::dns("localhost"), vec![]);
    let ip_san = tls_server(
        &ca,
        Cert {
            cn: "localhost",
            sans: vec!["DNS:localhost", "IP:192.0.2.10", "IP:2001:db8::10"],
            expired: false,
            sha1: false,
        },
        vec![],
    );
    let other_host = tls_server(&ca, Cert::dns("db.other.example"), vec![]);
    let expired = tls_server(
        &ca,
        Cert {
            expired: true,
            ..Cert::dns("localhost")
        },
        vec![],
    );
    let cn_only = tls_server(
        &ca,
        Cert {
            sans: vec![],
            ..Cert::dns("localhost")
        },
        vec![],
    );
    let sha1 = tls_server(
        &ca,
        Cert {
            sha1: true,
            ..Cert::dns("localhost")
        },
        vec![],
    );
    let tls11 = tls_server(
        &ca,
        Cert::dns("localhost"),
        vec![
            "ssl_min_protocol_version=TLSv1".into(),
            "ssl_max_protocol_version=TLSv1.1".into(),
        ],
    );
    let no_cipher = tls_server(
        &ca,
        Cert::dns("localhost"),
        vec![
            "ssl_max_protocol_version=TLSv1.2".into(),
            "ssl_ciphers=DHE-RSA-AES256-SHA256:@SECLEVEL=0".into(),
        ],
    );
    let full = scaffold::start(&PgOptions {
        hba: HBA_PLAIN.into(),
        max_connections: 3,
        settings: vec!["superuser_reserved_connections=0".into()],
        ..Default::default()
    });
    let reserved = scaffold::start(&PgOptions {
        hba: HBA_PLAIN.into(),
        max_connections: 4,
        settings: vec!["superuser_reserved_connections=2".into()],
        ..Default::default()
    });
    // A standby whose restore_command blocks while the server's directory exists:
    // the startup process never gets past reading the timeline history.
    let starting = scaffold::start(&PgOptions {
        hba: HBA_PLAIN.into(),
        settings: vec![
            "restore_command=while [ -d {dir} ]; do sleep 0.2; done; false".into(),
            "hot_standby=off".into(),
        ],
        data_files: vec![("standby.signal", String::new())],
        port_only: true,
        ..Default::default()
    });
    // A standby that has finished what it can replay and does not accept connections.
    let recovery = scaffold::start(&PgOptions {
        hba: HBA_PLAIN.into(),
        settings: vec!["restore_command=false".into(), "hot_standby=off".into()],
        data_files: vec![("standby.signal", String::new())],
        port_only: true,
        ..Default::default()
    });
    let stopping = scaffold::start(&PgOptions {
        hba: HBA_PLAIN.into(),
        ..Default::default()
    });

    let p = plain.port;
    let g = good.port;
    let mut modes = vec![
        mode(
            "TLS off, sslmode require",
            "TLS003",
            Target::new("localhost", p, MASTER, "require"),
        ),
        mode(
            "TLS off, sslmode verify-ca",
            "TLS003",
            Target::new("localhost", p, MASTER, "verify-ca").ca(&ca_file),
        ),
        mode(
            "TLS off, sslmode verify-full",
            "TLS003",
            Target::new("localhost", p, MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "unknown CA",
            "TLS001",
            Target::new("localhost", g, MASTER, "verify-full").ca(&other_ca_file),
        ),
        mode(
            "IPv4 address, certificate without IP SAN",
            "TLS002",
            Target::new("127.0.0.1", g, MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "IPv6 address, certificate without IP SAN",
            "TLS002",
            Target::new("::1", g, MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "IPv4 address, certificate for other IPs",
            "TLS002",
            Target::new("127.0.0.1", ip_san.port, MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "IPv6 address, certificate for other IPs",
            "TLS002",
            Target::new("::1", ip_san.port, MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "certificate for another host name",
            "TLS004",
            Target::new("localhost", other_host.port, MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "expired certificate",
            "TLS005",
            Target::new("localhost", expired.port, MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "CN-only certificate (no SAN)",
            "TLS010",
            Target::new("localhost", cn_only.port, MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "SHA-1 signed certificate",
            "TLS011",
            Target::new("localhost", sha1.port, MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "server speaks TLS 1.1 at most",
            "TLS013",
            Target::new("localhost", tls11.port, MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "no cipher suite in common",
            "TLS014",
            Target::new("localhost", no_cipher.port, MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "CA file missing at PGSSLROOTCERT",
            "TLS012",
            Target::new("localhost", g, MASTER, "verify-full").ca(&missing_ca_file),
        ),
        mode(
            "CA file at PGSSLROOTCERT does not parse",
            "TLS009",
            Target::new("localhost", g, MASTER, "verify-full").ca(&junk_ca_file),
        ),
        mode(
            "client certificate required (pg_hba cert)",
            "AUTH004",
            Target::new("localhost", g, ("certuser", "x"), "verify-full").ca(&ca_file),
        ),
        mode(
            "wrong password, scram-sha-256",
            "AUTH001",
            Target::new("127.0.0.1", p, MASTER, "disable").password("wrong-pw"),
        ),
        mode(
            "wrong password, md5",
            "AUTH001",
            Target::new("127.0.0.1", p, MD5USER, "disable").password("wrong-pw"),
        ),
        mode(
            "pg_hba reject",
            "AUTH002",
            Target::new("127.0.0.1", p, ("refused", "x"), "disable"),
        ),
        mode(
            "pg_hba no entry",
            "AUTH002",
            Target::new("127.0.0.1", p, ("stranger", "x"), "disable"),
        ),
        mode(
            "pg_hba hostssl only, sslmode disable",
            "AUTH002",
            Target::new("127.0.0.1", g, MASTER, "disable"),
        ),
        mode(
            "pg_hba hostnossl only, TLS",
            "AUTH002",
            Target::new("localhost", g, MD5USER, "verify-full").ca(&ca_file),
        ),
        mode("database missing", "AUTH003", {
            let mut t = Target::new("127.0.0.1", p, MASTER, "disable");
            t.database = "smartcheck_maint".into();
            t
        }),
        mode(
            "role missing",
            "AUTH001",
            Target::new("127.0.0.1", p, ("nosuchrole", "x"), "disable"),
        ),
        mode(
            "connection refused",
            "NET002",
            Target::new("127.0.0.1", Listener::closed(), MASTER, "disable"),
        ),
        mode(
            "server accepts TCP and never answers",
            "NET006",
            Target::new("127.0.0.1", Listener::silent(), MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "server accepts TCP and never answers, sslmode disable",
            "NET006",
            Target::new("127.0.0.1", Listener::silent(), MASTER, "disable"),
        ),
        mode(
            "server resets the connection",
            "NET007",
            Target::new("127.0.0.1", Listener::resetting(), MASTER, "verify-full").ca(&ca_file),
        ),
        mode(
            "port answers with an SSH greeting",
            "NET009",
            Target::new(
                "127.0.0.1",
                Listener::greeting(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
                MASTER,
                "verify-full",
            )
            .ca(&ca_file),
        ),
        // Without TLS the greeting reads as the start of a long message: the clients
        // wait for the rest and time out.
        mode(
            "port answers with an SSH greeting, sslmode disable",
            "NET006",
            Target::new(
                "127.0.0.1",
                Listener::greeting(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
                MASTER,
                "disable",
            ),
        ),
        mode(
            "too many clients",
            "DB004",
            Target::new("127.0.0.1", full.port, MASTER, "disable"),
        ),
        mode(
            "remaining slots reserved for superusers",
            "DB004",
            Target::new("127.0.0.1", reserved.port, MASTER, "disable"),
        ),
        mode(
            "server starting up",
            "DB005",
            Target::new("127.0.0.1", starting.port, MASTER, "disable"),
        ),
        mode(
            "standby in recovery",
            "DB005",
            Target::new("127.0.0.1", recovery.port, MASTER, "disable"),
        ),
        mode(
            "server shutting down",
            "DB005",
            Target::new("127.0.0.1", stopping.port, MASTER, "disable"),
        ),
    ];
    let mut not_set_up = Vec::new();
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    // The dial timeout: a listener whose accept queue is full drops SYNs.
    {
        let (port, guard) = Listener::full_backlog();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
            not_set_up.push((
                "dial timeout (full accept queue)",
                "the kernel still completes connections to a listener with a full accept queue"
                    .to_string(),
            ));
        } else {
            keep.push(Box::new(guard));
            modes.push(mode(
                "dial timeout (full accept queue)",
                "NET001",
                Target::new("127.0.0.1", port, MASTER, "verify-full").ca(&ca_file),
            ));
        }
    }
    // Slots: fill them before the clients run.
    let full = std::sync::Arc::new(full);
    let reserved = std::sync::Arc::new(reserved);
    let stopping = std::sync::Arc::new(stopping);
    for m in modes.iter_mut() {
        match m.name {
            "too many clients" => {
                let s = full.clone();
                m.prepare = Some(Box::new(move || {
                    Box::new(s.hold_sessions(scaffold::FILLER, 3)) as Box<dyn std::any::Any>
                }));
            }
            "remaining slots reserved for superusers" => {
                let s = reserved.clone();
                m.prepare = Some(Box::new(move || {
                    Box::new(s.hold_sessions(scaffold::FILLER, 2)) as Box<dyn std::any::Any>
                }));
            }
            _ => {}
        }
    }
    // Shutting down: a smart shutdown waits for the open session; new ones are refused.
    {
        let held = stopping.hold_sessions(scaffold::FILLER, 1);
        // SAFETY: sending SIGTERM to the postmaster this test started.
        unsafe {
            libc::kill(stopping.pid(), libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !stopping.log().contains("smart shutdown") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        keep.push(Box::new(held));
    }
    // Name resolution and routing, inside the test's own network namespace.
    let netns = match Netns::new() {
        Ok(ns) => Some(ns),
        Err(why) => {
            for n in [
                "unresolvable name (NXDOMAIN)",
                "name server fails (SERVFAIL)",
                "name server does not answer",
                "no name server",
                "network unreachable",
                "no route to host",
            ] {
                not_set_up.push((n, why.clone()));
            }
            None
        }
    };
    if netns.is_some() {
        let dns = |name, expect, m: DnsMode, cgo: bool| {
            let mut t = Target::new("postgres.dssc.test", 5432, MASTER, "verify-full").ca(&ca_file);
            t.in_netns = true;
            t.env
                .push(("GODEBUG", if cgo { "netdns=cgo" } else { "netdns=go" }));
            let mut md = mode(name, expect, t);
            md.prepare = Some(Box::new(move || Box::new(m) as Box<dyn std::any::Any>));
            md
        };
        // The order matters: "no name server" closes the responder for good.
        modes.push(dns(
            "unresolvable name (NXDOMAIN)",
            "NET003",
            DnsMode::NxDomain,
            false,
        ));
        modes.push(dns(
            "unresolvable name (NXDOMAIN, glibc resolver)",
            "NET003",
            DnsMode::NxDomain,
            true,
        ));
        modes.push(dns(
            "name server fails (SERVFAIL)",
            "NET003",
            DnsMode::ServFail,
            false,
        ));
        modes.push(dns(
            "name server fails (SERVFAIL, glibc resolver)",
            "NET003",
            DnsMode::ServFail,
            true,
        ));
        modes.push(dns(
            "name server does not answer",
            "NET003",
            DnsMode::Silent,
            false,
        ));
        modes.push(dns(
            "name server does not answer (glibc resolver)",
            "NET003",
            DnsMode::Silent,
            true,
        ));
        modes.push(dns("no name server", "NET003", DnsMode::Closed, false));
        modes.push(dns(
            "no name server (glibc resolver)",
            "NET003",
            DnsMode::Closed,
            true,
        ));
        let mut t = Target::new("192.0.2.10", 5432, MASTER, "verify-full").ca(&ca_file);
        t.in_netns = true;
        modes.push(mode("network unreachable", "NET008", t));
        let mut t = Target::new("198.51.100.10", 5432, MASTER, "verify-full").ca(&ca_file);
        t.in_netns = true;
        modes.push(mode("no route to host", "NET008", t));
    }
    keep.push(Box::new(stopping));
    World {
        _servers: vec![
            plain, good, ip_san, other_host, expired, cn_only, sha1, tls11, no_cipher, starting,
            recovery,
        ],
        _keep: keep,
        modes,
        netns,
        not_set_up,
    }
}

/// The DNS behaviour a mode needs, when it is a resolver mode.
fn apply_prepared(ns: Option<&Netns>, kept: &dyn std::any::Any) {
    if let (Some(ns), Some(m)) = (ns, kept.downcast_ref::<DnsMode>()) {
        ns.set_dns(*m);
    }
}

/// Judges one client's output in one mode: both forms go into `analyze`.
fn judge(scratch: &Path, c: &Client, m: &Mode, run: &Run) -> Outcome {
    if run.exit == Some(0) {
        return Outcome::CannotProduce("the client connected".into());
    }
    if run.json_lines.is_empty() || run.plain_lines.is_empty() {
        return Outcome::CannotProduce(format!(
            "no error line (exit {:?}): {}",
            run.exit,
            run.all.trim()
        ));
    }
    let mut problems = Vec::new();
    for (form, lines) in [("json", &run.json_lines), ("plain", &run.plain_lines)] {
        // A stuck db-init logs its error on every retry.
        let mut log = String::new();
        if form == "json" {
            for l in run.all.lines().filter(|l| l.starts_with('{')) {
                log.push_str(l);
                log.push('\n');
            }
            for l in lines {
                log.push_str(l);
                log.push('\n');
            }
        } else {
            for l in lines {
                log.push_str(l);
                log.push('\n');
            }
        }
        let dir = scratch.join(format!("bundle-{}-{form}", c.name));
        let r = analyze(&dir, &m.target, &log, Vec::new(), false);
        let ids = finding_ids(&r);
        if !ids.iter().any(|i| i == m.expect) {
            problems.push(format!("{form}: got {ids:?}"));
            continue;
        }
        let fix = fix_of(&r, m.expect);
        let t = &m.target;
        for (what, v) in [
            ("host", t.host.clone()),
            ("port", t.port.to_string()),
            ("user", t.user.clone()),
        ] {
            // The user is known from what the client printed (pgx's `user=…`, lib/pq's
            // `for user "…"`); a line that does not name it leaves the placeholder.
            if what == "user"
                && !run.all.contains(&format!("user={v}"))
                && !run.all.contains(&format!("for user \"{v}\""))
                && !run.all.contains(&format!("for user \\\"{v}\\\""))
            {
                continue;
            }
            if !fix.contains(&v) {
                problems.push(format!(
                    "{form}: the fix of {} does not name the {what} {v}",
                    m.expect
                ));
            }
        }
        // The remedy's own objects: Smart Check's pool budget, the CREATE ROLE.
        let owed = match m.expect {
            "DB004" => {
                Some("6 services with a database x db.maxOpenConnections 25 = 150".to_string())
            }
            "AUTH001" if m.name == "role missing" => {
                Some(format!("CREATE ROLE \\\"{}\\\"", t.user))
            }
            _ => None,
        };
        if let Some(want) = owed {
            if !fix.contains(&want) {
                problems.push(format!(
                    "{form}: the fix of {} lacks {want}: {fix}",
                    m.expect
                ));
            }
        }
        let other: Vec<&String> = ids
            .iter()
            .filter(|i| *i != m.expect && *i != "DOC001")
            .collect();
        if !other.is_empty() {
            problems.push(format!(
                "{form}: other findings besides {}: {other:?}",
                m.expect
            ));
        }
    }
    if problems.is_empty() {
        Outcome::Recognised
    } else {
        Outcome::Wrong(format!(
            "{}\n    printed: {}",
            problems.join("\n    "),
            run.json_lines.first().map(String::as_str).unwrap_or("")
        ))
    }
}

fn pg_and_clients() -> Result<Vec<Client>, String> {
    if scaffold::bin_dir().is_none() {
        return Err("PostgreSQL 15 binaries not found (set PG_BIN)".into());
    }
    clients()
}

#[test]
fn every_client_in_every_failure_mode_is_recognised() {
    let cs = match pg_and_clients() {
        Ok(c) => c,
        Err(why) => {
            need(Err(why));
            return;
        }
    };
    let w = world();
    let scratch = tempfile::tempdir().unwrap();
    let save = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("dbinit-clients/outputs");
    let _ = std::fs::create_dir_all(&save);
    // client -> (recognised, total); failures and unproducible modes.
    let mut table: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut cannot = Vec::new();
    let mut probe_wrong = Vec::new();
    let mut probe_cannot = Vec::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for m in &w.modes {
        let kept = m.prepare.as_ref().map(|p| p());
        if let Some(k) = &kept {
            apply_prepared(w.netns.as_ref(), k.as_ref());
        }
        // The doctor's own probe meets the same case: the same ID (one cause, one ID).
        match probe_meets(m) {
            Err(why) => probe_cannot.push(format!("{}: {why}", m.name)),
            Ok(accept) => {
                let res = rt.block_on(dssc_doctor::probe::run(&probe_config(&m.target)));
                let got: Vec<&str> = res.hits.iter().map(|h| h.id.as_str()).collect();
                if !got.iter().any(|g| accept.contains(g)) {
                    let ev: Vec<&str> = res.hits.iter().map(|h| h.evidence.as_str()).collect();
                    probe_wrong.push(format!(
                        "{} (want {accept:?}): probe raised {got:?}: {ev:?}",
                        m.name
                    ));
                } else if m.name == "role missing" {
                    let h = res.hits.iter().find(|h| h.id == "AUTH001").unwrap();
                    if !h
                        .captures
                        .contains(&("missing_role".into(), m.target.user.clone()))
                    {
                        probe_wrong
                            .push(format!("{}: no missing_role in {:?}", m.name, h.captures));
                    }
                } else if m.name == "pg_hba reject" {
                    let h = res.hits.iter().find(|h| h.id == "AUTH002").unwrap();
                    if !h.captures.iter().any(|(k, _)| k == "hba_verdict") {
                        probe_wrong.push(format!("{}: no hba_verdict in {:?}", m.name, h.captures));
                    }
                }
            }
        }
        // The four clients at once: most of the time is spent waiting for timeouts.
        let outcomes: Vec<(String, Outcome)> = std::thread::scope(|sc| {
            let handles: Vec<_> = cs
                .iter()
                .map(|c| {
                    let (save, scratch, ns) = (&save, scratch.path(), w.netns.as_ref());
                    sc.spawn(move || {
                        let run = run_client(c, &m.target, ns);
                        let file =
                            format!("{}--{}.log", c.name, m.name.replace([' ', '/', ','], "_"));
                        let _ = std::fs::write(save.join(file), &run.all);
                        (c.name.clone(), judge(scratch, c, m, &run))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (name, outcome) in outcomes {
            let e = table.entry(name.clone()).or_default();
            match outcome {
                Outcome::Recognised => {
                    e.0 += 1;
                    e.1 += 1;
                }
                Outcome::CannotProduce(why) => cannot.push(format!("{name} / {}: {why}", m.name)),
                Outcome::Wrong(why) => {
                    e.1 += 1;
                    wrong.push(format!("{name} / {} (want {}): {why}", m.name, m.expect));
                }
            }
        }
        drop(kept);
    }
    eprintln!("\nrecognised / total per client ({} modes):", w.modes.len());
    for (c, (ok, n)) in &table {
        eprintln!("  {c:<16} {ok:>3} / {n}");
    }
    for (family, why) in NOT_PRODUCIBLE {
        eprintln!("  no client here prints: {family}: {why}");
    }
    for (m, why) in &w.not_set_up {
        eprintln!("  not set up here: {m}: {why}");
    }
    for c in &cannot {
        eprintln!("  cannot produce: {c}");
    }
    for c in &probe_cannot {
        eprintln!("  the probe does not meet: {c}");
    }
    assert!(
        probe_wrong.is_empty(),
        "the probe raised other IDs than the clients' log lines:\n{}",
        probe_wrong.join("\n")
    );
    assert!(
        wrong.is_empty(),
        "{} client outputs not recognised as they should be:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        assert!(
            w.not_set_up.is_empty(),
            "CI=true: modes not set up: {:?}",
            w.not_set_up
        );
    }
}

/// The IDs the probe may raise in a mode (the clients' ID, or one it explains), or why
/// the probe, run from the test's process, cannot meet the case.
fn probe_meets(m: &Mode) -> Result<Vec<&'static str>, &'static str> {
    if m.target.in_netns {
        return Err("the probe runs outside the test's network namespace");
    }
    Ok(match m.name {
        "CA file missing at PGSSLROOTCERT" => {
            return Err("a file inside the pod; the probe reads the CA itself")
        }
        "no cipher suite in common" => {
            return Err("the probe speaks OpenSSL, which offers the DHE suite Go lacks")
        }
        // Without TLS the probe's startup message meets the greeting: not PostgreSQL.
        "port answers with an SSH greeting, sslmode disable" => vec!["NET006", "NET009"],
        // OpenSSL may refuse the SHA-1 signature before the probe sees the chain.
        "SHA-1 signed certificate" => vec!["TLS011"],
        _ => vec![m.expect],
    })
}

/// The probe's configuration for a mode's target (as `probe` builds it from flags).
fn probe_config(t: &Target) -> dssc_doctor::probe::ProbeConfig {
    let ca_pem = t.rootcert.as_ref().and_then(|p| std::fs::read(p).ok());
    dssc_doctor::probe::ProbeConfig {
        host: t.host.clone(),
        port: t.port,
        user: t.user.clone(),
        password: Some(t.password.clone().into()),
        sslmode: dssc_doctor::probe::SslMode::parse_chart(t.sslmode).expect("sslmode"),
        ca_origin: ca_pem.as_ref().map(|_| "ca.pem".to_string()),
        ca_pem,
        database: t.database.clone(),
        connect_timeout: Duration::from_secs(2),
        samples: 1,
        ..dssc_doctor::probe::ProbeConfig::default()
    }
}

/// Normal events of the example bundles, moved onto the test's pod.
fn normal_events() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/bundles/healthy/cluster-resources/events/trendmicro.json");
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for mut e in v["items"].as_array().cloned().unwrap_or_default() {
        assert_eq!(e["type"], "Normal");
        e["involvedObject"]["name"] = json!(POD);
        out.push(e);
    }
    assert!(!out.is_empty());
    out
}

fn event(reason: &str, message: &str) -> Value {
    json!({"kind": "Event", "apiVersion": "v1",
        "metadata": {"name": format!("{POD}.1"), "namespace": NS},
        "involvedObject": {"kind": "Pod", "namespace": NS, "name": POD, "apiVersion": "v1"},
        "reason": reason, "message": message, "type": "Warning", "count": 3,
        "firstTimestamp": "2026-11-23T02:10:00Z", "lastTimestamp": "2026-11-23T02:17:13Z",
        "source": {"component": "kubelet", "host": "node-1"}})
}

/// What a healthy start prints: the clients' start-up and success lines, the server's
/// own log, normal kubelet events. None of it is a finding.
#[test]
fn benign_lines_give_no_specific_finding() {
    let cs = match pg_and_clients() {
        Ok(c) => c,
        Err(why) => {
            need(Err(why));
            return;
        }
    };
    let ca = Ca::new("Test Root CA");
    let ca_file = write_file("benign-ca.pem", &ca.pem());
    let server = tls_server(&ca, Cert::dns("localhost"), vec![]);
    let t = Target::new("localhost", server.port, scaffold::MASTER, "verify-full").ca(&ca_file);
    let mut log = String::new();
    for c in &cs {
        let run = run_client(c, &t, None);
        assert_eq!(run.exit, Some(0), "{} did not connect: {}", c.name, run.all);
        log.push_str(&run.all);
    }
    // The server's log after those logins (start-up, connections, TLS details).
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.log().matches("disconnection:").count() < cs.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let server_log = server.log();
    assert!(server_log.contains("connection authorized"), "{server_log}");
    log.push_str(&server_log);
    let scratch = tempfile::tempdir().unwrap();
    for running in [true, false] {
        let r = analyze(
            &scratch.path().join("benign"),
            &t,
            &log,
            normal_events(),
            running,
        );
        let ids = finding_ids(&r);
        // A pod still in Init with nothing explaining it is POD001, the generic finding.
        let specific: Vec<&String> = ids
            .iter()
            .filter(|i| i.as_str() != "POD001" || running)
            .collect();
        assert!(
            specific.is_empty(),
            "benign lines gave {specific:?} (running: {running}):\n{log}"
        );
    }
    // The same lines as a plain log on stdin.
    let mut child = Command::new(BIN)
        .args(["analyze", "-", "-c", "db-init", "-o", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(log.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let r = report::json(&out.stdout, &String::from_utf8_lossy(&out.stderr));
    assert!(finding_ids(&r).is_empty(), "{:?}", finding_ids(&r));
    assert_eq!(out.status.code(), Some(0));
}

/// FailedMount events in the kubelet's wordings (testdata/kubelet/failed-mount.tsv).
#[test]
fn kubelet_failed_mount_wordings_are_recognised() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kubelet/failed-mount.tsv"),
    )
    .unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let t = Target::new("db.example.internal", 5432, ("master", ""), "verify-full")
        .ca(Path::new("/trust/db/ca.pem"));
    let mut n = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (want, msg) = line.split_once('\t').expect("ID<TAB>message");
        let r = analyze(
            &scratch.path().join("mnt"),
            &t,
            "",
            vec![event("FailedMount", msg)],
            false,
        );
        let ids = finding_ids(&r);
        assert!(ids.iter().any(|i| i == want), "{msg}\n -> {ids:?}");
        assert!(!ids.iter().any(|i| i == "POD001"), "{msg}\n -> {ids:?}");
        let fix = fix_of(&r, want);
        if want != "MNT003" {
            assert!(fix.contains("dssc-db-trust") || fix.contains("ca"), "{fix}");
        }
        n += 1;
    }
    assert!(n >= 5);
}
