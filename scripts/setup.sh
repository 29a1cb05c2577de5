#!/usr/bin/env bash
# Installs what netwire's demo and tests need on a fresh machine (Python 3.11, pip, gcc).
# Usage: scripts/setup.sh [pip-extras]   e.g. scripts/setup.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

# Debian packages the tests start as real peers on loopback: nginx, tinyproxy (HTTP proxy),
# dante (SOCKS5), curl (CLI bench). Only installed when missing.
need=()
if [ "$extras" = "test" ] || [ "$extras" = "bench" ]; then
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  command -v tinyproxy >/dev/null 2>&1 || [ -x /usr/bin/tinyproxy ] || need+=(tinyproxy)
  command -v danted >/dev/null 2>&1 || [ -x /usr/sbin/danted ] || need+=(dante-server)
  command -v curl >/dev/null 2>&1 || need+=(curl)
fi
if [ "${#need[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    # The packages start system services we do not want; tests start their own instances.
    for svc in nginx tinyproxy danted; do $SUDO service "$svc" stop >/dev/null 2>&1 || true; done
  else
    echo "setup: please install: ${need[*]}" >&2
  fi
fi

target="."
[ -n "$extras" ] && target=".[$extras]"
python3 -m pip install -q --disable-pip-version-check -e "$target" 2>&1 \
  | grep -v -e "Running pip as the 'root' user" -e "is ignored: it is neither" || true
python3 -c "import netwire" || { echo "setup: netwire failed to install" >&2; exit 1; }
