#!/usr/bin/env bash
# Coverage-guided fuzzing of the input parsers (fuzz/, its own crate) on the stable
# toolchain: libFuzzer (libfuzzer-sys) with SanitizerCoverage turned on by hand, the
# flags `cargo fuzz build --sanitizer none` passes, without any -Z option.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]    (default: all, 60 s per target)
#
# Each target runs for SECONDS with -rss_limit_mb=512 -timeout=10. Seeds come from the
# repository's fixtures (testdata/) plus fuzz/corpus/<target>/; what the fuzzer finds
# accumulates in fuzz/corpus-run/<target>/ (not committed). A crash, timeout or
# out-of-memory input is kept in fuzz/artifacts/<target>/ and the script exits 1.
# Replay one with: fuzz/target/<triple>/release/<target> fuzz/artifacts/<target>/<file>
# Too slow for CI: not part of .ci/run nor scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

targets=(input_file bundle log_scan values helm_release ca_bundle server_chain selectors serve_request)
want=${1:-all}
secs=${2:-60}
if [ "$want" != all ]; then
  case " ${targets[*]} " in
    *" $want "*) targets=("$want") ;;
    *) echo "fuzz.sh: unknown target $want (one of: ${targets[*]}, all)" >&2; exit 2 ;;
  esac
fi
case "$secs" in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a number" >&2; exit 2 ;; esac

# Inputs larger than this are not tried (bundles and logs need room, selectors do not).
max_len() {
  case "$1" in
    bundle | input_file) echo 262144 ;;
    log_scan | serve_request) echo 131072 ;;
    *) echo 16384 ;;
  esac
}

host=$(rustc -vV | sed -n 's/^host: //p')
if rustc -V | grep -q nightly; then
  echo "note: a nightly rustc; the flags below are the stable ones all the same" >&2
fi
export CARGO_TARGET_DIR="$root/fuzz/target"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 -Cdebug-assertions -Copt-level=2 -Cdebuginfo=1"
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
# --target keeps RUSTFLAGS off build scripts and proc macros (as cargo fuzz does).
cargo build --release --manifest-path fuzz/Cargo.toml --target "$host" "${bins[@]}"
bindir="$CARGO_TARGET_DIR/$host/release"

# Seeds from the fixtures, written into the run corpus (idempotent: same names).
records() { # DIR: the bundle as `=== path` records
  (cd "$1" && find . -type f | LC_ALL=C sort | while read -r f; do
    printf '=== %s\n' "${f#./}"
    cat "$f"
    printf '\n'
  done)
}
seed() {
  local t=$1 d=$2 b
  case "$t" in
    input_file)
      for b in testdata/bundles/*/; do
        tar -C "$b" -czf "$d/$(basename "$b").tar.gz" .
      done
      find testdata/bundles -name '*.log' -size -8k | LC_ALL=C sort |
        while read -r f; do cp "$f" "$d/log-$(echo "$f" | cksum | cut -d' ' -f1)"; done
      gzip -c testdata/kubelet/failed-mount.tsv >"$d/kubelet.gz"
      ;;
    bundle)
      for b in testdata/bundles/*/; do records "$b" >"$d/$(basename "$b")"; done
      ;;
    log_scan)
      # First byte 'E': container db-init, reads of 1650 bytes.
      find testdata/bundles -name '*.log' | LC_ALL=C sort | while read -r f; do
        { printf 'E'; cat "$f"; } >"$d/log-$(echo "$f" | cksum | cut -d' ' -f1)"
      done
      ;;
    values)
      cp testdata/values/*.yaml "$d/"
      ;;
    server_chain)
      # A CA and an RSA leaf for localhost, made here: mode 0x12 = verify-full,
      # localhost, the last block is the CA.
      local c
      c=$(mktemp -d)
      openssl req -x509 -newkey rsa:2048 -nodes -keyout "$c/ca.key" -out "$c/ca.pem" \
        -subj /CN=fuzz-ca -days 30 -addext basicConstraints=critical,CA:TRUE 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -keyout "$c/leaf.key" -out "$c/leaf.csr" \
        -subj /CN=localhost 2>/dev/null
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$c/ext"
      openssl x509 -req -in "$c/leaf.csr" -CA "$c/ca.pem" -CAkey "$c/ca.key" \
        -CAcreateserial -days 30 -extfile "$c/ext" -out "$c/leaf.pem" 2>/dev/null
      openssl x509 -in "$c/leaf.pem" -outform DER -out "$c/leaf.der"
      openssl x509 -in "$c/ca.pem" -outform DER -out "$c/ca.der"
      { printf '\022'; cat "$c/leaf.der"; printf '\0\0\0\0'; cat "$c/ca.der"; } >"$d/full"
      { printf '\005'; cat "$c/leaf.der"; } >"$d/ip-system-store"
      rm -rf "$c"
      ;;
    serve_request)
      records testdata/bundles/mnt002 | { printf '/api/v1/namespaces/trendmicro/pods?labelSelector=app%%3Dauth\napplication/json\n'; cat; } >"$d/mnt002"
      ;;
  esac
}

mkdir -p fuzz/logs
failed=()
summary=()
for t in "${targets[@]}"; do
  run="fuzz/corpus-run/$t"
  art="fuzz/artifacts/$t"
  mkdir -p "$run" "$art" "fuzz/corpus/$t"
  seed "$t" "$run"
  log="fuzz/logs/$t.log"
  echo "== $t: ${secs}s, max_len $(max_len "$t") (log: $log)" >&2
  set +e
  "$bindir/$t" "$run" "fuzz/corpus/$t" \
    -max_total_time="$secs" -rss_limit_mb=512 -timeout=10 -max_len="$(max_len "$t")" \
    -artifact_prefix="$art/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
  crashes=$(find "$art" -type f ! -name '*.txt' | wc -l)
  line=$(printf '%-14s rc=%-3s runs=%-9s exec/s=%-6s cov=%-6s ft=%-6s corp=%-12s rss=%sMB artifacts=%s' \
    "$t" "$rc" "${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}" "$crashes")
  summary+=("$line")
  echo "$line" >&2
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -n 8 >&2 || true
  fi
done
echo "== summary" >&2
printf '%s\n' "${summary[@]}" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failing inputs in fuzz/artifacts/ for: ${failed[*]}" >&2
  exit 1
fi
