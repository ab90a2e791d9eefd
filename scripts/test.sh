#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian machine: installs what the tests need
# (PostgreSQL 15 server binaries for the database probe tests, kubectl for the API
# fidelity tests, Prometheus and its Pushgateway for the metrics tests) when it is
# missing, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# xmllint checks that JUnit reports are valid XML 1.0 (tests/it/hostile.rs).
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
# /usr/bin/prometheus, /usr/bin/promtool and /usr/bin/prometheus-pushgateway.
{ [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ]; } || need+=(prometheus)
[ -x /usr/bin/prometheus-pushgateway ] || need+=(prometheus-pushgateway)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  # The packages' scripts must not start the daemons (:9090, :9091): the tests start
  # their own on free loopback ports. Without systemd, invoke-rc.d would start them
  # unless a policy-rc.d says no (101), as container images usually do.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The db-init stand-in built with real Go PostgreSQL drivers (tests/it/dbinit.rs).
scripts/dbinit-clients.sh >/dev/null

cargo test --locked "$@"
