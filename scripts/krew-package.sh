#!/usr/bin/env bash
# Packages a built binary for krew: writes OUT/kubectl-dssc_doctor-OS-ARCH.tar.gz and
# OUT/dssc-doctor.yaml, the krew manifest of plugins/ with that platform's sha256 filled
# in, and its uri when BASE_URL (where the release publishes the archives) is given; krew
# ignores the uri with --archive. Run it once per platform on the same OUT to fill every
# platform.
#
#   cargo build --release
#   scripts/krew-package.sh target/release/kubectl-dssc_doctor linux amd64 [BASE_URL] [OUT]
#   kubectl krew install --manifest=target/krew/dssc-doctor.yaml \
#       --archive=target/krew/kubectl-dssc_doctor-linux-amd64.tar.gz
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 BINARY OS ARCH [BASE_URL] [OUT]" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
bin=$1 os=$2 arch=$3
out=${5:-target/krew}
name=kubectl-dssc_doctor
[ -f "$bin" ] || { echo "$0: no binary at $bin" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
archive="$name-$os-$arch.tar.gz"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$bin" "$stage/$name"
tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$out/$archive" "$name"
sum=$(sha256sum "$out/$archive" | cut -d' ' -f1)
base=${4:-}
manifest="$out/dssc-doctor.yaml"
[ -f "$manifest" ] || cp plugins/dssc-doctor.yaml "$manifest"
# The platform's uri line ends in /ARCHIVE; the sha256 line follows it.
awk -v archive="$archive" -v base="${base%/}" -v sum="$sum" '
  fill && $1 == "sha256:" { sub(/sha256:.*/, "sha256: \"" sum "\""); fill = 0 }
  $1 == "uri:" && $2 ~ ("/" archive "$") {
    if (base != "") sub(/uri:.*/, "uri: " base "/" archive)
    fill = 1; found = 1
  }
  { print }
  END { if (!found) exit 3 }
' "$manifest" > "$manifest.new" || { echo "$0: no $os/$arch platform in the manifest" >&2; rm -f "$manifest.new"; exit 2; }
mv "$manifest.new" "$manifest"
echo "$out/$archive"
echo "$manifest"
