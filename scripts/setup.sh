# Sourced by scripts/demo and scripts/test:  . scripts/setup.sh [pip-extras]
#
# Sets up everything netwire's demo or tests need on a fresh Debian/Ubuntu machine, and leaves the
# Python to use in $PY:
# - With a virtualenv active ($VIRTUAL_ENV), that one is used.
# - Otherwise a project-local .venv is created with the first python3 >= 3.11 found (apt installs
#   python3-venv when the venv module is missing). Nothing is ever pip-installed into the system
#   interpreter (PEP 668), and --break-system-packages is never needed.
# - netwire is installed into it in editable mode with the extras asked for; this is skipped when
#   pyproject.toml and the extras have not changed since the last run (a stamp file in the env).
# - For the tests: nginx, tinyproxy, dante and curl with apt-get when missing (real peers the tests
#   start on loopback; their system services are stopped again).
# Needs root or sudo only when something must be installed with apt-get.

_nw_extras="${1:-}"
_nw_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# NETWIRE_VENV names another project-local env (scripts/test-other-pythons uses .venv-3.X).
_nw_venv="$_nw_root/${NETWIRE_VENV:-.venv}"
_nw_apt_updated=""

_nw_say() { echo "setup: $*" >&2; }

_nw_apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    _nw_say "please install these packages with your system's package manager: $*"
    return 1
  fi
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      _nw_say "need root (or sudo) to install: $*"; return 1
    fi
  fi
  _nw_say "apt-get install $*"
  if [ -z "$_nw_apt_updated" ]; then $sudo apt-get update -qq >/dev/null; _nw_apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# "3.11" when $1 is a Python >= 3.11, else nothing.
_nw_version_ok() {
  "$1" -c 'import sys; assert sys.version_info >= (3, 11); print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

_nw_base_python() {
  local cand
  for cand in "${NETWIRE_PYTHON:-}" python3 python3.14 python3.13 python3.12 python3.11; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 && _nw_version_ok "$cand" >/dev/null; then
      command -v "$cand"; return 0
    fi
  done
  return 1
}

_nw_make_venv() {
  local base ver
  if ! base="$(_nw_base_python)"; then
    # No Python >= 3.11 at all: Debian 12 and Ubuntu 24.04 ship one as python3, Ubuntu 22.04 as python3.11.
    _nw_apt_install python3 python3-venv || true
    base="$(_nw_base_python)" || { _nw_apt_install python3.11 python3.11-venv || true; base="$(_nw_base_python)"; } || {
      _nw_say "netwire needs Python >= 3.11; none found (set NETWIRE_PYTHON to one)"; return 1; }
  fi
  ver="$(_nw_version_ok "$base")"
  if ! "$base" -m venv "$_nw_venv" >/dev/null 2>&1; then
    # Debian/Ubuntu split venv (ensurepip) into python3-venv / python3.X-venv.
    rm -rf "$_nw_venv"
    _nw_apt_install "python$ver-venv" || _nw_apt_install python3-venv || true
    "$base" -m venv "$_nw_venv" || { rm -rf "$_nw_venv"; _nw_say "could not create ${_nw_venv#"$_nw_root"/} with $base"; return 1; }
  fi
  _nw_say "created ${_nw_venv#"$_nw_root"/} with $base (Python $ver)"
}

_nw_setup() {
  if [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
    PY="$VIRTUAL_ENV/bin/python"
    _nw_version_ok "$PY" >/dev/null || { _nw_say "the active virtualenv's Python is older than 3.11"; return 1; }
  else
    if ! { [ -x "$_nw_venv/bin/python" ] && _nw_version_ok "$_nw_venv/bin/python" >/dev/null; }; then
      rm -rf "$_nw_venv"
      _nw_make_venv || return 1
    fi
    PY="$_nw_venv/bin/python"
  fi

  if [[ ",$_nw_extras," == *,test,* || ",$_nw_extras," == *,bench,* ]]; then
    local need=()
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
    command -v tinyproxy >/dev/null 2>&1 || [ -x /usr/bin/tinyproxy ] || [ -x /usr/sbin/tinyproxy ] || need+=(tinyproxy)
    command -v danted >/dev/null 2>&1 || [ -x /usr/sbin/danted ] || need+=(dante-server)
    command -v curl >/dev/null 2>&1 || need+=(curl)
    command -v git >/dev/null 2>&1 || need+=(git)
    if [ "${#need[@]}" -gt 0 ]; then
      _nw_apt_install "${need[@]}" || true
      # The packages start system services; the tests start their own instances.
      local svc sudo=""
      [ "$(id -u)" = 0 ] || sudo="sudo"
      for svc in nginx tinyproxy danted; do $sudo service "$svc" stop >/dev/null 2>&1 || true; done
    fi
  fi

  # Install (editable) unless nothing changed since the last time: the stamp holds a hash of
  # pyproject.toml, the extras and the checkout's path.
  local prefix stamp want target
  prefix="$("$PY" -c 'import sys; print(sys.prefix)')"
  stamp="$prefix/.netwire-setup${_nw_extras:+-$_nw_extras}"
  want="$(cat "$_nw_root/pyproject.toml" - <<<"$_nw_extras $_nw_root" | cksum)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
     && "$PY" -c 'import netwire, sys; sys.exit(not netwire.__file__.startswith(sys.argv[1]))' "$_nw_root/src" 2>/dev/null; then
    return 0
  fi
  target="$_nw_root"
  [ -n "$_nw_extras" ] && target="$_nw_root[$_nw_extras]"
  _nw_say "pip install -e '.${_nw_extras:+[$_nw_extras]}' into $prefix"
  local log rc=0
  log="$(mktemp)"
  "$PY" -m pip install -q --disable-pip-version-check -e "$target" >"$log" 2>&1 || rc=$?
  # Drop pip's notes about running as root and about optional local package folders.
  grep -v -e "Running pip as the 'root' user" -e "is ignored: it is neither" "$log" >&2 || true
  rm -f "$log"
  [ "$rc" = 0 ] || { _nw_say "pip install failed (exit $rc)"; return 1; }
  "$PY" -c "import netwire" || { _nw_say "netwire failed to install"; return 1; }
  echo "$want" > "$stamp"
}

# The compiled build's needs (scripts/test-compiled): a C compiler and the headers of the Python in
# $1. Installs them with apt-get when missing and possible (gcc; python3.X-dev for a Debian/Ubuntu
# system Python; pyenv and python.org builds ship their headers). Returns 1, saying what is
# missing, when they cannot be had.
nw_c_build_ready() {
  local py="$1" cc inc ver
  cc="${CC:-$("$py" -c 'import sysconfig; print((sysconfig.get_config_var("CC") or "cc").split()[0])')}"
  cc="${cc%% *}"
  inc="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  ver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if ! command -v "$cc" >/dev/null 2>&1; then _nw_apt_install gcc libc6-dev || true; fi
  if [ ! -f "$inc/Python.h" ] && [ "${inc#/usr/include/}" != "$inc" ]; then
    _nw_apt_install "python$ver-dev" || true
  fi
  if ! command -v "$cc" >/dev/null 2>&1; then _nw_say "no C compiler ($cc) for the compiled build"; return 1; fi
  if [ ! -f "$inc/Python.h" ]; then _nw_say "no Python headers ($inc/Python.h) for the compiled build"; return 1; fi
}

# NETWIRE_SETUP_FUNCTIONS=1: define the functions above only (scripts/test-compiled, given its Python).
if [ -z "${NETWIRE_SETUP_FUNCTIONS:-}" ]; then
  _nw_setup || exit 1
  export PY
fi
