#!/usr/bin/env bash
# Makes promtool (the alert rules' unit tests) and the prometheus server
# (the alert end-to-end test, make alerts-e2e) available. CI runs as root
# on Debian: Debian's prometheus package ships both. Installing it also
# installs (and may start) a Prometheus service on :9090; nothing here
# depends on that service (the test runs a server of its own on another
# port), so whether it starts does not matter.
set -euo pipefail
if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "promtool or prometheus is missing; install Debian's prometheus package (or Prometheus' release tarball) and retry" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v promtool
command -v prometheus
