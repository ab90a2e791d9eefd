//! Real PostgreSQL servers for tests. `initdb` runs once per test process into a
//! template (roles with scram passwords made in single-user mode); each server is a
//! copy of it on a free loopback port with its own certificate, pg_hba.conf and
//! settings, fsync off. As root, everything runs as the `postgres` OS user.
//!
//! A server lives until the test process ends, even in a `static`: it runs under a
//! small shell that stops PostgreSQL (and removes the server's directory) when its
//! standard input, held by this process, closes.
//!
//! Binaries: `$PG_BIN`, else `/usr/lib/postgresql/15/bin`.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The bootstrap superuser and its password.
pub const SUPERUSER: (&str, &str) = ("postgres", "postgres-pw");
/// A user with CREATEROLE and CREATEDB, as Smart Check's master user needs.
pub const MASTER: (&str, &str) = ("master", "master-pw");
/// A user that can log in and nothing more.
pub const WEAK: (&str, &str) = ("weak", "weak-pw");

/// pg_hba.conf: scram for TCP with or without TLS.
pub const HBA_SCRAM: &str = "local all all trust\n\
host all all 127.0.0.1/32 scram-sha-256\n\
host all all ::1/128 scram-sha-256\n";

/// pg_hba.conf: TLS only (clear-text connections are rejected).
pub const HBA_SSL_ONLY: &str = "local all all trust\n\
hostnossl all all 127.0.0.1/32 reject\n\
hostnossl all all ::1/128 reject\n\
hostssl all all 127.0.0.1/32 scram-sha-256\n\
hostssl all all ::1/128 scram-sha-256\n";

/// How to run one server.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// Server certificate and key (PEM); `None` runs with `ssl = off`.
    pub tls: Option<(Vec<u8>, Vec<u8>)>,
    pub hba: String,
    pub max_connections: u32,
    /// More `name=value` settings.
    pub settings: Vec<String>,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            tls: None,
            hba: HBA_SCRAM.into(),
            max_connections: 20,
            settings: Vec::new(),
        }
    }
}

/// A running server.
pub struct PgServer {
    pub port: u16,
    pub dir: PathBuf,
    /// Holding the wrapper's stdin keeps the server alive.
    _guard: Mutex<Child>,
}

impl PgServer {
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }
}

/// The directory of the PostgreSQL binaries, if installed.
pub fn bin_dir() -> Option<PathBuf> {
    let d = std::env::var_os("PG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"));
    d.join("initdb").exists().then_some(d)
}

/// Whether tests can start servers; prints why not.
pub fn available() -> bool {
    super::ci::require(
        "PostgreSQL server binaries (initdb; set PG_BIN)",
        bin_dir().is_some(),
    )
}

pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

pub fn postgres_ids() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("id");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("postgres user id")
    };
    (id("-u"), id("-g"))
}

/// A command run as the postgres OS user when we are root.
pub fn as_pg(program: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    }
}

pub fn chown_pg(p: &Path) {
    if is_root() {
        let (u, g) = postgres_ids();
        std::os::unix::fs::chown(p, Some(u), Some(g)).expect("chown");
    }
}

pub fn write_pg(p: &Path, data: &[u8], mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(p, data).expect("write");
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    chown_pg(p);
}

/// This process's scratch directory; directories of dead test processes are removed.
pub fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let tmp = std::env::temp_dir();
        if let Ok(rd) = std::fs::read_dir(&tmp) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if let Some(pid) = name.strip_prefix("dssc-doctor-pg-") {
                    if !Path::new("/proc").join(pid).exists() {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let d = tmp.join(format!("dssc-doctor-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch dir");
        chown_pg(&d);
        d
    })
}

/// The template data directory: initdb once, roles created in single-user mode.
fn template() -> &'static Path {
    static T: OnceLock<PathBuf> = OnceLock::new();
    T.get_or_init(|| {
        make_template(
            "template",
            &format!(
                "CREATE ROLE {} LOGIN CREATEROLE CREATEDB PASSWORD '{}';\nCREATE ROLE {} LOGIN PASSWORD '{}';\n",
                MASTER.0, MASTER.1, WEAK.0, WEAK.1
            ),
        )
    })
}

/// A data directory `name` under [`root`]: initdb with the bootstrap superuser (scram),
/// then `sql` (one statement a line) run in single-user mode. Servers start on copies.
pub fn make_template(name: &str, sql: &str) -> PathBuf {
    let bin = bin_dir().expect("PostgreSQL binaries");
    let data = root().join(name);
    let pw = root().join(format!("{name}.pwfile"));
    write_pg(&pw, SUPERUSER.1.as_bytes(), 0o600);
    let out = as_pg(bin.join("initdb").to_str().unwrap())
        .args(["-D", data.to_str().unwrap(), "-U", SUPERUSER.0, "--pwfile"])
        .arg(&pw)
        .args([
            "-A",
            "scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run initdb");
    assert!(
        out.status.success(),
        "initdb failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = as_pg(bin.join("postgres").to_str().unwrap())
        .args([
            "--single",
            "-D",
            data.to_str().unwrap(),
            "-c",
            "fsync=off",
            "postgres",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("postgres --single");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(sql.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "single-user setup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    data
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts a server (retrying on a port taken in between).
pub fn start(opts: &PgOptions) -> PgServer {
    assert!(available(), "PostgreSQL binaries not found");
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
    let template = template();
    let dir = root().join(format!("srv-{}", N.fetch_add(1, Ordering::SeqCst)));
    std::fs::create_dir_all(&dir).expect("server dir");
    chown_pg(&dir);
    let data = dir.join("data");
    let st = as_pg("cp")
        .arg("-a")
        .arg(template)
        .arg(&data)
        .status()
        .expect("cp");
    assert!(st.success(), "copying the template failed");
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
    set(format!("max_connections={}", opts.max_connections));
    for s in [
        "fsync=off",
        "synchronous_commit=off",
        "full_page_writes=off",
        "shared_buffers=8MB",
        "max_wal_senders=0",
        "wal_level=minimal",
        "logging_collector=off",
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
    for s in &opts.settings {
        set(s.clone());
    }
    // Stops PostgreSQL and removes the directory when stdin closes (this process ends).
    let script = r#"D="$1"; shift; "$@" >"$D/postgres.log" 2>&1 & p=$!; read _x; kill -QUIT $p 2>/dev/null; wait $p; rm -rf "$D""#;
    let child = as_pg("sh")
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
        _guard: Mutex::new(child),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = server.log();
        if log.contains("database system is ready to accept connections")
            && TcpStream::connect_timeout(&server.addr(), Duration::from_millis(200)).is_ok()
        {
            return Ok(server);
        }
        if log.contains("FATAL") || Instant::now() > deadline {
            // Dropping the guard closes stdin: the wrapper cleans up.
            return Err(log);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads the whole of a file, for diagnostics.
pub fn read_all(p: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(p) {
        let _ = f.read_to_string(&mut s);
    }
    s
}
