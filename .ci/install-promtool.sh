#!/usr/bin/env bash
# Makes promtool available for the alert rules' unit tests. CI runs as
# root on Debian: Debian's prometheus package ships promtool. Installing
# it also installs (and may start) a Prometheus service; nothing here
# depends on that service, so whether it starts does not matter.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "promtool is missing; install Debian's prometheus package (or Prometheus' release tarball) and retry" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v promtool
